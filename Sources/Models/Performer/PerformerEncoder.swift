// PerformerEncoder: the fast scBERT forward pass for one cell, with its own scratch memory.
//
// It computes what scBERT's PyTorch code computes for a batch of one (see PerformerModel for the
// legend and PerformerReference for the same math as plain loops):
//
//   x = token_emb[tok] + pos_emb[pos]                  (float64 add, rounded once)      [N,D]
//   per layer:  x += to_out(FAVOR+(LN1(x)))             pre-LayerNorm attention
//               x += W2 · GELU(W1 · LN2(x) + b1) + b2    pre-LayerNorm feed-forward
//   encodings = LN(x);  logits = encodings · to_outᵀ + b
//
// FAVOR+ (non-causal, softmax kernel), with c = E^-1/4, ratio = M^-1/2, eps = 1e-4, per head h:
//   q' = ratio·(exp(c·q·Pᵀ − c²‖q‖²/2 − max over the row) + eps)                       [N,M]
//   k' = ratio·(exp(c·k·Pᵀ − c²‖k‖²/2 − max over ALL heads and positions) + eps)      [N,M]
//   out = (q'·(k'ᵀv)) / (q'·Σ_n k'_n)                                                  [N,E]
//
// How the work is laid out (all big products are GEMMs):
//   - one GEMM gives q, k and v of every head: [N,D]·[D,3I];
//   - keys go in blocks of rows that stay in cache: per head one [R,E]·[E,M] GEMM, exp with the
//     block's own maximum, the column sums and one [M,R]·[R,E] GEMM into k'ᵀv; since the key
//     stabiliser is one maximum over all heads and positions, the blocks are combined with the
//     factors e^(block max − running max) (see keyContext), so no [N,M] key array is written;
//   - queries go in blocks of rows that stay in cache: per head one [R,E]·[E,M] GEMM, the
//     feature map, and one [R,M]·[M,E+1] GEMM whose last column (the key sums) is the
//     normaliser; the result overwrites the block's q in place;
//   - the feed-forward runs in row blocks, with bias and GELU fused;
//   - both residual GEMMs (attention output and W2) accumulate straight into x (beta 1), their
//     biases having been added to x by the LayerNorm pass before them: no zeroing pass over the
//     output and no separate residual pass. (x + b + y instead of x + (y + b): a difference
//     of rounding only.)
// The element-wise kernels are C with run-time CPU dispatch (PerformerKernels, CKernels).
// Memory for the full scBERT (N = 16,907): about 4·N·(2D + 3I) bytes ≈ 160 MB; attention
// scores (scTransNet's pooling) keep every head's key features as well, 4·N·H·M bytes more.

import Foundation
import Kernels
import LinearAlgebra

/// Runs the Performer over one sequence at a time; not thread-safe (one per worker thread).
public final class PerformerEncoder {
    public let model: PerformerModel
    public let maxLength: Int
    let x: FloatBuffer        // [N, D] residual stream
    let xn: FloatBuffer       // [N, D] normalised input / sublayer output
    let qkv: FloatBuffer      // [N, 3I]; the q columns receive the attention output
    /// [H, N, Mp] key projections, then key features (Mp = M padded to 16); attention scores only.
    lazy var keys = FloatBuffer(count: model.config.heads * max(maxLength, 1) * mp)
    let diag: FloatBuffer     // [N]
    let context: FloatBuffer  // [H, M, E+1] k'ᵀv with the key sums as the last column
    let block: FloatBuffer    // [Rq, Mp] query or key features of a row block / [Rf, F] feed-forward hidden
    let mp: Int               // feature row stride: M rounded up to whole 16-lane vectors
    let blockOut: FloatBuffer // [Rq, E+1]
    let keySums: DoubleBuffer // [M]
    let headSums: DoubleBuffer // [H, M] Σ_n e^(u − diag − running max) per head (keyContext)
    let vSums: DoubleBuffer   // [I] Σ_n v_n
    let scoreQ: DoubleBuffer  // [H, M] Σ_n q'_n / (q'_n · Σ k'), for attention pooling
    let keySumScratch: FloatBuffer // [M]
    /// Rows per query block (its features, [R, Mp], stay in L2) and per feed-forward block ([R, F]).
    static let queryBlock = 1024, ffBlock = 256

