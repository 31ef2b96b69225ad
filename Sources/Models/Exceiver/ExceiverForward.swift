// ExceiverForward: one cell through the Exceiver — encoder cross-attention, process stack, decoder.
//
// The arithmetic of the original `Exceiver.forward` plus its prediction head, for one cell
// (cells never interact, so a batch is a loop over cells):
//
//   key_val[s]  = value[s] · gene_emb[id[s]]                                        [S, K]
//   latent      = CrossAttn_enc(query_emb, key_val, mask)                           [L, E]
//   latent      = 8 × post-norm TransformerEncoderLayer(latent)                     [L, E]
//   decoder_out = CrossAttn_dec(gene_emb[queries], latent)                          [Q, K]
//   pred        = Linear(GELU(Linear(LayerNorm(decoder_out))))                      [Q]
//
//   CrossAttn(x, kv, mask): a = MHA(LN_q(x), LN_kv(kv), LN_kv(kv), mask) + x;  a + MLP(a)
//   with MLP = LayerNorm → Linear → GELU → LayerNorm → Linear.
//
// Each instance owns its scratch memory (grown on demand), so one per worker thread.

import Foundation
import Kernels

/// Scratch buffers for one forward pass at a time.
public final class ExceiverForward {
    public let model: ExceiverModel
    private var buffers: [FloatBuffer] = []

    public init(model: ExceiverModel) { self.model = model }

    /// Scratch slot `i` with room for at least n values (its contents are not kept when it grows).
    private func scratch(_ i: Int, _ n: Int) -> UnsafeMutablePointer<Float> {
        while buffers.count <= i { buffers.append(FloatBuffer(count: 0)) }
        if buffers[i].count < n { buffers[i] = FloatBuffer(count: n) }
        return buffers[i].pointer
    }

    /// The largest block of attention logits kept at once (values): 64 Ki floats stay in cache.
    static let scoreCapacity = 1 << 16

    // MARK: - Encoder and process stack

    /// Encodes one cell into its latent array.
    /// - Parameters:
    ///   - ids: [S] rows of the gene table (0...G; G is the zero padding row).
    ///   - values: [S] input values (preprocessed expression).
    ///   - mask: [S] added to the encoder's attention logits (Exceiver: 1 where the count is 0), or nil.
    ///   - latentEncoded: [L, E] receives the latents after the encoder cross-attention, if given.
    ///   - latent: [L, E] receives the latents after the process stack.
    public func encode(ids: UnsafePointer<Int32>, values: UnsafePointer<Float>, mask: UnsafePointer<Float>?, count s: Int,
                       latentEncoded: UnsafeMutablePointer<Float>? = nil, latent: UnsafeMutablePointer<Float>) {
        let c = model.config, k = c.geneDim
        let keyInput = scratch(0, s * k)
        let table = model.geneEmbedding.pointer
        for p in 0..<s {
            let row = Int(ids[p])
            precondition(row >= 0 && row <= c.genes, "ExceiverForward: gene id \(row) outside 0...\(c.genes)")
            let v = values[p], src = table + row * k, dst = keyInput + p * k
            for j in 0..<k { dst[j] = v * src[j] }
        }
        cross(model.encoder, query: model.queryEmbedding.pointer, rows: c.latents, keyInput: keyInput, keys: s, mask: mask, out: latent)
        if let latentEncoded { latentEncoded.update(from: latent, count: c.latents * c.latentDim) }
        for layer in model.process { processLayer(layer, latent, rows: c.latents) }
    }

    // MARK: - Decoder and head

    /// Decodes query genes from a latent array.
    /// - Parameters:
    ///   - latent: [L, E] from `encode`.
    ///   - queries: [Q] rows of the gene table to predict.
    ///   - output: [Q, K] receives decoder_out.
    ///   - predictions: [Q] receives the head's predicted value per query, if given.
    public func decode(latent: UnsafePointer<Float>, queries: UnsafePointer<Int32>, count q: Int,
                       output: UnsafeMutablePointer<Float>, predictions: UnsafeMutablePointer<Float>? = nil) {
        let c = model.config, k = c.geneDim
        let query = scratch(1, q * k)
        let table = model.geneEmbedding.pointer
        for i in 0..<q {
            let row = Int(queries[i])
            precondition(row >= 0 && row <= c.genes, "ExceiverForward: query id \(row) outside 0...\(c.genes)")
            query.advanced(by: i * k).update(from: table + row * k, count: k)
        }
        cross(model.decoder, query: query, rows: q, keyInput: latent, keys: c.latents, mask: nil, out: output)
        if let predictions { head(output, rows: q, predictions) }
    }

    /// pred[r] = Linear2(GELU(Linear1(LayerNorm(x[r,:])))) for x [rows, K].
    public func head(_ x: UnsafePointer<Float>, rows: Int, _ predictions: UnsafeMutablePointer<Float>) {
        let c = model.config, k = c.geneDim, y = c.headHidden
        let normed = scratch(2, rows * k), hidden = scratch(3, rows * y)
        PerformerKernels.layerNorm(x, normed, rows: rows, dim: k, weight: model.headNorm.weight.pointer,
                                   bias: model.headNorm.bias.pointer, eps: c.layerNormEps)
        ExceiverKernels.linear(normed, rows: rows, inputs: k, weight: model.headLinear1.weight.pointer, bias: nil, outputs: y, hidden)
        PerformerKernels.biasGELU(hidden, rows: rows, cols: y, ld: y, bias: model.headLinear1.bias.pointer)
        ExceiverKernels.linear(hidden, rows: rows, model.headLinear2, predictions)
    }

