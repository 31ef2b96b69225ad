// PerformerModel: scBERT's PerformerLM, its sizes read from the tensors of a state_dict.
//
// Dimension legend (used by every Performer file; docs/ARCHITECTURE.md, "Dimensions"):
//   T token ids (num_tokens; scBERT: 7 = bins 0…5 plus mask)   D model width (dim; scBERT 200)
//   P positions of the gene2vec table (scBERT 16,907 = 16,906 genes + 1 zero row)
//   L layers (depth; 6)   H heads (10)   E head width (dim_head; 64)   I = H·E inner width (640)
//   M random features per head (nb_features; 266)   F feed-forward width (ff_mult·D; 800)
//   N sequence length of one run (≤ P)
//
// State-dict names (a leading `module.` is removed when every name has it):
//   token_emb.weight [T,D] · pos_emb.emb.weight [P,D] (float64 in scBERT) · norm.{weight,bias} [D]
//   to_out.{weight [T,D], bias [T]} (absent when tied: logits = encodings · token_embᵀ)
//   performer.net.layers.{l}.0.norm.{weight,bias} [D]
//   performer.net.layers.{l}.0.fn.fast_attention.projection_matrix [M,E]
//   performer.net.layers.{l}.0.fn.to_{q,k,v}.weight [I,D] (+ .bias [I] when qkv_bias)
//   performer.net.layers.{l}.0.fn.to_out.{weight [D,I], bias [D]}
//   performer.net.layers.{l}.1.norm.{weight,bias} [D]
//   performer.net.layers.{l}.1.fn.fn.w1.{weight [F,D], bias [F]} · .w2.{weight [D,F], bias [D]}
//   performer.calls_since_last_redraw (a counter; ignored)
// Anything else (local attention heads, GLU feed-forward, ReZero/ScaleNorm) is refused: those
// are options scBERT does not use, and running them as if absent would give wrong numbers.

import Foundation
import Kernels
import Weights

/// The sizes of a Performer, all read from its tensors.
public struct PerformerConfig: Equatable, CustomStringConvertible {
    public var dim: Int, depth: Int, heads: Int, dimHead: Int, features: Int, ffHidden: Int
    public var tokens: Int, positions: Int
    public var qkvBias: Bool, tiedOutput: Bool
    /// LayerNorm epsilon (PyTorch's default; it is not stored in a state_dict).
    public var layerNormEps: Float = 1e-5

    public init(dim: Int, depth: Int, heads: Int, dimHead: Int, features: Int, ffHidden: Int, tokens: Int, positions: Int,
                qkvBias: Bool = false, tiedOutput: Bool = false) {
        self.dim = dim; self.depth = depth; self.heads = heads; self.dimHead = dimHead; self.features = features
        self.ffHidden = ffHidden; self.tokens = tokens; self.positions = positions
        self.qkvBias = qkvBias; self.tiedOutput = tiedOutput
    }

    public var inner: Int { heads * dimHead }

    public var description: String {
        "dim \(dim), depth \(depth), heads \(heads), dim_head \(dimHead), \(features) features, ff \(ffHidden), "
            + "\(tokens) tokens, \(positions) positions"
    }

    /// Multiply-adds ×2 of one forward pass over N positions (the GEMMs and FAVOR+ products).
    public func flops(length n: Int) -> Double {
        let n = Double(n), d = Double(dim), i = Double(inner), m = Double(features), e = Double(dimHead)
        let f = Double(ffHidden), h = Double(heads)
        let perLayer = 2 * n * d * 3 * i + 2 * n * i * d + 4 * n * d * f + h * (2 * 2 * n * e * m + 2 * 2 * n * m * (e + 1))
        return Double(depth) * perLayer
    }
}

/// One Performer block's weights, float32, row-major.
public struct PerformerLayer {
    public let norm1Weight: FloatBuffer, norm1Bias: FloatBuffer       // [D]
    /// to_q, to_k, to_v stacked: [3I, D]; q = x·Wqᵀ is columns 0..<I of x·Wqkvᵀ.
    public let qkvWeight: FloatBuffer
    public let qkvBias: FloatBuffer?                                  // [3I]
    public let projection: FloatBuffer                                // [M, E]
    public let outWeight: FloatBuffer, outBias: FloatBuffer           // [D, I], [D]
    public let norm2Weight: FloatBuffer, norm2Bias: FloatBuffer       // [D]
    public let w1: FloatBuffer, b1: FloatBuffer                       // [F, D], [F]
    public let w2: FloatBuffer, b2: FloatBuffer                       // [D, F], [D]
}

/// scBERT's PerformerLM with its weights.
public final class PerformerModel {
    public let config: PerformerConfig
    public let tokenEmbedding: FloatBuffer                            // [T, D]
    /// The gene2vec position table [P, D], kept in float64 as scBERT stores it (the sum with the
    /// token embedding is taken in float64 and rounded once, as PyTorch does).
    public let positionTable: DoubleBuffer
    public let layers: [PerformerLayer]
    public let finalNormWeight: FloatBuffer, finalNormBias: FloatBuffer
    public let outWeight: FloatBuffer                                 // [T, D]
    public let outBias: FloatBuffer                                   // [T] (zeros when tied)

