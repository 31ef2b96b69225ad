// tokenize on bad input: one stderr line naming the file, the line and the problem, exit 65,
// no output file and never a stream that reads as complete.

import Foundation
import TestSupport
import XCTest

final class TokenizeBadInputTests: XCTestCase {
    let genes = "G1\nG2\nG3\n"
    let barcodes = "c1\nc2\n"

    /// A lone matrix with its gene and barcode files; returns the arguments to run it.
    func lone(_ matrix: String, gz: Bool = false, genes: String? = nil, barcodes: String? = nil) throws -> [String] {
        let dir = try Fixtures.temporaryDirectory(self)
        let m = dir.appendingPathComponent(gz ? "m.mtx.gz" : "m.mtx")
        if gz { try gzip(Data(matrix.utf8)).write(to: m) } else { try Data(matrix.utf8).write(to: m) }
        let g = dir.appendingPathComponent("genes.tsv"), b = dir.appendingPathComponent("barcodes.tsv")
        try (genes ?? self.genes).write(to: g, atomically: true, encoding: .utf8)
        try (barcodes ?? self.barcodes).write(to: b, atomically: true, encoding: .utf8)
        return [m.path, "--genes", g.path, "--barcodes", b.path]
    }

    let head = "%%MatrixMarket matrix coordinate integer general\n%\n"

    func testTruncatedGzip() throws {
        var lines = ""
        for c in 1...2 { for g in 1...3 { lines += "\(g) \(c) \(g + c)\n" } }
        let whole = try gzip(Data((head + "3 2 6\n" + lines).utf8))
        let dir = try Fixtures.temporaryDirectory(self)
        let m = dir.appendingPathComponent("matrix.mtx.gz")
        try whole.prefix(whole.count - 12).write(to: m)
        var args = try lone("")
        args[0] = m.path
        try assertBadInput(args, names: "matrix.mtx.gz", says: "truncated gzip")
        // The same through standard input, without the prefetching thread.
        try assertBadInput(["-", "-t", "1"] + args.dropFirst(), stdin: whole.prefix(whole.count - 12), names: "<stdin>", says: "truncated gzip")
    }

    func testCorruptGzipTrailerAndTrailingJunk() throws {
        var lines = ""
        for c in 1...2 { for g in 1...3 { lines += "\(g) \(c) \(g + c)\n" } }
        let whole = try gzip(Data((head + "3 2 6\n" + lines).utf8))
        let dir = try Fixtures.temporaryDirectory(self)
        var args = try lone("")
        // A wrong CRC-32, then a wrong length, in the trailer.
        for offset in [6, 2] {
            var bad = whole
            bad[bad.count - offset] ^= 0x01
            let m = dir.appendingPathComponent("matrix.mtx.gz")
            try bad.write(to: m)
            args[0] = m.path
            try assertBadInput(args, names: "matrix.mtx.gz", says: "incorrect data check")
            try assertBadInput(["-", "-t", "1"] + args.dropFirst(), stdin: bad, names: "<stdin>", says: "incorrect data check")
        }
        // Bytes after the last member that are not another member.
        let junk = dir.appendingPathComponent("junk.mtx.gz")
        try (whole + Data("junk after the member\n".utf8)).write(to: junk)
        args[0] = junk.path
        try assertBadInput(args, names: "junk.mtx.gz", says: "corrupt gzip data")
    }

    func testMalformedHeader() throws {
        try assertBadInput(try lone("%%MatrixMarket matrix array integer general\n3 2\n"), names: "m.mtx", line: 1, says: "only coordinate")
        try assertBadInput(try lone("%%MatrixMarket matrix coordinate complex general\n3 2 1\n1 1 1 0\n"), names: "m.mtx", line: 1, says: "field 'complex'")
        try assertBadInput(try lone("%%MatrixMarket matrix coordinate integer symmetric\n3 2 1\n1 1 1\n"), names: "m.mtx", line: 1, says: "symmetry")
        try assertBadInput(try lone("%%MatrixMarket vector\n"), names: "m.mtx", line: 1, says: "malformed MatrixMarket header")
        try assertBadInput(try lone(head + "3 two 6\n1 1 1\n"), names: "m.mtx", line: 3, says: "malformed MatrixMarket size line")
        try assertBadInput(try lone(head + "% only comments\n"), names: "m.mtx", says: "without a size line")
        // A 10x directory whose matrix is not MatrixMarket at all.
        let dir = try Fixtures.temporaryDirectory(self)
        try "gene,c1\nA,1\n".write(to: dir.appendingPathComponent("matrix.mtx"), atomically: true, encoding: .utf8)
        try genes.write(to: dir.appendingPathComponent("genes.tsv"), atomically: true, encoding: .utf8)
        try barcodes.write(to: dir.appendingPathComponent("barcodes.tsv"), atomically: true, encoding: .utf8)
        try assertBadInput([dir.path], names: "matrix.mtx", line: 1, says: "malformed MatrixMarket header")
    }

