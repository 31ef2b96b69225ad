// ThreadedSource and ByteReader.nextLines: the prefetching reader yields exactly the bytes of a
// direct read, whatever the block and read sizes; errors arrive after the data before them;
// line runs never split a line.

import CZlib
import Foundation
import TestSupport
import ToolKit
import XCTest

/// A source over bytes in memory that returns irregular read sizes and may fail at the end.
final class ScriptedSource: ByteSource {
    let bytes: [UInt8]
    var position = 0
    var step: Int
    let failAtEnd: Bool
    init(_ bytes: [UInt8], step: Int, failAtEnd: Bool = false) {
        self.bytes = bytes; self.step = step; self.failAtEnd = failAtEnd
    }
    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        if position == bytes.count {
            if failAtEnd { throw ToolError.data("scripted", "truncated gzip stream (unexpected end of file)") }
            return 0
        }
        step = (step * 7 + 3) % 97 + 1
        let n = min(count, step, bytes.count - position)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

final class ThreadedSourceTests: XCTestCase {
    func pattern(_ n: Int) -> [UInt8] {
        var x: UInt32 = 12345
        return (0..<n).map { _ in x = x &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: x >> 16) }
    }

    /// Reads everything from a source with reads of `readSize`.
    func drain(_ s: ByteSource, readSize: Int) throws -> [UInt8] {
        var out = [UInt8]()
        let buf = UnsafeMutableRawPointer.allocate(byteCount: readSize, alignment: 8)
        defer { buf.deallocate() }
        while true {
            let n = try s.read(buf, readSize)
            if n == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(start: buf, count: n))
        }
        return out
    }

    func testSameBytesAsADirectReadForManySizes() throws {
        for size in [0, 1, 5, 100, 4096, 50_001] {
            let data = pattern(size)
            for (block, count) in [(1, 2), (7, 3), (64, 2), (1 << 12, 4), (1 << 20, 4)] {
                for readSize in [1, 13, 1000, 1 << 16] where block > 7 || size < 5000 || readSize > 13 {
                    let threaded = ThreadedSource(ScriptedSource(data, step: size % 11), blockSize: block, blockCount: count)
                    XCTAssertEqual(try drain(threaded, readSize: readSize), data, "size \(size) block \(block)×\(count) read \(readSize)")
                }
            }
        }
    }

    func testErrorComesAfterTheDataBeforeIt() throws {
        let data = pattern(10_000)
        let threaded = ThreadedSource(ScriptedSource(data, step: 3, failAtEnd: true), blockSize: 512, blockCount: 3)
        var got = [UInt8]()
        let buf = UnsafeMutableRawPointer.allocate(byteCount: 300, alignment: 8)
        defer { buf.deallocate() }
        do {
            while true {
                let n = try threaded.read(buf, 300)
                XCTAssertGreaterThan(n, 0, "end of data reported instead of the error")
                if n == 0 { break }
                got.append(contentsOf: UnsafeRawBufferPointer(start: buf, count: n))
            }
        } catch let e as ToolError {
            XCTAssertEqual(e.exitCode, 65)
            XCTAssertTrue(e.description.contains("truncated gzip"))
        }
        XCTAssertEqual(got, data)
    }

    func testReleasingEarlyStopsTheProducer() throws {
        for _ in 0..<20 {
            let threaded = ThreadedSource(ScriptedSource(pattern(1 << 16), step: 50), blockSize: 4096, blockCount: 2)
            let buf = UnsafeMutableRawPointer.allocate(byteCount: 10, alignment: 8)
            _ = try threaded.read(buf, 10)
            buf.deallocate()
        }
        // Nothing to assert beyond not hanging or crashing: the producer exits on cancellation.
    }

    func testPrefetchingReaderDecompressesLikeThePlainOne() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var text = ""
        for i in 0..<50_000 { text += "\(i % 977) \(i / 3 + 1) \(i % 13)\n" }
        let plain = dir.appendingPathComponent("m.txt")
        try text.write(to: plain, atomically: true, encoding: .utf8)
        let gz = dir.appendingPathComponent("m.txt.gz")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -n -c \"$0\" > \"$1\"", plain.path, gz.path]
        try p.run()
        p.waitUntilExit()
        for path in [plain.path, gz.path] {
            let reader = try ByteReader.openPrefetching(path)
            XCTAssertEqual(reader.isGzip, path.hasSuffix(".gz"))
            var lines = 0
            var rebuilt = [UInt8]()
            while let run = try reader.nextLines() {
                XCTAssertEqual(run.last, 0x0A, "a run ends after a newline")
                lines += run.filter { $0 == 0x0A }.count
                rebuilt.append(contentsOf: run)
            }
            XCTAssertEqual(lines, 50_000)
            XCTAssertEqual(rebuilt, Array(text.utf8), path)
        }
    }

    func testNextLinesKeepsLongLinesWholeAndMixesWithNextLine() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let long = String(repeating: "x", count: 3 << 20)  // longer than the 1 MiB buffer
        let text = "header\n" + long + "\nshort\nlast without newline"
        let path = dir.appendingPathComponent("t.txt")
        try text.write(to: path, atomically: true, encoding: .utf8)
        let reader = try ByteReader.open(path.path)
        XCTAssertEqual(try reader.nextLineString(), "header")
        var runs = [[UInt8]]()
        while let run = try reader.nextLines() { runs.append(Array(run)) }
        let joined = runs.flatMap { $0 }
        XCTAssertEqual(joined, Array((long + "\nshort\nlast without newline").utf8))
        // Every run but the last ends with a newline, so no line is split.
        for r in runs.dropLast() { XCTAssertEqual(r.last, 0x0A) }
        XCTAssertNil(try reader.nextLines())
    }
}
