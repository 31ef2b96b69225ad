// Adam and AdamW with PyTorch's update (torch.optim.Adam / AdamW, amsgrad off), so learning
// rates, betas, eps and weight decay transfer unchanged.
//
// Per parameter with gradient g, step t (from 1):
//   Adam:  g ← g + wd·p                       (L2 penalty through the gradient)
//   AdamW: p ← p · (1 − lr·wd)                (decoupled decay, before the update)
//   m ← m + (1 − β1)(g − m)                   (torch's lerp form of β1·m + (1 − β1)·g)
//   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
// Bias corrections are computed in float64, as PyTorch computes them in Python floats.

import Foundation
import ToolKit
import Weights

/// Adam (Kingma & Ba 2015) and, with `decoupled`, AdamW (Loshchilov & Hutter 2019).
public final class Adam: Optimizer {
    public let parameters: [NamedParameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// AdamW's decoupled weight decay instead of Adam's L2 penalty.
    public let decoupled: Bool
    public private(set) var stepCount = 0
    private var m: [[Float]], v: [[Float]]
    /// Steps taken per parameter (a parameter without a gradient at some step does not advance).
    private var steps: [Int]

    /// - Parameters: as torch.optim.Adam (weightDecay 0) or AdamW (`decoupled`, torch's default wd 0.01).
    public init(_ parameters: [NamedParameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = parameters.map { [Float](repeating: 0, count: $0.tensor.count) }
        v = m
        steps = [Int](repeating: 0, count: parameters.count)
    }

    /// AdamW: Adam with decoupled weight decay (torch.optim.AdamW defaults).
    public static func adamW(_ parameters: [NamedParameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
                             beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupled: true)
    }

    public func step() {
        stepCount += 1
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = eps, wd = weightDecay
        for (k, p) in parameters.enumerated() {
            let t = p.tensor
            if t.grad.isEmpty { continue }
            steps[k] += 1
            let bc1 = 1 - Foundation.pow(Double(b1), Double(steps[k]))
            let bc2 = 1 - Foundation.pow(Double(b2), Double(steps[k]))
            let stepSize = Float(Double(lr) / bc1)
            let bc2Sqrt = Float(bc2.squareRoot())
            let decay = decoupled ? 1 - lr * wd : 1
            let l2 = decoupled ? 0 : wd
            // The weight decay terms are applied first (L2 through the gradient, or the decoupled
            // scaling of p), then one vectorised pass does the update (CKernels' adam: the same
            // roundings as the formulas above, written out).
            var grad = t.grad
            if l2 != 0 { for i in 0..<grad.count { grad[i] += l2 * t.data[i] } }
            if decoupled && wd != 0 { t.data.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] *= decay } } }
            grad.withUnsafeBufferPointer { g in
                m[k].withUnsafeMutableBufferPointer { m in
                    v[k].withUnsafeMutableBufferPointer { v in
                        t.data.withUnsafeMutableBufferPointer { x in
                            EngineLoops.trainKernels.adam(x.baseAddress, g.baseAddress, m.baseAddress, v.baseAddress, x.count,
                                                      b1, b2, stepSize, bc2Sqrt, eps)
                        }
                    }
                }
            }
        }
    }

    private var kind: String { decoupled ? "adamw" : "adam" }

    public func state() -> (tensors: [(String, StoredTensor)], metadata: [String: String]) {
        var tensors = [(String, StoredTensor)]()
        for (k, p) in parameters.enumerated() {
            tensors.append(("optimizer.exp_avg.\(p.name)", StoredTensor(m[k], shape: p.tensor.shape)))
            tensors.append(("optimizer.exp_avg_sq.\(p.name)", StoredTensor(v[k], shape: p.tensor.shape)))
        }
        tensors.append(("optimizer.param_steps", StoredTensor(steps.map(Int64.init), shape: [steps.count])))
        return (tensors, ["optimizer": kind, "optimizer.step": String(stepCount), "optimizer.lr": String(learningRate),
                          "optimizer.betas": "\(beta1),\(beta2)", "optimizer.eps": String(eps),
                          "optimizer.weight_decay": String(weightDecay)])
    }

    public func load(tensors: TensorFile, metadata: [String: String], source: String) throws {
        guard metadata["optimizer"] == kind else {
            throw ToolError.data(source, "checkpoint holds '\(metadata["optimizer"] ?? "no")' optimiser state, not \(kind)")
        }
        let step = try loadStep(metadata, key: "optimizer.step", source: source)
        var newM = m, newV = v
        for (k, p) in parameters.enumerated() {
            newM[k] = try loadBuffer(tensors, "optimizer.exp_avg.\(p.name)", count: p.tensor.count, source: source)
            newV[k] = try loadBuffer(tensors, "optimizer.exp_avg_sq.\(p.name)", count: p.tensor.count, source: source)
        }
        guard let ps = tensors["optimizer.param_steps"], ps.dtype == .i64, ps.count == parameters.count else {
            throw ToolError.data(source, "checkpoint lacks 'optimizer.param_steps' (I64, \(parameters.count) values)")
        }
        let newSteps = ps.int64s.map { Int($0) }
        guard newSteps.allSatisfy({ $0 >= 0 && $0 <= step }) else {
            throw ToolError.data(source, "'optimizer.param_steps' holds counts outside 0…\(step)")
        }
        m = newM; v = newV; steps = newSteps; stepCount = step
    }
}
