// Shape: reshape, concatenation, slicing and axis permutation — operations that move values
// without computing on them. Their gradients move the gradient back the same way.

extension Tape {
    // MARK: - Reshape

    /// The same values under a new shape (same count). One extent may be -1 (inferred).
    public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
        var s = shape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && x.count % known == 0, "reshape: cannot infer -1 in \(shape) for \(x.count) values")
            s[i] = x.count / known
        }
        precondition(s.reduce(1, *) == x.count, "reshape: \(x.shape) has \(x.count) values, \(s) holds \(s.reduce(1, *))")
        let tracked = tracks(x)
        let y = result(x.data, s, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                x.accumulateGrad(y.grad)
            }
        }
        return y
    }

    // MARK: - Concatenate and slice

    /// Joins tensors along `axis`; every other extent must agree.
    ///
    /// - Parameter parts: each [outer…, n_i, inner…]. - Returns: [outer…, Σ n_i, inner…].
    public func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat: no tensors")
        let first = parts[0]
        let ax = axis < 0 ? first.rank + axis : axis
        precondition(ax >= 0 && ax < first.rank, "concat: axis \(axis) out of range for rank \(first.rank)")
        for p in parts {
            precondition(p.rank == first.rank && (0..<p.rank).allSatisfy { $0 == ax || p.shape[$0] == first.shape[$0] },
                         "concat: shapes \(first.shape) and \(p.shape) differ off axis \(ax)")
        }
        let outer = first.shape[..<ax].reduce(1, *), inner = first.shape[(ax + 1)...].reduce(1, *)
        let total = parts.reduce(0) { $0 + $1.shape[ax] }
        var out = [Float](repeating: 0, count: outer * total * inner)
        var offset = 0
        for p in parts {
            let w = p.shape[ax] * inner
            p.data.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<outer {
                        for j in 0..<w { dst[o * total * inner + offset + j] = src[o * w + j] }
                    }
                }
            }
            offset += w
        }
        var shape = first.shape
        shape[ax] = total
        let tracked = tracks(parts)
        let y = result(out, shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                var offset = 0
                y.grad.withUnsafeBufferPointer { g in
                    for p in parts {
                        let w = p.shape[ax] * inner
                        if p.requiresGrad {
                            p.accumulateGrad { gp in
                                for o in 0..<outer { for j in 0..<w { gp[o * w + j] += g[o * total * inner + offset + j] } }
                            }
                        }
                        offset += w
                    }
                }
            }
        }
        return y
    }

    /// The values with index in `range` along `axis`.
    ///
    /// - Parameter x: [outer…, n, inner…]. - Returns: [outer…, range.count, inner…].
    public func slice(_ x: Tensor, axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis < 0 ? x.rank + axis : axis
        precondition(ax >= 0 && ax < x.rank, "slice: axis \(axis) out of range for rank \(x.rank)")
        let n = x.shape[ax]
        precondition(range.lowerBound >= 0 && range.upperBound <= n, "slice: \(range) outside 0..<\(n)")
        let outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        let w = range.count * inner, start = range.lowerBound * inner
        var out = [Float](repeating: 0, count: outer * w)
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer { for j in 0..<w { dst[o * w + j] = src[o * n * inner + start + j] } }
            }
        }
        var shape = x.shape
        shape[ax] = range.count
        let tracked = tracks(x)
        let y = result(out, shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.accumulateGrad { gx in
                        for o in 0..<outer { for j in 0..<w { gx[o * n * inner + start + j] += g[o * w + j] } }
                    }
                }
            }
        }
        return y
    }

    // MARK: - Permute

    /// Reorders the axes: result axis i is x's axis `order[i]` (a transpose for rank 2, `[1, 0, 2]`
    /// to swap heads and tokens).
    public func permute(_ x: Tensor, _ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<x.rank), "permute: \(order) is not a permutation of 0..<\(x.rank)")
        let shape = order.map { x.shape[$0] }
        // Strides of x, read in the result's axis order.
        var xStrides = [Int](repeating: 1, count: x.rank)
        for i in stride(from: x.rank - 2, through: 0, by: -1) { xStrides[i] = xStrides[i + 1] * x.shape[i + 1] }
        let strides = order.map { xStrides[$0] }
        let map = EngineLoops.stridedIndices(shape: shape, strides: strides)   // result index → x index
        var out = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in for i in 0..<map.count { dst[i] = src[map[i]] } }
        }
        let tracked = tracks(x)
        let y = result(out, shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.accumulateGrad { gx in for i in 0..<map.count { gx[map[i]] += g[i] } }
                }
            }
        }
        return y
    }

    /// The transpose of a matrix: [m,n] → [n,m].
    public func transpose(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2, "transpose: expects a matrix, got \(x.shape)")
        return permute(x, [1, 0])
    }
}

extension EngineLoops {
    /// For each row-major index of `shape`, the offset Σ index_i · strides_i.
    static func stridedIndices(shape: [Int], strides: [Int]) -> [Int] {
        let n = shape.reduce(1, *)
        var out = [Int](repeating: 0, count: n)
        if n == 0 { return out }
        var idx = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for i in 0..<n {
            out[i] = offset
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1
                offset += strides[d]
                if idx[d] < shape[d] { break }
                offset -= strides[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
        }
        return out
    }
}
