// Checkpoint: parameters and optimiser state saved to and restored from safetensors, through
// Shared's TensorFile / Safetensors (the one place for the format).
//
// Layout: each parameter under its own name (F32, its shape); optimiser buffers under
// "optimizer.<buffer>.<parameter>"; step counts and hyper-parameters, plus caller metadata, in the
// safetensors "__metadata__" map. A checkpoint is untrusted input: names, dtypes and shapes are
// checked against the model before anything is overwritten, and a bad file changes nothing.

import ToolKit
import Weights

public enum Checkpoint {
    /// Writes `parameters` (and the optimiser's state) to `path`.
    public static func save(_ parameters: [NamedParameter], optimizer: Optimizer? = nil,
                            metadata: [String: String] = [:], to path: String) throws {
        try Safetensors.write(encode(parameters, optimizer: optimizer, metadata: metadata), to: path)
    }

    /// The checkpoint as a TensorFile.
    public static func encode(_ parameters: [NamedParameter], optimizer: Optimizer? = nil,
                              metadata: [String: String] = [:]) -> TensorFile {
        var file = TensorFile()
        for p in parameters {
            precondition(!p.name.hasPrefix("optimizer."), "Checkpoint: parameter name '\(p.name)' uses the reserved prefix")
            file.set(p.name, StoredTensor(p.tensor.data, shape: p.tensor.shape))
        }
        file.metadata = metadata
        if let optimizer {
            let (tensors, meta) = optimizer.state()
            for (name, t) in tensors { file.set(name, t) }
            for (k, v) in meta { file.metadata[k] = v }
        }
        return file
    }

    /// Reads `path` into `parameters` (and the optimiser's state).
    ///
    /// - Returns: the file's metadata.
    /// - Throws: ToolError.badInput (exit 65) naming the file when a parameter is missing or has another
    ///   dtype or shape, or the optimiser state does not fit; nothing is changed then.
    @discardableResult
    public static func load(_ parameters: [NamedParameter], optimizer: Optimizer? = nil,
                            from path: String) throws -> [String: String] {
        try decode(Safetensors.read(path: path), into: parameters, optimizer: optimizer, source: path)
    }

    /// Restores from a TensorFile; `source` names it in errors.
    @discardableResult
    public static func decode(_ file: TensorFile, into parameters: [NamedParameter], optimizer: Optimizer? = nil,
                              source: String) throws -> [String: String] {
        var values = [[Float]]()
        for p in parameters {
            guard let t = file[p.name] else { throw ToolError.data(source, "checkpoint lacks parameter '\(p.name)'") }
            guard t.dtype == .f32, t.shape == p.tensor.shape else {
                throw ToolError.data(source, "parameter '\(p.name)' is \(t.dtype.rawValue) \(t.shape), the model needs F32 \(p.tensor.shape)")
            }
            values.append(t.floats)
        }
        try optimizer?.load(tensors: file, metadata: file.metadata, source: source)
        for (p, v) in zip(parameters, values) { p.tensor.data = v }
        return file.metadata
    }
}
