// Softmax: along the last axis, stabilised by the row maximum.
//
// y = exp(x − max x) / Σ exp(x − max x); gradient dx = y ⊙ (g − Σ g ⊙ y), per row.
// (The neighbour-list softmax of graph attention is in Graph.swift.)

import Foundation

extension Tape {
    /// Softmax over the last axis.
    ///
    /// - Parameter x: [rows…, n]. - Returns: the same shape; each row sums to 1 (an empty row stays empty).
    public func softmax(_ x: Tensor) -> Tensor {
        let n = x.lastDim, rows = x.rowCount
        var out = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { ys in
                if n > 0 { for r in 0..<rows { EngineLoops.softmaxRow(xs.baseAddress! + r * n, ys.baseAddress! + r * n, n, stride: 1) } }
            }
        }
        let tracked = tracks(x)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard n > 0, !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    y.data.withUnsafeBufferPointer { ys in
                        x.accumulateGrad { gx in
                            for r in 0..<rows {
                                EngineLoops.softmaxBackwardRow(ys.baseAddress! + r * n, g.baseAddress! + r * n,
                                                           gx.baseAddress! + r * n, n, stride: 1)
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}

extension EngineLoops {
    /// y[i·stride] = softmax over n values x[i·stride].
    @inline(__always)
    static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, stride: Int) {
        if n == 0 { return }
        var m = -Float.infinity
        for i in 0..<n { m = max(m, x[i * stride]) }
        var s: Float = 0
        for i in 0..<n { let e = Foundation.exp(x[i * stride] - m); y[i * stride] = e; s += e }
        let inv = 1 / s
        for i in 0..<n { y[i * stride] *= inv }
    }

    /// dx[i·stride] += y ⊙ (g − Σ g ⊙ y) over n values.
    @inline(__always)
    static func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                   _ dx: UnsafeMutablePointer<Float>, _ n: Int, stride: Int) {
        var dot: Float = 0
        for i in 0..<n { dot += g[i * stride] * y[i * stride] }
        for i in 0..<n { dx[i * stride] += y[i * stride] * (g[i * stride] - dot) }
    }
}
