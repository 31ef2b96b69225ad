// tokenize's gene selection (--keep-genes, --tfs, --top-variable: scanpy's highly variable genes,
// checked gene for gene against scanpy on pbmc3k) and input scales (ln, and the warning for
// counts that look normalised already).

import Foundation
import TestSupport
import ToolKit
import XCTest

final class TokenizeSelectionTests: XCTestCase {
    let pbmc = Fixtures.path("tokenize/pbmc3k_v3")
    let vocab = Fixtures.path("tokenize/vocab/scbert_genes.txt")

    func write(_ text: String, _ name: String) throws -> String {
        let path = try Fixtures.temporaryDirectory(self).appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The gene symbols of an expected HVG list (comment lines skipped).
    func expectedList(_ n: Int) throws -> [String] {
        try readLines(Fixtures.path("tokenize/expected/pbmc3k_hvg\(n).txt")).filter { !$0.hasPrefix("#") }
    }

    func testTopVariableEqualsScanpy() throws {
        for n in [500, 2000] {
            let expected = try expectedList(n)
            let (s, err) = try tokenize([pbmc, "--top-variable", String(n)])
            let got = s.header.genes.map(\.symbol)
            XCTAssertEqual(got.count, expected.count, err)
            XCTAssertEqual(got, expected, "first differences: \(zip(got, expected).enumerated().filter { $0.element.0 != $0.element.1 }.prefix(5))")
            XCTAssertEqual(s.header.metadata("top_variable"), String(n))
            XCTAssertEqual(s.header.metadata("input_genes"), "12572")
        }
        // The vocabulary changes the totals of the tokens, not which genes vary.
        let (v, _) = try tokenize([pbmc, "--top-variable", "500", "--vocab", vocab])
        XCTAssertEqual(v.header.genes.map(\.symbol), try expectedList(500))
        XCTAssertEqual(v.header.vocabularyIndex.count, 500)
    }

    func testSelectionKeepsTotalsAndValues() throws {
        let (full, _) = try tokenize([pbmc, "--vocab", vocab])
        let keep = try write("# a comment\nCD3E\nms4a1\nNOT_A_GENE\nLYZ,extra field\n", "keep.txt")
        let (s, err) = try tokenize([pbmc, "--vocab", vocab, "--keep-genes", keep])
        let position = { (name: String) in full.header.genes.firstIndex { $0.symbol == name }! }
        XCTAssertEqual(s.header.genes.map(\.symbol), ["LYZ", "CD3E", "MS4A1"].sorted { position($0) < position($1) })
        XCTAssertTrue(err.contains("--keep-genes \(keep): 3 input genes kept; 1 of its 4 names are not input genes"), err)
        let fullIndex = s.header.genes.map { g in UInt32(full.header.genes.firstIndex { $0.symbol == g.symbol }!) }
        XCTAssertEqual(s.header.vocabularyIndex, fullIndex.map { full.header.vocabularyIndex[Int($0)] })
        XCTAssertEqual(s.cells.count, full.cells.count)
        for (a, b) in zip(s.cells, full.cells) {
            XCTAssertEqual(a.total, b.total)
            var values: [Float] = [], genes: [UInt32] = []
            for (k, g) in fullIndex.enumerated() {
                if let i = b.genes.firstIndex(of: g) { genes.append(UInt32(k)); values.append(b.values[i]) }
            }
            XCTAssertEqual(a.genes, genes)
            XCTAssertEqual(a.values, values)
        }
    }

    func testTFsPlusTopVariable() throws {
        let hv = try expectedList(500)
        let tfs = try write("TF,Sources\nSPI1,x\nCEBPB,y\nNOT_A_TF,z\n", "tfs.csv")
        let (s, err) = try tokenize([pbmc, "--tfs", tfs, "--top-variable", "500"])
        let got = Set(s.header.genes.map(\.symbol))
        XCTAssertEqual(got, Set(hv).union(["SPI1", "CEBPB"]), err)
        XCTAssertEqual(s.header.metadata("tfs"), tfs)
        XCTAssertTrue(s.header.metadata("selection")?.hasPrefix("\(got.count) of 12572 input genes: tfs 2, top-variable 500") ?? false,
                      s.header.metadata("selection") ?? "")
    }

    /// 30 genes × 24 cells of varied counts, the same selection from every input kind.
    func testTopVariableFromEveryInputKind() throws {
        let genes = (0..<30).map { "G\($0)" }
        func count(_ c: Int, _ g: Int) -> Double {
            let base: Int = ((c * 7 + g * 13) % 11) * (g % 5)
            return Double(base + (g == c ? 40 : 0))
        }
        let counts: [[Double]] = (0..<24).map { c in (0..<30).map { g in count(c, g) } }
        let m = TinyMatrix(genes: genes, barcodes: (0..<24).map { "cell\($0)" }, counts: counts)
        let dir = try Fixtures.temporaryDirectory(self)
        try m.write10x(to: dir.appendingPathComponent("tenx"))
        let csv = dir.appendingPathComponent("gc.csv").path
        try m.genesByCellsCSV.write(toFile: csv, atomically: true, encoding: .utf8)
        let tsv = dir.appendingPathComponent("cg.tsv").path
        try m.cellsByGenesTSV.write(toFile: tsv, atomically: true, encoding: .utf8)
        let (ref, _) = try tokenize([dir.appendingPathComponent("tenx").path, "--top-variable", "6"])
        XCTAssertGreaterThanOrEqual(ref.header.genes.count, 6)
        XCTAssertLessThan(ref.header.genes.count, 30)
        for args in [[csv, "--layout", "genes-by-cells"], [tsv, "--layout", "cells-by-genes"], ["-", "--layout", "genes-by-cells"]] {
            let (s, err) = try tokenize(args + ["--top-variable", "6"], stdin: args[0] == "-" ? Data(m.genesByCellsCSV.utf8) : nil)
            XCTAssertEqual(s.header.genes.map(\.symbol), ref.header.genes.map(\.symbol), "\(args): \(err)")
            XCTAssertEqual(s.cells.map(\.genes), ref.cells.map(\.genes), "\(args)")
        }
        // A streamed input cannot be read twice from standard input.
        let run = try Tools.run("tokenize", ["-", "--layout", "cells-by-genes", "--top-variable", "6"], stdin: Data(m.cellsByGenesTSV.utf8))
        XCTAssertEqual(run.status, 64, run.stderr)
        XCTAssertTrue(run.stderr.contains("--top-variable reads the input twice"), run.stderr)
        // Shards select the same genes (the statistics cover every cell).
        let (shard, _) = try tokenize([csv, "--top-variable", "6", "--shard", "2/3"])
        XCTAssertEqual(shard.header.genes.map(\.symbol), ref.header.genes.map(\.symbol))
    }

    func testSelectionErrors() throws {
        let none = try write("NOPE\n", "none.txt")
        try assertBadInput([pbmc, "--keep-genes", none], names: none, says: "none of its 1 names is an input gene")
        let csv = try write(",c1,c2\nGATA1,1,2\n", "t.csv")
        for args in [[csv, "--genes", none], [csv, "--barcodes", none], [pbmc, "--top-variable", "0"]] {
            let run = try Tools.run("tokenize", args)
            XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
        }
    }

    func testLnInputIsConvertedToLog2() throws {
        let csv = try write(",cellA,cellB\nGATA1,0.0,2.5\nSPI1,5.5,0\n", "ln.csv")
        let (s, err) = try tokenize([csv, "--input-scale", "ln"])
        XCTAssertEqual(s.header.metadata("input_scale"), "ln")
        XCTAssertEqual(s.header.metadata("normalisation"), "value * log2(e)")
        XCTAssertEqual(s.cells[0].values, [Float(5.5 * 1.4426950408889634)])
        XCTAssertEqual(s.cells[0].tokens, [5])  // 7.93 → 5
        XCTAssertEqual(s.cells[1].values, [Float(2.5 * 1.4426950408889634)])
        XCTAssertEqual(s.cells[1].tokens, [3])  // 3.61
        XCTAssertFalse(err.contains("warning"), err)
    }

    func testCountsThatLookNormalisedWarn() throws {
        let logged = try write(",cellA,cellB\nGATA1,0.0,2.5\nSPI1,7.25,1\n", "log.csv")
        let (_, err) = try tokenize([logged])
        XCTAssertTrue(err.contains("warning: \(logged): 2 values read as counts are not integers (the largest is 7.25): they look log-transformed"), err)
        let cpm = try write(",cellA,cellB\nGATA1,0.0,250.5\nSPI1,7000.25,1\n", "cpm.csv")
        let (_, err2) = try tokenize([cpm])
        XCTAssertTrue(err2.contains("they look normalised already, not raw counts"), err2)
        let counts = try write(",cellA,cellB\nGATA1,0,2\nSPI1,7,1\n", "counts.csv")
        let (_, err3) = try tokenize([counts])
        XCTAssertFalse(err3.contains("not integers"), err3)
        // A real MatrixMarket matrix with decimals warns too.
        let m = try write("%%MatrixMarket matrix coordinate real general\n2 1 2\n1 1 0.5\n2 1 1.5\n", "m.mtx")
        let g = try write("A\nB\n", "g.txt"), b = try write("c1\n", "b.txt")
        let (_, err4) = try tokenize([m, "--genes", g, "--barcodes", b])
        XCTAssertTrue(err4.contains("2 values read as counts are not integers"), err4)
    }
}
