// Safetensors: reader and writer of the safetensors format (Hugging Face).
//
// Layout: u64 little-endian N, then N bytes of UTF-8 JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …, "__metadata__": {str: str}},
// then the data buffer; offsets are relative to the buffer. The file is untrusted: the header
// length, every shape and every offset are checked against the file's size before use.

import Foundation
import ToolKit

public enum Safetensors {
    /// The largest JSON header accepted (100 MB, the reference implementation's limit).
    public static let maxHeader = 100_000_000

    /// Reads a safetensors file; a NaN or infinite weight is refused (see `TensorFile.requireFinite`).
    public static func read(path: String) throws -> TensorFile {
        let file = try withMappedFile(path) { try decode($0, name: path) }
        try file.requireFinite(source: path)
        return file
    }

    /// Decodes safetensors bytes; `name` names the source in errors.
    public static func decode(_ raw: UnsafeRawBufferPointer, name: String) throws -> TensorFile {
        func bad(_ m: String) -> ToolError { .data(name, "not a valid safetensors file: \(m)") }
        guard raw.count >= 8 else { throw bad("shorter than its 8-byte header length") }
        let n64 = raw.loadUnaligned(as: UInt64.self).littleEndian
        guard n64 <= UInt64(maxHeader), Int(n64) <= raw.count - 8 else {
            throw bad("header length \(n64) exceeds the file (\(raw.count) bytes)")
        }
        let n = Int(n64)
        let json = Data(UnsafeRawBufferPointer(rebasing: raw[8..<(8 + n)]))
        guard let top = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let bufferStart = 8 + n
        let bufferSize = raw.count - bufferStart
        var file = TensorFile()
        if let meta = top["__metadata__"] {
            guard let m = meta as? [String: Any] else { throw bad("__metadata__ is not an object") }
            for (k, v) in m {
                guard let s = v as? String else { throw bad("metadata \(excerpt(k)) is not a string") }
                file.metadata[k] = s
            }
        }
        var entries = [(String, DType, [Int], Int, Int)]()
        for (key, value) in top where key != "__metadata__" {
            guard let info = value as? [String: Any],
                  let dt = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any],
                  let offAny = info["data_offsets"] as? [Any], offAny.count == 2 else {
                throw bad("tensor \(excerpt(key)) lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dt) else { throw bad("tensor \(excerpt(key)) has unsupported dtype \(excerpt(dt))") }
            var shape = [Int]()
            var count = 1
            for d in shapeAny {
                guard let dn = d as? NSNumber, let di = Int(exactly: dn.doubleValue), di >= 0 else {
                    throw bad("tensor \(excerpt(key)) has a bad dimension")
                }
                let (m, o) = count.multipliedReportingOverflow(by: di)
                guard !o, m <= bufferSize else { throw bad("tensor \(excerpt(key)) shape \(excerpt("\(shapeAny)")) exceeds the file") }
                count = m
                shape.append(di)
            }
            guard let b = (offAny[0] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }),
                  let e = (offAny[1] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }),
                  b >= 0, b <= e, e <= bufferSize else {
                throw bad("tensor \(excerpt(key)) data_offsets \(excerpt("\(offAny)")) lie outside the data (\(bufferSize) bytes)")
            }
            guard e - b == count * dtype.size else {
                throw bad("tensor \(excerpt(key)): \(e - b) bytes for shape \(shape) of \(dt)")
            }
            entries.append((key, dtype, shape, b, e))
        }
        // File order is data order; names break ties for empty tensors. As in the reference
        // implementation, the tensors must tile the data exactly: no overlap, no gap, no tail.
        entries.sort { ($0.3, $0.0) < ($1.3, $1.0) }
        var covered = 0
        for (key, _, _, b, e) in entries {
            if b < covered { throw bad("tensor \(excerpt(key)) data_offsets [\(b), \(e)] overlap another tensor's data") }
            if b > covered { throw bad("bytes \(covered)..<\(b) of the data belong to no tensor") }
            covered = e
        }
        if covered != bufferSize { throw bad("bytes \(covered)..<\(bufferSize) of the data belong to no tensor") }
        for (key, dtype, shape, b, e) in entries {
            let bytes = Array(UnsafeRawBufferPointer(rebasing: raw[(bufferStart + b)..<(bufferStart + e)]))
            file.set(key, StoredTensor(dtype: dtype, shape: shape, bytes: bytes))
        }
        return file
    }

    /// Encodes tensors in `file.names` order; identical input gives identical bytes.
    public static func encode(_ file: TensorFile) -> [UInt8] {
        var header = "{"
        var offset = 0
        var parts = [String]()
        if !file.metadata.isEmpty {
            let meta = file.metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(file.metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        for name in file.names {
            let t = file.tensors[name]!
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append("\(JSONText.quoted(name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        header += parts.joined(separator: ",") + "}"
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + h.count + offset)
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        for name in file.names { out.append(contentsOf: file.tensors[name]!.bytes) }
        return out
    }

    /// Writes a safetensors file atomically (a temporary name, renamed when complete).
    public static func write(_ file: TensorFile, to path: String) throws {
        let out = try OutputFile.open(path, binary: false)
        try out.write(encode(file))
        try out.commit()
    }
}
