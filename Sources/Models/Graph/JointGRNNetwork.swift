// JointGRNNetwork: graphify's model — GENELink's graph-attention encoder over expression
// profiles, joined with a per-gene transformer embedding as scTransNet joins it, then separate
// regulator and target channels and a pair decoder. Either half can be left out (the ablations).
//
// Dimensions (docs/ARCHITECTURE.md): G genes, F profile width (C cells, or K for a sketch),
// D transformer embedding width, H1/H2 heads, d1/d2 per-head widths, d3 the channels' hidden
// width, d the output width, B pairs in a batch.
//
//   encoder (GNN on):   z = GAT₂(ELU(GAT₁(profiles, graph)), graph)          [G, d2]
//                        GAT₁: F → H1 heads × d1, concatenated; GAT₂: H1·d1 → H2 heads × d2, averaged;
//                        isolated nodes attend uniformly over all genes (GENELink's dense softmax)
//   join:               u = concat(embedding, z)  (scTransNet's order)       [G, D + d2]
//                        without the GNN u = embedding; with neither, u = profiles (an MLP baseline)
//   channels:           r = LeakyReLU₀.₀₁(Linear(Dropout₀.₀₁(LeakyReLU₀.₀₁(Linear(u)))))   [G, d]
//                        and t the same with its own weights
//   decoder dot:        logit(i → j) = r_i · t_j
//   decoder mlp:        logit(i → j) = Linear(ReLU(Linear(concat(r_i, t_j))))   2d → h → 1
//
// Architecture scgrn (graphify's default; `.genelink` above is the exact reproduction):
//   own features:       the embedding when there is one; otherwise the self path
//                        s = ELU(Linear(profiles)) [G, d2] (GraphSAGE's self term), so genes
//                        without a prior neighbour are told apart
//   encoder:            z = GAT₂(ELU(GAT₁(profiles, graph)), graph) · m       [G, d2]
//                        no dense-softmax mean for isolated genes: m_i = 0 for them, and in
//                        training also for a random share of the other genes (graph dropout), so
//                        the channels learn to rate genes the prior does not reach; the GAT
//                        products run over the genes the graph links, not all G
//   join:               u = concat(embedding, z), or concat(z, s) without one  [G, D + d2] or [G, 2·d2]
//   edge masking:       in training (graphify's), each batch's own pairs are removed from the
//                        graph its pass runs over, so a pair is never scored through its own edge
//   channels:           as GENELink's but without the final LeakyReLU (signed outputs)
//   pair logit:         decoder(r_i, t_j) + ρ_i + τ_j, ρ and τ learned per gene (regulator and
//                        target propensity); graphify writes them as zero for genes that have
//                        no training pair in that role (with sampled negatives, the genes with
//                        no positive one share the mean of their learned values)
//
// Initialisation follows GENELink: attention layers and channel weights Xavier-uniform with gain
// 1.414, channel biases as PyTorch's nn.Linear; decoder layers as nn.Linear. Parameters are drawn
// in GENELink's order: layer 1, layer 2, regulator 1, target 1, regulator 2, target 2, decoder.
//
// With profiles only, the GNN and the dot decoder this is GENELink's model (Chen & Liu 2022) with
// its defaults: heads [3, 3], hidden [128, 64, 32], output 16, α 0.2 (trained with Adam 3e-3 and
// StepLR(1, 0.99) over batches of 256 pairs by graphify).

import Engine
import Kernels

/// The shape of a JointGRNNetwork.
public struct JointGRNConfiguration: Equatable {
    /// GENELink's model exactly, or scgrn's (self path, graph dropout, per-gene propensities).
    public enum Architecture: String, Equatable, CaseIterable {
        case genelink, scgrn
    }
    public enum Decoder: Equatable {
        case dot
        /// concat(r, t) → hidden → ReLU → 1.
        case mlp(hidden: Int)
    }
    /// C: profile width (ignored without the GNN when an embedding is given).
    public var profileDim: Int
    /// D: transformer embedding width; 0 for none.
    public var embeddingDim: Int
    /// Whether the graph-attention encoder is used.
    public var useGNN: Bool
    public var heads = [3, 3]
    /// d1, d2 (per head) and d3 (the channels' hidden width).
    public var hidden = [128, 64, 32]
    public var outputDim = 16
    public var slope: Float = 0.2
    public var attentionDropout: Float = 0.5
    public var channelDropout: Float = 0.01
    public var decoder = Decoder.dot
    public var architecture = Architecture.genelink
    /// N: the number of genes (scgrn's per-gene propensities need it).
    public var geneCount = 0

    public init(profileDim: Int, embeddingDim: Int = 0, useGNN: Bool = true) {
        self.profileDim = profileDim; self.embeddingDim = embeddingDim; self.useGNN = useGNN
    }

