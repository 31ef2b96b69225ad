// FavorAttention: scBERT's FAVOR+ self-attention (softmax kernel, non-causal) as one tape
// operation, with its backward pass written out.
//
// Why one fused operation rather than a composition of matmul/exp/sum: the feature maps are
// [B,H,N,M] per layer; composed from generic ops each intermediate would be a separate array
// with a permute before and after every product. Fused, every product is one sgemm on strided
// head slices, and the backward needs only Q', K', the context and the normalisers.
//
// Per cell b and head h, with q, k, v the head's [N,E] slices, P the fixed [M,E] projection,
// c = E^-1/4, ratio = M^-1/2, eps = 1e-4 (scBERT's vendored performer_pytorch):
//   Aq = c·q·Pᵀ, dq_n = c²‖q_n‖²/2, mq_n = max_j Aq[n,j]           (per row)
//   Ak = c·k·Pᵀ, dk_n = c²‖k_n‖²/2, mk = max over every head, row and feature of the cell
//   Q' = ratio·(exp(Aq − dq − mq) + eps),  K' = ratio·(exp(Ak − dk − mk) + eps)        [N,M]
//   S = Σ_n K'_n [M],  C = K'ᵀ·v [M,E],  den_n = Q'_n·S,  out = (Q'·C) / den            [N,E]
//
// Gradient: the stabilisers mq and mk are constants (performer-pytorch computes them under
// `.detach()`; scBERT's vendored copy lets torch route a gradient to the arg-max entry
// instead). Without eps the stabilisers cancel exactly between numerator and denominator;
// with eps = 1e-4 their true derivative is O(eps), so both choices train the same function.
// With G = dout, Cs = [C | S] and Gs = [G/den | −(G·out)/den] (both with E+1 columns):
//   dQ' = Gs·Csᵀ,  [dC | dS] = Q'ᵀ·Gs,  dK' = v·dCᵀ + 1·dSᵀ,  dv = K'·dC
//   dAq = dQ' ⊙ (Q' − ratio·eps),  dq = c·dAq·P − (Σ_j dAq)·c²·q      (same for k)
//
// Cells and heads are independent once each cell's key maximum is known, so both passes run
// (cell, head) tasks on the engine's workers, each with single-threaded sgemm calls writing its
// own slices: results do not depend on the thread count.

import Foundation
import LinearAlgebra