    /// Scratch memory for sequences of up to `maxLength` positions.
    public init(model: PerformerModel, maxLength: Int) {
        self.model = model
        self.maxLength = maxLength
        let c = model.config
        let n = max(maxLength, 1), r = Self.queryBlock, rf = Self.ffBlock
        mp = PerformerKernels.paddedWidth(c.features)
        x = FloatBuffer(count: n * c.dim)
        xn = FloatBuffer(count: n * c.dim)
        qkv = FloatBuffer(count: n * 3 * c.inner)
        diag = FloatBuffer(count: n)
        context = FloatBuffer(count: c.heads * c.features * (c.dimHead + 1))
        block = FloatBuffer(count: max(r * mp, rf * c.ffHidden))
        blockOut = FloatBuffer(count: max(r * (c.dimHead + 1), r + c.features))
        keySums = DoubleBuffer(count: c.features)
        headSums = DoubleBuffer(count: c.heads * c.features)
        vSums = DoubleBuffer(count: c.inner)
        scoreQ = DoubleBuffer(count: c.heads * c.features)
        keySumScratch = FloatBuffer(count: c.features)
    }

    // MARK: - Forward

    /// Encodes one sequence.
    /// - Parameters:
    ///   - tokens: N token ids (each < T).
    ///   - positions: N rows of the position table (each < P).
    ///   - output: receives the final encodings (after the last LayerNorm), [N, D].
    ///   - scores: if given, receives scTransNet's per-position attention score [N]: the attention
    ///     each position receives, averaged over queries, heads and layers (see `attentionScores`).
    ///   - hidden: if given, called with the residual stream after the embedding (0) and after
    ///     each attention (2l+1) and feed-forward (2l+2) residual.
    public func encode(tokens: [Int32], positions: [Int32], output: UnsafeMutablePointer<Float>,
                       scores: UnsafeMutablePointer<Float>? = nil,
                       hidden: ((Int, UnsafePointer<Float>) -> Void)? = nil) {
        let c = model.config
        let n = tokens.count
        precondition(n == positions.count && n <= maxLength && n > 0, "encode: bad sequence length")
        embed(tokens: tokens, positions: positions)
        hidden?(0, x.pointer)
        if let scores { scores.update(repeating: 0, count: n) }
        for (l, layer) in model.layers.enumerated() {
            // xn = LN1(x), and x += bo in the same pass (the output projection's bias, added before
            // its product so that the GEMM can accumulate straight into x).
            PerformerKernels.layerNorm(x.pointer, xn.pointer, rows: n, dim: c.dim, weight: layer.norm1Weight.pointer,
                                       bias: layer.norm1Bias.pointer, eps: c.layerNormEps, addToInput: layer.outBias.pointer)
            projectQKV(layer, n)
            attention(layer, n)
            // x += attention · Woᵀ (beta 1: no zeroing pass, no separate residual pass).
            BLAS.sgemm(transB: true, m: n, n: c.dim, k: c.inner, a: qkv.pointer, lda: 3 * c.inner,
                       b: layer.outWeight.pointer, ldb: c.inner, beta: 1, c: x.pointer, ldc: c.dim)
            hidden?(2 * l + 1, x.pointer)
            if let scores { attentionScores(layer, n, into: scores) }
            feedForward(layer, n)
            hidden?(2 * l + 2, x.pointer)
        }
        PerformerKernels.layerNorm(x.pointer, output, rows: n, dim: c.dim, weight: model.finalNormWeight.pointer,
                                   bias: model.finalNormBias.pointer, eps: c.layerNormEps)
        if let scores {
            // Normalise over positions, as scTransNet does (the raw scores already sum to ~1).
            var s = 0.0
            for i in 0..<n { s += Double(scores[i]) }
            let inv = s > 0 ? 1 / s : 0
            for i in 0..<n { scores[i] = Float(Double(scores[i]) * inv) }
        }
    }

    /// logits[N, T] = encodings[N, D] · Woutᵀ + bout.
    public func logits(encodings: UnsafePointer<Float>, count n: Int, output: UnsafeMutablePointer<Float>) {
        let c = model.config
        BLAS.sgemm(transB: true, m: n, n: c.tokens, k: c.dim, a: encodings, lda: c.dim,
                   b: model.outWeight.pointer, ldb: c.dim, c: output, ldc: c.tokens)
        for i in 0..<n { for t in 0..<c.tokens { output[i * c.tokens + t] += model.outBias.pointer[t] } }
    }

    // MARK: - Steps

    /// x[n,:] = float32(float64(token_emb[tok[n]]) + pos_emb[pos[n]]).
    func embed(tokens: [Int32], positions: [Int32]) {
        let d = model.config.dim
        let te = model.tokenEmbedding.pointer, pe = model.positionTable.pointer
        for i in 0..<tokens.count {
            let t = te + Int(tokens[i]) * d, p = pe + Int(positions[i]) * d, o = x.pointer + i * d
            for j in 0..<d { o[j] = Float(Double(t[j]) + p[j]) }
        }
    }

