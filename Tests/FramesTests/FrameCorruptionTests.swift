// Frames: every cut and every flipped byte is caught, each with its own kind of message;
// the conformance corpus; and `frames check` / `frames cat` as a user runs them.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

final class FrameCorruptionTests: XCTestCase {
    func goodStream() throws -> [UInt8] {
        var h = StreamHeader(content: .cell, genes: [GeneName(symbol: "A", id: "E1"), GeneName(symbol: "B")])
        h.setMetadata("bins", "5")
        return try streamBytes(h) { w in
            try w.append(cell: CellRecord(barcode: "c1", total: 3, genes: [0, 1], values: [1, 2], tokens: [1, 2]), flags: [.tokens])
            try w.flushPending()
            try w.append(cell: CellRecord(barcode: "c2", total: 1, genes: [1], values: [0.5], tokens: [0]), flags: [.tokens])
        }
    }

    /// Reads a whole stream in process; returns nil if it is valid, else the error text.
    func readError(_ bytes: [UInt8]) -> String? {
        do {
            let r = try reader(bytes)
            while try r.next() != nil {}
            return nil
        } catch let e as ToolError {
            XCTAssertEqual(e.exitCode, 65, "\(e)")
            return e.description
        } catch {
            return "unexpected error type: \(error)"
        }
    }

    func testStreamCutAtEveryByteIsRejectedAsTruncated() throws {
        let good = try goodStream()
        XCTAssertNil(readError(good))
        var frameStarts = Set<Int>()
        var off = 0
        while off < good.count {
            frameStarts.insert(off)
            let len = Int(good[off + 8]) | Int(good[off + 9]) << 8 | Int(good[off + 10]) << 16 | Int(good[off + 11]) << 24
            off += FrameFormat.headerSize + len
        }
        for cut in 0..<good.count {
            guard let msg = readError(Array(good[0..<cut])) else { XCTFail("cut at \(cut) was accepted"); continue }
            if cut == 0 {
                XCTAssertTrue(msg.contains("empty input"), "cut 0: \(msg)")
            } else if frameStarts.contains(cut) {
                XCTAssertTrue(msg.contains("without an END frame"), "cut at frame boundary \(cut): \(msg)")
            } else {
                XCTAssertTrue(msg.contains("truncated stream"), "cut \(cut): \(msg)")
            }
        }
    }

    func testFlippedByteAnywhereIsRejectedWithItsKindOfMessage() throws {
        let good = try goodStream()
        var offsets = [Int]()  // frame start offsets, to classify each byte
        var off = 0
        while off < good.count {
            offsets.append(off)
            let len = Int(good[off + 8]) | Int(good[off + 9]) << 8 | Int(good[off + 10]) << 16 | Int(good[off + 11]) << 24
            off += FrameFormat.headerSize + len
        }
        for i in 0..<good.count {
            for mask: UInt8 in [0x01, 0xFF] {
                var bad = good
                bad[i] ^= mask
                guard let msg = readError(bad) else { XCTFail("flip at \(i) was accepted"); continue }
                let start = offsets.last { $0 <= i }!
                let within = i - start
                let expected: String
                switch within {
                case 0..<4: expected = "magic"
                case 4: expected = "unsupported frame format version"
                case 5..<20: expected = "header CRC mismatch"
                default: expected = "payload CRC mismatch"
                }
                XCTAssertTrue(msg.contains(expected), "flip \(mask) at byte \(i) (frame byte \(within)): \(msg)")
            }
        }
    }

