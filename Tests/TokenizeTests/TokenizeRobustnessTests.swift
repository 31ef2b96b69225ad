// Robustness of tokenize's command line: outputs that must not destroy what is at the path,
// input/output collisions, the dense-table crash inputs, bounded lines, quoted fields, repeated
// vocabulary genes and barcodes, and one-line messages that quote the input briefly.

import Foundation
import TestSupport
import XCTest

final class TokenizeRobustnessTests: XCTestCase {
    let table = "gene,c1,c2\nG1,5,1\nG2,3,4\n"

    func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let p = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    func oneLine(_ run: ToolRun, _ status: Int32, _ contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("tokenize:") }
        XCTAssertEqual(errors.count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.contains(contains), run.stderr, file: file, line: line)
    }

    func testOutputToADeviceStaysADevice() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write(table, "e.csv", in: dir)
        // A null device node of the test's own (major 1, minor 3, as /dev/null), so the test never
        // writes into /dev: -o must write to the device, never rename a file over it.
        let device = dir.appendingPathComponent("null").path
        guard mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 else {  // Linux: major 1, minor 3
            throw XCTSkip("cannot make a device node here (\(String(cString: strerror(errno)))): needs root")
        }
        let run = try Tools.run("tokenize", [csv, "-q", "-o", device])
        XCTAssertEqual(run.status, 0, run.stderr)
        var st = stat()
        XCTAssertEqual(stat(device, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "-o replaced the device node with a file")
        // A FIFO in a temporary directory is written to, never renamed over.
        let fifo = dir.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        // Hold the read end open (without blocking) so the tool's open for writing succeeds.
        let rfd = open(fifo, O_RDONLY | O_NONBLOCK)
        XCTAssertGreaterThanOrEqual(rfd, 0)
        defer { close(rfd) }
        let r2 = try Tools.run("tokenize", [csv, "-q", "-o", fifo])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        var head = [UInt8](repeating: 0, count: 4)
        XCTAssertEqual(read(rfd, &head, 4), 4, "nothing was written into the FIFO")
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
    }

    func testSymlinkTargetIsReplacedNotTheLink() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write(table, "e.csv", in: dir)
        let target = try write("old", "target.sgrf", in: dir)
        let link = dir.appendingPathComponent("link.sgrf").path
        XCTAssertEqual(symlink("target.sgrf", link), 0)
        let run = try Tools.run("tokenize", [csv, "-q", "-o", link])
        XCTAssertEqual(run.status, 0, run.stderr)
        var st = stat()
        XCTAssertEqual(lstat(link, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: target)), Data("old".utf8))
    }

    func testOutputThatIsAnInputIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write(table, "e.csv", in: dir)
        let stdin = try Tools.run("tokenize", ["-", "-o", csv], stdin: Data(table.utf8))
        // A pipe is not the output file: this one runs, and the table is replaced.
        XCTAssertEqual(stdin.status, 0, stdin.stderr)
        let csv2 = try write(table, "f.csv", in: dir)
        oneLine(try Tools.run("tokenize", [csv2, "-o", dir.appendingPathComponent("./f.csv").path]), 64, "is also an input")
        XCTAssertEqual(try String(contentsOfFile: csv2, encoding: .utf8), table)
    }

    func testHugeIntegerIsAValueNotACrash() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write("gene,c1,c2\nG1,9999999999999999999,1\nG2,3,4\n", "x.csv", in: dir)
        let run = try Tools.run("tokenize", [csv, "-q", "-o", dir.appendingPathComponent("x.sgrf").path])
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    func testQuotedNumbersAreNumbers() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write("gene,c1,c2\nG1,\"1\",1\nG2,3,4\n", "q.csv", in: dir)
        let run = try Tools.run("tokenize", [csv, "-q", "-o", dir.appendingPathComponent("q.sgrf").path])
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    func testLongLineIsBoundedAndQuotedShort() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write(String(repeating: "a", count: 3 << 20), "long.csv", in: dir)
        let run = try Tools.run("tokenize", [csv, "--max-line-bytes", "1048576", "-o", dir.appendingPathComponent("l.sgrf").path])
        oneLine(run, 65, "line longer than 1048576 bytes")
        XCTAssertLessThan(run.stderr.utf8.count, 400)
    }

    func testBinaryInputIsNamedNotReadAsOneLine() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let run = try Tools.run("tokenize", ["/dev/zero", "-o", dir.appendingPathComponent("z.sgrf").path])
        oneLine(run, 65, "tokenize: /dev/zero: byte 0 is NUL: binary data (or UTF-16 text), not a MatrixMarket matrix or a CSV/TSV table")
        XCTAssertFalse(run.stderr.lowercased().contains("permission"), run.stderr)
    }

    func testQuotedFieldsMayHoldTheDelimiter() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write("\"gene\",\"c,1\",\"c\"\"2\"\n\"G,1\",5,\"1\"\nG2,3,4\n", "q.csv", in: dir)
        let (stream, _) = try tokenize([csv, "-q", "--layout", "genes-by-cells"])
        XCTAssertEqual(stream.header.genes.map(\.symbol), ["G,1", "G2"])
        XCTAssertEqual(stream.cells.map(\.barcode), ["c,1", "c\"2"])
        XCTAssertEqual(stream.cells.map(\.genes), [[0, 1], [0, 1]])
        // A quote the line does not close (a field over two lines, or a stray quote) is named.
        try assertBadInput([try write("gene,c1,c2\n\"G1,5,1\nG2\",3,4\n", "open.csv", in: dir)], names: "open.csv", line: 2,
                           says: "unclosed quote in field '\"G1,5,1'")
    }

    func testRepeatedVocabularyGeneIsAnErrorAndRepeatedBarcodesAWarning() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let csv = try write(table, "e.csv", in: dir)
        let vocab = try write("G1\nG2\nG3\nG2\n", "vocab.txt", in: dir)
        try assertBadInput([csv, "--vocab", vocab], names: "vocab.txt", line: 4,
                           says: "gene 'G2' is also on line 2: a vocabulary names each gene once")
        let matrix = TinyMatrix(genes: ["G1", "G2"], barcodes: ["AAAC-1", "AAAG-1", "AAAC-1", "AAAG-1", "AAAT-1"],
                                counts: [[1, 0], [0, 2], [3, 1], [1, 1], [0, 4]])
        let tenx = dir.appendingPathComponent("tenx")
        try matrix.write10x(to: tenx)
        let (stream, stderr) = try tokenize([tenx.path])
        XCTAssertEqual(stream.cells.map(\.barcode), matrix.barcodes, "repeated barcodes are kept as they are")
        XCTAssertTrue(stderr.contains("tokenize: warning: \(tenx.path): 2 cells repeat the barcode of an earlier cell "
                                      + "(first: 'AAAC-1', cell 3); kept as they are"), stderr)
        // The same in a dense table's header.
        let (_, denseErr) = try tokenize([try write("gene,c1,c2,c1\nG1,5,1,2\nG2,3,4,0\n", "d.csv", in: dir), "--layout", "genes-by-cells"])
        XCTAssertTrue(denseErr.contains("1 cell repeats the barcode of an earlier cell (first: 'c1', cell 3)"), denseErr)
    }

    func testInputTextInMessagesIsShortAndOnOneLine() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        // A 100 kB value: at most 80 bytes of it are quoted.
        let long = String(repeating: "x", count: 100_000)
        try assertBadInput([try write("gene,c1\nG1,\(long)\n", "long.csv", in: dir)], names: "long.csv", line: 2,
                           says: "value field of 100000 bytes: '\(String(repeating: "x", count: 80))…' is not a number")
        let run = try Tools.run("tokenize", [dir.appendingPathComponent("long.csv").path, "-q", "-o", dir.appendingPathComponent("l.sgrf").path])
        XCTAssertLessThan(run.stderr.utf8.count, 300, run.stderr)
        // Control characters are shown escaped, so the message stays one line.
        try assertBadInput([try write("gene,c1\nG1,4\u{1}\r2\n", "ctl.csv", in: dir)], names: "ctl.csv", line: 2,
                           says: "non-numeric value '4\\x01\\r2'")
        // A long vocabulary gene repeated.
        let gene = String(repeating: "G", count: 5_000)
        try assertBadInput([try write(table, "e.csv", in: dir), "--vocab", try write("\(gene)\n\(gene)\n", "v.txt", in: dir)],
                           names: "v.txt", line: 2, says: "gene '\(String(repeating: "G", count: 80))… (5000 bytes)' is also on line 1")
    }

    func testMissingInputIsExit1AndGenesWithTableIsUsage() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        oneLine(try Tools.run("tokenize", [dir.appendingPathComponent("nope.csv").path, "-o", dir.appendingPathComponent("n").path]),
                1, "cannot open: No such file or directory")
        let csv = try write(table, "e.csv", in: dir)
        oneLine(try Tools.run("tokenize", [csv, "--genes", csv, "-o", dir.appendingPathComponent("n").path]),
                64, "--genes and --barcodes apply to a MatrixMarket matrix")
    }
}