    /// qkv[N, 3I] = xn · Wqkvᵀ (+ bias).
    func projectQKV(_ layer: PerformerLayer, _ n: Int) {
        let c = model.config, w = 3 * c.inner
        BLAS.sgemm(transB: true, m: n, n: w, k: c.dim, a: xn.pointer, lda: c.dim,
                   b: layer.qkvWeight.pointer, ldb: c.dim, c: qkv.pointer, ldc: w)
        if let b = layer.qkvBias?.pointer {
            for i in 0..<n { let row = qkv.pointer + i * w; for j in 0..<w { row[j] += b[j] } }
        }
    }

    var normalizer: Float { Float(pow(Double(model.config.dimHead), -0.25)) }
    var ratio: Float { Float(pow(Double(model.config.features), -0.5)) }
    static let featureEps: Float = 1e-4

    /// k'ᵀv and the key sums of every head into `context` ([H, M, E+1], the sums in the last
    /// column), without keeping the key features. Reads k (columns I..<2I) and v (2I..<3I) of `qkv`.
    ///
    /// The key stabiliser G is one maximum over all heads and positions, known only at the end. So
    /// each block b of rows is stabilised by its own maximum g_b, and the blocks are combined with
    /// the factors e^(g_b − G) as a running maximum grows (as streaming softmax does), using
    /// e^(u − diag − G) = e^(g_b − G) · e^(u − diag − g_b):
    ///   Σ_n k'_n v_nᵀ = ratio · (Σ_b e^(g_b − G) Σ_{n∈b} e^(u_n − diag_n − g_b) v_nᵀ + eps · Σ_n v_nᵀ)
    ///   Σ_n k'_n      = ratio · (Σ_b e^(g_b − G) Σ_{n∈b} e^(u_n − diag_n − g_b) + N · eps)
    /// A block's projections stay in cache; nothing of size N·M is written. (A difference of a
    /// few float32 roundings from forming each k' first.)
    func keyContext(_ layer: PerformerLayer, _ n: Int) {
        let c = model.config, w = 3 * c.inner, m = c.features, e = c.dimHead, r = Self.queryBlock
        let cn = normalizer
        vSums.zero()
        PerformerKernels.columnSums(qkv.pointer + 2 * c.inner, rows: n, cols: c.inner, ld: w, vSums.pointer)
        var headMax = [Float](repeating: 0, count: c.heads)
        for h in 0..<c.heads {
            let ctx = context.pointer + h * m * (e + 1), hs = headSums.pointer + h * m, bs = keySums.pointer
            var running: Float = 0
            var r0 = 0
            while r0 < n {
                let rows = min(r, n - r0)
                let k = qkv.pointer + r0 * w + c.inner + h * e
                BLAS.sgemm(transB: true, m: rows, n: m, k: e, alpha: cn, a: k, lda: w, b: layer.projection.pointer, ldb: e,
                           c: block.pointer, ldc: mp)
                PerformerKernels.halfSquaredNorms(k, rows: rows, width: e, ld: w, normalizer: cn, diag.pointer)
                let g = PerformerKernels.maximum(block.pointer, rows: rows, cols: m, ld: mp)
                keySums.zero()
                PerformerKernels.keyFeatures(block.pointer, rows: rows, features: m, ld: mp, diag: diag.pointer, globalMax: g,
                                             ratio: 1, eps: 0, columnSums: bs)
                // ctx = alpha · blockᵀ·v + beta · ctx, the older blocks rescaled if g is a new maximum.
                var alpha: Float = 1, beta: Float = 1
                if r0 == 0 {
                    beta = 0; running = g
                } else if g > running {
                    beta = Float(Foundation.exp(Double(running) - Double(g))); running = g
                } else {
                    alpha = Float(Foundation.exp(Double(g) - Double(running)))
                }
                BLAS.sgemm(transA: true, m: m, n: e, k: rows, alpha: alpha, a: block.pointer, lda: mp,
                           b: qkv.pointer + r0 * w + 2 * c.inner + h * e, ldb: w, beta: beta, c: ctx, ldc: e + 1)
                let a = Double(alpha), b = Double(beta)
                for j in 0..<m { hs[j] = (r0 == 0 ? 0 : b * hs[j]) + a * bs[j] }
                r0 += rows
            }
            headMax[h] = running
        }
        let globalMax = headMax.max()!
        let ratio = Double(self.ratio), eps = Double(Self.featureEps)
        for h in 0..<c.heads {
            let ctx = context.pointer + h * m * (e + 1), hs = headSums.pointer + h * m, vs = vSums.pointer + h * e
            let scale = Foundation.exp(Double(headMax[h]) - Double(globalMax))
            for j in 0..<m {
                let row = ctx + j * (e + 1)
                for t in 0..<e { row[t] = Float(ratio * (scale * Double(row[t]) + eps * vs[t])) }
                row[e] = Float(ratio * (scale * hs[j] + Double(n) * eps))
            }
        }
    }

