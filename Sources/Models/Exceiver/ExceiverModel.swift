// ExceiverModel: the Exceiver (a Perceiver IO over genes), its sizes read from a state_dict.
//
// Dimension legend (used by every Exceiver file; docs/ARCHITECTURE.md, "Dimensions"):
//   G genes the model knows (seq_len; released model 19,067); the gene table has G + 1 rows,
//     row G being the zero padding row that masked inputs point to
//   K gene width (seq_dim; 4)      L latents (query_len; 128)      E latent width (query_dim; 4)
//   H heads of the process stack (nhead; 4)   C heads of both cross-attentions (always 4)
//   F feed-forward width of the process stack (dim_feedforward; 2048)   Y hidden width of the head (1)
//   S input positions of one cell (G in inference)   Q decoder queries (genes to predict)
//
// State-dict names (a leading `module.` is removed when every name has it):
//   gene_emb.weight [G+1, K] · query_emb [L, E]
//   {encoder,decoder}_cross_attn.layernorm_{kv,q}.{weight,bias}
//   {encoder,decoder}_cross_attn.cross_attn.in_proj_weight [3W, W] (or q/k/v_proj_weight when the
//     key width differs), .in_proj_bias [3W], .out_proj.{weight [W, W], bias [W]}
//     (W = E for the encoder, whose keys are genes of width K; W = K for the decoder, keys latents of width E)
//   {encoder,decoder}_cross_attn.mlp.{0,3}.{weight,bias} [W] (LayerNorms), .mlp.{1,4}.{weight [W,W], bias [W]}
//   process_self_attn.transformer.layers.{l}.self_attn.{in_proj_weight [3E,E], in_proj_bias, out_proj.*}
//   process_self_attn.transformer.layers.{l}.linear1.{weight [F,E], bias [F]} · linear2.{weight [E,F], bias [E]}
//   process_self_attn.transformer.layers.{l}.norm{1,2}.{weight,bias} [E]
//   mlp.0.{weight,bias} [K] · mlp.1.{weight [Y,K], bias [Y]} · mlp.3.{weight [1,Y], bias [1]}
//   process_self_attn.encoder_layer.* — the template nn.TransformerEncoder copies; never run, ignored.
//
// The number of heads is not visible in the tensors. The cross-attentions always have 4 (the
// original CrossAttn's fixed default). The process stack's count comes from the Lightning
// checkpoint's `hyper_parameters.nhead` (TorchCheckpoint puts it in the file's metadata), or a
// safetensors metadata entry `nhead`; when neither is present the released model's 4 is assumed
// and `headsSource` says so. A recorded `hyper_parameters.seq_len` must match the gene table.

import Foundation
import Kernels
import ToolKit
import Weights

/// The sizes of an Exceiver, read from its tensors (and its hyper-parameters for the head count).
public struct ExceiverConfig: Equatable, CustomStringConvertible {
    public var genes: Int, geneDim: Int, latents: Int, latentDim: Int
    public var layers: Int, heads: Int, crossHeads: Int, ffHidden: Int, headHidden: Int
    /// Where `heads` came from: "hyper_parameters.nhead", "metadata nhead" or "assumed".
    public var headsSource: String
    /// LayerNorm epsilon (PyTorch's default, not stored in a state_dict).
    public var layerNormEps: Float = 1e-5

    public init(genes: Int, geneDim: Int, latents: Int, latentDim: Int, layers: Int, heads: Int, crossHeads: Int = 4,
                ffHidden: Int, headHidden: Int = 1, headsSource: String = "given") {
        self.genes = genes; self.geneDim = geneDim; self.latents = latents; self.latentDim = latentDim
        self.layers = layers; self.heads = heads; self.crossHeads = crossHeads; self.ffHidden = ffHidden
        self.headHidden = headHidden; self.headsSource = headsSource
    }

    public var description: String {
        "Exceiver: \(genes) genes, seq_dim \(geneDim), \(latents) latents of width \(latentDim), \(layers) layers, "
            + "\(heads) heads, ff \(ffHidden), cross-attention heads \(crossHeads)"
    }
}

/// nn.MultiheadAttention's weights, float32, row-major, with the key and value projections stacked.
public struct ExceiverAttention {
    /// Query projection [W, W] and bias [W].
    public let wq: FloatBuffer, bq: FloatBuffer
    /// Key and value projections stacked [2W, KV] (rows 0..<W keys, W..<2W values) and bias [2W].
    public let wkv: FloatBuffer, bkv: FloatBuffer
    /// Output projection [W, W] and bias [W].
    public let wo: FloatBuffer, bo: FloatBuffer
    public let width: Int, keyWidth: Int, heads: Int
    public var headDim: Int { width / heads }
}

