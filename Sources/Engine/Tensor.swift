// Tensor: a float32 array with a shape, a gradient, and whether it takes part in differentiation.
//
// The training engine's only value type. Storage is one contiguous row-major `[Float]`; views
// (reshape) copy the array header only, Swift's copy-on-write keeps them cheap. A tensor is a
// class so the tape's backward closures and the optimisers can share it.
//
// Dimension legend of the engine (docs/ARCHITECTURE.md, "Dimensions"): N nodes or rows,
// E edges, H heads, D features per head, B batch, C classes, V vocabulary.

/// A dense float32 tensor in row-major order, with its gradient.
///
/// `grad` is empty until a gradient reaches the tensor; once allocated it has `count` values and
/// accumulates (`+=`) over every use, as in PyTorch. Parameters keep theirs until `zeroGrad()`.
public final class Tensor {
    /// The extent of each axis; `[]` is a scalar.
    public let shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var data: [Float]
    /// d(loss)/d(data), or empty when no gradient has reached this tensor.
    public var grad: [Float] = []
    /// Whether the tape records operations on this tensor (parameters, and results computed from them).
    public let requiresGrad: Bool

    /// A tensor over `data` with the given shape.
    public init(_ data: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in \(shape)")
        precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor([Float](repeating: 0, count: shape.reduce(1, *)), shape: shape, requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`).
    public static func scalar(_ v: Float) -> Tensor { Tensor([v], shape: []) }

    /// The number of values.
    public var count: Int { data.count }
    /// The number of axes.
    public var rank: Int { shape.count }
    /// The extent of the last axis (1 for a scalar): the "feature" axis of row-wise operations.
    public var lastDim: Int { shape.last ?? 1 }
    /// The product of every axis but the last: the "rows" of row-wise operations.
    public var rowCount: Int { lastDim == 0 ? shape.dropLast().reduce(1, *) : count / lastDim }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor has \(count) values")
        return data[0]
    }

    /// Drops the gradient (before the next backward pass).
    public func zeroGrad() { grad = [] }

    /// Runs `body` on the gradient buffer; when no gradient exists yet the buffer is new and
    /// uninitialised and `fresh` is true — body must then write (=) every value instead of adding.
    @inline(__always)
    func updateGrad(_ body: (UnsafeMutableBufferPointer<Float>, _ fresh: Bool) -> Void) {
        if grad.isEmpty {
            grad = EngineLoops.uninitialized(count) { body($0, true) }
        } else {
            grad.withUnsafeMutableBufferPointer { body($0, false) }
        }
    }

    /// Adds `g` (`count` values) to the gradient; with no gradient yet, takes `g` itself (the
    /// arrays share storage until either changes, so nothing is copied or zero-filled).
    @inline(__always)
    func accumulateGrad(_ g: [Float]) {
        precondition(g.count == count, "Tensor.accumulateGrad: \(g.count) values for \(count)")
        if grad.isEmpty { grad = g; return }
        g.withUnsafeBufferPointer { gs in
            grad.withUnsafeMutableBufferPointer { gx in for i in 0..<gs.count { gx[i] += gs[i] } }
        }
    }

    /// Runs `body` on the gradient buffer, allocating it as zeros first if needed.
    @inline(__always)
    func accumulateGrad(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        if grad.isEmpty { grad = [Float](repeating: 0, count: count) }
        grad.withUnsafeMutableBufferPointer { body($0) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(6).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 6 ? ", …" : "")])"
    }
}