    func testIndexOutOfRange() throws {
        try assertBadInput(try lone(head + "3 2 2\n1 1 5\n4 1 2\n"), names: "m.mtx", line: 5, says: "row index 4 outside 1..3")
        try assertBadInput(try lone(head + "3 2 2\n1 1 5\n1 3 2\n"), names: "m.mtx", line: 5, says: "column index 3 outside 1..2")
        try assertBadInput(try lone(head + "3 2 2\n0 1 5\n1 1 2\n"), names: "m.mtx", line: 4, says: "row index 0 outside")
    }

    /// A cell-grouped matrix of 40 genes × 4,000 cells (20 entries each, past the window
    /// after which it is streamed) whose entry `at` (0-based) is replaced by `bad`.
    func streamed(replacing at: Int, with bad: String, declared: Int? = nil) throws -> [String] {
        var lines: [String] = []
        for c in 1...4000 { for g in stride(from: 1, through: 40, by: 2) { lines.append("\(g) \(c) \(1 + (g + c) % 9)") } }
        lines[at] = bad
        let text = head + "40 4000 \(declared ?? lines.count)\n" + lines.joined(separator: "\n") + "\n"
        return try lone(text, gz: true, genes: (1...40).map { "G\($0)" }.joined(separator: "\n") + "\n",
                        barcodes: (1...4000).map { "c\($0)" }.joined(separator: "\n") + "\n")
    }

    func testErrorsInAStreamedMatrixNameTheirLine() throws {
        // Entries start on line 4; the window of 65,536 entries is long past at entry 70,000.
        try assertBadInput(try streamed(replacing: 70_000, with: "41 3501 2"), names: "m.mtx.gz", line: 70_004,
                           says: "row index 41 outside 1..40")
        try assertBadInput(try streamed(replacing: 70_001, with: "3 4001 2"), names: "m.mtx.gz", line: 70_005,
                           says: "column index 4001 outside 1..4000")
        try assertBadInput(try streamed(replacing: 71_003, with: "3 12 2"), names: "m.mtx.gz", line: 71_007,
                           says: "entries are not grouped by cell (cell 12 after cell 3551)")
        try assertBadInput(try streamed(replacing: 72_000, with: "3 3601 x"), names: "m.mtx.gz", line: 72_004,
                           says: "non-numeric value 'x'")
        try assertBadInput(try streamed(replacing: 5, with: "3 1 2", declared: 75_000), names: "m.mtx.gz", line: 75_004,
                           says: "more entries than the 75000 the header declares")
    }

    func testEntryCountsThatDisagreeWithTheHeader() throws {
        try assertBadInput(try lone(head + "3 2 3\n1 1 5\n2 1 2\n"), names: "m.mtx", says: "ends after 2 of the 3 entries")
        try assertBadInput(try lone(head + "3 2 1\n1 1 5\n2 1 2\n", gz: true), names: "m.mtx.gz", line: 5, says: "more entries than the 1")
    }

    func testBadValues() throws {
        try assertBadInput(try lone("%%MatrixMarket matrix coordinate real general\n3 2 2\n1 1 5\n2 1 nan\n"), names: "m.mtx", line: 4, says: "NaN value")
        try assertBadInput(try lone(head + "3 2 2\n1 1 5\n2 1 -2\n"), names: "m.mtx", line: 5, says: "negative value -2")
        try assertBadInput(try lone(head + "3 2 2\n1 1 5\n2 1 x7\n"), names: "m.mtx", line: 5, says: "non-numeric value 'x7'")
        try assertBadInput(try lone(head + "3 2 2\n1 1 5\n2 1 inf\n"), names: "m.mtx", line: 5, says: "infinite value")
        try assertBadInput(try lone(head + "3 2 2\n1 1 5 9\n2 1 1\n"), names: "m.mtx", line: 4, says: "unexpected text after the entry")
        try assertBadInput(try lone(head + "3 2 2\n1 1\n2 1 1\n"), names: "m.mtx", line: 4, says: "missing value")
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = dir.appendingPathComponent("t.csv")
        try ",c1,c2\nG1,1,2\nG2,NaN,0\n".write(to: csv, atomically: true, encoding: .utf8)
        try assertBadInput([csv.path], names: "t.csv", line: 3, says: "NaN value")
        try ",c1,c2\nG1,1,2\nG2,-1,0\n".write(to: csv, atomically: true, encoding: .utf8)
        try assertBadInput([csv.path], names: "t.csv", line: 3, says: "negative value")
        try ",c1,c2\nG1,1,two\n".write(to: csv, atomically: true, encoding: .utf8)
        try assertBadInput([csv.path], names: "t.csv", line: 2, says: "non-numeric value 'two'")
        try ",c1,c2\nG1,1,\n".write(to: csv, atomically: true, encoding: .utf8)
        try assertBadInput([csv.path], names: "t.csv", line: 2, says: "missing value")
    }

