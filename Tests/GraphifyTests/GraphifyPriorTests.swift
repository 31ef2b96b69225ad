// graphify's choice of prior: the bundled CollecTRI of the data's species when --prior is not
// given (the species told from the symbols of the hHEP fixture: human), bundled networks by name,
// --species, and what the MODEL records about the prior (name, SHA-256, the edges themselves);
// and the warning on a small validation set.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

extension GraphifyToolTests {
    static var repository: URL { Fixtures.root.deletingLastPathComponent().deletingLastPathComponent() }

    func testWithoutPriorTrainsOnTheBundledCollecTRIOfTheSpecies() throws {
        let s = try setup()
        let model = try temp("default-prior.model")
        let run = try graphify([s.cells, "--epochs", "1", "--batch-size", "4096", "-o", model])
        XCTAssertTrue(run.stderr.contains("the gene symbols look human"), run.stderr)
        XCTAssertTrue(run.stderr.contains("no --prior: training on the bundled collectri_human network"), run.stderr)
        let m = try WrittenModel(path: model)
        XCTAssertEqual(m.meta(TrainingPrior.nameKey), "collectri_human (bundled)")
        // priors/README.md lists this digest for collectri_human.tsv.
        XCTAssertEqual(m.meta(TrainingPrior.digestKey), "89c760543d962b768e8d09d3477c2f0e0f3f522264cbe8b859af9a26f4e37006")

        // The recorded edges are exactly the file's distinct non-self edges between dataset genes.
        let file = Self.repository.appendingPathComponent("priors/collectri_human.tsv").path
        let index = Dictionary(s.genes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var expected = Set<String>()
        for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t").map(String.init)
            if let r = index[f[0]], let t = index[f[1]], r != t { expected.insert("\(r)>\(t)") }
        }
        let recorded = try XCTUnwrap(TrainingPrior.recorded(in: m.header, source: model))
        XCTAssertEqual(Set(recorded.pairs.map { "\($0.regulator)>\($0.target)" }), expected)
        XCTAssertEqual(m.meta(TrainingPrior.countKey), String(expected.count))
        XCTAssertTrue(run.stderr.contains("prior collectri_human (bundled): \(expected.count) of its 43178 edges join two dataset genes"),
                      run.stderr)
    }

    func testBundledPriorsByNameAndSpecies() throws {
        let s = try setup()
        for (args, name) in [(["--prior", "trrust"], "trrust_human (bundled)"),
                             (["--prior", "dorothea", "--species", "mouse"], "dorothea_mouse (bundled)")] {
            let model = try temp("named.model")
            try graphify([s.cells] + args + quick + ["-o", model])
            XCTAssertEqual(try WrittenModel(path: model).meta(TrainingPrior.nameKey), name)
        }
        // A given file is recorded by its path as given.
        let model = try temp("file.model")
        try graphify([s.cells] + split + quick + ["-o", model])
        let m = try WrittenModel(path: model)
        XCTAssertEqual(m.meta(TrainingPrior.nameKey), HHEP.file("Train.tsv"))
        XCTAssertEqual(m.meta(TrainingPrior.digestKey)?.count, 64)
        try expectFailure([s.cells, "--species", "martian", "-o", try temp("x")], status: 64, "--species: 'martian' has no bundled prior")
    }

    func testSmallValidationSetIsWarnedAbout() throws {
        let s = try setup()
        let lines = try String(contentsOfFile: HHEP.file("Valid.tsv"), encoding: .utf8).split(separator: "\n")
        let positives = lines.filter { $0.hasSuffix("\t1") }.prefix(12), negatives = lines.filter { $0.hasSuffix("\t0") }.prefix(22)
        let small = try temp("small-valid.tsv")
        try ((positives + negatives).joined(separator: "\n") + "\n").write(toFile: small, atomically: true, encoding: .utf8)
        let run = try graphify([s.cells, "--prior", HHEP.file("Train.tsv"), "--train", HHEP.file("Train.tsv"), "--valid", small,
                                "--epochs", "1", "--batch-size", "4096", "-o", try temp("small.model")])
        XCTAssertTrue(run.stderr.contains("warning: \(small): only 34 validation pairs (12 positive, 22 negative)"), run.stderr)
        let normal = try graphify([s.cells] + split + ["--epochs", "1", "--batch-size", "4096", "-o", try temp("normal.model")])
        XCTAssertFalse(normal.stderr.contains("validation pairs ("), normal.stderr)
    }
}
