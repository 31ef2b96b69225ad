// Dropout: zeroes each value with probability p and scales the survivors by 1/(1−p), with the
// mask drawn from the tape's seeded generator (one `nextFloat()` per value, in index order: a value
// is dropped when its draw is below p).

extension Tape {
    /// Inverted dropout; the identity when the tape is not in training mode or p = 0.
    ///
    /// - Parameters:
    ///   - x: any shape.
    ///   - p: the drop probability, in [0, 1).
    /// - Returns: x's shape.
    public func dropout(_ x: Tensor, p: Float) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: p = \(p) outside [0, 1)")
        if !training || p == 0 { return x }
        let keepScale = 1 / (1 - p)
        // nextFloat() < p exactly when its 24 bits r < ⌈p·2²⁴⌉ (r·2⁻²⁴ is exact); comparing the
        // integers without a branch matters at p = 0.5, where a branch is mispredicted half the time.
        let threshold = UInt64((Double(p) * 0x1p24).rounded(.up))
        var generator = rng
        let mask = EngineLoops.uninitialized(x.count) { m in
            for i in 0..<m.count {
                let r = generator.next() >> 40
                let keep = UInt32(truncatingIfNeeded: (threshold &- 1 &- r) >> 63)   // 1 when r ≥ threshold
                m[i] = Float(keep) * keepScale
            }
        }
        rng = generator
        let out = x.data.withUnsafeBufferPointer { xs in
            mask.withUnsafeBufferPointer { m in EngineLoops.uninitialized(xs.count) { o in for i in 0..<xs.count { o[i] = xs[i] * m[i] } } }
        }
        let tracked = tracks(x)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    mask.withUnsafeBufferPointer { m in
                        x.updateGrad { gx, fresh in
                            if fresh { for i in 0..<g.count { gx[i] = g[i] * m[i] } }
                            else { for i in 0..<g.count { gx[i] += g[i] * m[i] } }
                        }
                    }
                }
            }
        }
        return y
    }
}