    func testRaggedRows() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = dir.appendingPathComponent("t.csv")
        try ",c1,c2\nG1,1,2\nG2,3\n".write(to: csv, atomically: true, encoding: .utf8)
        try assertBadInput([csv.path], names: "t.csv", line: 3, says: "ragged row")
        try ",c1,c2\nG1,1,2\nG2,3,4,5\n".write(to: csv, atomically: true, encoding: .utf8)
        try assertBadInput([csv.path], names: "t.csv", line: 3, says: "ragged row")
        let tsv = dir.appendingPathComponent("t.tsv.gz")
        try gzip(Data("c1\tc2\tc3\nG1\t1\n".utf8)).write(to: tsv)
        try assertBadInput([tsv.path], names: "t.tsv.gz", line: 2, says: "ragged row")
    }

    func testEmptyInputs() throws {
        try assertBadInput(try lone(head + "3 2 0\n"), names: "m.mtx", line: 3, says: "empty matrix")
        try assertBadInput(try lone(head + "0 2 0\n"), names: "m.mtx", line: 3, says: "empty matrix")
        let dir = try Fixtures.temporaryDirectory(self)
        let empty = dir.appendingPathComponent("empty.csv")
        try Data().write(to: empty)
        try assertBadInput([empty.path], names: "empty.csv", says: "empty file")
        try assertBadInput(["-"], stdin: Data(), names: "<stdin>", says: "empty file")
        let headerOnly = dir.appendingPathComponent("h.csv")
        try ",c1,c2\n".write(to: headerOnly, atomically: true, encoding: .utf8)
        try assertBadInput([headerOnly.path], names: "h.csv", says: "empty table")
        try assertBadInput(try lone(head + "3 2 1\n1 1 1\n", genes: ""), names: "genes.tsv", says: "no genes")
    }

    func testMissingOrMismatchedSideFiles() throws {
        let full = TinyMatrix(genes: ["A", "B"], barcodes: ["c1", "c2"], counts: [[1, 2], [3, 0]])
        let dir = try Fixtures.temporaryDirectory(self)
        try full.write10x(to: dir, v3: true)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("barcodes.tsv.gz"))
        try assertBadInput([dir.path], names: dir.path, says: "barcodes are missing")
        try full.write10x(to: dir, v3: false)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("features.tsv.gz"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("genes.tsv"))
        try assertBadInput([dir.path], names: dir.path, says: "gene list is missing")
        try assertBadInput(["/nonexistent/dir/m.mtx"], names: "/nonexistent/dir/m.mtx", says: "No such file", status: 1)
        var args = try lone(head + "3 2 1\n1 1 1\n")
        args[2] = "/nonexistent/genes.tsv"
        try assertBadInput(args, names: "/nonexistent/genes.tsv", says: "No such file", status: 1)
        try assertBadInput(try lone(head + "3 2 1\n1 1 1\n", barcodes: "c1\n"), names: "barcodes.tsv", says: "1 barcodes, but the matrix has 2 cells")
        try assertBadInput(try lone(head + "3 2 1\n1 1 1\n", genes: "G1\n"), names: "genes.tsv", says: "1 genes, but the matrix")
        try assertBadInput(try lone(head + "3 2 1\n1 1 1\n", barcodes: "c1\n\n"), names: "barcodes.tsv", says: "empty barcode")
        // A vocabulary file that does not exist is named too.
        try assertBadInput(try lone(head + "3 2 1\n1 1 1\n") + ["--vocab", "/nonexistent/vocab.txt"], names: "/nonexistent/vocab.txt", says: "cannot open", status: 1)
    }
}
