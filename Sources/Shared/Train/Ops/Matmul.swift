// Matmul: matrix products with optional transposes, plain and batched, through BLAS.sgemm.
//
// Shapes (row-major): a is [m,k] ([k,m] with transA), b is [k,n] ([n,k] with transB), result
// [m,n]. Batched: a [B,m,k] with b [B,k,n] loops over B; a of rank ≥ 3 with a 2-D b (and no
// transA) folds the leading axes into rows — x [B,T,d] @ W [d,e] is one sgemm.
// Gradients: d op(A) = dC · op(B)ᵀ and d op(B) = op(A)ᵀ · dC, each one more sgemm with beta = 1
// accumulating into the existing gradient.

extension Tape {
    /// The matrix product op(a) · op(b).
    ///
    /// - Parameters:
    ///   - a: [m,k], or [k,m] when `transA`; rank 3 [B,m,k] for a batched product.
    ///   - b: [k,n], or [n,k] when `transB`; rank 3 [B,k,n] for a batched product.
    /// - Returns: [m,n] (or [B,m,n]; or a's leading axes + [n] when a 2-D b is applied to a rank-3 a).
    public func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
        if a.rank >= 3 && b.rank == 2 && !transA {
            let k = a.lastDim
            let flat = reshape(a, [a.count / max(k, 1), k])
            let y = matmul(flat, b, transA: false, transB: transB)
            return reshape(y, Array(a.shape.dropLast()) + [y.shape[1]])
        }
        precondition((a.rank == 2 && b.rank == 2) || (a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0]),
                      "matmul: shapes \(a.shape) and \(b.shape) are neither 2-D nor batched 3-D")
        let batched = a.rank == 3
        let batch = batched ? a.shape[0] : 1
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let m = transA ? ac : ar, k = transA ? ar : ac
        let kb = transB ? bc : br, n = transB ? br : bc
        precondition(k == kb, "matmul: inner extents differ, op(a) \(m)x\(k) and op(b) \(kb)x\(n)")
        var out = [Float](repeating: 0, count: batch * m * n)
        let work = batch > 0 && m > 0 && n > 0 && k > 0   // otherwise the product is zeros (or empty)
        if work { a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<batch {
                        Kernels.gemm(transA, transB, m, n, k, ap.baseAddress! + i * m * k, bp.baseAddress! + i * k * n,
                                     cp.baseAddress! + i * m * n, beta: 0)
                    }
                }
            }
        } }
        let tracked = tracks(a, b)
        let y = result(out, batched ? [batch, m, n] : [m, n], tracked)
        if tracked {
            record {
                guard work, !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { gp in
                    let g = gp.baseAddress!
                    if a.requiresGrad {
                        b.data.withUnsafeBufferPointer { bp in
                            a.accumulateGrad { ga in
                                for i in 0..<batch {
                                    let gi = g + i * m * n, bi = bp.baseAddress! + i * k * n, dai = ga.baseAddress! + i * m * k
                                    if !transA {   // dA[m,k] += dC · op(B)ᵀ
                                        Kernels.gemm(false, !transB, m, k, n, gi, bi, dai, beta: 1)
                                    } else {       // A is [k,m]: dA += op(B) · dCᵀ
                                        Kernels.gemm(transB, true, k, m, n, bi, gi, dai, beta: 1)
                                    }
                                }
                            }
                        }
                    }
                    if b.requiresGrad {
                        a.data.withUnsafeBufferPointer { ap in
                            b.accumulateGrad { gb in
                                for i in 0..<batch {
                                    let gi = g + i * m * n, ai = ap.baseAddress! + i * m * k, dbi = gb.baseAddress! + i * k * n
                                    if !transB {   // dB[k,n] += op(A)ᵀ · dC
                                        Kernels.gemm(!transA, false, k, n, m, ai, gi, dbi, beta: 1)
                                    } else {       // B is [n,k]: dB += dCᵀ · op(A)
                                        Kernels.gemm(true, transA, n, k, m, gi, ai, dbi, beta: 1)
                                    }
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

/// Low-level loops the operations share.
enum Kernels {
    /// C[m,n] = op(A)·op(B) + beta·C over tightly packed row-major matrices.
    @inline(__always)
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, beta: Float) {
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k,
                   b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
    }
}
