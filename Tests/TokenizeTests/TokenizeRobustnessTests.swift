// Robustness of tokenize's command line: outputs that must not destroy what is at the path,
// input/output collisions, the dense-table crash inputs, bounded lines and one-line messages.

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

    func testMissingInputIsExit1AndGenesWithTableIsUsage() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        oneLine(try Tools.run("tokenize", [dir.appendingPathComponent("nope.csv").path, "-o", dir.appendingPathComponent("n").path]),
                1, "cannot open: No such file or directory")
        let csv = try write(table, "e.csv", in: dir)
        oneLine(try Tools.run("tokenize", [csv, "--genes", csv, "-o", dir.appendingPathComponent("n").path]),
                64, "--genes and --barcodes apply to a MatrixMarket matrix")
    }
}
