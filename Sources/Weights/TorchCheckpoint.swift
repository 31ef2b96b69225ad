// TorchCheckpoint: reads a PyTorch zip checkpoint (`torch.save`, PyTorch ≥ 1.6) into a TensorFile.
//
// Layout: a stored zip whose top folder name varies (`archive/`, or the file's original stem,
// e.g. `scbert_mini_1/`); `<top>/data.pkl` is a protocol-2 pickle of the saved object and each
// tensor storage is the member `<top>/data/<key>`, raw little-endian elements. The pickle is read
// by the restricted `Pickle` machine (it never runs code); this file picks the state_dict out of
// what was saved and copies each of its tensors out of its storage, honouring offset and strides.
//
// Accepted objects: a bare state_dict (every value a tensor), or a dict holding one under
// `model_state_dict` (scBERT's `save_ckpt`) or `state_dict` (PyTorch Lightning `.ckpt`). A
// Lightning checkpoint's scalar `hyper_parameters` become the TensorFile's metadata
// (`hyper_parameters.<key>`), so a model loader reads them without parsing the file again.

import Foundation
import Kernels
import ToolKit

public enum TorchCheckpoint {
    /// Reads a checkpoint file; a NaN or infinite weight is refused (see `TensorFile.requireFinite`).
    public static func read(path: String) throws -> TensorFile {
        let file = try withMappedFile(path) { try decode($0, name: path) }
        try file.requireFinite(source: path)
        return file
    }

    /// Decodes checkpoint bytes; `name` names the source in errors.
    public static func decode(_ raw: UnsafeRawBufferPointer, name: String) throws -> TensorFile {
        func bad(_ m: String) -> ToolError { .data(name, "not a usable PyTorch checkpoint: \(m)") }
        let archive = try ZipArchive(raw, name: name)
        let pickles = archive.members.filter { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }
        guard let pkl = pickles.first else { throw bad("no data.pkl member (is this a torch.save file?)") }
        guard pickles.count == 1 else { throw bad("\(pickles.count) data.pkl members; expected one") }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        if let order = archive.member(prefix + "byteorder") {
            let text = String(decoding: bytes(raw, order), as: UTF8.self)
            guard text == "little" else { throw bad("byte order \"\(excerpt(text))\" is not supported (only little-endian)") }
        }
        let pklBytes = bytes(raw, pkl)
        guard crc32(pklBytes) == pkl.crc32 else { throw bad("\(excerpt(pkl.name)) fails its CRC check (the file is corrupt)") }

        let root: PickleValue
        do {
            root = try Pickle.load(pklBytes)
        } catch let e as PickleError {
            throw ToolError.data(name, "refused: \(excerpt(pkl.name)): \(e.description)")
        }
        guard let top = root.dict else { throw bad("the saved object is \(withArticle(root.kindName)), not a dict") }
        let stateDict: PickleDict
        if let d = top["model_state_dict"]?.dict {
            stateDict = d
        } else if let d = top["state_dict"]?.dict {
            stateDict = d
        } else {
            stateDict = top
        }
        guard stateDict.count > 0 else { throw bad("the state_dict is empty") }

        var file = TensorFile()
        if stateDict !== top, let hp = top["hyper_parameters"]?.dict {
            file.metadata.merge(hyperParameters(hp), uniquingKeysWith: { a, _ in a })
        }
        var checked = Set<String>()
        for (k, v) in zip(stateDict.keys, stateDict.values) {
            guard let key = k.string else { throw bad("a state_dict key is \(withArticle(k.kindName)), not a string") }
            guard case .tensor(let t) = v else {
                throw bad("state_dict entry \(excerpt(key)) is \(withArticle(v.kindName)), not a tensor"
                          + (stateDict === top ? " (no model_state_dict or state_dict found)" : ""))
            }
            let memberName = prefix + "data/" + t.storage.key
            guard let member = archive.member(memberName) else { throw bad("tensor \(excerpt(key)): storage member \(excerpt(memberName)) is missing") }
            let es = t.storage.dtype.size
            let (need, overflow) = t.storage.count.multipliedReportingOverflow(by: es)
            guard !overflow, need <= member.size else {
                throw bad("tensor \(excerpt(key)): storage \(excerpt(t.storage.key)) declares \(t.storage.count) elements but holds \(member.size) bytes")
            }
            let storage = bytes(raw, member)
            if !checked.contains(memberName) {
                guard crc32(storage) == member.crc32 else { throw bad("\(excerpt(memberName)) fails its CRC check (the file is corrupt)") }
                checked.insert(memberName)
            }
            file.set(key, try materialize(t, storage: storage, key: key, limit: raw.count, bad))
        }
        return file
    }

