// Optimizer: the protocol Adam, AdamW and SGD share — a step over named parameters, a learning
// rate schedules can set, and state that checkpoints save and restore.

import ToolKit
import Weights

/// Updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    /// The parameters updated, in checkpoint order.
    var parameters: [NamedParameter] { get }
    /// The learning rate of the next step (schedules set it).
    var learningRate: Float { get set }
    /// The number of steps taken.
    var stepCount: Int { get }
    /// Updates every parameter that has a gradient (parameters without one are left as they are,
    /// their state untouched, like PyTorch's `grad is None`).
    func step()
    /// The state as named tensors (per-parameter buffers) plus metadata (step count and hyper-parameters).
    func state() -> (tensors: [(String, StoredTensor)], metadata: [String: String])
    /// Restores state saved by `state()`; `source` names the file in errors.
    func load(tensors: TensorFile, metadata: [String: String], source: String) throws
}

extension Optimizer {
    /// Drops every parameter's gradient.
    public func zeroGrad() { parameters.zeroGrad() }
}

/// Reads a per-parameter float32 buffer of the expected size from a checkpoint.
func loadBuffer(_ file: TensorFile, _ name: String, count: Int, source: String) throws -> [Float] {
    guard let t = file[name] else { throw ToolError.data(source, "checkpoint lacks optimiser tensor '\(name)'") }
    guard t.dtype == .f32, t.count == count else {
        throw ToolError.data(source, "optimiser tensor '\(name)' is \(t.dtype.rawValue) \(t.shape), expected F32 with \(count) values")
    }
    return t.floats
}

/// Reads the step count from checkpoint metadata.
func loadStep(_ metadata: [String: String], key: String, source: String) throws -> Int {
    guard let s = metadata[key], let n = Int(s), n >= 0 else {
        throw ToolError.data(source, "checkpoint metadata lacks a valid '\(key)'")
    }
    return n
}
