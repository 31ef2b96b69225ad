// ModelContract: the MODEL stream's tensors — names, shapes and layout — in one place, encoded by
// graphify and decoded by score (docs/FRAMES.md §6 describes the frame; this is what it holds).
//
//   HEAD content MODEL, genes = the dataset genes (G), metadata `decoder` = `dot` or `mlp`.
//   regulator        [G, d]   each gene's representation as a regulator
//   target           [G, d]   each gene's representation as a target
//   decoder.n.weight [hₙ₊₁, hₙ] (mlp only) layer n, [out, in] row-major; h₀ = 2d, the last hₙ₊₁ = 1
//   decoder.n.bias   [hₙ₊₁]
//   regulator.bias   [G]      optional: a per-gene term added to every pair the gene regulates
//   target.bias      [G]      optional: a per-gene term added to every pair the gene is target of
//
//   dot:  logit(i → j) = regulator[i] · target[j]                       (+ the biases)
//   mlp:  logit(i → j) = MLP(concat(regulator[i], target[j]))           (+ the biases)
//         ReLU between layers, none after the last.
// A missing bias tensor means zeros. Other tensors are ignored by readers.

import ToolKit

/// The tensor names of the MODEL contract.
public enum ModelTensorName {
    public static let regulator = "regulator"
    public static let target = "target"
    public static let regulatorBias = "regulator.bias"
    public static let targetBias = "target.bias"
    public static func decoderWeight(_ n: Int) -> String { "decoder.\(n).weight" }
    public static func decoderBias(_ n: Int) -> String { "decoder.\(n).bias" }
}

/// One dense layer of the MLP decoder: y = W x + b, W [out, in] row-major.
public struct DenseLayer: Equatable {
    public let weight: [Float]  // [out, in]
    public let bias: [Float]    // [out]
    public let outputs: Int
    public let inputs: Int

    public init(weight: [Float], bias: [Float], outputs: Int, inputs: Int) {
        precondition(weight.count == outputs * inputs && bias.count == outputs,
                     "DenseLayer: \(weight.count) weights and \(bias.count) biases for [\(outputs), \(inputs)]")
        self.weight = weight; self.bias = bias; self.outputs = outputs; self.inputs = inputs
    }

    /// A layer from a weight stored [in, out] (the engine's layout), transposed to the contract's.
    public init(inOutWeight w: [Float], bias: [Float], inputs: Int, outputs: Int) {
        var t = [Float](repeating: 0, count: inputs * outputs)
        for a in 0..<inputs { for b in 0..<outputs { t[b * inputs + a] = w[a * outputs + b] } }
        self.init(weight: t, bias: bias, outputs: outputs, inputs: inputs)
    }
}

/// A trained pair model as the MODEL stream carries it.
public struct RegulationModel {
    public enum Decoder: Equatable {
        case dot
        case mlp([DenseLayer])

        /// The HEAD metadata value.
        public var name: String {
            switch self { case .dot: return "dot"; case .mlp: return "mlp" }
        }
    }

    /// The HEAD metadata key naming the decoder.
    public static let decoderKey = "decoder"

    /// G.
    public let geneCount: Int
    /// d: the width of a gene's regulator and target representation.
    public let width: Int
    public let regulator: [Float]   // [G, d]
    public let target: [Float]      // [G, d]
    public let decoder: Decoder
    /// Per-gene propensity terms, [G] each, or nil (zeros).
    public let regulatorBias: [Float]?
    public let targetBias: [Float]?

    public init(geneCount g: Int, width d: Int, regulator: [Float], target: [Float], decoder: Decoder,
                regulatorBias: [Float]? = nil, targetBias: [Float]? = nil) {
        precondition(regulator.count == g * d && target.count == g * d, "RegulationModel: representations are not [\(g), \(d)]")
        precondition((regulatorBias?.count ?? g) == g && (targetBias?.count ?? g) == g, "RegulationModel: biases are not [\(g)]")
        geneCount = g; width = d
        self.regulator = regulator; self.target = target; self.decoder = decoder
        self.regulatorBias = regulatorBias; self.targetBias = targetBias
    }

    /// The model whose logit for every pair is the mean of `members`' logits (an ensemble; dot
    /// decoders only): each gene's representations side by side, each scaled by 1/√K, so that the
    /// dot product of the joined rows is the mean of the members' products; the biases averaged.
    /// One member is returned as it is.
    public init(averaging members: [RegulationModel]) {
        precondition(!members.isEmpty, "RegulationModel: an ensemble needs a member")
        let g = members[0].geneCount, k = members.count
        if k == 1 { self = members[0]; return }
        precondition(members.allSatisfy { $0.geneCount == g && $0.decoder == .dot }, "RegulationModel: members differ in genes or are not dot decoders")
        let width = members.reduce(0) { $0 + $1.width }
        let scale = Float(1 / Double(k).squareRoot())
        func joined(_ side: KeyPath<RegulationModel, [Float]>) -> [Float] {
            var out = [Float]()
            out.reserveCapacity(g * width)
            for i in 0..<g {
                for m in members { out += m[keyPath: side][(i * m.width)..<((i + 1) * m.width)].map { $0 * scale } }
            }
            return out
        }
        func mean(_ side: KeyPath<RegulationModel, [Float]?>) -> [Float]? {
            guard members.contains(where: { $0[keyPath: side] != nil }) else { return nil }
            return (0..<g).map { i in members.reduce(Float(0)) { $0 + ($1[keyPath: side]?[i] ?? 0) } / Float(k) }
        }
        self.init(geneCount: g, width: width, regulator: joined(\.regulator), target: joined(\.target), decoder: .dot,
                  regulatorBias: mean(\.regulatorBias), targetBias: mean(\.targetBias))
    }

    // MARK: - Encoding

