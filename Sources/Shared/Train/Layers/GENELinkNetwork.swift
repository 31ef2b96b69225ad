// GENELinkNetwork: GENELink's model (Chen & Liu 2022) assembled from the engine's layers — a
// two-layer graph-attention encoder, separate regulator and target MLP channels, and a
// dot-product or MLP decoder scoring (regulator, target) pairs as logits for BCE.
//
// Encoder: GAT(in → H1 heads × d1, concatenated) → ELU → GAT(H1·d1 → H2 heads × d2, averaged).
// Channels: Linear(d2 → d3) → LeakyReLU(0.01) → dropout(0.01) → Linear(d3 → out) → LeakyReLU(0.01),
// one for regulators and one for targets. Decoder: Σ reg ⊙ tgt (dot) or Linear(2·out → 1) (mlp).
// GENELink's defaults: heads [3, 3], hidden [128, 64, 32], out 16, α 0.2, Adam lr 3e-3 with
// StepLR(1, 0.99), batches of 256 pairs.

/// The shape of a GENELink network.
public struct GENELinkConfiguration {
    public enum Decoder { case dot, mlp }
    public var inputDim: Int
    public var heads = [3, 3]
    /// d1, d2 (per head) and d3 (the channels' hidden width).
    public var hidden = [128, 64, 32]
    public var outputDim = 16
    public var slope: Float = 0.2
    public var attentionDropout: Float = 0.5
    public var channelDropout: Float = 0.01
    public var decoder = Decoder.dot

    public init(inputDim: Int) { self.inputDim = inputDim }
}

/// GENELink: graph-attention encoder, regulator and target channels, pair decoder.
public final class GENELinkNetwork: ParameterOwner {
    public let configuration: GENELinkConfiguration
    public let layer1: GraphAttentionLayer, layer2: GraphAttentionLayer
    public let regulator1: Linear, regulator2: Linear, target1: Linear, target2: Linear
    public let decoder: Linear?

    /// A freshly initialised network (GENELink's initialisation), drawn from `seed`.
    public init(_ c: GENELinkConfiguration, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        configuration = c
        layer1 = GraphAttentionLayer(inputDim: c.inputDim, outputDim: c.hidden[0], heads: c.heads[0], merge: .concatenate,
                                     slope: c.slope, attentionDropout: c.attentionDropout, rng: &rng)
        layer2 = GraphAttentionLayer(inputDim: c.heads[0] * c.hidden[0], outputDim: c.hidden[1], heads: c.heads[1], merge: .mean,
                                     slope: c.slope, attentionDropout: c.attentionDropout, rng: &rng)
        regulator1 = Linear(c.hidden[1], c.hidden[2], xavierGain: 1.414, rng: &rng)
        target1 = Linear(c.hidden[1], c.hidden[2], xavierGain: 1.414, rng: &rng)
        regulator2 = Linear(c.hidden[2], c.outputDim, xavierGain: 1.414, rng: &rng)
        target2 = Linear(c.hidden[2], c.outputDim, xavierGain: 1.414, rng: &rng)
        decoder = c.decoder == .mlp ? Linear(2 * c.outputDim, 1, rng: &rng) : nil
    }

    /// A network over given layers (e.g. to load or to test); shapes must chain as in the configuration.
    public init(_ c: GENELinkConfiguration, layer1: GraphAttentionLayer, layer2: GraphAttentionLayer,
                regulator1: Linear, regulator2: Linear, target1: Linear, target2: Linear, decoder: Linear?) {
        configuration = c
        self.layer1 = layer1; self.layer2 = layer2
        self.regulator1 = regulator1; self.regulator2 = regulator2; self.target1 = target1; self.target2 = target2
        self.decoder = decoder
    }

    public var parameters: [NamedParameter] {
        layer1.parameters(prefixed: "encoder.layer1") + layer2.parameters(prefixed: "encoder.layer2")
            + regulator1.parameters(prefixed: "regulator.linear1") + regulator2.parameters(prefixed: "regulator.linear2")
            + target1.parameters(prefixed: "target.linear1") + target2.parameters(prefixed: "target.linear2")
            + (decoder?.parameters(prefixed: "decoder") ?? [])
    }

    /// The regulator and target representation of every gene.
    ///
    /// - Parameters:
    ///   - x: [N, in] gene features.
    ///   - graph: the prior network over the N genes.
    /// - Returns: two [N, out] tensors.
    public func embed(_ tape: Tape, _ x: Tensor, _ graph: NeighbourGraph) -> (regulator: Tensor, target: Tensor) {
        let c = configuration
        let h = layer2(tape, tape.elu(layer1(tape, x, graph)), graph)
        func channel(_ a: Linear, _ b: Linear) -> Tensor {
            let hidden = tape.dropout(tape.leakyRelu(a(tape, h)), p: c.channelDropout)
            return tape.leakyRelu(b(tape, hidden))
        }
        return (channel(regulator1, regulator2), channel(target1, target2))
    }

    /// Logits for pairs (regulator index, target index).
    ///
    /// - Parameters:
    ///   - regulator, target: [N, out] from `embed`.
    ///   - regulators, targets: [P] gene indices.
    /// - Returns: [P, 1].
    public func score(_ tape: Tape, regulator: Tensor, target: Tensor, regulators: [Int32], targets: [Int32]) -> Tensor {
        let r = tape.gatherRows(regulator, regulators), t = tape.gatherRows(target, targets)
        if let decoder { return decoder(tape, tape.concat([r, t], axis: 1)) }
        return tape.sum(tape.mul(r, t), axis: 1, keepDims: true)
    }
}
