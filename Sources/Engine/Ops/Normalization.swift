// Normalization: layer normalisation and row L2 normalisation, both over the last axis.

import Foundation

extension Tape {
    /// Layer normalisation over the last axis (PyTorch's nn.LayerNorm, biased variance).
    ///
    /// y = (x − μ) / √(σ² + eps) · gamma + beta, μ and σ² over each row's D values.
    /// - Parameters:
    ///   - x: [rows…, D].
    ///   - gamma, beta: [D].
    /// - Returns: x's shape.
    public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float = 1e-5) -> Tensor {
        let d = x.lastDim, rows = x.rowCount
        precondition(gamma.shape == [d] && beta.shape == [d], "layerNorm: gamma \(gamma.shape) and beta \(beta.shape) must be [\(d)]")
        // Every value is written below (rows are independent, so they are split over the workers).
        var out = EngineLoops.uninitialized(x.count) { _ in }
        var xhat = EngineLoops.uninitialized(x.count) { _ in }
        var invStd = d > 0 ? EngineLoops.uninitialized(rows) { _ in } : [Float](repeating: 0, count: rows)
        x.data.withUnsafeBufferPointer { xs in
        gamma.data.withUnsafeBufferPointer { gm in
        beta.data.withUnsafeBufferPointer { bt in
        out.withUnsafeMutableBufferPointer { out in
        xhat.withUnsafeMutableBufferPointer { xhat in
        invStd.withUnsafeMutableBufferPointer { invStd in
            EngineLoops.parallelFor(d > 0 ? rows : 0, grain: max(1, (1 << 14) / max(d, 1))) { range in
                    for r in range {
                        let base = r * d
                        var mu = 0.0
                        for j in 0..<d { mu += Double(xs[base + j]) }
                        mu /= Double(d)
                        var v = 0.0
                        for j in 0..<d { let c = Double(xs[base + j]) - mu; v += c * c }
                        v /= Double(d)
                        let inv = Float(1 / (v + Double(eps)).squareRoot())
                        invStd[r] = inv
                        let m = Float(mu)
                        for j in 0..<d {
                            let h = (xs[base + j] - m) * inv
                            xhat[base + j] = h
                            out[base + j] = h * gm[j] + bt[j]
                        }
                    }
            }
        } } } } } }
        let tracked = tracks(x, gamma, beta)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, d > 0 else { return }
                y.grad.withUnsafeBufferPointer { g in
                    if gamma.requiresGrad {
                        gamma.accumulateGrad { gg in
                            for r in 0..<rows { for j in 0..<d { gg[j] += g[r * d + j] * xhat[r * d + j] } }
                        }
                    }
                    if beta.requiresGrad {
                        beta.accumulateGrad { gb in
                            for r in 0..<rows { for j in 0..<d { gb[j] += g[r * d + j] } }
                        }
                    }
                    if x.requiresGrad {
                        gamma.data.withUnsafeBufferPointer { gm in
                            // Without a gradient yet, 0 + dx is written (the floats of adding into
                            // zeros, without zeroing first).
                            x.updateGrad { gx, fresh in
                                // dx = inv/D · (D·ĝ − Σĝ − x̂ · Σ(ĝ ⊙ x̂)), ĝ = g ⊙ gamma; rows split over the workers.
                                xhat.withUnsafeBufferPointer { xhat in
                                EngineLoops.parallelFor(rows, grain: max(1, (1 << 14) / d)) { range in
                                for r in range {
                                    let base = r * d
                                    var s1: Float = 0, s2: Float = 0
                                    for j in 0..<d { let gh = g[base + j] * gm[j]; s1 += gh; s2 += gh * xhat[base + j] }
                                    let inv = invStd[r], fd = Float(d)
                                    for j in 0..<d {
                                        let gh = g[base + j] * gm[j]
                                        gx[base + j] = (fresh ? 0 : gx[base + j]) + inv / fd * (fd * gh - s1 - xhat[base + j] * s2)
                                    }
                                }
                                } }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Divides each row by its L2 norm: y = x / max(‖x‖₂, eps) (PyTorch's F.normalize(p=2, dim=-1)).
    ///
    /// - Parameter x: [rows…, D]. - Returns: x's shape. A zero row stays zero.
    public func l2Normalize(_ x: Tensor, eps: Float = 1e-12) -> Tensor {
        let d = x.lastDim, rows = x.rowCount
        let c = EngineLoops.trainKernels, grain = max(1, (1 << 15) / max(d, 1))
        var norms = [Float](repeating: 0, count: rows)
        var out = d > 0 ? EngineLoops.uninitialized(x.count) { _ in } : [Float](repeating: 0, count: x.count)
        if d > 0 {
            x.data.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { o in
                    norms.withUnsafeMutableBufferPointer { nr in
                        EngineLoops.parallelFor(rows, grain: grain) { block in
                            c.l2_normalize(xs.baseAddress! + block.lowerBound * d, o.baseAddress! + block.lowerBound * d,
                                           nr.baseAddress! + block.lowerBound, block.count, d, eps)
                        }
                    }
                }
            }
        }
        let tracked = tracks(x)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, d > 0 else { return }
                y.grad.withUnsafeBufferPointer { g in
                    y.data.withUnsafeBufferPointer { ys in
                        norms.withUnsafeBufferPointer { nr in
                            x.updateGrad { gx, fresh in
                                EngineLoops.parallelFor(rows, grain: grain) { block in
                                    let at = block.lowerBound * d
                                    c.l2_normalize_backward(ys.baseAddress! + at, g.baseAddress! + at, nr.baseAddress! + block.lowerBound,
                                                            gx.baseAddress! + at, block.count, d, eps, fresh ? 1 : 0)
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}
