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
        // As strict as the reference implementation: the tensors tile the data exactly.
        let two = { (a: String, b: String, data: Int) in
            file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":\#(a)},"b":{"dtype":"F32","shape":[1],"data_offsets":\#(b)}}"#, data: data)
        }
        XCTAssertNil(decode(two("[0,4]", "[4,8]", 8)))
        XCTAssertEqual(decode(two("[0,4]", "[2,6]", 8)), "x.safetensors: not a valid safetensors file: tensor b data_offsets [2, 6] overlap another tensor's data")
        XCTAssertEqual(decode(two("[0,4]", "[0,4]", 4)), "x.safetensors: not a valid safetensors file: tensor b data_offsets [0, 4] overlap another tensor's data")
        XCTAssertEqual(decode(two("[0,4]", "[6,10]", 10)), "x.safetensors: not a valid safetensors file: bytes 4..<6 of the data belong to no tensor")
        XCTAssertEqual(decode(two("[0,4]", "[4,8]", 12)), "x.safetensors: not a valid safetensors file: bytes 8..<12 of the data belong to no tensor")
        XCTAssertEqual(decode(two("[4,8]", "[8,12]", 12)), "x.safetensors: not a valid safetensors file: bytes 0..<4 of the data belong to no tensor")
        // A name or a shape of the header is quoted briefly, however long.
        let name = String(repeating: "n", count: 10_000)
        let long = decode(file(#"{"\#(name)":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, data: 4)) ?? ""
        XCTAssertLessThan(long.utf8.count, 200, long)
        XCTAssertTrue(long.contains("… (10000 bytes) has unsupported dtype Q7"), long)
    }

    func testNonFiniteWeightsAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        for (dtype, bits, what) in [(DType.f32, [UInt8](arrayLiteral: 0, 0, 0xC0, 0x7F), "NaN"), (.f16, [0x00, 0x7C], "infinity"),
                                    (.bf16, [0x80, 0xFF], "-infinity")] {
            var f = TensorFile()
            f.set("ok", StoredTensor([Float](arrayLiteral: 1, 2), shape: [2]))
            f.set("w", StoredTensor(dtype: dtype, shape: [2], bytes: [UInt8](repeating: 0, count: dtype.size) + bits))
            let path = dir.appendingPathComponent("\(what).safetensors").path
            try Safetensors.write(f, to: path)
            for load in [{ _ = try WeightsFile.load(path) }, { _ = try Safetensors.read(path: path) }] {
                XCTAssertThrowsError(try load(), what) { e in
                    XCTAssertEqual((e as? ToolError)?.exitCode, 65)
                    XCTAssertEqual("\(e)", "\(path): tensor w holds a non-finite value (NaN or infinity) at element 1: the weights are corrupt")
                }
            }
        }
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
