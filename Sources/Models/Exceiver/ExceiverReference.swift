// ExceiverReference: the Exceiver forward and its kernels as plain loops in float64.
//
// The oracle for ExceiverKernels and ExceiverForward: no BLAS, no vectors, no blocking; each
// formula written as PyTorch's modules define it (see ExceiverForward for the whole pass).
// Slow, meant for tests. Shapes follow the legend in ExceiverModel.swift; matrices are row-major.

import Foundation
import Kernels
import LinearAlgebra

public enum ExceiverReference {
    // MARK: - Kernels

    /// x·Wᵀ + b for x [rows, in], W [out, in], b [out] → [rows, out].
    public static func linear(_ x: [Double], rows: Int, inputs: Int, weight: [Double], bias: [Double]?, outputs: Int) -> [Double] {
        ReferenceKernels.linear(x, rows: rows, inputs: inputs, weight: weight, bias: bias, outputs: outputs)
    }

    /// softmax(x[r,:] + mask) per row of n values.
    public static func softmaxRows(_ x: [Double], rows: Int, count n: Int, mask: [Double]?) -> [Double] {
        var out = x
        for r in 0..<rows {
            var m = -Double.infinity
            for j in 0..<n { out[r * n + j] += mask?[j] ?? 0; m = max(m, out[r * n + j]) }
            var s = 0.0
            for j in 0..<n { out[r * n + j] = exp(out[r * n + j] - m); s += out[r * n + j] }
            for j in 0..<n { out[r * n + j] /= s }
        }
        return out
    }

    /// Multi-head attention: q [lq, W] (already scaled), kv [s, 2W] (keys then values), mask [s] → [lq, W].
    public static func attention(q: [Double], rows lq: Int, kv: [Double], keys s: Int, width w: Int, heads h: Int,
                                 mask: [Double]?) -> [Double] {
        let d = w / h
        var out = [Double](repeating: 0, count: lq * w)
        for head in 0..<h {
            for r in 0..<lq {
                var logits = [Double](repeating: 0, count: s)
                for j in 0..<s {
                    var dot = 0.0
                    for e in 0..<d { dot += q[r * w + head * d + e] * kv[j * 2 * w + head * d + e] }
                    logits[j] = dot
                }
                let p = softmaxRows(logits, rows: 1, count: s, mask: mask)
                for e in 0..<d {
                    var acc = 0.0
                    for j in 0..<s { acc += p[j] * kv[j * 2 * w + w + head * d + e] }
                    out[r * w + head * d + e] = acc
                }
            }
        }
        return out
    }

    static func d(_ b: FloatBuffer) -> [Double] { b.array.map(Double.init) }

    static func norm(_ x: [Double], rows: Int, _ n: ExceiverNorm, eps: Float) -> [Double] {
        PerformerReference.layerNorm(x, rows: rows, dim: n.weight.count, weight: d(n.weight), bias: d(n.bias), eps: Double(eps))
    }

    static func linear(_ x: [Double], rows: Int, _ l: ExceiverLinear) -> [Double] {
        linear(x, rows: rows, inputs: l.inputs, weight: d(l.weight), bias: d(l.bias), outputs: l.outputs)
    }

    /// MHA(query, keys, keys) with the attention's projections; query [rows, W], keys [s, KV] → [rows, W].
    public static func multiHead(_ a: ExceiverAttention, query: [Double], rows: Int, keys: [Double], count s: Int,
                                 mask: [Double]?) -> [Double] {
        let w = a.width
        let scale = (1.0 / Double(a.headDim)).squareRoot()
        let q = linear(query, rows: rows, inputs: w, weight: d(a.wq), bias: d(a.bq), outputs: w).map { $0 * scale }
        let kv = linear(keys, rows: s, inputs: a.keyWidth, weight: d(a.wkv), bias: d(a.bkv), outputs: 2 * w)
        let heads = attention(q: q, rows: rows, kv: kv, keys: s, width: w, heads: a.heads, mask: mask)
        return linear(heads, rows: rows, inputs: w, weight: d(a.wo), bias: d(a.bo), outputs: w)
    }

