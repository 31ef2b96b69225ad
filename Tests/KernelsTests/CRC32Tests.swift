// crc32 (ISA-L's, used for frames) equals zlib's CRC-32 for every length, alignment and
// continuation, so streams written before and after the switch check alike.

import CZlib
import Foundation
import Kernels
import XCTest

final class CRC32Tests: XCTestCase {
    func testEqualsZlibForManyLengthsOffsetsAndContinuations() {
        var x: UInt32 = 99
        let bytes: [UInt8] = (0..<70_000).map { _ in x = x &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: x >> 16) }
        bytes.withUnsafeBytes { all in
            let base = all.baseAddress!
            for length in [0, 1, 2, 3, 7, 15, 16, 17, 63, 64, 65, 255, 256, 1000, 4096, 65_536] {
                for offset in [0, 1, 3, 8, 13] {
                    let slice = UnsafeRawBufferPointer(start: base + offset, count: length)
                    let reference = UInt32(CZlib.crc32(0, slice.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(length)))
                    XCTAssertEqual(Kernels.crc32(slice), reference, "length \(length) offset \(offset)")
                    // In two pieces.
                    let cut = length / 3
                    let first = Kernels.crc32(UnsafeRawBufferPointer(start: base + offset, count: cut))
                    let both = Kernels.crc32(UnsafeRawBufferPointer(start: base + offset + cut, count: length - cut), continuing: first)
                    XCTAssertEqual(both, reference, "length \(length) offset \(offset) in two")
                }
            }
        }
        // The check value of the CRC-32 catalogue.
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { Kernels.crc32($0) }, 0xCBF4_3926)
    }
}
