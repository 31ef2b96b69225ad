// tokenize --species mouse: mouse genes put on a human vocabulary through the ortholog table,
// its resolution rules, the coverage warning and the failure when no cell keeps a vocabulary gene.

import Foundation
import TestSupport
import ToolKit
import XCTest

final class TokenizeSpeciesTests: XCTestCase {
    let mouseBrain = Fixtures.path("tokenize/mouse_brain_300")
    let vocab = Fixtures.path("tokenize/vocab/scbert_genes.txt")

    func write(_ text: String, _ name: String) throws -> String {
        let path = try Fixtures.temporaryDirectory(self).appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testMouseBrainMapsThroughTheShippedOrthologs() throws {
        let (byName, _) = try tokenize([mouseBrain, "--vocab", vocab, "--match-case", "insensitive"])
        let (s, err) = try tokenize([mouseBrain, "--vocab", vocab, "--species", "mouse"])
        XCTAssertEqual(s.header.metadata("species"), "mouse")
        XCTAssertEqual(s.header.metadata("match_case"), "orthologs")
        XCTAssertTrue(s.header.metadata("orthologs")?.hasSuffix("data/orthologs/mouse_human.tsv") ?? false,
                      s.header.metadata("orthologs") ?? "no orthologs metadata")
        let mapped = s.header.vocabularyIndex.filter { $0 >= 0 }.count
        let mappedByName = byName.header.vocabularyIndex.filter { $0 >= 0 }.count
        XCTAssertEqual(s.header.metadata("vocab_genes_present"), String(mapped))
        // Orthologs reach at least what names do, and most of the 1,000 genes.
        XCTAssertGreaterThanOrEqual(mapped, mappedByName)
        XCTAssertGreaterThan(mapped, 540, err)
        XCTAssertTrue(err.contains("species mouse: "), err)
        XCTAssertTrue(err.contains("of the input's counts fall on vocabulary genes"), err)
        XCTAssertFalse(err.contains("warning: \(mouseBrain): only"), err)
        // Xkr4 → XKR4 (one2one).
        let vocabulary = s.header.vocabulary
        let xkr4 = try XCTUnwrap(s.header.genes.firstIndex { $0.symbol == "Xkr4" })
        XCTAssertEqual(vocabulary[Int(s.header.vocabularyIndex[xkr4])], "XKR4")
        // Totals are over the mapped genes; no vocabulary entry is fed twice.
        let used = s.header.vocabularyIndex.filter { $0 >= 0 }
        XCTAssertEqual(Set(used).count, used.count)
        XCTAssertEqual(s.cells.count, 300)
        XCTAssertEqual(byName.header.metadata("species"), "human")
    }

    func testResolutionRulesAndCounts() throws {
        let table = """
        # a test table
        mouse\thuman\ttype
        Aa\tAA\tone2one
        Bb\tB1\tone2many
        Bb\tB2\tone2many
        Cc\tCX\tmany2one
        Dd\tCX\tmany2one
        Hh\tHH\tone2one
        Yy\tZZ\tmany2one
        Zz\tZZ\tmany2one

        """
        let orthologs = try write(table, "orthologs.tsv")
        let v = try write("B2\nCX\nAA\nFF\nZZ\n", "vocab.txt")
        let dir = try Fixtures.temporaryDirectory(self).appendingPathComponent("m")
        let genes = ["Dd", "Cc", "AA", "Bb", "Ff", "Gg", "Hh", "Yy", "Zz"]
        try TinyMatrix(genes: genes, barcodes: ["c1", "c2"], counts: [[1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 0, 1, 0, 0, 0, 0, 0, 1]])
            .write10x(to: dir)
        let (s, err) = try tokenize([dir.path, "--vocab", v, "--species", "mouse", "--orthologs", orthologs])
        // Dd takes CX before Cc (input order); AA is Aa upper-cased; Bb's first ortholog B1 is
        // not in the vocabulary, B2 is; Ff has no ortholog and matches by name; Zz's own-name
        // ortholog ZZ goes to it before Yy; Hh's ortholog is outside the vocabulary.
        XCTAssertEqual(s.header.vocabularyIndex, [1, -1, 2, 0, 3, -1, -1, -1, 4])
        XCTAssertEqual(s.cells[0].total, 1 + 3 + 4 + 5 + 9)
        XCTAssertTrue(err.contains("4 of 9 input genes mapped through the orthologs"), err)
        XCTAssertTrue(err.contains("1 more by name ignoring case; 1 have no ortholog, 1 only orthologs outside the vocabulary, 2 only orthologs taken by another gene"), err)
        XCTAssertEqual(s.header.metadata("orthologs"), orthologs)
    }

    func testLowCoverageWarnsAndNothingMappedFails() throws {
        let dir = try Fixtures.temporaryDirectory(self).appendingPathComponent("m")
        try TinyMatrix(genes: ["Xkr4", "Novel1"], barcodes: ["c1", "c2"], counts: [[1, 30], [0, 5]]).write10x(to: dir)
        let (_, err) = try tokenize([dir.path, "--vocab", vocab, "--species", "mouse"])
        XCTAssertTrue(err.contains("warning: \(dir.path): only 2.8% of the input's counts fall on vocabulary genes"), err)
        // The second cell has no count on a vocabulary gene: written empty, as for human data.
        XCTAssertTrue(err.contains("1 of 2 cells have no counts over the vocabulary genes"), err)

        // No cell keeps a vocabulary gene: exit 65, no stream that looks complete.
        let none = try Fixtures.temporaryDirectory(self).appendingPathComponent("n")
        try TinyMatrix(genes: ["Xkr4", "Novel1"], barcodes: ["c1"], counts: [[0, 4]]).write10x(to: none)
        try assertBadInput([none.path, "--vocab", vocab, "--species", "mouse"], names: none.path,
                           says: "no cell has counts on a vocabulary gene")
        // No gene maps at all: the same, before any cell is read.
        let nothing = try Fixtures.temporaryDirectory(self).appendingPathComponent("z")
        try TinyMatrix(genes: ["Novel1", "Novel2"], barcodes: ["c1"], counts: [[1, 4]]).write10x(to: nothing)
        try assertBadInput([nothing.path, "--vocab", vocab, "--species", "mouse"], names: nothing.path,
                           says: "no input gene maps onto the vocabulary")
        // Human data keep their behaviour: a warning, exit 0.
        let (_, humanErr) = try tokenize([nothing.path, "--vocab", vocab])
        XCTAssertTrue(humanErr.contains("warning: no input gene is in the vocabulary"), humanErr)
    }

    func testSpeciesUsageErrors() throws {
        for args in [[mouseBrain, "--vocab", vocab, "--orthologs", vocab],
                     [mouseBrain, "--vocab", vocab, "--species", "mouse", "--match-case", "exact"],
                     [mouseBrain, "--vocab", vocab, "--species", "mouse", "--gene-key", "id"],
                     [mouseBrain, "--species", "rat"]] {
            let run = try Tools.run("tokenize", args)
            XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
            XCTAssertTrue(run.stdout.isEmpty)
        }
        let bad = try write("# no header\nXkr4\tXKR4\n", "bad.tsv")
        try assertBadInput([mouseBrain, "--vocab", vocab, "--species", "mouse", "--orthologs", bad], names: bad, line: 2,
                           says: "expected the header 'mouse<TAB>human<TAB>type'")
    }
}
