// Losses: binary cross-entropy with logits, cross-entropy with an ignore index, mean squared
// error — each the mean over its terms (PyTorch's reduction='mean'), a scalar.
//
// Term sums accumulate in float64 in index order.

import Foundation

extension Tape {
    /// Binary cross-entropy on logits: mean of max(x,0) − x·t + log(1 + e^−|x|) (stable for any x).
    ///
    /// - Parameters:
    ///   - logits: any shape.
    ///   - targets: the same shape, values in [0, 1]; never differentiated.
    /// - Returns: a scalar; its gradient is (σ(x) − t) / n.
    public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor) -> Tensor {
        precondition(logits.shape == targets.shape, "binaryCrossEntropyWithLogits: logits \(logits.shape) vs targets \(targets.shape)")
        let n = logits.count
        var s = 0.0
        logits.data.withUnsafeBufferPointer { xs in
            targets.data.withUnsafeBufferPointer { ts in
                for i in 0..<n {
                    let x = Double(xs[i]), t = Double(ts[i])
                    s += max(x, 0) - x * t + Foundation.log1p(Foundation.exp(-abs(x)))
                }
            }
        }
        let tracked = tracks(logits)
        let y = result([n == 0 ? 0 : Float(s / Double(n))], [], tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, n > 0 else { return }
                let g = y.grad[0] / Float(n)
                logits.data.withUnsafeBufferPointer { xs in
                    targets.data.withUnsafeBufferPointer { ts in
                        logits.accumulateGrad { gx in
                            let sig = SigmoidFunction()
                            for i in 0..<n { gx[i] += g * (sig.value(xs[i]) - ts[i]) }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Cross-entropy of class logits against integer targets, averaged over targets ≠ `ignoreIndex`.
    ///
    /// - Parameters:
    ///   - logits: [N, C].
    ///   - targets: [N], each in 0..<C or equal to `ignoreIndex`.
    /// - Returns: a scalar: mean over kept rows of −log softmax(logits)[target]; 0 when every row is
    ///   ignored (PyTorch gives NaN there).
    public func crossEntropy(_ logits: Tensor, _ targets: [Int32], ignoreIndex: Int32 = -100) -> Tensor {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                     "crossEntropy: logits \(logits.shape) need [\(targets.count), C]")
        let rows = logits.shape[0], c = logits.shape[1]
        var probs = [Float](repeating: 0, count: logits.count)   // softmax rows, kept for the gradient
        var s = 0.0
        var kept = 0
        logits.data.withUnsafeBufferPointer { xs in
            for r in 0..<rows {
                let t = targets[r]
                if t == ignoreIndex { continue }
                precondition(t >= 0 && Int(t) < c, "crossEntropy: target \(t) outside 0..<\(c)")
                var m = -Float.infinity
                for j in 0..<c { m = max(m, xs[r * c + j]) }
                var z = 0.0
                for j in 0..<c { let e = Foundation.exp(Double(xs[r * c + j] - m)); z += e; probs[r * c + j] = Float(e) }
                for j in 0..<c { probs[r * c + j] = Float(Double(probs[r * c + j]) / z) }
                s += Foundation.log(z) - Double(xs[r * c + Int(t)] - m)
                kept += 1
            }
        }
        let tracked = tracks(logits)
        let y = result([kept == 0 ? 0 : Float(s / Double(kept))], [], tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, kept > 0 else { return }
                let g = y.grad[0] / Float(kept)
                logits.accumulateGrad { gx in
                    for r in 0..<rows {
                        let t = targets[r]
                        if t == ignoreIndex { continue }
                        for j in 0..<c { gx[r * c + j] += g * (probs[r * c + j] - (j == Int(t) ? 1 : 0)) }
                    }
                }
            }
        }
        return y
    }

    /// Mean squared error: mean of (prediction − target)².
    ///
    /// - Parameters:
    ///   - prediction: any shape.
    ///   - target: the same shape; differentiated too when it requires a gradient.
    public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape, "meanSquaredError: \(prediction.shape) vs \(target.shape)")
        let n = prediction.count
        var s = 0.0
        prediction.data.withUnsafeBufferPointer { ps in
            target.data.withUnsafeBufferPointer { ts in
                for i in 0..<n { let d = Double(ps[i]) - Double(ts[i]); s += d * d }
            }
        }
        let tracked = tracks(prediction, target)
        let y = result([n == 0 ? 0 : Float(s / Double(n))], [], tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, n > 0 else { return }
                let g = 2 * y.grad[0] / Float(n)
                prediction.data.withUnsafeBufferPointer { ps in
                    target.data.withUnsafeBufferPointer { ts in
                        if prediction.requiresGrad {
                            prediction.accumulateGrad { gp in for i in 0..<n { gp[i] += g * (ps[i] - ts[i]) } }
                        }
                        if target.requiresGrad {
                            target.accumulateGrad { gt in for i in 0..<n { gt[i] -= g * (ps[i] - ts[i]) } }
                        }
                    }
                }
            }
        }
        return y
    }
}
