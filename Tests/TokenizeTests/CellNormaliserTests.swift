// CellNormaliser.total and .write (each cell normalised straight into its CELL frame through
// FrameWriter.appendCell, from float64 values or from integer counts) against their reference,
// CellNormaliser.fill + FrameWriter.append(cell:): the streams must be the same bytes, over many
// cells, scales and settings.

import Foundation
import TestSupport
import XCTest

@testable import tokenize
import Frames
import Kernels
import ToolKit

final class CellNormaliserTests: XCTestCase {
    /// Random cells: N from 0 to all genes, ascending genes; counts small (memoised) and large,
    /// sometimes non-integer; some cells count only genes outside the total.
    func cells(genes: Int, inTotal: [Bool], log2Scale: Bool, _ r: inout Xoshiro256) -> [(genes: [UInt32], values: [Double])] {
        var out: [(genes: [UInt32], values: [Double])] = []
        for i in 0..<300 {
            let density = [0.0, 0.01, 0.1, 0.5, 1.0][i % 5]
            var g: [UInt32] = []
            for k in 0..<genes where r.nextDouble() < density { g.append(UInt32(k)) }
            if i % 17 == 3 { g = g.filter { !inTotal[Int($0)] } }  // no counts over the total
            let v: [Double] = g.map { _ in
                if log2Scale { return 0.01 + 14 * r.nextDouble() }
                let u = r.nextDouble()
                if u < 0.6 { return Double(1 + Int(r.nextDouble() * 5)) }
                if u < 0.85 { return Double(1 + Int(r.nextDouble() * 63)) }
                if u < 0.95 { return Double(64 + Int(r.nextDouble() * 5000)) }
                return 0.25 + Double(Int(r.nextDouble() * 400)) * 0.5  // non-integers, some below 64
            }
            out.append((g, v))
            // Totals that repeat (the memo's cache): the same cell again, and the same values
            // moved among its genes (the same total when every gene counts).
            if i % 7 == 6 { out.append((g, v)) }
            if i % 11 == 10 && !v.isEmpty { out.append((g, Array(v[1...] + v[..<1]))) }
        }
        return out
    }

    func testWriteGivesTheBytesOfFillAndAppend() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var r = Xoshiro256(seed: 11)
        let geneCount = 240
        let header = StreamHeader(content: .cell, genes: (0..<geneCount).map { GeneName(symbol: "G\($0)") })
        var checked = 0, integralCells = 0
        for (index, setting) in [(InputScale.counts, false, 5, 1e4), (.counts, true, 5, 1e4), (.counts, false, 1, 1e6),
                                 (.counts, true, 255, 1), (.log2, false, 5, 1e4), (.log2, true, 3, 1e4)].enumerated() {
            let (scale, keepCounts, bins, targetSum) = setting
            let inTotal = (0..<geneCount).map { _ in r.nextDouble() < (index % 2 == 0 ? 0.7 : 1.0) }
            let normaliser = CellNormaliser(inTotal: inTotal, targetSum: targetSum, bins: bins, scale: scale, keepCounts: keepCounts)
            let flags: CellFrameFlags = keepCounts ? [.tokens, .counts] : [.tokens]
            let paths = ["reference", "direct", "counts"].map { dir.appendingPathComponent("\($0)\(index).sgrf").path }
            let reference = try FrameWriter(try OutputFile.open(paths[0], binary: true), header: header)
            let direct = try FrameWriter(try OutputFile.open(paths[1], binary: true), header: header)
            let viaCounts = try FrameWriter(try OutputFile.open(paths[2], binary: true), header: header)
            let memo = UnsafeMutablePointer<Double>.allocate(capacity: CellNormaliser.memoSize)
            defer { memo.deallocate() }
            let directMemo = CellNormaliser.Memo()
            var record = CellRecord(barcode: "", genes: [], values: [])
            for (c, cell) in cells(genes: geneCount, inTotal: inTotal, log2Scale: scale == .log2, &r).enumerated() {
                let barcode = Array(("cell-\(c)-" + String(repeating: "A", count: c % 23)).utf8)
                let counts = cell.values.allSatisfy { $0 == $0.rounded() && $0 < 4_294_967_296 } ? cell.values.map { UInt32($0) } : nil
                try cell.genes.withUnsafeBufferPointer { g in
                    try cell.values.withUnsafeBufferPointer { v in
                        let counted = normaliser.fill(&record, genes: g, values: v, memo: memo)
                        record.barcode = String(decoding: barcode, as: UTF8.self)
                        try reference.append(cell: record, flags: flags)
                        try barcode.withUnsafeBufferPointer { b in
                            let (total, directCounted) = normaliser.total(genes: g, values: .values(v))
                            XCTAssertEqual(directCounted, counted)
                            XCTAssertEqual(total.bitPattern, record.total.bitPattern)
                            try normaliser.write(genes: g, values: .values(v), total: total, barcode: b, flags: flags, to: direct, memo: directMemo)
                            guard let counts else {
                                try normaliser.write(genes: g, values: .values(v), total: total, barcode: b, flags: flags, to: viaCounts, memo: directMemo)
                                return
                            }
                            try counts.withUnsafeBufferPointer { k in
                                let (countTotal, countCounted) = normaliser.total(genes: g, values: .counts(k))
                                XCTAssertEqual(countCounted, counted)
                                XCTAssertEqual(countTotal.bitPattern, record.total.bitPattern)
                                try normaliser.write(genes: g, values: .counts(k), total: countTotal, barcode: b, flags: flags, to: viaCounts, memo: directMemo)
                            }
                            integralCells += 1
                        }
                    }
                }
                checked += 1
            }
            try reference.finish()
            try direct.finish()
            try viaCounts.finish()
            let streams = try paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
            XCTAssertGreaterThan(streams[0].count, 1000)
            XCTAssertEqual(streams[0], streams[1], "setting \(index): float64 path differs")
            XCTAssertEqual(streams[0], streams[2], "setting \(index): counts path differs")
        }
        XCTAssertGreaterThan(checked, 2000)
        XCTAssertGreaterThan(integralCells, 300)
    }
}