    /// Key features of every head into `keys` (kept for the attention scores) and their sums into
    /// the last column of each head's `context` block. Reads k (columns I..<2I) of `qkv`.
    func keyFeaturesAndSums(_ layer: PerformerLayer, _ n: Int) {
        let c = model.config, w = 3 * c.inner, m = c.features, e = c.dimHead
        let cn = normalizer
        for h in 0..<c.heads {
            BLAS.sgemm(transB: true, m: n, n: m, k: e, alpha: cn, a: qkv.pointer + c.inner + h * e, lda: w,
                       b: layer.projection.pointer, ldb: e, c: keys.pointer + h * n * mp, ldc: mp)
        }
        let globalMax = PerformerKernels.maximum(keys.pointer, rows: c.heads * n, cols: m, ld: mp)
        for h in 0..<c.heads {
            let kh = keys.pointer + h * n * mp
            PerformerKernels.halfSquaredNorms(qkv.pointer + c.inner + h * e, rows: n, width: e, ld: w,
                                              normalizer: cn, diag.pointer)
            keySums.zero()
            PerformerKernels.keyFeatures(kh, rows: n, features: m, ld: mp, diag: diag.pointer, globalMax: globalMax,
                                         ratio: ratio, eps: Self.featureEps, columnSums: keySums.pointer)
            let ctx = context.pointer + h * m * (e + 1)
            for j in 0..<m { ctx[j * (e + 1) + e] = Float(keySums.pointer[j]) }
        }
    }

    /// FAVOR+ attention of every head; the output replaces the q columns of `qkv`.
    func attention(_ layer: PerformerLayer, _ n: Int) {
        let c = model.config, w = 3 * c.inner, m = c.features, e = c.dimHead
        keyContext(layer, n)
        let cn = normalizer, r = Self.queryBlock
        var r0 = 0
        while r0 < n {
            let rows = min(r, n - r0)
            for h in 0..<c.heads {
                let q = qkv.pointer + r0 * w + h * e
                queryFeatures(layer, q, rows: rows, ld: w, normalizer: cn)
                BLAS.sgemm(m: rows, n: e + 1, k: m, a: block.pointer, lda: mp, b: context.pointer + h * m * (e + 1),
                           ldb: e + 1, c: blockOut.pointer, ldc: e + 1)
                PerformerKernels.divideByLast(blockOut.pointer, rows: rows, cols: e, lds: e + 1, q, ldd: w)
            }
            r0 += rows
        }
    }

    /// block[rows, Mp] = query features of the q rows at `q` (row stride ld).
    func queryFeatures(_ layer: PerformerLayer, _ q: UnsafePointer<Float>, rows: Int, ld: Int, normalizer cn: Float) {
        let c = model.config, m = c.features, e = c.dimHead
        BLAS.sgemm(transB: true, m: rows, n: m, k: e, alpha: cn, a: q, lda: ld, b: layer.projection.pointer, ldb: e,
                   c: block.pointer, ldc: mp)
        PerformerKernels.halfSquaredNorms(q, rows: rows, width: e, ld: ld, normalizer: cn, diag.pointer)
        PerformerKernels.queryFeatures(block.pointer, rows: rows, features: m, ld: mp, diag: diag.pointer,
                                       ratio: ratio, eps: Self.featureEps)
    }

