// tokenize's documented policies, each on a small input written here: input layouts and orders
// give the same cells; duplicates, case, vocabulary, empty cells, feature types, log2 input.

import Foundation
import TestSupport
import ToolKit
import XCTest

final class TokenizePolicyTests: XCTestCase {
    /// 5 genes × 4 cells; cell c3 has no counts at all, cell c4 counts only outside the vocabulary.
    let tiny = TinyMatrix(
        genes: ["Actb", "GAPDH", "CD3E", "MALAT1", "NOVEL1"],
        barcodes: ["AAACCTGAGAAACCAT-1", "AAACCTGAGAAACCGC-1", "AAACCTGAGAAACCTA-1", "AAACCTGAGAAACGAG-1"],
        counts: [[3, 0, 1, 7, 2], [0, 12, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 5]])

    func writeVocab(_ symbols: [String]) throws -> String {
        let path = try Fixtures.temporaryDirectory(self).appendingPathComponent("vocab.txt").path
        try (symbols.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The tokens and values a float64 reference gives for one cell of `tiny`.
    func reference(_ counts: [Double], inTotal: [Bool], bins: Int = 5) -> (total: Double, genes: [UInt32], values: [Float], tokens: [UInt8]) {
        let total = zip(counts, inTotal).reduce(0.0) { $0 + ($1.1 ? $1.0 : 0) }
        if total == 0 { return (0, [], [], []) }
        var g = [UInt32](), v = [Float](), t = [UInt8]()
        for (i, c) in counts.enumerated() where c != 0 {
            let x = log2(1 + c * 1e4 / total)
            g.append(UInt32(i)); v.append(Float(x)); t.append(UInt8(min(floor(x), Double(bins))))
        }
        return (total, g, v, t)
    }

    func testEveryLayoutAndOrderGivesTheSameCells() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let vocab = try writeVocab(["CD3E", "GAPDH", "ACTB", "MALAT1"])
        try tiny.write10x(to: dir.appendingPathComponent("v2"))
        try tiny.write10x(to: dir.appendingPathComponent("v3"), v3: true)
        try tiny.write10x(to: dir.appendingPathComponent("bygene"), byGene: true)
        let csv = dir.appendingPathComponent("gbc.csv"), tsv = dir.appendingPathComponent("cbg.tsv.gz")
        try tiny.genesByCellsCSV.write(to: csv, atomically: true, encoding: .utf8)
        try gzip(Data(tiny.cellsByGenesTSV.utf8)).write(to: tsv)

        let (ref, _) = try tokenize([dir.appendingPathComponent("v2").path, "--vocab", vocab])
        let inTotal = ref.header.vocabularyIndex.map { $0 >= 0 }
        XCTAssertEqual(inTotal, [false, true, true, true, false], "exact matching: Actb is not ACTB")
        for (c, cell) in ref.cells.enumerated() {
            let r = reference(tiny.counts[c], inTotal: inTotal)
            XCTAssertEqual(cell.total, r.total)
            XCTAssertEqual(cell.genes, r.genes)
            XCTAssertEqual(cell.values, r.values)
            XCTAssertEqual(cell.tokens, r.tokens)
        }
        let runs: [[String]] = [
            [dir.appendingPathComponent("v3").path],
            [dir.appendingPathComponent("bygene").path],
            [dir.appendingPathComponent("v2").path, "--buffer"],
            [dir.appendingPathComponent("bygene").path, "-t", "1"],
            [csv.path],
            [tsv.path],
            [csv.path, "--layout", "genes-by-cells"],
        ]
        for args in runs {
            let (s, _) = try tokenize(args + ["--vocab", vocab])
            XCTAssertEqual(s.cells, ref.cells, "\(args)")
            XCTAssertEqual(s.header.genes.map(\.symbol), tiny.genes, "\(args)")
            XCTAssertEqual(s.header.vocabularyIndex, ref.header.vocabularyIndex, "\(args)")
        }
        // Detection says what it decided.
        let (_, note) = try tokenize([tsv.path, "--vocab", vocab])
        XCTAssertTrue(note.contains("cells-by-genes"), note)
        let (_, note2) = try tokenize([csv.path])
        XCTAssertTrue(note2.contains("genes-by-cells"), note2)
    }

    func testConcatenatedGzipMembersReadAsOneFile() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let one = dir.appendingPathComponent("one"), split = dir.appendingPathComponent("split")
        try tiny.write10x(to: one, v3: true)
        try tiny.write10x(to: split, v3: true)
        // The matrix as three gzip members, cut inside the header and inside the last line.
        let text = Data(tiny.mtx().utf8)
        let cuts = [text.count / 3 + 1, text.count - 5]
        var members = Data()
        var start = 0
        for end in cuts + [text.count] {
            members += try gzip(text.subdata(in: start..<end))
            start = end
        }
        try members.write(to: split.appendingPathComponent("matrix.mtx.gz"))
        let (ref, _) = try tokenize([one.path])
        for threads in ["1", "2"] {
            let (s, _) = try tokenize([split.path, "-t", threads])
            XCTAssertEqual(s.cells, ref.cells, "-t \(threads)")
            let (piped, _) = try tokenize(["-", "--genes", split.appendingPathComponent("features.tsv.gz").path,
                                           "--barcodes", split.appendingPathComponent("barcodes.tsv.gz").path, "-t", threads],
                                          stdin: members)
            XCTAssertEqual(piped.cells, ref.cells, "stdin, -t \(threads)")
        }
    }

