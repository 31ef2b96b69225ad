// GzipSource (ISA-L): the bytes zlib compressed come back exactly, whatever the read sizes, the
// member layout and the optional header fields; a bad CRC or length, a truncation anywhere and
// trailing junk are errors (exit 65) naming the input.

import CZlib
import Foundation
import Kernels
import TestSupport
import ToolKit
import XCTest

final class GzipSourceTests: XCTestCase {
    // MARK: - Building gzip members with zlib (the reference encoder)

    /// Text with repeats (as a matrix is) and some noise, `n` bytes.
    func sample(_ n: Int, seed: UInt32 = 7) -> [UInt8] {
        var x = seed
        var out = [UInt8]()
        out.reserveCapacity(n)
        while out.count < n {
            x = x &* 1_103_515_245 &+ 12345
            out.append(contentsOf: "\(x >> 22) \((x >> 12) & 1023) \(x & 7)\n".utf8)
        }
        return Array(out.prefix(n))
    }

    /// Raw deflate data of `bytes` at `level` (0 = stored blocks).
    func deflateRaw(_ bytes: [UInt8], level: Int32) -> [UInt8] {
        var s = z_stream()
        XCTAssertEqual(scgrn_deflateInit2(&s, level, -15), Z_OK)
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&s, uLong(bytes.count))) + 64)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                s.next_in = inp.baseAddress
                s.avail_in = uInt(inp.count)
                s.next_out = o.baseAddress
                s.avail_out = uInt(o.count)
                XCTAssertEqual(deflate(&s, Z_FINISH), Z_STREAM_END)
                return o.count - Int(s.avail_out)
            }
        }
        deflateEnd(&s)
        return Array(out.prefix(produced))
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// One gzip member, with the optional header fields a test asks for.
    func member(_ bytes: [UInt8], level: Int32 = 6, name: String? = nil, comment: String? = nil,
                extra: [UInt8]? = nil, headerCRC: Bool = false) -> [UInt8] {
        var flags: UInt8 = 0
        if headerCRC { flags |= 2 }
        if extra != nil { flags |= 4 }
        if name != nil { flags |= 8 }
        if comment != nil { flags |= 16 }
        var out: [UInt8] = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]
        if let extra { out += [UInt8(extra.count & 255), UInt8(extra.count >> 8)] + extra }
        if let name { out += Array(name.utf8) + [0] }
        if let comment { out += Array(comment.utf8) + [0] }
        if headerCRC {
            let c = out.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            out += [UInt8(c & 255), UInt8((c >> 8) & 255)]
        }
        out += deflateRaw(bytes, level: level)
        let c = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        out += GzipSourceTests.le32(UInt32(c)) + GzipSourceTests.le32(UInt32(truncatingIfNeeded: bytes.count))
        return out
    }

    // MARK: - Reading

    /// Everything a GzipSource yields over `gz` (fed in irregular pieces), read `readSize` at a time.
    func inflate(_ gz: [UInt8], readSize: Int, step: Int = 5) throws -> [UInt8] {
        try drain(GzipSource(ScriptedSource(gz, step: step), name: "test.gz"), readSize: readSize)
    }

    /// Same as `inflate`, but through a large source (few, big input reads).
    func inflateWhole(_ gz: [UInt8], readSize: Int = 1 << 20) throws -> [UInt8] {
        try drain(GzipSource(MemorySource(gz), name: "test.gz"), readSize: readSize)
    }

    /// Reads `source` to its end, `readSize` bytes at a time.
    func drain(_ source: GzipSource, readSize: Int) throws -> [UInt8] {
        var out = [UInt8]()
        let buf = UnsafeMutableRawPointer.allocate(byteCount: readSize, alignment: 8)
        defer { buf.deallocate() }
        while true {
            let n = try source.read(buf, readSize)
            if n == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(start: buf, count: n))
        }
        return out
    }

    /// The error a read of `gz` raises (nil when it reads cleanly).
    func failure(_ gz: [UInt8], step: Int = 5) -> ToolError? {
        do {
            _ = try inflate(gz, readSize: 4096, step: step)
            _ = try inflateWhole(gz)
            return nil
        } catch let e as ToolError {
            return e
        } catch {
            XCTFail("unexpected error \(error)")
            return nil
        }
    }

    // MARK: - Tests

    func testSameBytesAsCompressedForManySizesLevelsAndReads() throws {
        for size in [0, 1, 100, 40_000, 300_000] {
            let data = sample(size, seed: UInt32(size))
            for level: Int32 in [0, 1, 6, 9] {
                let gz = member(data, level: level)
                for readSize in [1, 977, 1 << 16, 1 << 20] where size < 50_000 || readSize >= 977 {
                    XCTAssertEqual(try inflate(gz, readSize: readSize, step: size % 13), data, "size \(size) level \(level) read \(readSize)")
                }
                XCTAssertEqual(try inflateWhole(gz), data, "size \(size) level \(level), whole")
            }
        }
    }

    func testConcatenatedMembersAreOneStream() throws {
        let parts = [sample(70_000, seed: 1), [], sample(5, seed: 2), sample(200_000, seed: 3), sample(1, seed: 4)]
        var gz = [UInt8]()
        for (i, p) in parts.enumerated() { gz += member(p, level: Int32([6, 1, 0, 9, 6][i])) }
        let whole = parts.flatMap { $0 }
        for readSize in [13, 4096, 1 << 20] {
            XCTAssertEqual(try inflate(gz, readSize: readSize, step: readSize % 7), whole, "read \(readSize)")
        }
        XCTAssertEqual(try inflateWhole(gz), whole)
    }

    func testOptionalHeaderFieldsAreSkipped() throws {
        let data = sample(30_000)
        let gz = member(data, name: "matrix.mtx", comment: "a comment", extra: [1, 2, 3, 4, 5], headerCRC: true)
            + member(data, name: "second")
        XCTAssertEqual(try inflate(gz, readSize: 1000, step: 3), data + data)
        XCTAssertEqual(try inflateWhole(gz), data + data)
        // Headers split between reads at many places.
        for step in 1...12 { XCTAssertEqual(try inflate(gz, readSize: 1 << 16, step: step), data + data, "step \(step)") }
        // A wrong header CRC, an unknown method or unknown flags are refused.
        var badCRC = member(data, name: "m", headerCRC: true)
        badCRC[12] ^= 1  // inside the name, covered by the header CRC
        XCTAssertTrue(failure(badCRC)?.description.contains("header CRC mismatch") ?? false)
        var method = member(data)
        method[2] = 7
        XCTAssertTrue(failure(method)?.description.contains("compression method") ?? false)
        var flags = member(data)
        flags[3] |= 0x20
        XCTAssertTrue(failure(flags)?.description.contains("header flags") ?? false)
    }

    func testBadCRCOrLengthInATrailerIsReported() throws {
        let data = sample(50_000)
        let good = member(data)
        for (offset, what) in [(8, "CRC"), (6, "CRC"), (4, "length"), (1, "length")] {
            var bad = good
            bad[bad.count - offset] ^= 0x10
            let e = failure(bad)
            XCTAssertNotNil(e, "a wrong \(what) went unnoticed")
            XCTAssertEqual(e?.exitCode, 65)
            XCTAssertTrue(e?.description.contains("test.gz") ?? false, e?.description ?? "")
            XCTAssertTrue(e?.description.contains("incorrect data check") ?? false, e?.description ?? "")
        }
        // The same in the first of two members.
        var bad = good + member(data)
        bad[good.count - 3] ^= 1
        XCTAssertTrue(failure(bad)?.description.contains("incorrect data check") ?? false)
    }

    func testTruncationAnywhereIsReported() throws {
        let data = sample(60_000)
        let one = member(data)
        let two = one + member(sample(1000, seed: 9), name: "x")
        // Every cut in the last 40 bytes (trailer and end of the data), in the header, and some in between.
        var cuts = Array(1..<40) + Array(stride(from: 60, to: one.count - 10, by: max(1, one.count / 23)))
        cuts += (1...9).map { one.count - $0 }  // leaves only part of the header
        for cut in Set(cuts) {
            let e = failure(Array(one.prefix(one.count - cut)), step: cut % 11)
            XCTAssertEqual(e?.exitCode, 65, "cut \(cut)")
            XCTAssertTrue(e?.description.contains("truncated gzip") ?? false, "cut \(cut): \(e?.description ?? "no error")")
        }
        // Inside the second member's header or body.
        for keep in [one.count + 1, one.count + 5, one.count + 12, two.count - 1] {
            let e = failure(Array(two.prefix(keep)))
            XCTAssertTrue(e?.description.contains("truncated gzip") ?? false, "keep \(keep): \(e?.description ?? "no error")")
        }
        // A cut exactly between members leaves a shorter, valid stream (as gunzip reads it).
        XCTAssertEqual(try inflateWhole(Array(two.prefix(one.count))), data)
    }

    func testTrailingJunkAndCorruptDataAreErrors() throws {
        let data = sample(40_000)
        let gz = member(data)
        let junk = failure(gz + Array("not gzip at all".utf8))
        XCTAssertEqual(junk?.exitCode, 65)
        XCTAssertTrue(junk?.description.contains("corrupt gzip data") ?? false, junk?.description ?? "no error")
        // Short junk (zero padding) too.
        let zeros = failure(gz + [0, 0, 0, 0])
        XCTAssertTrue(zeros?.description.contains("does not start with the gzip magic") ?? false, zeros?.description ?? "no error")
        // Flipped bytes inside the compressed data: some error, never silently different bytes.
        for position in stride(from: 20, to: gz.count - 20, by: gz.count / 17) {
            var bad = gz
            bad[position] ^= 0x5a
            if let e = failure(bad) {
                XCTAssertEqual(e.exitCode, 65)
            } else {
                XCTFail("corruption at \(position) went unnoticed")
            }
        }
    }

    func testByteReaderReadsConcatenatedFilesAndStdinLayouts() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let a = sample(100_000, seed: 5), b = sample(3_000_000, seed: 6)
        let path = dir.appendingPathComponent("two.txt.gz")
        try Data(member(a) + member(b, level: 1)).write(to: path)
        for prefetch in [false, true] {
            let reader = prefetch ? try ByteReader.openPrefetching(path.path) : try ByteReader.open(path.path)
            XCTAssertTrue(reader.isGzip)
            var got = [UInt8]()
            while let run = try reader.nextLines() { got.append(contentsOf: run) }
            XCTAssertEqual(got, a + b, "prefetch \(prefetch)")
        }
    }
}
