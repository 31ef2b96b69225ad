// PyTorch zip checkpoints: the real scBERT-style file against its safetensors twin, crafted
// checkpoints for the less common cases (strides, offsets, Lightning layout, zip64), and hostile
// files that must be refused with one clear line (exit 65) without running anything.

import Foundation
import Kernels
import TestSupport
import ToolKit
import Weights
import XCTest

// MARK: - Builders for crafted files

/// Writes a stored zip archive (optionally with a zip64 end record, or a compressed method byte).
struct ZipBuilder {
    var entries: [(String, [UInt8])] = []
    var method: UInt16 = 0
    var zip64 = false

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    func bytes() -> [UInt8] {
        var out = [UInt8](), central = [UInt8]()
        for (name, data) in entries {
            let offset = UInt32(out.count)
            let crc = data.withUnsafeBytes { crc32($0) }
            let n = Array(name.utf8)
            out += Self.le(UInt32(0x0403_4B50)) + Self.le(UInt16(20)) + Self.le(UInt16(0)) + Self.le(method)
            out += Self.le(UInt32(0)) + Self.le(crc) + Self.le(UInt32(data.count)) + Self.le(UInt32(data.count))
            out += Self.le(UInt16(n.count)) + Self.le(UInt16(3)) + n + [0, 0, 0] + data
            central += Self.le(UInt32(0x0201_4B50)) + Self.le(UInt16(20)) + Self.le(UInt16(20)) + Self.le(UInt16(0)) + Self.le(method)
            central += Self.le(UInt32(0)) + Self.le(crc) + Self.le(UInt32(data.count)) + Self.le(UInt32(data.count))
            central += Self.le(UInt16(n.count)) + Self.le(UInt16(0)) + Self.le(UInt16(0)) + Self.le(UInt16(0)) + Self.le(UInt16(0))
            central += Self.le(UInt32(0)) + Self.le(offset) + n
        }
        let cdOffset = out.count
        out += central
        if zip64 {
            let z = out.count
            out += Self.le(UInt32(0x0606_4B50)) + Self.le(UInt64(44)) + Self.le(UInt16(45)) + Self.le(UInt16(45))
            out += Self.le(UInt32(0)) + Self.le(UInt32(0)) + Self.le(UInt64(entries.count)) + Self.le(UInt64(entries.count))
            out += Self.le(UInt64(central.count)) + Self.le(UInt64(cdOffset))
            out += Self.le(UInt32(0x0706_4B50)) + Self.le(UInt32(0)) + Self.le(UInt64(z)) + Self.le(UInt32(1))
            out += Self.le(UInt32(0x0605_4B50)) + Self.le(UInt16(0)) + Self.le(UInt16(0)) + Self.le(UInt16(0xFFFF)) + Self.le(UInt16(0xFFFF))
            out += Self.le(UInt32(0xFFFF_FFFF)) + Self.le(UInt32(0xFFFF_FFFF)) + Self.le(UInt16(0))
        } else {
            out += Self.le(UInt32(0x0605_4B50)) + Self.le(UInt16(0)) + Self.le(UInt16(0)) + Self.le(UInt16(entries.count)) + Self.le(UInt16(entries.count))
            out += Self.le(UInt32(central.count)) + Self.le(UInt32(cdOffset)) + Self.le(UInt16(0))
        }
        return out
    }
}

/// Emits protocol-2 pickle opcodes.
struct PickleBuilder {
    var b: [UInt8] = [0x80, 0x02]
    mutating func op(_ o: UInt8) { b.append(o) }
    mutating func str(_ s: String) { let u = Array(s.utf8); b.append(0x58); b += ZipBuilder.le(UInt32(u.count)); b += u }
    mutating func int(_ i: Int) {
        if let small = Int32(exactly: i) { b.append(0x4A); b += ZipBuilder.le(small) } else { b += [0x8A, 8] + ZipBuilder.le(Int64(i)) }
    }
    mutating func global(_ module: String, _ name: String) { b.append(0x63); b += Array("\(module)\n\(name)\n".utf8) }
    mutating func tuple(_ ints: [Int]) { op(0x28); for i in ints { int(i) }; op(0x74) }
    /// A `_rebuild_tensor_v2` call for a float32 storage.
    mutating func tensor(key: String, numel: Int, offset: Int, shape: [Int], stride: [Int], storage: String = "FloatStorage") {
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28)
        op(0x28); str("storage"); global("torch", storage); str(key); str("cpu"); int(numel); op(0x74); op(0x51)
        int(offset); tuple(shape); tuple(stride); op(0x89)
        global("collections", "OrderedDict"); op(0x29); op(0x52)
        op(0x74); op(0x52)
    }
    mutating func stop() { op(0x2E) }
}

func floatBytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

final class TorchCheckpointTests: XCTestCase {
    func load(_ bytes: [UInt8], name: String = "crafted.pth") throws -> TensorFile {
        try bytes.withUnsafeBytes { try TorchCheckpoint.decode($0, name: name) }
    }

    /// The message of the error a load throws (and that it is exit 65).
    func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        let dir = NSTemporaryDirectory() + "scgrn-ckpt-\(UUID().uuidString).pth"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir, contents: Data(bytes))
        do {
            _ = try WeightsFile.load(dir)
            XCTFail("loaded a hostile file", file: file, line: line)
            return ""
        } catch let e as ToolError {
            XCTAssertEqual(e.exitCode, 65, file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line: \(e.description)", file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(dir), "names the file: \(e.description)", file: file, line: line)
            return e.description
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return ""
        }
    }

    // MARK: - Real files

    func testPthEqualsSafetensorsTensorForTensor() throws {
        let pth = try WeightsFile.load(Fixtures.path("scbert-mini/model.pth"))
        let st = try WeightsFile.load(Fixtures.path("scbert-mini/model.safetensors"))
        XCTAssertEqual(pth.names.count, 35)
        XCTAssertEqual(Set(pth.names), Set(st.names))
        for n in st.names { XCTAssertEqual(pth[n], st[n], n) }
        XCTAssertEqual(pth["pos_emb.emb.weight"]?.dtype, .f64)
        XCTAssertEqual(pth["pos_emb.emb.weight"]?.shape, [2001, 64])
        XCTAssertEqual(pth["performer.calls_since_last_redraw"]?.shape, [])
        XCTAssertEqual(pth.names.first, "token_emb.weight", "state_dict order is kept")
    }

    // MARK: - Crafted checkpoints

    func testStridesOffsetsAndTopFolderName() throws {
        // Storage 0..9; a [3,2] view with strides (1,3) from offset 1: column-major over 1…6.
        var p = PickleBuilder()
        p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
        p.op(0x28)
        p.str("t"); p.tensor(key: "weird key 7", numel: 10, offset: 1, shape: [3, 2], stride: [1, 3])
        p.str("c"); p.tensor(key: "weird key 7", numel: 10, offset: 4, shape: [2, 3], stride: [3, 1])
        p.str("s"); p.tensor(key: "weird key 7", numel: 10, offset: 9, shape: [], stride: [])
        p.str("e"); p.tensor(key: "weird key 7", numel: 10, offset: 0, shape: [0, 5], stride: [5, 1])
        p.op(0x75)
        p.op(0x7D); p.str("_metadata"); p.op(0x7D); p.op(0x73); p.op(0x62)  // BUILD {'_metadata': {}}
        p.stop()
        let storage = floatBytes((0..<10).map(Float.init))
        let zip = ZipBuilder(entries: [("my-run_3/data.pkl", p.b), ("my-run_3/byteorder", Array("little".utf8)),
                                       ("my-run_3/data/weird key 7", storage)])
        for z64 in [false, true] {
            var zb = zip
            zb.zip64 = z64
            let f = try load(zb.bytes())
            XCTAssertEqual(f.names, ["t", "c", "s", "e"])
            XCTAssertEqual(f["t"]?.floats, [1, 4, 2, 5, 3, 6])
            XCTAssertEqual(f["c"]?.floats, [4, 5, 6, 7, 8, 9])
            XCTAssertEqual(f["s"]?.floats, [9])
            XCTAssertEqual(f["e"]?.shape, [0, 5])
        }
    }

    func testLightningLayoutWithPathPlaceholders() throws {
        var p = PickleBuilder()
        p.op(0x7D); p.op(0x28)
        p.str("epoch"); p.int(3)
        p.str("hyper_parameters"); p.op(0x7D)
        p.str("log_dir"); p.global("pathlib", "PosixPath"); p.op(0x28); p.str(".."); p.str("logs"); p.op(0x74); p.op(0x52); p.op(0x73)
        p.str("nhead"); p.int(2); p.op(0x73)
        p.str("state_dict"); p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
        p.str("w"); p.tensor(key: "0", numel: 2, offset: 0, shape: [2], stride: [1], storage: "DoubleStorage"); p.op(0x73)
        p.op(0x75); p.stop()
        let zip = ZipBuilder(entries: [("archive/data.pkl", p.b), ("archive/data/0", [Double(1.5), -2].withUnsafeBytes { Array($0) })])
        let f = try load(zip.bytes())
        XCTAssertEqual(f.names, ["w"])
        XCTAssertEqual(f["w"]?.dtype, .f64)
        XCTAssertEqual(f["w"]?.doubles, [1.5, -2])
        // Scalar hyper-parameters become metadata; the path placeholder does not.
        XCTAssertEqual(f.metadata, ["hyper_parameters.nhead": "2"])
    }

    // MARK: - Hostile files

    func testRefusesNonZipAndTruncatedFiles() throws {
        XCTAssertTrue(refusal(Array("hello, this is not a checkpoint at all".utf8)).contains("safetensors"))
        let real = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("scbert-mini/model.pth"))))
        let cut = refusal(Array(real[0..<(real.count / 2)]))
        XCTAssertTrue(cut.contains("end-of-central-directory"), cut)
        // The end record intact but a member cut short: the directory points past the end.
        var holed = real
        holed.removeSubrange(100_000..<200_000)
        XCTAssertTrue(refusal(holed).contains("PyTorch"))
        XCTAssertTrue(refusal([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC]).contains("legacy"))
    }

    func testRefusesForbiddenGlobalsAndOpcodes() {
        func zipped(_ pkl: [UInt8]) -> [UInt8] { ZipBuilder(entries: [("archive/data.pkl", pkl)]).bytes() }
        // os.system("echo pwned") via REDUCE.
        var p = PickleBuilder()
        p.global("os", "system"); p.op(0x28); p.str("echo pwned"); p.op(0x74); p.op(0x52); p.stop()
        let m1 = refusal(zipped(p.b))
        XCTAssertTrue(m1.contains("os.system") && m1.contains("not allowed"), m1)
        // builtins.eval through STACK_GLOBAL.
        var q = PickleBuilder()
        q.str("builtins"); q.str("eval"); q.op(0x93); q.op(0x28); q.str("1+1"); q.op(0x74); q.op(0x52); q.stop()
        XCTAssertTrue(refusal(zipped(q.b)).contains("builtins.eval"))
        // An allow-listed data class is never *called* with a global as argument chain: INST is refused.
        var r = PickleBuilder()
        r.op(0x28); r.b += Array("ios\nsystem\n".utf8); r.stop()
        XCTAssertTrue(refusal(zipped(r.b)).contains("INST"))
        // BUILD on a placeholder is fine, but REDUCE of a non-global (a dict) is not.
        var s = PickleBuilder()
        s.op(0x7D); s.op(0x29); s.op(0x52); s.stop()
        XCTAssertTrue(refusal(zipped(s.b)).contains("REDUCE"))
        // A pickle that never reaches STOP.
        var t = PickleBuilder()
        t.op(0x7D); t.str("x")
        XCTAssertTrue(refusal(zipped(t.b)).contains("truncated"))
        // 100,000 nested tuples (releasing them would recurse that deep): refused at depth 200.
        var deep = PickleBuilder()
        deep.op(0x4E); deep.b += [UInt8](repeating: 0x85, count: 100_000); deep.stop()
        XCTAssertTrue(refusal(zipped(deep.b)).contains("nested deeper"))
        // Lists chained through the memo after nesting (the way to build depth past the check).
        var chain = PickleBuilder()
        chain.op(0x5D); chain.op(0x71); chain.op(0)                        // a = []; memo 0
        chain.op(0x5D); chain.op(0x71); chain.op(1)                        // b = []; memo 1
        chain.op(0x61)                                                     // a.append(b)
        chain.op(0x30); chain.op(0x68); chain.op(1); chain.op(0x5D); chain.op(0x61)  // b.append([])
        chain.stop()
        XCTAssertTrue(refusal(zipped(chain.b)).contains("changed after being nested"))
        // A list appended to itself and a dict set as its own value through the memo: a cycle the
        // reference counts could never free.
        var selfList = PickleBuilder()
        selfList.op(0x5D); selfList.op(0x71); selfList.op(0); selfList.op(0x68); selfList.op(0); selfList.op(0x61)
        selfList.stop()
        XCTAssertTrue(refusal(zipped(selfList.b)).contains("appended to itself"))
        var selfDict = PickleBuilder()
        selfDict.op(0x7D); selfDict.op(0x71); selfDict.op(0); selfDict.str("k"); selfDict.op(0x68); selfDict.op(0); selfDict.op(0x73)
        selfDict.stop()
        XCTAssertTrue(refusal(zipped(selfDict.b)).contains("its own key or value"))
        // A BINUNICODE whose length runs past the end.
        XCTAssertTrue(refusal(zipped([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41])).contains("past the end"))
    }

    func testRefusesBadStoragesAndArchives() {
        func ckpt(numel: Int, offset: Int = 0, shape: [Int], stride: [Int], data: [UInt8], method: UInt16 = 0) -> [UInt8] {
            var p = PickleBuilder()
            p.op(0x7D); p.str("w"); p.tensor(key: "0", numel: numel, offset: offset, shape: shape, stride: stride); p.op(0x73); p.stop()
            return ZipBuilder(entries: [("archive/data.pkl", p.b), ("archive/data/0", data)], method: method).bytes()
        }
        let four = floatBytes([1, 2, 3, 4])
        XCTAssertNoThrow(try load(ckpt(numel: 4, shape: [2, 2], stride: [2, 1], data: four)))
        XCTAssertTrue(refusal(ckpt(numel: 1000, shape: [2, 2], stride: [2, 1], data: four)).contains("holds 16 bytes"))
        XCTAssertTrue(refusal(ckpt(numel: 4, offset: 2, shape: [2, 2], stride: [2, 1], data: four)).contains("reach element"))
        XCTAssertTrue(refusal(ckpt(numel: 4, shape: [1 << 40, 1 << 30], stride: [0, 0], data: four)).contains("larger than the file"))
        XCTAssertTrue(refusal(ckpt(numel: 4, shape: [2, 2], stride: [2, 1], data: four, method: 8)).contains("compressed"))
        // Central directory offset pointing past the end of the file.
        var bad = ckpt(numel: 4, shape: [2, 2], stride: [2, 1], data: four)
        let n = bad.count
        bad[n - 6] = 0xFF; bad[n - 5] = 0xFF; bad[n - 4] = 0xFF
        XCTAssertTrue(refusal(bad).contains("outside the file"))
        // A storage member that is missing.
        var p = PickleBuilder()
        p.op(0x7D); p.str("w"); p.tensor(key: "9", numel: 1, offset: 0, shape: [1], stride: [1]); p.op(0x73); p.stop()
        XCTAssertTrue(refusal(ZipBuilder(entries: [("archive/data.pkl", p.b)]).bytes()).contains("missing"))
        // A corrupted storage byte fails the CRC check.
        var corrupt = ckpt(numel: 4, shape: [2, 2], stride: [2, 1], data: four)
        if let i = corrupt.lastIndex(of: 0x40) { corrupt[i] ^= 1 }  // flips a bit inside the float 2.0 / 3.0 / 4.0
        XCTAssertTrue(refusal(corrupt).contains("CRC"))
    }
}
