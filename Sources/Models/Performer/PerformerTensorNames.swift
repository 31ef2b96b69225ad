// PerformerTensorNames: scBERT's state-dict names, the one table the loader (PerformerModel),
// the trainable network's parameters and its state-dict writer (PerformerNetwork) all use.
//
// Shapes use PerformerModel's dimension legend. A leading `module.` (checkpoints saved from
// DataParallel) is removed by StateDict before these names are looked up.
//
//   token_emb.weight [T,D] · pos_emb.emb.weight [P,D] (float64 in scBERT) · norm.{weight,bias} [D]
//   to_out.{weight [T,D], bias [T]} (absent when tied: logits = encodings · token_embᵀ)
//   to_value.{weight [1,D], bias [1]} (pretrain's masked-value head; not scBERT's)
//   performer.net.layers.{l}.0.norm.{weight,bias} [D]
//   performer.net.layers.{l}.0.fn.fast_attention.projection_matrix [M,E]
//   performer.net.layers.{l}.0.fn.to_{q,k,v}.weight [I,D] (+ .bias [I] when qkv_bias)
//   performer.net.layers.{l}.0.fn.to_out.{weight [D,I], bias [D]}
//   performer.net.layers.{l}.1.norm.{weight,bias} [D]
//   performer.net.layers.{l}.1.fn.fn.w1.{weight [F,D], bias [F]} · .w2.{weight [D,F], bias [D]}
//   performer.calls_since_last_redraw (a counter; ignored)

/// The state-dict names of scBERT's PerformerLM.
public enum PerformerTensorNames {
    public static let tokenEmbedding = "token_emb.weight"
    public static let positionTable = "pos_emb.emb.weight"
    public static let finalNormWeight = "norm.weight", finalNormBias = "norm.bias"
    public static let outWeight = "to_out.weight", outBias = "to_out.bias"
    public static let valueWeight = "to_value.weight", valueBias = "to_value.bias"
    /// performer-pytorch's redraw counter: stored in the state_dict, not a weight.
    public static let redrawCounter = "performer.calls_since_last_redraw"

    /// The names of one Performer block's tensors.
    public struct Layer {
        public let norm1Weight: String, norm1Bias: String
        public let projection: String
        public let toQ: String, toK: String, toV: String
        public let toQBias: String, toKBias: String, toVBias: String
        public let outWeight: String, outBias: String
        public let norm2Weight: String, norm2Bias: String
        public let w1Weight: String, w1Bias: String
        public let w2Weight: String, w2Bias: String

        init(_ l: Int) {
            let a = "performer.net.layers.\(l).0.", f = "performer.net.layers.\(l).1."
            norm1Weight = a + "norm.weight"; norm1Bias = a + "norm.bias"
            projection = a + "fn.fast_attention.projection_matrix"
            toQ = a + "fn.to_q.weight"; toK = a + "fn.to_k.weight"; toV = a + "fn.to_v.weight"
            toQBias = a + "fn.to_q.bias"; toKBias = a + "fn.to_k.bias"; toVBias = a + "fn.to_v.bias"
            outWeight = a + "fn.to_out.weight"; outBias = a + "fn.to_out.bias"
            norm2Weight = f + "norm.weight"; norm2Bias = f + "norm.bias"
            w1Weight = f + "fn.fn.w1.weight"; w1Bias = f + "fn.fn.w1.bias"
            w2Weight = f + "fn.fn.w2.weight"; w2Bias = f + "fn.fn.w2.bias"
        }
    }

    /// The names of block `l` (0-based).
    public static func layer(_ l: Int) -> Layer { Layer(l) }
}