    /// The tensors to write in a MODEL frame, in the contract's order.
    public var tensors: [ModelTensor] {
        let g = geneCount, d = width
        var ts = [ModelTensor(name: ModelTensorName.regulator, shape: [g, d], data: regulator),
                  ModelTensor(name: ModelTensorName.target, shape: [g, d], data: target)]
        if case .mlp(let layers) = decoder {
            for (n, l) in layers.enumerated() {
                ts.append(ModelTensor(name: ModelTensorName.decoderWeight(n), shape: [l.outputs, l.inputs], data: l.weight))
                ts.append(ModelTensor(name: ModelTensorName.decoderBias(n), shape: [l.outputs], data: l.bias))
            }
        }
        if let regulatorBias { ts.append(ModelTensor(name: ModelTensorName.regulatorBias, shape: [g], data: regulatorBias)) }
        if let targetBias { ts.append(ModelTensor(name: ModelTensorName.targetBias, shape: [g], data: targetBias)) }
        return ts
    }

    // MARK: - Decoding

    /// Reads the model from a stream positioned after its HEAD (MODEL frames, then END).
    /// - Throws: `ToolError.badInput` (65) for another content kind, no MODEL frame, a tensor
    ///   twice, or anything `init(header:tensors:name:)` rejects.
    public static func read(_ stream: StreamReader) throws -> RegulationModel {
        let name = stream.name
        let h = stream.header
        guard h.content == .model else {
            throw ToolError.data(name, "carries \(h.content) frames, not a MODEL: score reads graphify's output "
                                 + "(… | graphify --prior EDGES | score --tfs TFS)")
        }
        var tensors = [String: ModelTensor]()
        var frames = 0
        while let frame = try stream.next() {
            guard case .model(let ts) = frame else { continue }
            frames += 1
            for t in ts {
                if tensors[t.name] != nil { throw ToolError.data(name, "tensor '\(excerpt(t.name))' appears twice") }
                tensors[t.name] = t
            }
        }
        if frames == 0 { throw ToolError.data(name, "has no MODEL frame (the stream holds no trained model)") }
        return try RegulationModel(header: h, tensors: tensors, name: name)
    }

    /// The model from its HEAD and tensors by name.
    /// - Throws: `ToolError.badInput` (65) for missing or misshapen tensors, non-finite values,
    ///   or a missing or unknown decoder.
    public init(header h: StreamHeader, tensors: [String: ModelTensor], name: String) throws {
        let g = h.genes.count
        func tensor(_ key: String) throws -> ModelTensor {
            guard let t = tensors[key] else { throw ToolError.data(name, "MODEL has no tensor '\(key)'") }
            if let bad = t.data.firstIndex(where: { !$0.isFinite }) {
                throw ToolError.data(name, "tensor '\(key)' holds a non-finite value (\(t.data[bad]) at \(bad))")
            }
            return t
        }
        let reg = try tensor(ModelTensorName.regulator), tgt = try tensor(ModelTensorName.target)
        for t in [reg, tgt] where t.shape.count != 2 || t.shape[0] != g || t.shape[1] < 1 {
            throw ToolError.data(name, "tensor '\(t.name)' has shape \(t.shape), expected [\(g), d] (one row per gene of the HEAD)")
        }
        guard reg.shape[1] == tgt.shape[1] else {
            throw ToolError.data(name, "tensors 'regulator' \(reg.shape) and 'target' \(tgt.shape) differ in width")
        }
        let d = reg.shape[1]
        let dec: Decoder
        switch h.metadata(RegulationModel.decoderKey) {
        case "dot":
            dec = .dot
        case "mlp":
            var layers = [DenseLayer]()
            var inputs = 2 * d
            while let w = tensors[ModelTensorName.decoderWeight(layers.count)] {
                let n = layers.count
                let w = try tensor(w.name)
                guard w.shape.count == 2, w.shape[1] == inputs, w.shape[0] >= 1 else {
                    throw ToolError.data(name, "tensor 'decoder.\(n).weight' has shape \(w.shape), expected [h, \(inputs)]")
                }
                let b = try tensor(ModelTensorName.decoderBias(n))
                guard b.shape == [w.shape[0]] else {
                    throw ToolError.data(name, "tensor 'decoder.\(n).bias' has shape \(b.shape), expected [\(w.shape[0])]")
                }
                layers.append(DenseLayer(weight: w.data, bias: b.data, outputs: w.shape[0], inputs: inputs))
                inputs = w.shape[0]
            }
            guard let last = layers.last else {
                throw ToolError.data(name, "decoder is 'mlp' but the MODEL has no tensor 'decoder.0.weight'")
            }
            guard last.outputs == 1 else {
                throw ToolError.data(name, "the last decoder layer (decoder.\(layers.count - 1)) has \(last.outputs) outputs, expected 1")
            }
            dec = .mlp(layers)
        case let other?:
            throw ToolError.data(name, "unknown decoder '\(excerpt(other))' in the HEAD metadata (dot or mlp)")
        case nil:
            throw ToolError.data(name, "HEAD metadata has no 'decoder' (dot or mlp): not a MODEL written by graphify")
        }
        func bias(_ key: String) throws -> [Float]? {
            guard tensors[key] != nil else { return nil }
            let b = try tensor(key)
            guard b.shape == [g] else {
                throw ToolError.data(name, "tensor '\(key)' has shape \(b.shape), expected [\(g)] (one value per gene of the HEAD)")
            }
            return b.data
        }
        let rb = try bias(ModelTensorName.regulatorBias), tb = try bias(ModelTensorName.targetBias)
        self.init(geneCount: g, width: d, regulator: reg.data, target: tgt.data, decoder: dec,
                  regulatorBias: rb, targetBias: tb)
    }
}
