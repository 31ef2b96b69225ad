// ExceiverHyperParameters: the few hyper-parameters of a Lightning checkpoint the tensors cannot tell.
//
// A Lightning `.ckpt` is a torch zip whose pickled dict holds `state_dict` and `hyper_parameters`
// (Exceiver's constructor arguments, some of them `pathlib.PosixPath` objects that the restricted
// unpickler keeps as inert placeholders). Only `nhead` (the process stack's head count: the
// tensors do not show it) and `seq_len` (cross-checked against the gene table) are used.

import Foundation
import ToolKit
import Weights

public struct ExceiverHyperParameters: Equatable {
    public var nhead: Int?
    public var seqLen: Int?

    public init(nhead: Int? = nil, seqLen: Int? = nil) { self.nhead = nhead; self.seqLen = seqLen }

    /// Reads `hyper_parameters` from a torch zip checkpoint; nil for other files or when absent.
    /// - Throws: `ToolError.badInput` (exit 65) when the checkpoint cannot be parsed or a value has the wrong type.
    public static func read(_ path: String) throws -> ExceiverHyperParameters? {
        let data: Data
        data = try InputFiles.map(path)
        return try data.withUnsafeBytes { raw -> ExceiverHyperParameters? in
            guard raw.count >= 4, raw[0] == 0x50, raw[1] == 0x4B, raw[2] == 0x03, raw[3] == 0x04 else { return nil }
            let archive = try ZipArchive(raw, name: path)
            guard let pkl = archive.members.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
                return nil
            }
            let root: PickleValue
            do {
                root = try Pickle.load(UnsafeRawBufferPointer(rebasing: raw[pkl.dataOffset..<(pkl.dataOffset + pkl.size)]))
            } catch let e as PickleError {
                throw ToolError.data(path, "refused: \(pkl.name): \(e.description)")
            }
            guard let hp = root.dict?["hyper_parameters"]?.dict else { return nil }
            func int(_ key: String) throws -> Int? {
                guard let v = hp[key] else { return nil }
                guard case .int(let i) = v else {
                    throw ToolError.data(path, "hyper_parameters.\(key) is \(withArticle(v.kindName)), not an integer")
                }
                return i
            }
            return ExceiverHyperParameters(nhead: try int("nhead"), seqLen: try int("seq_len"))
        }
    }
}