    func testConformanceCorpus() throws {
        let fm = FileManager.default
        let passed = Fixtures.path("frames/passed"), failed = Fixtures.path("frames/failed")
        let good = try fm.contentsOfDirectory(atPath: passed).filter { $0.hasSuffix(".sgrf") }.sorted()
        let bad = try fm.contentsOfDirectory(atPath: failed).filter { $0.hasSuffix(".sgrf") }.sorted()
        XCTAssertGreaterThanOrEqual(good.count, 9)
        XCTAssertGreaterThanOrEqual(bad.count, 21)
        let out = try Fixtures.temporaryDirectory(self).appendingPathComponent("cat.sgrf").path
        for name in good {
            let path = passed + "/" + name
            let check = try Tools.run("frames", ["check", path])
            XCTAssertEqual(check.status, 0, "\(name): \(check.stderr)")
            let view = try Tools.run("frames", ["view", "-H", path])
            XCTAssertEqual(view.status, 0, "\(name): \(view.stderr)")
            let twin = try String(contentsOfFile: path.replacingOccurrences(of: ".sgrf", with: ".txt"), encoding: .utf8)
            XCTAssertEqual(view.stdoutText, twin, name)
        }
        for name in bad {
            let path = failed + "/" + name
            let check = try Tools.run("frames", ["check", path])
            XCTAssertEqual(check.status, 65, name)
            let want = try String(contentsOfFile: path.replacingOccurrences(of: ".sgrf", with: ".txt"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertTrue(check.stderr.hasPrefix("frames: \(path): "), "\(name): \(check.stderr)")
            XCTAssertTrue(check.stderr.contains(want), "\(name): want '\(want)', got \(check.stderr)")
            XCTAssertEqual(check.stderr.filter { $0 == "\n" }.count, 1, "\(name): one line: \(check.stderr)")
            // frames cat applies the same frame and shard rules (one rule set) and leaves no output
            // behind. It copies payloads without decoding their records, so the cases whose fault is
            // inside a record (12, 13, 15) are for check and the stages.
            if ["12-", "13-", "15-"].contains(where: name.hasPrefix) { continue }
            defer { try? FileManager.default.removeItem(atPath: out) }
            let cat = try Tools.run("frames", ["cat", path, "-o", out])
            XCTAssertEqual(cat.status, 65, "\(name): frames cat: \(cat.stderr)")
            XCTAssertTrue(cat.stderr.contains(want), "\(name): frames cat: want '\(want)', got \(cat.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(name): frames cat left an output")
        }
    }

    func testCheckAcceptsConcatenatedStreamsAndCatMergesThem() throws {
        let a = try goodStream()
        let check = try Tools.run("frames", ["check", "-"], stdin: Data(a + a))
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdoutText.contains("2 stream(s)"), check.stdoutText)

        let merged = try Tools.run("frames", ["cat"], stdin: Data(a + a))
        XCTAssertEqual(merged.status, 0, merged.stderr)
        let r = try reader(Array(merged.stdout))
        XCTAssertEqual(r.shardHeaders.count, 1)
        XCTAssertEqual(r.header.provenance.last?.tool, "frames")
        var barcodes = [String]()
        while let f = try r.next() { if case .cells(_, let c) = f { barcodes += c.map(\.barcode) } }
        XCTAssertEqual(barcodes, ["c1", "c2", "c1", "c2"])

        // The same as two files: identical records (only the provenance's command line differs).
        let dir = try Fixtures.temporaryDirectory(self)
        let p1 = dir.appendingPathComponent("a.sgrf").path, p2 = dir.appendingPathComponent("m.sgrf").path
        try Data(a).write(to: URL(fileURLWithPath: p1))
        try merged.stdout.write(to: URL(fileURLWithPath: p2))
        let two = try Tools.run("frames", ["cat", p1, p1])
        XCTAssertEqual(two.status, 0, two.stderr)
        let viewTwo = try Tools.run("frames", ["view", "-"], stdin: two.stdout)
        let viewMerged = try Tools.run("frames", ["view", p2])
        XCTAssertEqual(viewTwo.stdoutText, viewMerged.stdoutText)
        XCTAssertEqual(viewTwo.stdoutText.split(separator: "\n").count, 1 + 2 * 3)
    }

    func testCatRefusesStreamsOfDifferentDatasets() throws {
        let a = try goodStream()
        let b = try streamBytes(StreamHeader(content: .cell, genes: [GeneName(symbol: "Z")])) { _ in }
        let run = try Tools.run("frames", ["cat"], stdin: Data(a + b))
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.contains("another gene list"), run.stderr)
        // Whatever reached stdout before the error has no END: no reader takes it as complete.
        if !run.stdout.isEmpty { XCTAssertNotNil(readError(Array(run.stdout))) }
    }

    func testUsageErrorsExit64AndOutputNeverOverwritesInput() throws {
        let bad = try Tools.run("frames", ["view", "--kind", "nonsense", Fixtures.path("frames/passed/02-one-cell.sgrf")])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        let p = Fixtures.path("frames/passed/02-one-cell.sgrf")
        let before = try Data(contentsOf: URL(fileURLWithPath: p))
        let same = try Tools.run("frames", ["cat", p, "-o", p])
        XCTAssertEqual(same.status, 64, same.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: p)), before)
        let missing = try Tools.run("frames", ["check", "/nonexistent/x.sgrf"])
        XCTAssertEqual(missing.status, 1)  // a missing file is a runtime failure, not bad data
        XCTAssertTrue(missing.stderr.contains("/nonexistent/x.sgrf"), missing.stderr)
    }

    func testGzippedStreamsAreReadToo() throws {
        // Streams may be stored gzip-compressed; readers detect it by the magic bytes.
        let a = try goodStream()
        let dir = try Fixtures.temporaryDirectory(self)
        let plain = dir.appendingPathComponent("s.sgrf")
        try Data(a).write(to: plain)
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gz.arguments = ["gzip", "-k", plain.path]
        try gz.run(); gz.waitUntilExit()
        let check = try Tools.run("frames", ["check", plain.path + ".gz"])
        XCTAssertEqual(check.status, 0, check.stderr)
    }
}