    /// A Lightning checkpoint's `hyper_parameters` as metadata: each entry whose value is a
    /// number, a bool or a string becomes `hyper_parameters.<key>` (ints as decimal text, bools
    /// as `True`/`False`, as Python prints them); other values (paths, lists, None) are left out.
    static func hyperParameters(_ hp: PickleDict) -> [String: String] {
        var out = [String: String]()
        for (k, v) in zip(hp.keys, hp.values) {
            guard let key = k.string else { continue }
            let text: String
            switch v {
            case .int(let i): text = String(i)
            case .float(let d): text = String(d)
            case .bool(let b): text = b ? "True" : "False"
            case .string(let s): text = s
            default: continue
            }
            out["hyper_parameters." + key] = text
        }
        return out
    }

    static func bytes(_ raw: UnsafeRawBufferPointer, _ m: ZipArchive.Member) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[m.dataOffset..<(m.dataOffset + m.size)])
    }

    /// Copies a strided view of a storage into a row-major StoredTensor.
    /// - Parameter limit: the largest number of bytes the tensor may take (the file's size), so that
    ///   a zero-stride (expanded) view cannot ask for more memory than the file could justify.
    static func materialize(_ t: PickleTensor, storage: UnsafeRawBufferPointer, key: String, limit: Int,
                            _ bad: (String) -> ToolError) throws -> StoredTensor {
        let dtype = t.storage.dtype, es = dtype.size
        var count = 1
        for d in t.shape {
            let (m, o) = count.multipliedReportingOverflow(by: d)
            guard !o, m <= limit else { throw bad("tensor \(excerpt(key)): shape \(t.shape) is larger than the file") }
            count = m
        }
        guard count * es <= limit else { throw bad("tensor \(excerpt(key)): shape \(t.shape) is larger than the file") }
        if count == 0 { return StoredTensor(dtype: dtype, shape: t.shape, bytes: []) }
        // The furthest element the view touches must lie inside the storage.
        var last = t.offset
        for (d, s) in zip(t.shape, t.strides) {
            let (m, o1) = (d - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(m)
            guard !o1, !o2 else { throw bad("tensor \(excerpt(key)): strides overflow") }
            last = sum
        }
        guard last < t.storage.count else {
            throw bad("tensor \(excerpt(key)): shape \(t.shape), strides \(t.strides) and offset \(t.offset) reach element \(last) of a storage of \(t.storage.count) elements")
        }
        // Row-major strides (dimensions of size 1 may carry any stride).
        var contiguous = true
        var expect = 1
        for (d, s) in zip(t.shape, t.strides).reversed() {
            if d != 1 && s != expect { contiguous = false }
            expect *= d
        }
        if contiguous {
            let start = t.offset * es
            return StoredTensor(dtype: dtype, shape: t.shape, bytes: Array(storage[start..<(start + count * es)]))
        }
        // A general strided gather, one element at a time.
        var out = [UInt8](repeating: 0, count: count * es)
        var index = [Int](repeating: 0, count: t.shape.count)
        out.withUnsafeMutableBytes { dst in
            for i in 0..<count {
                var src = t.offset
                for (j, s) in zip(index, t.strides) { src += j * s }
                for b in 0..<es { dst[i * es + b] = storage[src * es + b] }
                var a = t.shape.count - 1
                while a >= 0 {
                    index[a] += 1
                    if index[a] < t.shape[a] { break }
                    index[a] = 0
                    a -= 1
                }
            }
        }
        return StoredTensor(dtype: dtype, shape: t.shape, bytes: out)
    }
}
