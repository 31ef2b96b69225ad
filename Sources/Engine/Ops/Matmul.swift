// Matmul: matrix products with optional transposes, plain and batched, through BLAS.sgemm.
//
// Shapes (row-major): a is [m,k] ([k,m] with transA), b is [k,n] ([n,k] with transB), result
// [m,n]. Batched: a [B,m,k] with b [B,k,n] loops over B; a of rank ≥ 3 with a 2-D b (and no
// transA) folds the leading axes into rows — x [B,T,d] @ W [d,e] is one sgemm.
// Gradients: d op(A) = dC · op(B)ᵀ and d op(B) = op(A)ᵀ · dC, each one more sgemm with beta = 1
// accumulating into the existing gradient.

import Dispatch
import LinearAlgebra

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
        let work = batch > 0 && m > 0 && n > 0 && k > 0   // otherwise the product is zeros (or empty)
        var out = work ? EngineLoops.uninitialized(batch * m * n) { _ in } : [Float](repeating: 0, count: batch * m * n)
        if work { a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<batch {
                        EngineLoops.gemm(transA, transB, m, n, k, ap.baseAddress! + i * m * k, bp.baseAddress! + i * k * n,
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
                            a.updateGrad { ga, fresh in
                                let beta: Float = fresh ? 0 : 1
                                for i in 0..<batch {
                                    let gi = g + i * m * n, bi = bp.baseAddress! + i * k * n, dai = ga.baseAddress! + i * m * k
                                    if !transA {   // dA[m,k] += dC · op(B)ᵀ
                                        EngineLoops.gemm(false, !transB, m, k, n, gi, bi, dai, beta: beta)
                                    } else {       // A is [k,m]: dA += op(B) · dCᵀ
                                        EngineLoops.gemm(transB, true, k, m, n, bi, gi, dai, beta: beta)
                                    }
                                }
                            }
                        }
                    }
                    if b.requiresGrad {
                        a.data.withUnsafeBufferPointer { ap in
                            b.updateGrad { gb, fresh in
                                let beta: Float = fresh ? 0 : 1
                                for i in 0..<batch {
                                    let gi = g + i * m * n, ai = ap.baseAddress! + i * m * k, dbi = gb.baseAddress! + i * k * n
                                    if !transB {   // dB[k,n] += op(A)ᵀ · dC
                                        EngineLoops.gemm(!transA, false, k, n, m, ai, gi, dbi, beta: beta)
                                    } else {       // B is [n,k]: dB += dCᵀ · op(A)
                                        EngineLoops.gemm(true, transA, n, k, m, gi, ai, dbi, beta: beta)
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
enum EngineLoops {
    /// C[m,n] = op(A)·op(B) + beta·C over tightly packed row-major matrices, with a result that does
    /// not depend on the thread count.
    ///
    /// OpenBLAS's own threading changes the summation order with the number of threads (observed
    /// with 0.3.21: parameters after two GENELink steps differ in the last bits between 1 and 2
    /// threads). So the engine splits C into blocks fixed by the shape alone — 2 equal blocks
    /// of at least 128 rows (or, for short wide results, columns) — computes each block with one
    /// single-threaded sgemm, and spreads the blocks over `BLAS.threads` workers of its own
    /// (the tools' -t). Each value of C is then always computed by the same call, on any number
    /// of threads. Small products are a single call.
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, beta: Float) {
        let lda = transA ? m : k, ldb = transB ? k : n, ldc = n
        let workers = BLAS.threads
        if workers > 1 { BLAS.setThreads(1) }
        defer { if workers > 1 { BLAS.setThreads(workers) } }
        let blocks = EngineLoops.gemmBlocks(m: m, n: n, k: k)
        if blocks.count == 1 {
            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let alongRows = blocks.alongRows
        EngineLoops.parallel(blocks.count, workers: workers) { i in
            let lo = i * blocks.size, hi = min((i + 1) * blocks.size, alongRows ? m : n)
            if alongRows {   // rows lo..<hi of C: rows of A (or columns when transposed)
                BLAS.sgemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: 1,
                           a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb,
                           beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {         // columns lo..<hi of C: columns of B (or rows when transposed)
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: 1, a: a, lda: lda,
                           b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }

    /// The fixed partition of a product's result: `count` blocks of `size` rows (or columns).
    ///
    /// Two blocks, the fewest that keep two workers busy: each block's sgemm packs the whole of
    /// the other operand again (graph attention's products took 15% longer in 4 blocks than in 1,
    /// 6% in 2).
    static func gemmBlocks(m: Int, n: Int, k: Int) -> (count: Int, size: Int, alongRows: Bool) {
        let minBlock = 128
        if m * n * k < 1 << 20 { return (1, m, true) }            // under a million multiply-adds
        let alongRows = m >= n || m >= 2 * minBlock
        let extent = alongRows ? m : n
        if extent < 2 * minBlock { return (1, m, true) }
        return (2, (extent + 1) / 2, alongRows)
    }

    /// Runs body(0..<count) on up to `workers` threads; block i always goes to worker i mod workers.
    static func parallel(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        let w = max(1, min(workers, count))
        if w == 1 { for i in 0..<count { body(i) }; return }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: w) { worker in
                var i = worker
                while i < count { body(i); i += w }
            }
        }
    }
}