    /// Whether the profiles also reach the channels through a self path: scgrn with the GNN and no
    /// embedding (an embedding is the gene's own features already; a profile path beside it
    /// lowered held-out targets' per-regulator AUROC, docs/GRAPHIFY.md).
    public var hasSelfPath: Bool { architecture == .scgrn && useGNN && embeddingDim == 0 }

    /// The width of the channels' input u.
    public var channelInputDim: Int {
        if useGNN { return embeddingDim + hidden[1] + (hasSelfPath ? hidden[1] : 0) }
        return embeddingDim > 0 ? embeddingDim : profileDim
    }
}

/// GENELink's encoder joined with a transformer embedding, two channels and a pair decoder.
public final class JointGRNNetwork: ParameterOwner {
    public let configuration: JointGRNConfiguration
    public let layer1: GraphAttentionLayer?, layer2: GraphAttentionLayer?
    public let regulator1: Linear, regulator2: Linear, target1: Linear, target2: Linear
    /// The MLP decoder's layers (empty for dot).
    public let decoder: [Linear]
    /// scgrn: the self path (profiles → d2), nil otherwise.
    public let selfPath: Linear?
    /// scgrn: per-gene regulator and target propensity, [G, 1] each (initially zero), nil otherwise.
    public let regulatorBias: Tensor?, targetBias: Tensor?

    /// A freshly initialised network drawn from `seed`.
    public init(_ c: JointGRNConfiguration, seed: UInt64) {
        precondition(c.heads.count == 2 && c.hidden.count == 3, "JointGRNNetwork: heads \(c.heads), hidden \(c.hidden)")
        precondition(c.channelInputDim > 0, "JointGRNNetwork: the channels have no input")
        var rng = Xoshiro256(seed: seed)
        configuration = c
        if c.useGNN {
            layer1 = GraphAttentionLayer(inputDim: c.profileDim, outputDim: c.hidden[0], heads: c.heads[0], merge: .concatenate,
                                         slope: c.slope, attentionDropout: c.attentionDropout, rng: &rng)
            layer2 = GraphAttentionLayer(inputDim: c.heads[0] * c.hidden[0], outputDim: c.hidden[1], heads: c.heads[1],
                                         merge: .mean, slope: c.slope, attentionDropout: c.attentionDropout, rng: &rng)
        } else {
            layer1 = nil; layer2 = nil
        }
        let u = c.channelInputDim
        regulator1 = Linear(u, c.hidden[2], xavierGain: 1.414, rng: &rng)
        target1 = Linear(u, c.hidden[2], xavierGain: 1.414, rng: &rng)
        regulator2 = Linear(c.hidden[2], c.outputDim, xavierGain: 1.414, rng: &rng)
        target2 = Linear(c.hidden[2], c.outputDim, xavierGain: 1.414, rng: &rng)
        switch c.decoder {
        case .dot: decoder = []
        case .mlp(let h): decoder = [Linear(2 * c.outputDim, h, rng: &rng), Linear(h, 1, rng: &rng)]
        }
        selfPath = c.hasSelfPath ? Linear(c.profileDim, c.hidden[1], xavierGain: 1.414, rng: &rng) : nil
        if c.architecture == .scgrn {
            precondition(c.geneCount > 0, "JointGRNNetwork: scgrn needs the gene count")
            regulatorBias = Tensor.zeros([c.geneCount, 1], requiresGrad: true)
            targetBias = Tensor.zeros([c.geneCount, 1], requiresGrad: true)
        } else {
            regulatorBias = nil; targetBias = nil
        }
    }

    /// A network over given layers (to load or to test); shapes must chain as in the configuration.
    public init(_ c: JointGRNConfiguration, layer1: GraphAttentionLayer?, layer2: GraphAttentionLayer?,
                regulator1: Linear, regulator2: Linear, target1: Linear, target2: Linear, decoder: [Linear]) {
        precondition((layer1 != nil) == c.useGNN && (layer2 != nil) == c.useGNN, "JointGRNNetwork: layers vs useGNN")
        precondition(regulator1.weight.shape[0] == c.channelInputDim, "JointGRNNetwork: channel input \(regulator1.weight.shape) vs \(c.channelInputDim)")
        precondition(c.architecture == .genelink, "JointGRNNetwork: this initialiser builds GENELink's architecture")
        configuration = c
        self.layer1 = layer1; self.layer2 = layer2
        self.regulator1 = regulator1; self.regulator2 = regulator2; self.target1 = target1; self.target2 = target2
        self.decoder = decoder
        selfPath = nil; regulatorBias = nil; targetBias = nil
    }

    public var parameters: [NamedParameter] {
        var p = [NamedParameter]()
        if let layer1, let layer2 {
            p += layer1.parameters(prefixed: "encoder.layer1") + layer2.parameters(prefixed: "encoder.layer2")
        }
        p += regulator1.parameters(prefixed: "regulator.linear1") + regulator2.parameters(prefixed: "regulator.linear2")
        p += target1.parameters(prefixed: "target.linear1") + target2.parameters(prefixed: "target.linear2")
        for (i, l) in decoder.enumerated() { p += l.parameters(prefixed: "decoder.\(i)") }
        if let selfPath { p += selfPath.parameters(prefixed: "self.linear") }
        if let regulatorBias, let targetBias {
            p += [NamedParameter("regulator.bias", regulatorBias), NamedParameter("target.bias", targetBias)]
        }
        return p
    }

