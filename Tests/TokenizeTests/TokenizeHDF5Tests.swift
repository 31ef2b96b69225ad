// tokenize on HDF5 inputs: AnnData .h5ad (CSR, CSC, dense, a layer, raw), loom and 10x .h5
// (v3, v2) holding the same counts as a 10x directory give the same genes and cells; user
// blocks; the encodings refused and the messages that say so (Tests/Fixtures/tokenize/hdf5).

import Foundation
import Frames
import TestSupport
import XCTest

final class TokenizeHDF5Tests: XCTestCase {
    let dir = "tokenize/hdf5"
    func fixture(_ name: String) -> String { Fixtures.path("\(dir)/\(name)") }

    /// Every way the fixtures store pbmc40, with the options that pick the counts and names.
    var layouts: [(args: [String], format: String, layout: String)] {
        [
            ([fixture("pbmc40_csr.h5ad"), "--var-column", "gene_symbols"], "h5ad", "cells-by-genes"),
            ([fixture("pbmc40_dense.h5ad")], "h5ad", "cells-by-genes"),
            ([fixture("pbmc40_dense.h5ad"), "--layer", "counts"], "h5ad", "cells-by-genes"),
            ([fixture("pbmc40_dense.h5ad"), "--layer", "raw/X"], "h5ad", "cells-by-genes"),
            ([fixture("pbmc40.loom")], "loom", "genes-by-cells"),
            ([fixture("pbmc40_v3.h5")], "10x-v3-h5", "genes-by-cells"),
            ([fixture("pbmc40_v2.h5")], "10x-v2-h5", "genes-by-cells"),
        ]
    }

    func testEveryLayoutGivesTheCellsOfThe10xDirectory() throws {
        let vocab = Fixtures.path("tokenize/vocab/scbert_genes.txt")
        for extra in [[], ["--vocab", vocab, "--keep-counts"]] {
            let (reference, _) = try tokenize([fixture("pbmc40_10x")] + extra)
            XCTAssertEqual(reference.cells.count, 40)
            XCTAssertEqual(reference.header.genes.count, 1500)
            for (args, format, layout) in layouts {
                let (stream, _) = try tokenize(args + extra)
                let what = args.dropFirst().joined(separator: " ") + " " + (args[0] as NSString).lastPathComponent
                XCTAssertEqual(stream.header.genes.map(\.symbol), reference.header.genes.map(\.symbol), what)
                XCTAssertEqual(stream.header.vocabularyIndex, reference.header.vocabularyIndex, what)
                XCTAssertEqual(stream.header.metadata("input_format"), format, what)
                XCTAssertEqual(stream.header.metadata("layout"), layout, what)
                XCTAssertEqual(stream.flags, reference.flags, what)
                XCTAssertEqual(stream.cells.count, reference.cells.count, what)
                XCTAssertTrue(stream.cells == reference.cells, "\(what): the cells differ from the 10x directory's")
            }
        }
    }

    func testGeneIdsAndNamesOfEachFormat() throws {
        // The csr file's index holds ids (ID0, ID1, …); its symbols are a categorical column.
        let (byIndex, _) = try tokenize([fixture("pbmc40_csr.h5ad")])
        XCTAssertEqual(byIndex.header.genes.prefix(2).map(\.symbol), ["ID0", "ID1"])
        let (byColumn, _) = try tokenize([fixture("pbmc40_csr.h5ad"), "--var-column", "gene_symbols"])
        XCTAssertEqual(byColumn.header.genes.first?.id, "ID0", "with --var-column the index gives the ids")
        let (tenx, _) = try tokenize([fixture("pbmc40_10x")])
        let (v3ids, _) = try tokenize([fixture("pbmc40_v3.h5"), "--gene-key", "id"])
        XCTAssertEqual(v3ids.header.metadata("gene_key"), "id")
        XCTAssertEqual(v3ids.header.genes.map(\.id), tenx.header.genes.map(\.id))
        let (loom, _) = try tokenize([fixture("pbmc40.loom")])
        XCTAssertEqual(loom.header.genes.map(\.id), tenx.header.genes.map(\.id), "loom's Accession gives the ids")
        XCTAssertEqual(try tokenize([fixture("pbmc40_v3.h5")]).0.header.metadata("feature_type"), "Gene Expression")
    }