    // MARK: - Blocks

    /// The original CrossAttn: a = MHA(LN_q(x), LN_kv(kv), mask) + x; a + MLP(a).  x [rows, W], kv [s, KV].
    public static func cross(_ b: ExceiverCrossBlock, query x: [Double], rows: Int, keyInput: [Double], keys s: Int,
                             mask: [Double]?, eps: Float) -> [Double] {
        let nq = norm(x, rows: rows, b.normQ, eps: eps)
        let nk = norm(keyInput, rows: s, b.normKV, eps: eps)
        var a = multiHead(b.attention, query: nq, rows: rows, keys: nk, count: s, mask: mask)
        for i in a.indices { a[i] += x[i] }
        var t = linear(norm(a, rows: rows, b.mlpNorm1, eps: eps), rows: rows, b.mlpLinear1).map(PerformerReference.gelu)
        t = linear(norm(t, rows: rows, b.mlpNorm2, eps: eps), rows: rows, b.mlpLinear2)
        for i in a.indices { a[i] += t[i] }
        return a
    }

    /// Post-norm TransformerEncoderLayer: x = LN1(x + SA(x)); x = LN2(x + W2·GELU(W1·x)).  x [rows, E].
    public static func processLayer(_ layer: ExceiverProcessLayer, _ x: [Double], rows: Int, eps: Float) -> [Double] {
        var y = x
        let sa = multiHead(layer.attention, query: x, rows: rows, keys: x, count: rows, mask: nil)
        for i in y.indices { y[i] += sa[i] }
        y = norm(y, rows: rows, layer.norm1, eps: eps)
        let ff = linear(linear(y, rows: rows, layer.linear1).map(PerformerReference.gelu), rows: rows, layer.linear2)
        for i in y.indices { y[i] += ff[i] }
        return norm(y, rows: rows, layer.norm2, eps: eps)
    }

    /// The prediction head per row of x [rows, K] → [rows].
    public static func head(_ model: ExceiverModel, _ x: [Double], rows: Int) -> [Double] {
        let h = linear(norm(x, rows: rows, model.headNorm, eps: model.config.layerNormEps), rows: rows, model.headLinear1)
        return linear(h.map(PerformerReference.gelu), rows: rows, model.headLinear2)
    }

    // MARK: - Forward

    /// The whole forward for one cell, in float64.
    /// - Returns: latents after the encoder [L, E] and after the process stack [L, E], decoder_out [Q, K], predictions [Q].
    public static func forward(_ model: ExceiverModel, ids: [Int32], values: [Float], mask: [Float]?, queries: [Int32])
        -> (latentEncoded: [Double], latent: [Double], decoderOut: [Double], predictions: [Double]) {
        let c = model.config, k = c.geneDim, eps = c.layerNormEps
        let table = d(model.geneEmbedding)
        var keyInput = [Double](repeating: 0, count: ids.count * k)
        for (p, id) in ids.enumerated() { for j in 0..<k { keyInput[p * k + j] = Double(values[p]) * table[Int(id) * k + j] } }
        let m = mask?.map(Double.init)
        let enc = cross(model.encoder, query: d(model.queryEmbedding), rows: c.latents, keyInput: keyInput, keys: ids.count,
                        mask: m, eps: eps)
        var latent = enc
        for layer in model.process { latent = processLayer(layer, latent, rows: c.latents, eps: eps) }
        var query = [Double](repeating: 0, count: queries.count * k)
        for (i, id) in queries.enumerated() { for j in 0..<k { query[i * k + j] = table[Int(id) * k + j] } }
        let out = cross(model.decoder, query: query, rows: queries.count, keyInput: latent, keys: c.latents, mask: nil, eps: eps)
        return (enc, latent, out, head(model, out, rows: queries.count))
    }
}
