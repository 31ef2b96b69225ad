// Safetensors: round trips, a real file written by the Python library, and hostile headers.

import Foundation
import TestSupport
import ToolKit
import Weights
import XCTest

final class SafetensorsTests: XCTestCase {
    func testRoundTripIsByteExact() throws {
        var f = TensorFile()
        f.set("b.weight", StoredTensor([1, -2.5, 3e-8, .greatestFiniteMagnitude], shape: [2, 2]))
        f.set("a.table", StoredTensor([0.1, 0.2, 0.3] as [Double], shape: [3]))
        f.set("steps", StoredTensor([7] as [Int64], shape: []))
        f.set("empty", StoredTensor([Float](), shape: [0, 4]))
        f.metadata = ["format": "pt", "note": "quote \" and\nnewline"]
        let bytes = Safetensors.encode(f)
        let back = try bytes.withUnsafeBytes { try Safetensors.decode($0, name: "mem") }
        XCTAssertEqual(back.metadata, f.metadata)
        for n in f.names { XCTAssertEqual(back[n], f[n], n) }
        XCTAssertEqual(Safetensors.encode(back).count, bytes.count)
        let headerLength = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0, "the JSON header is padded to 8 bytes")
    }

    func testHalfPrecisionConversion() {
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertEqual(halfToFloat(0x7BFF), 65504)
        XCTAssertEqual(halfToFloat(0x0001), Float(sign: .plus, exponent: -24, significand: 1))
        XCTAssertEqual(halfToFloat(0x7C00), .infinity)
        XCTAssertTrue(halfToFloat(0x7E00).isNaN)
        XCTAssertEqual(halfToFloat(0x8000).sign, .minus)
    }

    func testRejectsHostileHeaders() {
        func decode(_ bytes: [UInt8]) -> String? {
            do { _ = try bytes.withUnsafeBytes { try Safetensors.decode($0, name: "x.safetensors") }; return nil }
            catch let e as ToolError { XCTAssertEqual(e.exitCode, 65); return e.description }
            catch { return "\(error)" }
        }
        func file(_ json: String, data: Int) -> [UInt8] {
            let h = Array(json.utf8)
            var out = [UInt8]()
            withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
            return out + h + [UInt8](repeating: 0, count: data)
        }
        XCTAssertNotNil(decode([1, 2, 3]))
        XCTAssertNotNil(decode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B]))  // huge header length
        XCTAssertNotNil(decode(file("[1,2]", data: 0)))
        XCTAssertNotNil(decode(file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: 8)))
        XCTAssertNotNil(decode(file(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)))
        XCTAssertNotNil(decode(file(#"{"t":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, data: 8)))
        XCTAssertNotNil(decode(file(#"{"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: 8)))
        XCTAssertNotNil(decode(file(#"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: 8)))
        XCTAssertNil(decode(file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8)))
    }

    func testReadsFileWrittenByPythonSafetensors() throws {
        // scbert-mini's model.safetensors was written by the safetensors Python package.
        let f = try Safetensors.read(path: Fixtures.path("scbert-mini/model.safetensors"))
        XCTAssertEqual(f.names.count, 35)
        XCTAssertEqual(f["pos_emb.emb.weight"]?.dtype, .f64)
        XCTAssertEqual(f["pos_emb.emb.weight"]?.shape, [2001, 64])
        XCTAssertEqual(f["performer.calls_since_last_redraw"]?.shape, [])
        XCTAssertEqual(f["token_emb.weight"]?.shape, [7, 64])
        XCTAssertEqual(f.metadata["format"], "pt")
        // The zero last row of the gene2vec table.
        let pos = f["pos_emb.emb.weight"]!.doubles
        XCTAssertEqual(Array(pos[(2000 * 64)...]), [Double](repeating: 0, count: 64))
    }
}