    func testUserBlockAndFixedLengthNames() throws {
        // 512 bytes before the signature; names stored as fixed-length strings.
        let (stream, _) = try tokenize([fixture("tiny_userblock.h5ad")])
        XCTAssertEqual(stream.header.genes.map(\.symbol), ["GENE1", "GENE2", "GENE3"])
        XCTAssertEqual(stream.cells.map(\.barcode), ["AAACATACAACCAC-1", "AAACATTGAGCTAC-1"])
        XCTAssertEqual(stream.cells.map(\.genes), [[0, 2], [1]])
        XCTAssertEqual(stream.cells.map(\.total), [5, 2])
        XCTAssertEqual(stream.cells[0].values[0], Float(log2(1 + 1e4 / 5.0)), accuracy: 1e-5)
        XCTAssertEqual(stream.cells.map(\.tokens), [[5, 5], [5]])
    }

    /// Gene selection reads an HDF5 matrix twice (statistics, then cells) and chooses the genes
    /// the 10x directory's run chooses, for a CSR, a CSC and a dense matrix.
    func testGeneSelectionOfEveryStorage() throws {
        let (reference, _) = try tokenize([fixture("pbmc40_10x"), "--top-variable", "100"])
        XCTAssertEqual(reference.header.genes.count, 100)
        for args in [[fixture("pbmc40_csr.h5ad"), "--var-column", "gene_symbols"],
                     [fixture("pbmc40_dense.h5ad"), "--layer", "counts"], [fixture("pbmc40_dense.h5ad")]] {
            let (stream, _) = try tokenize(args + ["--top-variable", "100"])
            XCTAssertEqual(stream.header.genes.map(\.symbol), reference.header.genes.map(\.symbol), args.joined(separator: " "))
            XCTAssertTrue(stream.cells == reference.cells, "\(args.joined(separator: " ")): the cells differ")
        }
    }

    func testShardsOfAnH5adConcatenateToTheWholeRun() throws {
        let (whole, _) = try tokenize([fixture("pbmc40_dense.h5ad"), "--layer", "counts"])
        let (first, _) = try tokenize([fixture("pbmc40_dense.h5ad"), "--layer", "counts", "--shard", "1/2"])
        let (second, _) = try tokenize([fixture("pbmc40_dense.h5ad"), "--layer", "counts", "--shard", "2/2"])
        XCTAssertEqual(first.cells.count, 20)
        XCTAssertTrue(first.cells + second.cells == whole.cells)
    }

    func testUnsupportedEncodingsAndDamagedFiles() throws {
        try assertBadInput([fixture("bad_categorical_X.h5ad")], names: "bad_categorical_X.h5ad", says: "/X: categorical data, not a count matrix")
        try assertBadInput([fixture("bad_string_X.h5ad")], names: "bad_string_X.h5ad", says: "/X: an array of strings, not a count matrix")
        try assertBadInput([fixture("bad_index.h5ad")], names: "bad_index.h5ad", says: "/X/indices: entry 1: gene index 7 outside 0..<3")
        try assertBadInput([fixture("bad_negative.h5ad")], names: "bad_negative.h5ad", says: "/X/data: entry 1: negative value -4")
        try assertBadInput([fixture("bad_no_indptr.h5")], names: "bad_no_indptr.h5", says: "/matrix/indptr: missing")
        try assertBadInput([fixture("pbmc40_dense.h5ad"), "--layer", "spliced"], names: "pbmc40_dense.h5ad",
                           says: "/layers/spliced: missing (--layer); the file has X, layers/counts, raw/X")
        try assertBadInput([fixture("pbmc40_csr.h5ad"), "--var-column", "symbol"], names: "pbmc40_csr.h5ad",
                           says: "/var/symbol: missing (--var-column); var has _index, gene_symbols")
        try assertBadInput([fixture("pbmc40.loom"), "--var-column", "Symbol"], names: "pbmc40.loom", says: "/row_attrs/Symbol: missing")

        // A truncated file: the signature is there, the rest is not.
        let tmp = try Fixtures.temporaryDirectory(self)
        let truncated = tmp.appendingPathComponent("truncated.h5ad").path
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("pbmc40_csr.h5ad")))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        let run = try Tools.run("tokenize", [truncated])
        XCTAssertEqual(run.status, 65, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("tokenize: \(truncated): "), run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)

        // HDF5 needs a file it can seek in: from a pipe, the message says to give the path.
        try assertBadInput(["-"], stdin: try Data(contentsOf: URL(fileURLWithPath: fixture("pbmc40_v3.h5"))),
                           names: "<stdin>", says: "an HDF5 file: give its path")
    }

    func testHDF5OptionsElsewhereAreUsageErrors() throws {
        for args in [[fixture("pbmc40_10x"), "--layer", "counts"], [fixture("pbmc40_v3.h5"), "--var-column", "name"],
                     [fixture("pbmc40_dense.h5ad"), "--genes", fixture("pbmc40_10x/features.tsv.gz")],
                     [fixture("pbmc40_dense.h5ad"), "--layout", "genes-by-cells"]] {
            let run = try Tools.run("tokenize", args)
            XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
        }
    }
}
