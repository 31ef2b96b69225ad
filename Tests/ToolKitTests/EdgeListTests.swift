// EdgeList: edge files (TSV, BEELINE CSV), labels, TF lists, and mapping symbols onto a dataset.

import Foundation
import TestSupport
import ToolKit
import XCTest

final class EdgeListTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.temporaryDirectory(self) }

    func file(_ text: String, _ name: String = "e.tsv") throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func assertBadInput(_ body: () throws -> Void, line expected: Int?, contains text: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case .badInput(_, let l, let message) = error as? ToolError else {
                return XCTFail("not a bad-input error: \(error)", file: file, line: line)
            }
            XCTAssertEqual(l, expected, file: file, line: line)
            XCTAssertTrue(message.contains(text), "'\(message)' lacks '\(text)'", file: file, line: line)
            XCTAssertEqual((error as! ToolError).exitCode, 65, file: file, line: line)
        }
    }

    func testTSVWithCommentsBlanksHeaderAndLabels() throws {
        let p = try file("# a comment\n\nregulator\ttarget\tlabel\nA\tB\t1\r\n  \nB\tC\t0\n# more\nC\tA\t1.0")
        let t = try EdgeList.read(p, values: .labels)
        XCTAssertEqual(t.valueKind, .label)
        XCTAssertEqual(t.edges, [SymbolEdge(regulator: "A", target: "B", value: 1, line: 4),
                                 SymbolEdge(regulator: "B", target: "C", value: 0, line: 6),
                                 SymbolEdge(regulator: "C", target: "A", value: 1, line: 8)])
        // The same file as candidates ignores the labels.
        let c = try EdgeList.read(p, values: .ignored)
        XCTAssertEqual(c.valueKind, .none)
        XCTAssertEqual(c.edges.map(\.value), [nil, nil, nil])
    }

    func testBEELINECommaSeparatedFiles() throws {
        let plain = try EdgeList.read(try file("Gene1,Gene2\nGATA1,KLF1\nKLF1,GATA1\n", "n.csv"), values: .labels)
        XCTAssertEqual(plain.valueKind, .none)
        XCTAssertEqual(plain.edges.map { "\($0.regulator)>\($0.target)" }, ["GATA1>KLF1", "KLF1>GATA1"])
        // A ChIP score column is a score, not a label: as truth it is a positive edge list.
        let scored = try file("Gene1,Gene2,Score\nA,B,17.5\nA,C,3\n", "s.csv")
        let asTruth = try EdgeList.read(scored, values: .labels)
        XCTAssertEqual(asTruth.valueKind, .none)
        XCTAssertEqual(asTruth.edges.count, 2)
        let asPrior = try EdgeList.read(scored, values: .scores)
        XCTAssertEqual(asPrior.valueKind, .score)
        XCTAssertEqual(asPrior.edges.map(\.value), [17.5, 3])
        // score's own output and BEELINE / GRNBoost layouts read back.
        for header in ["regulator\ttarget\tscore", "Gene1\tGene2\tEdgeWeight", "TF\ttarget\timportance"] {
            let t = try EdgeList.read(try file(header + "\nA\tB\t0.25\n"), values: .scores)
            XCTAssertEqual(t.edges, [SymbolEdge(regulator: "A", target: "B", value: 0.25, line: 2)])
        }
    }

    func testBinaryDataIsNamedNotReadAsOneLine() throws {
        assertBadInput({ _ = try EdgeList.read("/dev/zero", values: .labels) }, line: nil,
                       contains: "byte 0 is NUL: binary data (or UTF-16 text), not an edge list")
        assertBadInput({ _ = try EdgeList.readTFs(try self.file("GATA1\nKLF\u{0}1\n", "t.txt")) }, line: nil,
                       contains: "byte 9 is NUL: binary data (or UTF-16 text), not a TF list")
    }

    func testBadLines() throws {
        assertBadInput({ _ = try EdgeList.read(try self.file("A\tB\t1\nB\tC\t2\n"), values: .labels) },
                       line: 2, contains: "label '2' is not 0 or 1")
        assertBadInput({ _ = try EdgeList.read(try self.file("A\tB\t-1\n"), values: .labels) },
                       line: 1, contains: "label '-1' is not 0 or 1")
        assertBadInput({ _ = try EdgeList.read(try self.file("A\tB\t1\nB\tC\tpos\n"), values: .labels) },
                       line: 2, contains: "label 'pos' is not 0 or 1")
        assertBadInput({ _ = try EdgeList.read(try self.file("A\tB\tnan\n"), values: .scores) },
                       line: 1, contains: "score 'nan' is not a finite number")
        assertBadInput({ _ = try EdgeList.read(try self.file("#\nA\tB\t1\nB\tC\n"), values: .labels) },
                       line: 3, contains: "has no third column, but line 2 has one")
        assertBadInput({ _ = try EdgeList.read(try self.file("A\tB\nB\tC\t0\n"), values: .labels) },
                       line: 2, contains: "has a third column, but line 1 has none")
        assertBadInput({ _ = try EdgeList.read(try self.file("A B\n"), values: .ignored) },
                       line: 1, contains: "found one field")
        assertBadInput({ _ = try EdgeList.read(try self.file("A\tB\nC\n"), values: .ignored) },
                       line: 2, contains: "found 1 field")
        assertBadInput({ _ = try EdgeList.read(try self.file("A\t\n"), values: .ignored) },
                       line: 1, contains: "empty gene symbol")
        // A missing file is a runtime failure (exit 1), not malformed input.
        XCTAssertThrowsError(try EdgeList.read(self.dir.appendingPathComponent("absent.tsv").path, values: .ignored)) { e in
            guard case ToolError.runtime(let m)? = e as? ToolError else { return XCTFail("not a runtime error: \(e)") }
            XCTAssertTrue(m.contains("cannot open"), m)
        }
    }

    func testResolveMapsSymbolsIDsAndCase() throws {
        let genes = [GeneName(symbol: "Gata1", id: "ENSMUSG00000031162"), GeneName(symbol: "Klf1"),
                     GeneName(symbol: "Spi1"), GeneName(symbol: "SPI1")]
        let lookup = GeneLookup(genes)
        XCTAssertEqual(lookup.index(of: "Gata1"), 0)
        XCTAssertEqual(lookup.index(of: "GATA1"), 0)               // BEELINE upper-cases mouse symbols
        XCTAssertEqual(lookup.index(of: "ENSMUSG00000031162"), 0)
        XCTAssertEqual(lookup.index(of: "SPI1"), 3)                // exact wins
        XCTAssertNil(lookup.index(of: "spi1"))                     // ambiguous ignoring case
        let t = try EdgeList.read(try file("GATA1\tKLF1\t1\nGATA1\tFOO\t0\nBAR\tKlf1\t1\nKlf1\tGata1\t0\n"), values: .labels)
        let edges = try t.resolve(lookup, what: "test")
        XCTAssertEqual(edges, [IndexedEdge(regulator: 0, target: 1, value: 1, line: 1),
                               IndexedEdge(regulator: 1, target: 0, value: 0, line: 4)])
        XCTAssertEqual(edges[0].key, 1)
        XCTAssertEqual(edges[1].key, 1 << 32)
    }

    func testResolveWithNothingLeftIs65() throws {
        let lookup = GeneLookup([GeneName(symbol: "A"), GeneName(symbol: "B")])
        let t = try EdgeList.read(try file("X\tY\nY\tZ\n"), values: .ignored)
        assertBadInput({ _ = try t.resolve(lookup, what: "prior") }, line: nil, contains: "is it for another dataset?")
        XCTAssertEqual(try t.resolve(lookup, what: "prior", required: false), [])
        let empty = try EdgeList.read(try file("# only a comment\n\n"), values: .ignored)
        assertBadInput({ _ = try empty.resolve(lookup, what: "prior") }, line: nil, contains: "has no edges")
    }

    func testTFLists() throws {
        let lookup = GeneLookup(["TF", "GATA1", "KLF1", "SPI1"].map { GeneName(symbol: $0) })
        // One per line; "TF" (transferrin) is a gene, not a header.
        XCTAssertEqual(try EdgeList.readTFs(try file("# TFs\nTF\nGATA1\t1563\n\nKLF1\n", "t.txt")).map(\.symbol), ["TF", "GATA1", "KLF1"])
        // GENELink's TF.csv (,TF,index) and BEELINE's human-tfs.csv (TF,Sources).
        XCTAssertEqual(try EdgeList.readTFs(try file(",TF,index\n0,KLF1,2\n1,GATA1,7\n", "g.csv")).map(\.symbol), ["KLF1", "GATA1"])
        XCTAssertEqual(try EdgeList.readTFs(try file("TF,Sources\nSPI1,a;b\n", "b.csv")).map(\.symbol), ["SPI1"])
        XCTAssertEqual(try EdgeList.resolveTFs(try file("KLF1\nNOPE\nKLF1\nspi1\n", "r.txt"), lookup), [2, 3])
        assertBadInput({ _ = try EdgeList.resolveTFs(try self.file("NOPE\n", "n.txt"), lookup) }, line: nil, contains: "another dataset")
        assertBadInput({ _ = try EdgeList.resolveTFs(try self.file("\n", "e.txt"), lookup) }, line: nil, contains: "lists no TFs")
    }
}