    // MARK: - Blocks

    /// The original CrossAttn: out = a + MLP(a) with a = MHA(LN_q(x), LN_kv(kv), mask) + x.
    /// x [rows, W], keyInput [keys, KV], out [rows, W] (must not alias x or keyInput).
    public func cross(_ b: ExceiverCrossBlock, query x: UnsafePointer<Float>, rows: Int, keyInput: UnsafePointer<Float>,
                      keys s: Int, mask: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        let a = b.attention, w = a.width, kvw = a.keyWidth, eps = model.config.layerNormEps
        let normedKeys = scratch(4, s * kvw), kv = scratch(5, s * 2 * w)
        let normedQ = scratch(6, rows * w), q = scratch(7, rows * w), heads = scratch(8, rows * w)
        PerformerKernels.layerNorm(keyInput, normedKeys, rows: s, dim: kvw, weight: b.normKV.weight.pointer,
                                   bias: b.normKV.bias.pointer, eps: eps)
        ExceiverKernels.linear(normedKeys, rows: s, inputs: kvw, weight: a.wkv.pointer, bias: a.bkv.pointer, outputs: 2 * w, kv)
        PerformerKernels.layerNorm(x, normedQ, rows: rows, dim: w, weight: b.normQ.weight.pointer, bias: b.normQ.bias.pointer, eps: eps)
        attend(a, normedQuery: normedQ, rows: rows, kv: kv, keys: s, mask: mask, q: q, heads: heads, out: out)
        ExceiverKernels.add(x, into: out, count: rows * w)
        // MLP with its own residual.
        let t = normedQ, u = q
        PerformerKernels.layerNorm(out, t, rows: rows, dim: w, weight: b.mlpNorm1.weight.pointer, bias: b.mlpNorm1.bias.pointer, eps: eps)
        ExceiverKernels.linear(t, rows: rows, inputs: w, weight: b.mlpLinear1.weight.pointer, bias: nil, outputs: w, u)
        PerformerKernels.biasGELU(u, rows: rows, cols: w, ld: w, bias: b.mlpLinear1.bias.pointer)
        PerformerKernels.layerNorm(u, t, rows: rows, dim: w, weight: b.mlpNorm2.weight.pointer, bias: b.mlpNorm2.bias.pointer, eps: eps)
        ExceiverKernels.linear(t, rows: rows, b.mlpLinear2, u)
        ExceiverKernels.add(u, into: out, count: rows * w)
    }

    /// One post-norm TransformerEncoderLayer with GELU, in place on x [rows, E].
    public func processLayer(_ layer: ExceiverProcessLayer, _ x: UnsafeMutablePointer<Float>, rows: Int) {
        let a = layer.attention, e = a.width, f = layer.linear1.outputs, eps = model.config.layerNormEps
        let kv = scratch(5, rows * 2 * e), q = scratch(7, rows * e), heads = scratch(8, rows * e)
        let sa = scratch(9, rows * e), hidden = scratch(10, rows * f)
        ExceiverKernels.linear(x, rows: rows, inputs: e, weight: a.wkv.pointer, bias: a.bkv.pointer, outputs: 2 * e, kv)
        attend(a, normedQuery: x, rows: rows, kv: kv, keys: rows, mask: nil, q: q, heads: heads, out: sa)
        ExceiverKernels.add(sa, into: x, count: rows * e)
        PerformerKernels.layerNorm(x, x, rows: rows, dim: e, weight: layer.norm1.weight.pointer, bias: layer.norm1.bias.pointer, eps: eps)
        ExceiverKernels.linear(x, rows: rows, inputs: e, weight: layer.linear1.weight.pointer, bias: nil, outputs: f, hidden)
        PerformerKernels.biasGELU(hidden, rows: rows, cols: f, ld: f, bias: layer.linear1.bias.pointer)
        ExceiverKernels.linear(hidden, rows: rows, layer.linear2, sa)
        ExceiverKernels.add(sa, into: x, count: rows * e)
        PerformerKernels.layerNorm(x, x, rows: rows, dim: e, weight: layer.norm2.weight.pointer, bias: layer.norm2.bias.pointer, eps: eps)
    }

    /// MHA from (already normalised) queries and projected keys/values: out = concat_h(softmax(q_h·k_hᵀ + mask)·v_h)·Woᵀ + bo.
    /// normedQuery [rows, W], kv [keys, 2W]; q and heads are [rows, W] scratch; out [rows, W].
    func attend(_ a: ExceiverAttention, normedQuery: UnsafePointer<Float>, rows: Int, kv: UnsafePointer<Float>, keys s: Int,
                mask: UnsafePointer<Float>?, q: UnsafeMutablePointer<Float>, heads: UnsafeMutablePointer<Float>,
                out: UnsafeMutablePointer<Float>) {
        let w = a.width
        ExceiverKernels.linear(normedQuery, rows: rows, inputs: w, weight: a.wq.pointer, bias: a.bq.pointer, outputs: w, q)
        ExceiverKernels.scale(q, count: rows * w, by: Float((1.0 / Double(a.headDim)).squareRoot()))
        let capacity = max(Self.scoreCapacity, s)
        let scores = scratch(11, capacity)
        ExceiverKernels.attention(q: q, rows: rows, kv: kv, keys: s, width: w, heads: a.heads, mask: mask,
                                  scores: scores, capacity: capacity, out: heads)
        ExceiverKernels.linear(heads, rows: rows, inputs: w, weight: a.wo.pointer, bias: a.bo.pointer, outputs: w, out)
    }
}