    /// x += W2 · GELU(W1 · LN2(x) + b1) + b2, in row blocks (b2 is added to x in the LayerNorm's
    /// pass, and the second GEMM accumulates into x).
    func feedForward(_ layer: PerformerLayer, _ n: Int) {
        let c = model.config, d = c.dim, f = c.ffHidden, r = Self.ffBlock
        PerformerKernels.layerNorm(x.pointer, xn.pointer, rows: n, dim: d, weight: layer.norm2Weight.pointer,
                                   bias: layer.norm2Bias.pointer, eps: c.layerNormEps, addToInput: layer.b2.pointer)
        var r0 = 0
        while r0 < n {
            let rows = min(r, n - r0)
            BLAS.sgemm(transB: true, m: rows, n: f, k: d, a: xn.pointer + r0 * d, lda: d, b: layer.w1.pointer, ldb: d,
                       c: block.pointer, ldc: f)
            PerformerKernels.biasGELU(block.pointer, rows: rows, cols: f, ld: f, bias: layer.b1.pointer)
            BLAS.sgemm(transB: true, m: rows, n: d, k: f, a: block.pointer, lda: f, b: layer.w2.pointer, ldb: f,
                       beta: 1, c: x.pointer + r0 * d, ldc: d)
            r0 += rows
        }
    }

    // MARK: - Attention pooling (scTransNet)

    /// Adds this layer's contribution to scTransNet's per-position attention score.
    ///
    /// scBERT's `output_attentions` path re-runs each layer's attention on the residual stream
    /// after that layer's attention residual (x + Attn(LN(x))), forms the N×N attention matrix
    /// A_h = diag(1/(q'·Σk')) q' k'ᵀ per head, averages |A| over heads and layers, and scTransNet
    /// then averages over queries: score[j] = mean_{l,h,i} A_{l,h}[i,j]. Since every entry is
    /// positive, this equals (1/(L·H·N)) Σ_h k'_{h,j} · u_h with u_h = Σ_i q'_{h,i}/(q'_{h,i}·Σk'_h):
    /// no N×N matrix is needed.
    func attentionScores(_ layer: PerformerLayer, _ n: Int, into scores: UnsafeMutablePointer<Float>) {
        let c = model.config, w = 3 * c.inner, m = c.features, e = c.dimHead
        PerformerKernels.layerNorm(x.pointer, xn.pointer, rows: n, dim: c.dim, weight: layer.norm1Weight.pointer,
                                   bias: layer.norm1Bias.pointer, eps: c.layerNormEps)
        // q and k only: the first 2I rows of the stacked weights.
        BLAS.sgemm(transB: true, m: n, n: 2 * c.inner, k: c.dim, a: xn.pointer, lda: c.dim,
                   b: layer.qkvWeight.pointer, ldb: c.dim, c: qkv.pointer, ldc: w)
        if let b = layer.qkvBias?.pointer {
            for i in 0..<n { let row = qkv.pointer + i * w; for j in 0..<(2 * c.inner) { row[j] += b[j] } }
        }
        keyFeaturesAndSums(layer, n)
        scoreQ.zero()
        let cn = normalizer, r = Self.queryBlock
        // blockOut holds 1/(q'·Σk') per row, then Σ_rows q'/(q'·Σk') per feature (float32 per block).
        let inv = blockOut.pointer, part = blockOut.pointer + r
        var r0 = 0
        while r0 < n {
            let rows = min(r, n - r0)
            for h in 0..<c.heads {
                queryFeatures(layer, qkv.pointer + r0 * w + h * e, rows: rows, ld: w, normalizer: cn)
                let ctx = context.pointer + h * m * (e + 1), u = scoreQ.pointer + h * m
                // den = q'·Σk' (the key sums are column E of ctx, stride E+1).
                BLAS.sgemv(rows: rows, cols: m, a: block.pointer, lda: mp, x: keySumsFloat(ctx, m, e), y: inv)
                for i in 0..<rows { inv[i] = 1 / inv[i] }
                BLAS.sgemv(trans: true, rows: rows, cols: m, a: block.pointer, lda: mp, x: inv, y: part)
                for j in 0..<m { u[j] += Double(part[j]) }
            }
            r0 += rows
        }
        let scale = Float(1 / Double(c.depth * c.heads * n))
        let uf = blockOut.pointer
        for h in 0..<c.heads {
            for j in 0..<m { uf[j] = Float(scoreQ.pointer[h * m + j]) * scale }
            // scores += k'_h · u_h (row stride Mp), one GEMV over all positions.
            BLAS.sgemv(rows: n, cols: m, a: keys.pointer + h * n * mp, lda: mp, x: uf, beta: 1, y: scores)
        }
    }

    /// The key sums of one head's context block as a contiguous float vector (scratch in `diag`'s tail is not
    /// used: the values are copied into `keySumScratch`).
    func keySumsFloat(_ ctx: UnsafePointer<Float>, _ m: Int, _ e: Int) -> UnsafePointer<Float> {
        for j in 0..<m { keySumScratch.pointer[j] = ctx[j * (e + 1) + e] }
        return UnsafePointer(keySumScratch.pointer)
    }
}