extension Tape {
    /// FAVOR+ attention of every head of every cell (scBERT's softmax-kernel Performer attention).
    ///
    /// - Parameters:
    ///   - q, k, v: [B, N, H·E] queries, keys and values (three distinct tensors).
    ///   - heads: H.
    ///   - projection: the fixed random features [M, E], row-major; never differentiated.
    ///   - features: M.
    /// - Returns: [B, N, H·E], head h in columns h·E..<(h+1)·E.
    public func favorAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, projection: [Float], features m: Int) -> Tensor {
        precondition(q.rank == 3 && q.shape == k.shape && q.shape == v.shape,
                     "favorAttention: q \(q.shape), k \(k.shape), v \(v.shape) must be equal [B, N, H·E]")
        return favorAttention(q, k, v, heads: heads, projection: projection, features: m,
                              lengths: [Int](repeating: q.shape[1], count: q.shape[0]))
    }

    /// FAVOR+ attention over cells of different lengths stacked row after row (a ragged batch):
    /// cell b is rows start_b ..< start_b + lengths[b], and attends to its own rows only. With
    /// equal lengths this is the [B, N, H·E] operation above, value for value.
    ///
    /// - Parameters:
    ///   - q, k, v: [Σ lengths, H·E] (or any shape whose last axis is H·E and whose rows total Σ lengths).
    ///   - lengths: the rows of each cell, in order (zero-length cells allowed).
    /// - Returns: q's shape.
    public func favorAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, projection: [Float], features m: Int,
                               lengths: [Int]) -> Tensor {
        precondition(q.rank >= 2 && q.shape == k.shape && q.shape == v.shape,
                     "favorAttention: q \(q.shape), k \(k.shape), v \(v.shape) must be equal")
        precondition(q !== k && q !== v && k !== v, "favorAttention: q, k and v must be distinct tensors")
        let inner = q.lastDim, rows = q.count / max(inner, 1)
        precondition(lengths.allSatisfy { $0 >= 0 } && lengths.reduce(0, +) == rows,
                     "favorAttention: lengths total \(lengths.reduce(0, +)), not the \(rows) rows of q")
        let b = lengths.count
        precondition(heads > 0 && inner % heads == 0, "favorAttention: width \(inner) is not \(heads) heads")
        let e = inner / heads
        precondition(m > 0 && projection.count == m * e, "favorAttention: projection has \(projection.count) values, expected \(m)x\(e)")
        // Cell b's rows start at starts[b]; its feature maps [H, n_b, M] at starts[b]·H·M, head h's at + h·n_b·M.
        var starts = [Int](repeating: 0, count: b + 1)
        for i in 0..<b { starts[i + 1] = starts[i] + lengths[i] }
        let tasks = b * heads
        let c = Float(Foundation.pow(Double(e), -0.25)), ratio = Float(Foundation.pow(Double(m), -0.5))
        let eps = FavorAttention.featureEps
        let e1 = e + 1
        // Every value of these is written below before it is read (an empty cell's context is
        // neither written nor read), so they start uninitialised: zeroing them cost 5% of a step.
        var qf = EngineLoops.uninitialized(rows * heads * m) { _ in }     // Q' per cell [H,n,M]
        var kf = EngineLoops.uninitialized(rows * heads * m) { _ in }     // K' per cell [H,n,M]
        var ctx = EngineLoops.uninitialized(tasks * m * e1) { _ in }      // [C | S] [B,H,M,E+1]
        var den = EngineLoops.uninitialized(rows * heads) { _ in }        // Q'·S per cell [H,n]
        var out = EngineLoops.uninitialized(rows * inner) { _ in }
        if rows > 0 && b > 0 {
            let workers = BLAS.threads
            if workers > 1 { BLAS.setThreads(1) }
            defer { if workers > 1 { BLAS.setThreads(workers) } }
            projection.withUnsafeBufferPointer { pp in
            q.data.withUnsafeBufferPointer { qp in
            k.data.withUnsafeBufferPointer { kp in
            v.data.withUnsafeBufferPointer { vp in
            qf.withUnsafeMutableBufferPointer { qfp in
            kf.withUnsafeMutableBufferPointer { kfp in
            ctx.withUnsafeMutableBufferPointer { cp in
            den.withUnsafeMutableBufferPointer { dp in
            out.withUnsafeMutableBufferPointer { op in
                let P = pp.baseAddress!, Q = qp.baseAddress!, K = kp.baseAddress!, V = vp.baseAddress!
                let QF = qfp.baseAddress!, KF = kfp.baseAddress!, CX = cp.baseAddress!, DN = dp.baseAddress!, O = op.baseAddress!
                // 1. Projections c·x·Pᵀ of queries and keys.
                EngineLoops.parallel(tasks, workers: workers) { t in
                    let cell = t / heads, h = t % heads, n = lengths[cell]
                    if n == 0 { return }
                    let off = starts[cell] * inner + h * e, fo = (starts[cell] * heads + h * n) * m
                    BLAS.sgemm(transB: true, m: n, n: m, k: e, alpha: c, a: Q + off, lda: inner, b: P, ldb: e,
                               beta: 0, c: QF + fo, ldc: m)
                    BLAS.sgemm(transB: true, m: n, n: m, k: e, alpha: c, a: K + off, lda: inner, b: P, ldb: e,
                               beta: 0, c: KF + fo, ldc: m)
                }
                // 2. One key maximum per cell, over all its heads.
                var keyMax = [Float](repeating: -.infinity, count: b)
                for cell in 0..<b {
                    var mx = -Float.infinity
                    let base = KF + starts[cell] * heads * m
                    for i in 0..<(heads * lengths[cell] * m) { mx = max(mx, base[i]) }
                    keyMax[cell] = mx
                }
                // 3. Feature maps, context, normalisers and the output.
                EngineLoops.parallel(tasks, workers: workers) { t in
                    let cell = t / heads, h = t % heads, n = lengths[cell]
                    if n == 0 { return }
                    let off = starts[cell] * inner + h * e, fo = (starts[cell] * heads + h * n) * m
                    let qft = QF + fo, kft = KF + fo, cx = CX + t * m * e1
                    let dn = DN + starts[cell] * heads + h * n
                    let c2 = c * c
                    for r in 0..<n {
                        let qr = Q + off + r * inner, kr = K + off + r * inner
                        let dq = EngineLoops.dot(qr, qr, e) / 2 * c2, dk = EngineLoops.dot(kr, kr, e) / 2 * c2
                        let a = qft + r * m, s = kft + r * m
                        var mx = -Float.infinity
                        for j in 0..<m { mx = max(mx, a[j]) }
                        for j in 0..<m { a[j] = ratio * (Foundation.exp(a[j] - dq - mx) + eps) }
                        let km = keyMax[cell]
                        for j in 0..<m { s[j] = ratio * (Foundation.exp(s[j] - dk - km) + eps) }
                    }
                    // C = K'ᵀ·v into the first E columns; S (float64 sums in row order) in the last.
                    BLAS.sgemm(transA: true, m: m, n: e, k: n, a: kft, lda: m, b: V + off, ldb: inner,
                               beta: 0, c: cx, ldc: e1)
                    var sums = [Double](repeating: 0, count: m)
                    for r in 0..<n { let s = kft + r * m; for j in 0..<m { sums[j] += Double(s[j]) } }
                    for j in 0..<m { cx[j * e1 + e] = Float(sums[j]) }
                    // [num | den] = Q'·[C | S].
                    var nd = EngineLoops.uninitialized(n * e1) { _ in }
                    nd.withUnsafeMutableBufferPointer { ndp in
                        let ND = ndp.baseAddress!
                        BLAS.sgemm(m: n, n: e1, k: m, a: qft, lda: m, b: cx, ldb: e1, beta: 0, c: ND, ldc: e1)
                        for r in 0..<n {
                            let d = ND[r * e1 + e]
                            dn[r] = d
                            let inv = 1 / d
                            let o = O + off + r * inner
                            let nd = ND + r * e1
                            for j in 0..<e { o[j] = nd[j] * inv }
                        }
                    }
                }
            } } } } } } } } }
        }
        let tracked = tracks(q, k, v)
        let y = result(out, q.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, rows > 0, b > 0 else { return }
                // Every input gets a gradient buffer first (zeros), then tasks add into their own slices.
                q.accumulateGrad { _ in }; k.accumulateGrad { _ in }; v.accumulateGrad { _ in }
                let workers = BLAS.threads
                if workers > 1 { BLAS.setThreads(1) }
                defer { if workers > 1 { BLAS.setThreads(workers) } }
                let ratioEps = ratio * eps
                projection.withUnsafeBufferPointer { pp in
                q.data.withUnsafeBufferPointer { qp in
                k.data.withUnsafeBufferPointer { kp in
                v.data.withUnsafeBufferPointer { vp in
                qf.withUnsafeBufferPointer { qfp in
                kf.withUnsafeBufferPointer { kfp in
                ctx.withUnsafeBufferPointer { cp in
                den.withUnsafeBufferPointer { dp in
                y.data.withUnsafeBufferPointer { yp in
                y.grad.withUnsafeBufferPointer { gp in
                q.grad.withUnsafeMutableBufferPointer { gqp in
                k.grad.withUnsafeMutableBufferPointer { gkp in
                v.grad.withUnsafeMutableBufferPointer { gvp in
                    let P = pp.baseAddress!, Q = qp.baseAddress!, K = kp.baseAddress!, V = vp.baseAddress!
                    let QF = qfp.baseAddress!, KF = kfp.baseAddress!, CX = cp.baseAddress!, DN = dp.baseAddress!
                    let Y = yp.baseAddress!, G = gp.baseAddress!
                    let GQ = gqp.baseAddress!, GK = gkp.baseAddress!, GV = gvp.baseAddress!
                    EngineLoops.parallel(tasks, workers: workers) { t in
                        let cell = t / heads, h = t % heads, n = lengths[cell]
                        if n == 0 { return }
                        let off = starts[cell] * inner + h * e, fo = (starts[cell] * heads + h * n) * m
                        let qft = QF + fo, kft = KF + fo, cx = CX + t * m * e1
                        let dn = DN + starts[cell] * heads + h * n
                        // Gs = [G/den | −(G·out)/den]  [N, E+1]
                        var gs = EngineLoops.uninitialized(n * e1) { _ in }
                        var dfeat = EngineLoops.uninitialized(n * m) { _ in }     // dQ', then dK'
                        var dcs = EngineLoops.uninitialized(m * e1) { _ in }      // [dC | dS]
                        gs.withUnsafeMutableBufferPointer { gsp in
                        dfeat.withUnsafeMutableBufferPointer { dfp in
                        dcs.withUnsafeMutableBufferPointer { dcp in
                            let GS = gsp.baseAddress!, DF = dfp.baseAddress!, DC = dcp.baseAddress!
                            for r in 0..<n {
                                let g = G + off + r * inner, o = Y + off + r * inner
                                let inv = 1 / dn[r]
                                let gsr = GS + r * e1
                                for j in 0..<e { gsr[j] = g[j] * inv }
                                GS[r * e1 + e] = -EngineLoops.dot(g, o, e) * inv
                            }
                            // dQ' = Gs·Csᵀ;  [dC | dS] = Q'ᵀ·Gs.
                            BLAS.sgemm(transB: true, m: n, n: m, k: e1, a: GS, lda: e1, b: cx, ldb: e1, beta: 0, c: DF, ldc: m)
                            BLAS.sgemm(transA: true, m: m, n: e1, k: n, a: qft, lda: m, b: GS, ldb: e1, beta: 0, c: DC, ldc: e1)
                            // Queries: dAq = dQ' ⊙ (Q' − ratio·eps); dq = c·dAq·P − rowsum(dAq)·c²·q.
                            FavorAttention.backThroughFeatures(DF, feats: qft, x: Q + off, dx: GQ + off, rows: n, m: m, e: e,
                                                               ld: inner, projection: P, c: c, ratioEps: ratioEps)
                            // dv = K'·dC  (accumulated into v's slice).
                            BLAS.sgemm(m: n, n: e, k: m, a: kft, lda: m, b: DC, ldb: e1, beta: 1, c: GV + off, ldc: inner)
                            // dK' = v·dCᵀ + 1·dSᵀ.
                            BLAS.sgemm(transB: true, m: n, n: m, k: e, a: V + off, lda: inner, b: DC, ldb: e1, beta: 0, c: DF, ldc: m)
                            // dS as a contiguous row, so the loop over j is a plain vector add.
                            let ds = EngineLoops.uninitialized(m) { d in for j in 0..<m { d[j] = DC[j * e1 + e] } }
                            ds.withUnsafeBufferPointer { dsp in
                                let DS = dsp.baseAddress!
                                for r in 0..<n { let row = DF + r * m; for j in 0..<m { row[j] += DS[j] } }
                            }
                            FavorAttention.backThroughFeatures(DF, feats: kft, x: K + off, dx: GK + off, rows: n, m: m, e: e,
                                                               ld: inner, projection: P, c: c, ratioEps: ratioEps)
                        } } }
                    }
                } } } } } } } } } } } } }
            }
        }
        return y
    }
}

/// Constants and shared loops of the FAVOR+ operation.
public enum FavorAttention {
    /// Added after exp in the feature maps (performer-pytorch's softmax_kernel default).
    public static let featureEps: Float = 1e-4

    /// dx[rows, E] (row stride ld) += c·dA·P − rowsum(dA)·c²·x, with dA = dF ⊙ (F − ratio·eps)
    /// computed in place in dF ([rows, M]).
    static func backThroughFeatures(_ dF: UnsafeMutablePointer<Float>, feats: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, rows n: Int, m: Int, e: Int, ld: Int,
                                    projection: UnsafePointer<Float>, c: Float, ratioEps: Float) {
        let c2 = c * c
        for r in 0..<n {
            let d = dF + r * m, f = feats + r * m
            var s: Float = 0
            for j in 0..<m { d[j] *= f[j] - ratioEps }   // a vector loop; then the sum, in order
            for j in 0..<m { s += d[j] }
            let xr = x + r * ld, g = dx + r * ld
            let coef = -s * c2
            for j in 0..<e { g[j] += coef * xr[j] }
        }
        BLAS.sgemm(m: n, n: e, k: m, alpha: c, a: dF, lda: m, b: projection, ldb: e, beta: 1, c: dx, ldc: ld)
    }
}