    /// The regulator and target representation of every gene.
    ///
    /// - Parameters:
    ///   - profiles: [G, F] node features (needed with the GNN, or when there is no embedding).
    ///   - embedding: [G, D] transformer embedding, or nil when D = 0.
    ///   - graph: the prior network over the N genes; `isolated` its nodes without neighbours.
    ///   - graphDropped: scgrn in training: genes whose graph encoding is dropped (set to zero, as
    ///     for an isolated gene) in this pass; nil drops none.
    /// - Returns: two [G, d] tensors.
    public func embed(_ tape: Tape, profiles: Tensor?, embedding: Tensor?, graph: NeighbourGraph,
                      isolated: IsolatedNodes, graphDropped: [Bool]? = nil) -> (regulator: Tensor, target: Tensor) {
        let c = configuration
        precondition((embedding == nil) == (c.embeddingDim == 0), "JointGRNNetwork: embedding given \(embedding != nil), D = \(c.embeddingDim)")
        var u: Tensor
        if let layer1, let layer2 {
            guard let profiles else { preconditionFailure("JointGRNNetwork: the GNN needs profiles") }
            if c.architecture == .scgrn {
                // scgrn: isolated (and dropped) genes get no graph term; their own features speak.
                let n = graph.nodeCount
                var keep = [Float](repeating: 1, count: n)
                for i in isolated.nodes { keep[Int(i)] = 0 }
                if let graphDropped { for i in 0..<n where graphDropped[i] { keep[i] = 0 } }
                // The encoder runs over the linked genes only: the others' rows would be zeroed
                // below, and in a whole-transcriptome run most genes are outside the prior.
                let (sub, linked) = graph.linked()
                var z: Tensor
                if linked.count == n {
                    z = layer2(tape, tape.elu(layer1(tape, profiles, graph)), graph)
                } else if linked.isEmpty {   // no edge left (a batch may mask them all): no graph term
                    z = Tensor([Float](repeating: 0, count: n * c.hidden[1]), shape: [n, c.hidden[1]])
                } else {
                    // Back to all genes: the unlinked ones' rows stay zero.
                    z = tape.scatterAddRows(layer2(tape, tape.elu(layer1(tape, tape.gatherRows(profiles, linked), sub)), sub),
                                            linked, count: n)
                }
                z = tape.mul(z, Tensor(keep, shape: [n, 1]))
                let s = selfPath.map { [tape.elu($0(tape, profiles))] } ?? []
                u = tape.concat((embedding.map { [$0] } ?? []) + [z] + s, axis: 1)
            } else {
                let z = layer2(tape, tape.elu(layer1(tape, profiles, graph, isolated: isolated)), graph, isolated: isolated)
                u = embedding.map { tape.concat([$0, z], axis: 1) } ?? z
            }
        } else if let embedding {
            u = embedding
        } else {
            guard let profiles else { preconditionFailure("JointGRNNetwork: no input") }
            u = profiles
        }
        func channel(_ a: Linear, _ b: Linear) -> Tensor {
            let hidden = tape.dropout(tape.leakyRelu(a(tape, u)), p: c.channelDropout)
            // scgrn: a linear output, so representations are signed and the dot product is not
            // dominated by one shared direction (GENELink's LeakyReLU output ranks every
            // regulator's targets almost alike).
            return c.architecture == .scgrn ? b(tape, hidden) : tape.leakyRelu(b(tape, hidden))
        }
        return (channel(regulator1, regulator2), channel(target1, target2))
    }

    /// Logits for pairs (regulator index, target index).
    ///
    /// - Parameters:
    ///   - regulator, target: [G, d] from `embed`.
    ///   - regulators, targets: [P] gene indices.
    /// - Returns: [P, 1].
    public func score(_ tape: Tape, regulator: Tensor, target: Tensor, regulators: [Int32], targets: [Int32]) -> Tensor {
        let r = tape.gatherRows(regulator, regulators), t = tape.gatherRows(target, targets)
        var h: Tensor
        if decoder.isEmpty {
            h = tape.sum(tape.mul(r, t), axis: 1, keepDims: true)
        } else {
            h = tape.concat([r, t], axis: 1)
            for (i, layer) in decoder.enumerated() {
                h = layer(tape, h)
                if i < decoder.count - 1 { h = tape.relu(h) }
            }
        }
        if let regulatorBias, let targetBias {
            h = tape.add(tape.add(h, tape.gatherRows(regulatorBias, regulators)), tape.gatherRows(targetBias, targets))
        }
        return h
    }
}
