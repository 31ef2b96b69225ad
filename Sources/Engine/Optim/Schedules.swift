// Schedules: learning rate as a function of the scheduler step (PyTorch's "epoch" counter: the
// number of `scheduler.step()` calls so far), and gradient-norm clipping.

import Foundation

/// A learning rate for each scheduler step.
public protocol LearningRateSchedule {
    /// The rate after `step` scheduler steps (step 0 is the initial rate).
    func rate(at step: Int) -> Float
}

extension LearningRateSchedule {
    /// Sets the optimiser's rate for `step` (call after each `scheduler.step()` equivalent).
    public func apply(to optimizer: Optimizer, step: Int) { optimizer.learningRate = rate(at: step) }
}

/// torch.optim.lr_scheduler.StepLR: base · γ^⌊step / stepSize⌋ (closed form, computed in float64).
public struct StepDecay: LearningRateSchedule {
    /// Hyper-parameters in float64, as PyTorch keeps them (γ rounded to float32 would drift
    /// by ~1e-8 per step: 3e-6 relative after 300 steps of γ = 0.99).
    public let base: Double, stepSize: Int, gamma: Double
    public init(base: Double, stepSize: Int, gamma: Double) {
        precondition(stepSize > 0, "StepDecay: stepSize must be positive")
        self.base = base; self.stepSize = stepSize; self.gamma = gamma
    }
    public func rate(at step: Int) -> Float {
        Float(base * Foundation.pow(gamma, Double(step / stepSize)))
    }
}

/// Linear warm-up from 0 to `base` over `warmupSteps`, then a half cosine from `base` down to
/// `base · minFactor` at `totalSteps` (held there after). With minFactor 0 this is the common
/// get_cosine_schedule_with_warmup: factor t/W while t < W, then ½(1 + cos(π·(t−W)/(T−W))).
public struct CosineWithWarmup: LearningRateSchedule {
    public let base: Double, warmupSteps: Int, totalSteps: Int, minFactor: Double
    public init(base: Double, warmupSteps: Int, totalSteps: Int, minFactor: Double = 0) {
        precondition(warmupSteps >= 0 && totalSteps >= warmupSteps, "CosineWithWarmup: need 0 ≤ warm-up ≤ total")
        self.base = base; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.minFactor = minFactor
    }
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return Float(base * Double(step) / Double(warmupSteps)) }
        let progress = min(1, Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps)))
        let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
        return Float(base * (minFactor + (1 - minFactor) * cosine))
    }
}

/// Scales all gradients so their joint L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_):
/// coefficient maxNorm / (norm + 1e-6), applied when below 1.
///
/// The norm is summed in float64 in parameter order, the same on every run.
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [NamedParameter], maxNorm: Float) -> Float {
    var s = 0.0
    for p in parameters { for g in p.tensor.grad { s += Double(g) * Double(g) } }
    let norm = s.squareRoot()
    let coef = Double(maxNorm) / (norm + 1e-6)
    if coef < 1 {
        let c = Float(coef)
        for p in parameters where !p.tensor.grad.isEmpty {
            p.tensor.grad.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= c } }
        }
    }
    return Float(norm)
}