/// A LayerNorm's affine parameters [D].
public struct ExceiverNorm {
    public let weight: FloatBuffer, bias: FloatBuffer
}

/// One Linear layer: weight [out, in], bias [out].
public struct ExceiverLinear {
    public let weight: FloatBuffer, bias: FloatBuffer
    public let outputs: Int, inputs: Int
}

/// The original CrossAttn block: LayerNorms on queries and keys, attention, residual, MLP.
public struct ExceiverCrossBlock {
    public let normKV: ExceiverNorm, normQ: ExceiverNorm
    public let attention: ExceiverAttention
    /// mlp = LayerNorm → Linear → GELU → LayerNorm → Linear, all of width W.
    public let mlpNorm1: ExceiverNorm, mlpLinear1: ExceiverLinear, mlpNorm2: ExceiverNorm, mlpLinear2: ExceiverLinear
}

/// One post-norm nn.TransformerEncoderLayer with GELU: x = norm1(x + sa(x)); x = norm2(x + ff(x)).
public struct ExceiverProcessLayer {
    public let attention: ExceiverAttention
    public let linear1: ExceiverLinear, linear2: ExceiverLinear
    public let norm1: ExceiverNorm, norm2: ExceiverNorm
}

/// An Exceiver with its weights.
public final class ExceiverModel {
    public let config: ExceiverConfig
    /// The gene table [G+1, K]; row G is the padding row.
    public let geneEmbedding: FloatBuffer
    /// The learned latent array [L, E].
    public let queryEmbedding: FloatBuffer
    public let encoder: ExceiverCrossBlock
    public let process: [ExceiverProcessLayer]
    public let decoder: ExceiverCrossBlock
    /// The prediction head: LayerNorm(K) → Linear(K, Y) → GELU → Linear(Y, 1).
    public let headNorm: ExceiverNorm, headLinear1: ExceiverLinear, headLinear2: ExceiverLinear

    /// The tensors that identify an Exceiver state_dict.
    static let signature = ["gene_emb.weight", "query_emb", "encoder_cross_attn.layernorm_kv.weight",
                            "decoder_cross_attn.layernorm_kv.weight"]

    /// Whether a weights file holds an Exceiver (by its tensor names).
    public static func recognises(_ file: TensorFile) -> Bool {
        let strip = StateDict.commonPrefix(of: file)
        return signature.allSatisfy { file[strip + $0] != nil }
    }