    func testLoneMatrixInEitherOrientation() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        try tiny.write10x(to: dir)
        let (ref, _) = try tokenize([dir.path])
        // The transpose: rows are cells; the gene list then matches the columns.
        var t = "%%MatrixMarket matrix coordinate integer general\n\(tiny.barcodes.count) \(tiny.genes.count) \(tiny.entries.count)\n"
        for e in tiny.entries { t += "\(e.cell + 1) \(e.gene + 1) \(TinyMatrix.value(e.value))\n" }
        let m = dir.appendingPathComponent("t.mtx")
        try t.write(to: m, atomically: true, encoding: .utf8)
        let args = [m.path, "--genes", dir.appendingPathComponent("genes.tsv").path, "--barcodes", dir.appendingPathComponent("barcodes.tsv").path]
        let (s, _) = try tokenize(args)
        XCTAssertEqual(s.cells, ref.cells)
        let (s2, _) = try tokenize(args + ["--layout", "cells-by-genes"])
        XCTAssertEqual(s2.cells, ref.cells)
        XCTAssertEqual(ref.header.metadata("total_over"), "all genes")
        // Without --genes a lone matrix is a usage error.
        let run = try Tools.run("tokenize", [m.path])
        XCTAssertEqual(run.status, 64, run.stderr)
    }

    func testCaseInsensitiveMatchingIsOptIn() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let mouse = TinyMatrix(genes: ["Xkr4", "Actb", "Gapdh", "ACTB"], barcodes: ["c1", "c2"], counts: [[1, 4, 2, 1], [0, 3, 0, 9]])
        try mouse.write10x(to: dir)
        let vocab = try writeVocab(["GAPDH", "ACTB", "XKR4"])
        let (exact, err) = try tokenize([dir.path, "--vocab", vocab])
        XCTAssertEqual(exact.header.vocabularyIndex, [-1, -1, -1, 1])
        XCTAssertTrue(err.contains("would match ignoring case"), err)
        let (folded, err2) = try tokenize([dir.path, "--vocab", vocab, "--match-case", "insensitive"])
        // ACTB is taken by its exact match; Actb then stays outside the vocabulary.
        XCTAssertEqual(folded.header.vocabularyIndex, [2, -1, 0, 1])
        XCTAssertTrue(err2.contains("2 matched ignoring case"), err2)
        XCTAssertEqual(folded.header.metadata("match_case"), "insensitive")
        XCTAssertEqual(folded.cells[0].total, 1 + 2 + 1)
        // Nothing matching at all: a warning that names the way out.
        let vocab2 = try writeVocab(["XKR4X"])
        let (_, err3) = try tokenize([dir.path, "--vocab", vocab2])
        XCTAssertTrue(err3.contains("warning: no input gene is in the vocabulary") && err3.contains("--match-case insensitive"), err3)
    }

    func testDuplicateSymbolsAreMadeUniqueAndOnlyTheFirstMaps() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let dup = TinyMatrix(genes: ["CD3E", "CD3E", "CD3E-1", "CD3E"], barcodes: ["c1"], counts: [[2, 3, 5, 7]])
        try dup.write10x(to: dir)
        let vocab = try writeVocab(["CD3E", "CD3E-1"])
        let (s, err) = try tokenize([dir.path, "--vocab", vocab])
        XCTAssertEqual(s.header.genes.map(\.symbol), ["CD3E", "CD3E-2", "CD3E-1", "CD3E-3"])
        XCTAssertEqual(s.header.vocabularyIndex, [0, -1, 1, -1])
        XCTAssertEqual(s.cells[0].total, 7)
        XCTAssertEqual(s.cells[0].genes, [0, 1, 2, 3], "copies keep their entries")
        XCTAssertTrue(err.contains("1 gene symbols occur more than once"), err)
    }

    func testCellsWithoutCountsAreKeptEmptyOrDroppedWithMinGenes() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        try tiny.write10x(to: dir, v3: true)
        let vocab = try writeVocab(["CD3E", "GAPDH", "ACTB", "MALAT1"])
        let (s, err) = try tokenize([dir.path, "--vocab", vocab])
        XCTAssertEqual(s.cells.count, 4)
        for i in [2, 3] {
            XCTAssertEqual(s.cells[i].total, 0)
            XCTAssertEqual(s.cells[i].genes, [], "cell \(i) has no counts over the vocabulary")
        }
        XCTAssertTrue(err.contains("2 of 4 cells have no counts over the vocabulary genes"), err)
        let (kept, _) = try tokenize([dir.path, "--vocab", vocab, "--min-genes", "1"])
        XCTAssertEqual(kept.cells.map(\.barcode), Array(tiny.barcodes.prefix(2)))
        let (two, _) = try tokenize([dir.path, "--vocab", vocab, "--min-genes", "2"])
        XCTAssertEqual(two.cells.map(\.barcode), Array(tiny.barcodes.prefix(2)))
        let (three, err3) = try tokenize([dir.path, "--vocab", vocab, "--min-genes", "3"])
        XCTAssertEqual(three.cells.count, 0)
        XCTAssertTrue(err3.contains("4 of 4 cells have fewer than 3 nonzero genes"), err3)
        // Without a vocabulary the total is over all genes: only the cell without counts is empty.
        let (all, _) = try tokenize([dir.path])
        XCTAssertEqual(all.cells[3].total, 5)
        XCTAssertEqual(all.cells[2].genes, [])
    }

    func testFeatureTypesOtherThanGeneExpressionAreDropped() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let features = "E1\tACTB\tGene Expression\nAB1\tCD3_TotalSeqB\tAntibody Capture\nE2\tGAPDH\tGene Expression\n"
        try gzip(Data(features.utf8)).write(to: dir.appendingPathComponent("features.tsv.gz"))
        try gzip(Data("c1\nc2\n".utf8)).write(to: dir.appendingPathComponent("barcodes.tsv.gz"))
        let mtx = "%%MatrixMarket matrix coordinate integer general\n3 2 4\n1 1 4\n2 1 100\n3 1 4\n2 2 50\n"
        try gzip(Data(mtx.utf8)).write(to: dir.appendingPathComponent("matrix.mtx.gz"))
        let (s, err) = try tokenize([dir.path])
        XCTAssertEqual(s.header.genes, [GeneName(symbol: "ACTB", id: "E1"), GeneName(symbol: "GAPDH", id: "E2")])
        XCTAssertEqual(s.cells[0].genes, [0, 1])
        XCTAssertEqual(s.cells[0].total, 8)
        XCTAssertEqual(s.cells[1].genes, [])
        XCTAssertTrue(err.contains("1 features not of type 'Gene Expression' dropped"), err)
        let (all, _) = try tokenize([dir.path, "--feature-type", "all"])
        XCTAssertEqual(all.header.genes.count, 3)
        XCTAssertEqual(all.cells[0].total, 108)
        // Matching by Ensembl id.
        let vocab = try writeVocab(["E2", "E1"])
        let (byID, _) = try tokenize([dir.path, "--gene-key", "id", "--vocab", vocab])
        XCTAssertEqual(byID.header.vocabularyIndex, [1, 0])
    }

    func testLog2InputIsTakenAsItIs() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = ",cellA,cellB\nGATA1,0.0,2.5\nSPI1,7.99,0\nKLF1,3.0,0.25\n"
        let path = dir.appendingPathComponent("ExpressionData.csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let (s, _) = try tokenize([path, "--input-scale", "log2", "--bins", "4"])
        XCTAssertEqual(s.header.genes.map(\.symbol), ["GATA1", "SPI1", "KLF1"])
        XCTAssertEqual(s.header.metadata("input_scale"), "log2")
        XCTAssertEqual(s.header.metadata("normalisation"), "none")
        XCTAssertEqual(s.cells.map(\.barcode), ["cellA", "cellB"])
        XCTAssertEqual(s.cells[0].genes, [1, 2])
        XCTAssertEqual(s.cells[0].values, [7.99, 3.0])
        XCTAssertEqual(s.cells[0].tokens, [4, 3])
        XCTAssertEqual(s.cells[1].values, [2.5, 0.25])
        XCTAssertEqual(s.cells[1].tokens, [2, 0])
        XCTAssertEqual(s.cells.map(\.total), [0, 0])
    }

    func testBinsTargetSumAndKeepCounts() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        try tiny.write10x(to: dir)
        let (s, _) = try tokenize([dir.path, "--bins", "2", "--target-sum", "100", "--keep-counts"])
        XCTAssertEqual(s.flags, [.tokens, .counts])
        let c = s.cells[0]
        XCTAssertEqual(c.counts, [3, 1, 7, 2])
        XCTAssertEqual(c.total, 13)
        XCTAssertEqual(c.values, [3.0, 1, 7, 2].map { (x: Double) in Float(log2(1 + x * 100 / 13)) })
        XCTAssertEqual(c.tokens, [3.0, 1, 7, 2].map { (x: Double) in UInt8(min(floor(log2(1 + x * 100 / 13)), 2)) })
        XCTAssertEqual(s.header.metadata("target_sum"), "100")
        let bad = try Tools.run("tokenize", [dir.path, "--bins", "0"])
        XCTAssertEqual(bad.status, 64)
    }

    func testDuplicateEntriesAreSummedAndUnsortedGenesSorted() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        try "G1\nG2\nG3\n".write(to: dir.appendingPathComponent("genes.txt"), atomically: true, encoding: .utf8)
        try "c1\nc2\n".write(to: dir.appendingPathComponent("bc.txt"), atomically: true, encoding: .utf8)
        let mtx = "%%MatrixMarket matrix coordinate real general\n3 2 5\n3 1 1.5\n1 1 2\n3 1 0.5\n2 2 4e0\n1 2 0\n"
        try mtx.write(to: dir.appendingPathComponent("m.mtx"), atomically: true, encoding: .utf8)
        let (s, err) = try tokenize([dir.appendingPathComponent("m.mtx").path, "--genes", dir.appendingPathComponent("genes.txt").path,
                                     "--barcodes", dir.appendingPathComponent("bc.txt").path, "--keep-counts"])
        XCTAssertEqual(s.cells[0].genes, [0, 2])
        XCTAssertEqual(s.cells[0].counts, [2, 2])
        XCTAssertEqual(s.cells[1].genes, [1])
        XCTAssertTrue(err.contains("1 entries repeat a gene of their cell: summed"), err)
    }

    func testLinesOfEveryShapeGiveTheSameCellsStreamedBufferedAndUnthreaded() throws {
        // A streamed matrix (past the decision window) whose plain lines are interleaved with
        // lines the vector parser leaves to the general one: tabs, CRLF, extra blanks, long
        // numbers, decimals. Streamed, buffered and single-threaded runs give the same cells.
        let dir = try Fixtures.temporaryDirectory(self)
        let genes = 60, cells = 3000
        var lines: [String] = []
        var k = 0
        for c in 1...cells {
            for g in stride(from: 1 + c % 2, through: genes, by: 2) {
                let v = 1 + (g * c) % 13 + (k % 50 == 0 ? 123_456 : 0)
                switch k % 101 {
                case 7: lines.append("\(g)\t\(c)\t\(v)")
                case 19: lines.append("\(g) \(c) \(v)\r")
                case 31: lines.append("  \(g)  \(c)  \(v)  ")
                case 43: lines.append("0000000\(g) \(c) 0000000\(v)")
                case 59: lines.append("\(g) \(c) \(v).0")
                case 71: lines.append("\(g) \(c) \(v)e0")
                default: lines.append("\(g) \(c) \(v)")
                }
                k += 1
            }
        }
        let text = "%%MatrixMarket matrix coordinate integer general\n\(genes) \(cells) \(lines.count)\n" + lines.joined(separator: "\n") + "\n"
        try gzip(Data(text.utf8)).write(to: dir.appendingPathComponent("matrix.mtx.gz"))
        try (1...genes).map { "G\($0)" }.joined(separator: "\n").appending("\n").write(to: dir.appendingPathComponent("genes.tsv"), atomically: true, encoding: .utf8)
        try (1...cells).map { "cell\($0)" }.joined(separator: "\n").appending("\n").write(to: dir.appendingPathComponent("barcodes.tsv"), atomically: true, encoding: .utf8)
        let (streamed, _) = try tokenize([dir.path, "--keep-counts"])
        let (single, _) = try tokenize([dir.path, "--keep-counts", "-t", "1"])
        let (buffered, _) = try tokenize([dir.path, "--keep-counts", "--buffer"])
        XCTAssertEqual(streamed.cells.count, cells)
        XCTAssertEqual(streamed.cells, single.cells)
        XCTAssertEqual(streamed.cells, buffered.cells)
        XCTAssertEqual(streamed.cells[0].counts.first, 123_459)
        XCTAssertEqual(streamed.cells.reduce(0) { $0 + $1.genes.count }, lines.count)

        // The same entries with rows as cells and columns as genes (a lone matrix whose gene
        // list matches its columns), streamed too.
        let swapped = lines.enumerated().map { i, line -> String in
            var fields = line.split(omittingEmptySubsequences: true, whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            fields.swapAt(0, 1)
            return fields.joined(separator: i % 97 == 5 ? "\t" : " ")
        }
        let transposed = dir.appendingPathComponent("t.mtx").path
        try ("%%MatrixMarket matrix coordinate integer general\n\(cells) \(genes) \(swapped.count)\n" + swapped.joined(separator: "\n") + "\n")
            .write(toFile: transposed, atomically: true, encoding: .utf8)
        let (byRows, notes) = try tokenize([transposed, "--genes", dir.appendingPathComponent("genes.tsv").path,
                                            "--barcodes", dir.appendingPathComponent("barcodes.tsv").path, "--keep-counts"])
        XCTAssertTrue(notes.contains("rows are cells"), notes)
        XCTAssertEqual(byRows.cells, streamed.cells)
    }

    func testMatrixGroupedByCellStreamsAndOtherOrdersAreBuffered() throws {
        // Over the decision window, a cell-grouped matrix that breaks its order is an error
        // naming --buffer; with --buffer it is read whole.
        let dir = try Fixtures.temporaryDirectory(self)
        let genes = 50, cells = 3000
        var lines: [String] = []
        for c in 1...cells { for g in stride(from: 1, through: genes, by: 2) { lines.append("\(g) \(c) \(1 + (g * c) % 7)") } }
        lines.append("2 1 3")
        let text = "%%MatrixMarket matrix coordinate integer general\n\(genes) \(cells) \(lines.count)\n" + lines.joined(separator: "\n") + "\n"
        try text.write(to: dir.appendingPathComponent("matrix.mtx"), atomically: true, encoding: .utf8)
        try (1...genes).map { "G\($0)" }.joined(separator: "\n").appending("\n").write(to: dir.appendingPathComponent("genes.tsv"), atomically: true, encoding: .utf8)
        try (1...cells).map { "cell\($0)" }.joined(separator: "\n").appending("\n").write(to: dir.appendingPathComponent("barcodes.tsv"), atomically: true, encoding: .utf8)
        try assertBadInput([dir.path], names: "matrix.mtx", line: lines.count + 2, says: "--buffer")
        let (s, _) = try tokenize([dir.path, "--buffer", "--keep-counts"])
        XCTAssertEqual(s.cells.count, cells)
        XCTAssertEqual(s.cells[0].genes.prefix(3), [0, 1, 2])
        XCTAssertEqual(s.cells[0].counts[1], 3)
    }
}
