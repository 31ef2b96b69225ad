// GeneTable: the gene2vec text format as pretrain --gene2vec and graphify --gene-features read it —
// comments and a word2vec header skipped, gzip read alike, the first of repeated symbols kept,
// case-insensitive matching only where it is unambiguous, and one clear error for a bad line.

import Foundation
import TestSupport
import ToolKit
import XCTest

final class GeneTableTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("genetable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testReadsTheFormatAndMatchesGenes() throws {
        let text = "# a comment\n4 2\nGATA1 1 -2\nTp53\t0.5 0.25\n\nGATA1 9 9\nMyc 3 4\nMYC 5 6\n"
        let path = try write("t.txt", text)
        let t = try GeneTable.read(path)
        XCTAssertEqual(t.width, 2)
        XCTAssertEqual(t.symbols, ["GATA1", "Tp53", "Myc", "MYC"])
        XCTAssertEqual(t.values, [1, -2, 0.5, 0.25, 3, 4, 5, 6], "a repeated symbol keeps its first vector")
        // Exact matches only, then ignoring case: TP53 finds Tp53; Myc and MYC are both exact.
        let genes = ["TP53", "GATA1", "NOPE", "Myc", "MYC", "myc"]
        let exact = t.rows(for: genes)
        XCTAssertEqual(exact.found, 3)
        XCTAssertEqual(exact.values, [0, 0, 1, -2, 0, 0, 3, 4, 5, 6, 0, 0])
        let folded = t.rows(for: genes, ignoringCase: true)
        XCTAssertEqual(folded.found, 4, "'myc' matches two symbols ignoring case: no match")
        XCTAssertEqual(folded.values, [0.5, 0.25, 1, -2, 0, 0, 3, 4, 5, 6, 0, 0])
        // The same table gzip-compressed reads alike.
        let gz = dir.appendingPathComponent("t.txt.gz").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c '\(path)' > '\(gz)'"]
        try p.run(); p.waitUntilExit()
        let z = try GeneTable.read(gz)
        XCTAssertEqual(z.symbols, t.symbols)
        XCTAssertEqual(z.values, t.values)
    }

    func testBadTables() throws {
        func failure(_ text: String, width: Int? = nil, _ phrase: String, line: UInt = #line) throws {
            let path = try write("bad.txt", text)
            XCTAssertThrowsError(try GeneTable.read(path, width: width, widthName: "the model width"), line: line) { e in
                XCTAssertEqual((e as? ToolError)?.exitCode, 65, line: line)
                XCTAssertTrue("\(e)".contains(phrase), "\(e)", line: line)
            }
        }
        try failure("A 1 2\nB 1\n", "1 numbers after the symbol, the first line has 2")
        try failure("A 1 2 3\n", width: 2, "3 numbers after the symbol, the model width is 2")
        try failure("A 1 nan\n", "'nan' is not a finite number")
        try failure("A 1 x\n", "'x' is not a finite number")
        try failure("# only comments\n", "holds no gene vector")
        try failure("A\n", "0 numbers after the symbol")
    }
}
