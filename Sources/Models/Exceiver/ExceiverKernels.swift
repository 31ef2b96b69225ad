// ExceiverKernels: the layers of the Exceiver forward as plain functions over raw pointers.
//
// Linear layers and the two products of each attention head are BLAS GEMMs; the softmax with an
// additive mask, residual additions and the blocking of attention rows are written here. LayerNorm
// and GELU are PerformerKernels' (the same PyTorch definitions: biased variance, exact-erf GELU).
// `ExceiverReference` computes every function here with plain float64 loops; tests compare them.
//
// Attention follows nn.MultiheadAttention on its regular path: q = (x·Wqᵀ + bq)·(1/√d) with d the
// head width, logits = q·kᵀ + mask (a float key_padding_mask is ADDED to the logits, not used to
// exclude keys), softmax over the keys, times v, heads concatenated, then the output projection.

import Foundation
import LinearAlgebra

public enum ExceiverKernels {
    // MARK: - Element-wise

    /// y[i] += x[i] over n values.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// x[i] *= s over n values.
    public static func scale(_ x: UnsafeMutablePointer<Float>, count n: Int, by s: Float) {
        for i in 0..<n { x[i] *= s }
    }

    // MARK: - Linear

    /// out[r,:] = x[r,:]·Wᵀ + b for rows of `layer.inputs` values (x [rows, in] → out [rows, out]).
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, _ layer: ExceiverLinear, _ out: UnsafeMutablePointer<Float>) {
        linear(x, rows: rows, inputs: layer.inputs, weight: layer.weight.pointer, bias: layer.bias.pointer,
               outputs: layer.outputs, out)
    }

    /// out[r,:] = x[r,:]·Wᵀ + b with W [outputs, inputs], b [outputs], x [rows, inputs], out [rows, outputs].
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, outputs: Int, _ out: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weight, ldb: inputs, c: out, ldc: outputs)
        if let bias {
            for r in 0..<rows { add(bias, into: out + r * outputs, count: outputs) }
        }
    }

    // MARK: - Softmax

    /// x[r,:] = softmax(x[r,:] + mask) over each of `rows` rows of n values at stride ld.
    ///
    /// The mask (n values, or nil) is added to every row first, as PyTorch adds a float
    /// key_padding_mask to the attention logits. Computed as
    /// e^(x − max) / Σ e^(x − max), the sum accumulated in float32, the normalisation a
    /// multiplication by the reciprocal.
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, count n: Int, ld: Int, mask: UnsafePointer<Float>?) {
        guard n > 0 else { return }
        for r in 0..<rows {
            let row = x + r * ld
            if let mask { add(mask, into: row, count: n) }
            let m = PerformerKernels.maximum(row, count: n)
            for j in 0..<n { row[j] -= m }
            PerformerKernels.exp(row, row, count: n)  // the C kernel of the best variant for this CPU
            var s: Float = 0
            for j in 0..<n { s += row[j] }
            scale(row, count: n, by: 1 / s)
        }
    }

    // MARK: - Attention

    /// Multi-head attention of projected queries over projected keys and values.
    ///
    /// - Parameters:
    ///   - q: [lq, W], already scaled by 1/√(W/heads).
    ///   - kv: [s, 2W]: keys in columns 0..<W, values in W..<2W.
    ///   - mask: [s] added to every logit row, or nil.
    ///   - scores: scratch of `capacity` ≥ s values; rows are processed in blocks that fit in it.
    ///   - out: [lq, W], heads concatenated (head h in columns h·d..<(h+1)·d).
    public static func attention(q: UnsafePointer<Float>, rows lq: Int, kv: UnsafePointer<Float>, keys s: Int, width w: Int,
                                 heads h: Int, mask: UnsafePointer<Float>?, scores: UnsafeMutablePointer<Float>, capacity: Int,
                                 out: UnsafeMutablePointer<Float>) {
        precondition(capacity >= s && w % h == 0)
        let d = w / h
        let block = max(1, min(lq, capacity / max(s, 1)))
        for head in 0..<h {
            var r0 = 0
            while r0 < lq {
                let nb = min(block, lq - r0)
                BLAS.sgemm(transB: true, m: nb, n: s, k: d, a: q + r0 * w + head * d, lda: w,
                           b: kv + head * d, ldb: 2 * w, c: scores, ldc: s)
                softmaxRows(scores, rows: nb, count: s, ld: s, mask: mask)
                BLAS.sgemm(m: nb, n: d, k: s, a: scores, lda: s, b: kv + w + head * d, ldb: 2 * w,
                           c: out + r0 * w + head * d, ldc: w)
                r0 += nb
            }
        }
    }
}
