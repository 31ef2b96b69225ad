// The vector parser of MatrixMarket lines (CKernels/mtx_lines.c) against its byte-by-byte
// reference, over many generated bodies: plain lines of every field length, and every way a
// line can fail to be plain (long numbers, tabs, CR, double or leading spaces, signs, decimals,
// empty lines, a newline beyond 16 bytes, the end of the text).

import CKernels
import Foundation
import Kernels
import TestSupport
import XCTest

final class MatrixMarketLinesTests: XCTestCase {
    struct Parsed: Equatable {
        var lines: Int
        var consumed: Int
        var rows: [UInt32]
        var columns: [UInt32]
        var values: [UInt32]
    }

    typealias Kernel = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UInt32>?,
                        UnsafeMutablePointer<UInt32>?, Int, UnsafeMutablePointer<Int>?) -> Int

    func parse(_ text: [UInt8], maxLines: Int, with kernel: Kernel) -> Parsed {
        var rows = [UInt32](repeating: 0xFFFF_FFFF, count: maxLines)
        var columns = rows, values = rows
        var consumed = -1
        let n = text.withUnsafeBufferPointer { t in
            kernel(t.baseAddress, t.count, &rows, &columns, &values, maxLines, &consumed)
        }
        return Parsed(lines: n, consumed: consumed, rows: Array(rows[..<n]), columns: Array(columns[..<n]), values: Array(values[..<n]))
    }

    /// A random number of `digits` digits (leading zeros allowed).
    func number(_ digits: Int, _ r: inout Xoshiro256) -> String {
        String((0..<digits).map { _ in Character(String(Int(r.nextDouble() * 10) % 10)) })
    }

    /// One line: mostly plain with fields of 1–8 digits, sometimes broken in one way.
    func line(_ r: inout Xoshiro256, breakRate: Double) -> String {
        // Mostly a count matrix's lengths (the newline within 16 bytes); sometimes any of 1–8.
        let lengths = [4, 6, 2].map { typical in 1 + Int(r.nextDouble() * Double(r.nextDouble() < 0.2 ? 8 : typical)) }
        var fields = lengths.map { number($0, &r) }
        var seps = [" ", " ", "\n"]
        if r.nextDouble() < breakRate {
            switch Int(r.nextDouble() * 10) {
            case 0: fields[Int(r.nextDouble() * 3) % 3] = number(9 + Int(r.nextDouble() * 3), &r)
            case 1: seps[Int(r.nextDouble() * 2) % 2] = "\t"
            case 2: seps[2] = "\r\n"
            case 3: seps[Int(r.nextDouble() * 2) % 2] = "  "
            case 4: fields[0] = " " + fields[0]
            case 5: fields[2] = fields[2] + ".5"
            case 6: fields[Int(r.nextDouble() * 3) % 3] = "-" + fields[0]
            case 7: return "\n"
            case 8: fields.removeLast(); seps.removeFirst()
            default: fields[Int(r.nextDouble() * 3) % 3] = ""
            }
        }
        return zip(fields, seps).map { $0 + $1 }.joined()
    }

    func both(_ text: [UInt8], _ maxLines: Int) -> (Parsed, Parsed) {
        (parse(text, maxLines: maxLines, with: ck_mtx_lines), parse(text, maxLines: maxLines, with: ck_mtx_lines_reference))
    }

    func testTheKernelMatchesItsReference() {
        print("mtx_lines: vector variant in use: \(ck_mtx_lines_accelerated() != 0)")
        var r = Xoshiro256(seed: 7)
        var plainLines = 0
        for round in 0..<400 {
            let breakRate = [0.0, 0.01, 0.1, 0.5][round % 4]
            let count = 1 + Int(r.nextDouble() * 300)
            var text = Array((0..<count).map { _ in line(&r, breakRate: breakRate) }.joined().utf8)
            // Cut the text anywhere (also inside a line), or keep it whole.
            if round % 3 == 0 { text = Array(text.prefix(Int(r.nextDouble() * Double(text.count + 1)))) }
            let maxLines = round % 5 == 0 ? 1 + Int(r.nextDouble() * 50) : 4096
            // As the reader calls it: from where the last call stopped, past the line it stopped at.
            var start = 0
            while start < text.count {
                let (fast, reference) = both(Array(text[start...]), maxLines)
                XCTAssertEqual(fast, reference, "round \(round), start \(start)")
                plainLines += reference.lines
                start += reference.consumed
                if reference.lines < maxLines {
                    while start < text.count && text[start] != 0x0A { start += 1 }
                    start += 1
                }
            }
            // And from a few places inside lines.
            for start in stride(from: 1, to: text.count, by: max(1, text.count / 5)) {
                let (fast, reference) = both(Array(text[start...]), maxLines)
                XCTAssertEqual(fast, reference, "round \(round), start \(start)")
            }
        }
        XCTAssertGreaterThan(plainLines, 20_000)
    }

    func testTheReferenceTakesExactlyThePlainLines() {
        func lines(_ s: String, max: Int = 100) -> Parsed { parse(Array(s.utf8), maxLines: max, with: ck_mtx_lines_reference) }
        let pad = String(repeating: "#", count: 16)  // so that every line starts 16 bytes before the end
        XCTAssertEqual(lines("1 2 3\n12345678 1 2\n" + pad),
                       Parsed(lines: 2, consumed: 19, rows: [1, 12_345_678], columns: [2, 1], values: [3, 2]))
        XCTAssertEqual(lines("0001 0 00000009\n" + pad).values, [9])
        XCTAssertEqual(lines("1 2 3\n123456789 1 2\n" + pad).lines, 1)   // nine digits
        XCTAssertEqual(lines("1234 12345 123456\n" + pad).lines, 0)       // newline beyond 16 bytes
        XCTAssertEqual(lines("1 2 3\r\n" + pad).lines, 0)
        XCTAssertEqual(lines("1\t2 3\n" + pad).lines, 0)
        XCTAssertEqual(lines("1  2 3\n" + pad).lines, 0)
        XCTAssertEqual(lines(" 1 2 3\n" + pad).lines, 0)
        XCTAssertEqual(lines("1 2\n" + pad).lines, 0)
        XCTAssertEqual(lines("1 2 3 4\n" + pad).lines, 0)
        XCTAssertEqual(lines("1 2 3.0\n" + pad).lines, 0)
        XCTAssertEqual(lines("\n" + pad).lines, 0)
        XCTAssertEqual(lines("1 2 3\n").lines, 0)                         // fewer than 16 bytes left
        XCTAssertEqual(lines("1 2 3\n4 5 6\n" + pad, max: 1).consumed, 6)
    }
}
