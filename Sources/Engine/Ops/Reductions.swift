// Reductions: sum and mean over every value or along one axis.
//
// Sums accumulate in float64 in index order and round once, so a reduction is exact to float32
// rounding and identical on every run whatever the thread count.

extension Tape {
    /// The sum of every value, a scalar (shape []).
    public func sum(_ x: Tensor) -> Tensor { total(x, scale: 1) }

    /// The mean of every value, a scalar (shape []). The mean of nothing is 0.
    public func mean(_ x: Tensor) -> Tensor { total(x, scale: x.count == 0 ? 0 : 1 / Double(x.count)) }

    /// Sums along `axis`.
    ///
    /// - Parameter x: [outer…, n, inner…]. - Returns: [outer…, inner…], or [outer…, 1, inner…] with `keepDims`.
    public func sum(_ x: Tensor, axis: Int, keepDims: Bool = false) -> Tensor {
        alongAxis(x, axis: axis, keepDims: keepDims, mean: false)
    }

    /// Means along `axis` (see `sum(_:axis:keepDims:)`). The mean over an empty axis is 0.
    public func mean(_ x: Tensor, axis: Int, keepDims: Bool = false) -> Tensor {
        alongAxis(x, axis: axis, keepDims: keepDims, mean: true)
    }

    // MARK: - Implementation

    private func total(_ x: Tensor, scale: Double) -> Tensor {
        var s = 0.0
        x.data.withUnsafeBufferPointer { xs in for v in xs { s += Double(v) } }
        let tracked = tracks(x)
        let y = result([Float(s * scale)], [], tracked)
        if tracked {
            let f = Float(scale)
            record {
                guard !y.grad.isEmpty else { return }
                let g = y.grad[0] * f
                x.accumulateGrad { gx in for i in 0..<gx.count { gx[i] += g } }
            }
        }
        return y
    }

    private func alongAxis(_ x: Tensor, axis: Int, keepDims: Bool, mean: Bool) -> Tensor {
        let ax = axis < 0 ? x.rank + axis : axis
        precondition(ax >= 0 && ax < x.rank, "sum/mean: axis \(axis) out of range for shape \(x.shape)")
        let n = x.shape[ax]
        let outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        let scale = mean ? (n == 0 ? 0 : 1 / Double(n)) : 1
        var out = EngineLoops.uninitialized(outer * inner) { _ in }
        var acc = [Double](repeating: 0, count: inner)
        x.data.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { o in
                acc.withUnsafeMutableBufferPointer { a in
                    for p in 0..<outer {
                        for j in 0..<inner { a[j] = 0 }
                        for k in 0..<n {
                            let row = xs.baseAddress! + (p * n + k) * inner
                            for j in 0..<inner { a[j] += Double(row[j]) }
                        }
                        for j in 0..<inner { o[p * inner + j] = Float(a[j] * scale) }
                    }
                }
            }
        }
        var shape = x.shape
        if keepDims { shape[ax] = 1 } else { shape.remove(at: ax) }
        let tracked = tracks(x)
        let y = result(out, shape, tracked)
        if tracked {
            let f = Float(scale)
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.updateGrad { gx, fresh in
                        for p in 0..<outer {
                            let gp = g.baseAddress! + p * inner
                            for k in 0..<n {
                                let row = gx.baseAddress! + (p * n + k) * inner
                                if fresh { for j in 0..<inner { row[j] = gp[j] * f } }
                                else { for j in 0..<inner { row[j] += gp[j] * f } }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}