    /// Builds the model from a state_dict; `name` names the file in errors.
    /// - Throws: `ToolError.badInput` (exit 65) for missing, misshapen or unsupported tensors.
    public init(_ file: TensorFile, name: String) throws {
        let dict = StateDict(file, name: name, expected: "an scBERT (PerformerLM) checkpoint")
        let bad = dict.bad, tensor = dict.tensor, need = dict.need, floats = dict.floats

        let tok = try need("token_emb.weight", [nil, nil])
        let (t, d) = (tok.shape[0], tok.shape[1])
        guard t > 0, d > 0 else { throw bad("token_emb.weight has an empty shape \(tok.shape)") }
        let pos = try need("pos_emb.emb.weight", [nil, d])
        let p = pos.shape[0]
        guard p > 0 else { throw bad("pos_emb.emb.weight has no rows") }
        var depth = 0
        while tensor("performer.net.layers.\(depth).0.norm.weight") != nil { depth += 1 }
        guard depth > 0 else { throw bad("missing tensor performer.net.layers.0.0.norm.weight: not an scBERT (PerformerLM) checkpoint") }
        let l0 = "performer.net.layers.0."
        let proj0 = try need(l0 + "0.fn.fast_attention.projection_matrix", [nil, nil])
        let (m, e) = (proj0.shape[0], proj0.shape[1])
        let q0 = try need(l0 + "0.fn.to_q.weight", [nil, d])
        let inner = q0.shape[0]
        guard m > 0, e > 0, inner > 0, inner % e == 0 else {
            throw bad("to_q.weight [\(inner), \(d)] is not heads × dim_head \(e) rows")
        }
        let w10 = try need(l0 + "1.fn.fn.w1.weight", [nil, d])
        let f = w10.shape[0]
        let qkvBias = tensor(l0 + "0.fn.to_q.bias") != nil
        let tied = tensor("to_out.weight") == nil
        config = PerformerConfig(dim: d, depth: depth, heads: inner / e, dimHead: e, features: m, ffHidden: f,
                                 tokens: t, positions: p, qkvBias: qkvBias, tiedOutput: tied)

        tokenEmbedding = FloatBuffer(tok.floats)
        positionTable = DoubleBuffer(pos.doubles)
        var layers = [PerformerLayer]()
        for l in 0..<depth {
            let a = "performer.net.layers.\(l).0.", b = "performer.net.layers.\(l).1."
            var qkv = try need(a + "fn.to_q.weight", [inner, d]).floats
            qkv += try need(a + "fn.to_k.weight", [inner, d]).floats
            qkv += try need(a + "fn.to_v.weight", [inner, d]).floats
            var bias: FloatBuffer?
            if qkvBias {
                var bq = try need(a + "fn.to_q.bias", [inner]).floats
                bq += try need(a + "fn.to_k.bias", [inner]).floats
                bq += try need(a + "fn.to_v.bias", [inner]).floats
                bias = FloatBuffer(bq)
            }
            layers.append(PerformerLayer(
                norm1Weight: try floats(a + "norm.weight", [d]), norm1Bias: try floats(a + "norm.bias", [d]),
                qkvWeight: FloatBuffer(qkv), qkvBias: bias,
                projection: try floats(a + "fn.fast_attention.projection_matrix", [m, e]),
                outWeight: try floats(a + "fn.to_out.weight", [d, inner]), outBias: try floats(a + "fn.to_out.bias", [d]),
                norm2Weight: try floats(b + "norm.weight", [d]), norm2Bias: try floats(b + "norm.bias", [d]),
                w1: try floats(b + "fn.fn.w1.weight", [f, d]), b1: try floats(b + "fn.fn.w1.bias", [f]),
                w2: try floats(b + "fn.fn.w2.weight", [d, f]), b2: try floats(b + "fn.fn.w2.bias", [d])))
        }
        self.layers = layers
        finalNormWeight = try floats("norm.weight", [d])
        finalNormBias = try floats("norm.bias", [d])
        if tied {
            outWeight = tokenEmbedding
            outBias = FloatBuffer(count: t)
        } else {
            outWeight = try floats("to_out.weight", [t, d])
            outBias = try floats("to_out.bias", [t])
        }
        _ = tensor("performer.calls_since_last_redraw")
        if let extra = dict.firstUnused {
            throw bad("unsupported tensor \(extra): this PerformerLM uses an option scgrn does not run "
                      + "(local attention, GLU feed-forward, ReZero or ScaleNorm), or it is not an scBERT checkpoint")
        }
    }

    /// Loads a model from a `.pth` checkpoint or a `.safetensors` file.
    public static func load(_ path: String) throws -> PerformerModel {
        try PerformerModel(try WeightsFile.load(path), name: path)
    }
}