    /// Builds the model from a state_dict and its metadata; `name` names the file in errors.
    /// - Throws: `ToolError.badInput` (exit 65) for missing, misshapen or unsupported tensors, and
    ///   for a head count or seq_len in the metadata that is not an integer or does not fit.
    public init(_ file: TensorFile, name: String) throws {
        let dict = StateDict(file, name: name, expected: "an Exceiver checkpoint")
        let bad = dict.bad, tensor = dict.tensor, need = dict.need, floats = dict.floats
        func norm(_ p: String, _ d: Int) throws -> ExceiverNorm {
            ExceiverNorm(weight: try floats(p + ".weight", [d]), bias: try floats(p + ".bias", [d]))
        }
        func linear(_ p: String, out: Int, in inputs: Int) throws -> ExceiverLinear {
            ExceiverLinear(weight: try floats(p + ".weight", [out, inputs]), bias: try floats(p + ".bias", [out]),
                           outputs: out, inputs: inputs)
        }
        func attention(_ p: String, width w: Int, keyWidth kv: Int, heads h: Int) throws -> ExceiverAttention {
            guard h > 0, w % h == 0 else { throw bad("\(p): width \(w) is not divisible by \(h) heads") }
            let q: FloatBuffer, kvw: FloatBuffer
            if let packed = tensor(p + ".in_proj_weight") {
                guard kv == w else { throw bad("\(p).in_proj_weight is packed but the keys have width \(kv), not \(w)") }
                guard packed.dtype.isFloatingPoint, packed.shape == [3 * w, w] else {
                    throw bad("tensor \(p).in_proj_weight has shape \(packed.shape), expected [\(3 * w), \(w)]")
                }
                q = FloatBuffer(packed, 0..<(w * w))
                kvw = FloatBuffer(packed, (w * w)..<(3 * w * w))
            } else {
                q = try floats(p + ".q_proj_weight", [w, w])
                let k = try need(p + ".k_proj_weight", [w, kv]), v = try need(p + ".v_proj_weight", [w, kv])
                kvw = FloatBuffer(count: 2 * w * kv)
                k.copyFloats(to: kvw.pointer)
                v.copyFloats(to: kvw.pointer + w * kv)
            }
            let b = try need(p + ".in_proj_bias", [3 * w])
            return ExceiverAttention(wq: q, bq: FloatBuffer(b, 0..<w),
                                     wkv: kvw, bkv: FloatBuffer(b, w..<(3 * w)),
                                     wo: try floats(p + ".out_proj.weight", [w, w]), bo: try floats(p + ".out_proj.bias", [w]),
                                     width: w, keyWidth: kv, heads: h)
        }
        func cross(_ p: String, width w: Int, keyWidth kv: Int) throws -> ExceiverCrossBlock {
            ExceiverCrossBlock(normKV: try norm(p + ".layernorm_kv", kv), normQ: try norm(p + ".layernorm_q", w),
                               attention: try attention(p + ".cross_attn", width: w, keyWidth: kv, heads: 4),
                               mlpNorm1: try norm(p + ".mlp.0", w), mlpLinear1: try linear(p + ".mlp.1", out: w, in: w),
                               mlpNorm2: try norm(p + ".mlp.3", w), mlpLinear2: try linear(p + ".mlp.4", out: w, in: w))
        }

        let table = try need("gene_emb.weight", [nil, nil])
        let (rows, k) = (table.shape[0], table.shape[1])
        guard rows >= 2, k > 0 else { throw bad("gene_emb.weight has shape \(table.shape): no genes") }
        let query = try need("query_emb", [nil, nil])
        let (l, e) = (query.shape[0], query.shape[1])
        guard l > 0, e > 0 else { throw bad("query_emb has an empty shape \(query.shape)") }
        var depth = 0
        while tensor("process_self_attn.transformer.layers.\(depth).norm1.weight") != nil { depth += 1 }
        guard depth > 0 else { throw bad("missing tensor process_self_attn.transformer.layers.0.norm1.weight: not an Exceiver checkpoint") }
        let l1 = try need("process_self_attn.transformer.layers.0.linear1.weight", [nil, e])
        let f = l1.shape[0]
        let h1 = try need("mlp.1.weight", [nil, k])
        let y = h1.shape[0]
        guard f > 0, y > 0 else { throw bad("empty feed-forward or head layer") }

        func integer(_ key: String) throws -> Int? {
            guard let text = file.metadata[key] else { return nil }
            guard let i = Int(text) else {
                throw bad("\(key.hasPrefix("hyper_parameters.") ? key : "metadata " + key) \"\(excerpt(text))\" is not an integer")
            }
            return i
        }
        var heads = 4, source = "assumed (4, as the released Exceiver; none recorded)"
        if let g = try integer("hyper_parameters.nhead") {
            heads = g; source = "hyper_parameters.nhead"
        } else if let g = try integer("nhead") {
            heads = g; source = "metadata nhead"
        }
        guard heads > 0, e % heads == 0 else { throw bad("\(heads) heads do not divide the latent width \(e)") }
        guard e % 4 == 0, k % 4 == 0 else {
            throw bad("widths \(e) and \(k) are not divisible by the cross-attentions' 4 heads")
        }
        if let g = try integer("hyper_parameters.seq_len"), g != rows - 1 {
            throw bad("hyper_parameters.seq_len is \(g) but gene_emb.weight has \(rows) rows (seq_len + 1)")
        }
        config = ExceiverConfig(genes: rows - 1, geneDim: k, latents: l, latentDim: e, layers: depth, heads: heads,
                                ffHidden: f, headHidden: y, headsSource: source)

        geneEmbedding = FloatBuffer(table)
        queryEmbedding = FloatBuffer(query)
        encoder = try cross("encoder_cross_attn", width: e, keyWidth: k)
        decoder = try cross("decoder_cross_attn", width: k, keyWidth: e)
        var layers = [ExceiverProcessLayer]()
        for i in 0..<depth {
            let p = "process_self_attn.transformer.layers.\(i)."
            layers.append(ExceiverProcessLayer(
                attention: try attention(p + "self_attn", width: e, keyWidth: e, heads: heads),
                linear1: try linear(p + "linear1", out: f, in: e), linear2: try linear(p + "linear2", out: e, in: f),
                norm1: try norm(p + "norm1", e), norm2: try norm(p + "norm2", e)))
        }
        process = layers
        headNorm = try norm("mlp.0", k)
        headLinear1 = try linear("mlp.1", out: y, in: k)
        headLinear2 = try linear("mlp.3", out: 1, in: y)

        dict.ignore(prefix: "process_self_attn.encoder_layer.")  // nn.TransformerEncoder's unused template
        if let extra = dict.firstUnused {
            throw bad("unsupported tensor \(extra): not part of the Exceiver scgrn runs (an ExceiverClassifier head, "
                      + "or a different model)")
        }
    }

    /// Loads an Exceiver from a Lightning `.ckpt`, a `.pth` or a `.safetensors` file.
    public static func load(_ path: String) throws -> ExceiverModel {
        try ExceiverModel(try WeightsFile.load(path), name: path)
    }
}
