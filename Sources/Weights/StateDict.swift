// StateDict: typed access to a state_dict's tensors for a model loader.
//
// It strips a `module.` prefix that every name carries (checkpoints saved from DataParallel),
// checks each tensor's type and shape against what the loader expects, and remembers which
// tensors were read, so a loader can refuse a file holding tensors it would silently ignore.

import Foundation
import Kernels
import ToolKit

public final class StateDict {
    public let file: TensorFile
    /// The file's name, for messages.
    public let name: String
    /// What the loader expects, for messages ("an scBERT (PerformerLM) checkpoint").
    let expected: String
    let prefix: String
    /// Full names of the tensors read so far.
    public private(set) var used = Set<String>()

    public init(_ file: TensorFile, name: String, expected: String) {
        self.file = file
        self.name = name
        self.expected = expected
        prefix = StateDict.commonPrefix(of: file)
    }

    /// "module." when every tensor name has it, else "".
    public static func commonPrefix(of file: TensorFile) -> String {
        !file.names.isEmpty && file.names.allSatisfy({ $0.hasPrefix("module.") }) ? "module." : ""
    }

    /// A bad-input error naming the file (exit 65).
    public func bad(_ message: String) -> ToolError { .data(name, message) }

    /// The tensor `key` if present (and marks it used).
    public func tensor(_ key: String) -> StoredTensor? {
        guard let t = file[prefix + key] else { return nil }
        used.insert(prefix + key)
        return t
    }

    /// The float tensor `key`, whose shape must match `shape` (nil = any size on that axis).
    public func need(_ key: String, _ shape: [Int?]) throws -> StoredTensor {
        guard let t = tensor(key) else { throw bad("missing tensor \(key): not \(expected), or an incomplete one") }
        guard t.dtype.isFloatingPoint else { throw bad("tensor \(key) has dtype \(t.dtype.rawValue), not a float type") }
        let ok = t.shape.count == shape.count && zip(t.shape, shape).allSatisfy { $1 == nil || $0 == $1! }
        guard ok else {
            let want = "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
            throw bad("tensor \(key) has shape \(t.shape), expected \(want)")
        }
        return t
    }

    /// `need`, converted to float32 (one copy, into the buffer).
    public func floats(_ key: String, _ shape: [Int?]) throws -> FloatBuffer { FloatBuffer(try need(key, shape)) }

    /// Marks every tensor whose name (without the prefix) starts with `start` as used.
    public func ignore(prefix start: String) {
        for n in file.names where n.hasPrefix(prefix + start) { used.insert(n) }
    }

    /// The first tensor that was never read, if any.
    public var firstUnused: String? { file.names.first { !used.contains($0) } }
}
