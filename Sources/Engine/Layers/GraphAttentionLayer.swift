// GraphAttentionLayer: multi-head graph attention as GENELink builds it, in O(edges) over a
// NeighbourGraph (no dense nodes × nodes matrix).
//
// Per head k (GENELink's AttentionLayer, LeakyReLU slope α = 0.2):
//   h      = x · W_k                                  [N, D]
//   e_ij   = LeakyReLU(h_i · a_k,node + h_j · a_k,neighbour)   for each edge i ← j
//   α_ij   = softmax of e_ij over node i's neighbour list
//   (α dropped out with p = attentionDropout in training; GENELink uses F.dropout's p = 0.5)
//   out_i  = L2-normalise(LeakyReLU(Σ_j α_ij h_j)) + b_k
// The heads' weights live side by side in one [in, H·D] matrix so all heads are one sgemm.
// Heads are then concatenated ([N, H·D], GENELink's first layer, followed by ELU in the model)
// or averaged ([N, D], its second layer).
//
// A node with an empty neighbour list: GENELink's masked dense softmax of all −9e15 averages over
// every node in the graph; pass `isolated:` to get exactly that (GraphAttentionLayer+Isolated.swift).
// Without it such a node's aggregate is zero (its output is the bias).

import Kernels

/// How a multi-head layer combines its heads.
public enum HeadMerge {
    /// [N, H·D], head k in columns k·D..<(k+1)·D.
    case concatenate
    /// [N, D], the mean of the heads.
    case mean
}

/// Multi-head graph attention over a NeighbourGraph.
///
/// Parameters: weight [in, H·D]; attentionNode and attentionNeighbour [H, D] (the two halves of
/// GENELink's a, per head); bias [H·D].
public final class GraphAttentionLayer: ParameterOwner {
    public let heads: Int, outputDim: Int
    public let merge: HeadMerge
    public let slope: Float
    public var attentionDropout: Float
    public let weight: Tensor, attentionNode: Tensor, attentionNeighbour: Tensor, bias: Tensor

    /// GENELink's initialisation: Xavier-uniform with gain 1.414 for W (per head, fans in × D) and
    /// for a (per head, as GENELink's [2D, 1] vector), bias zero.
    public init(inputDim: Int, outputDim: Int, heads: Int, merge: HeadMerge, slope: Float = 0.2,
                attentionDropout: Float = 0.5, rng: inout Xoshiro256) {
        let gain = 1.414
        var w = [Float](repeating: 0, count: inputDim * heads * outputDim)
        var aNode = [Float](repeating: 0, count: heads * outputDim), aNeighbour = aNode
        for k in 0..<heads {
            let head = Tensor.xavierUniform([inputDim, outputDim], gain: gain, rng: &rng)
            for i in 0..<inputDim { for j in 0..<outputDim { w[i * heads * outputDim + k * outputDim + j] = head.data[i * outputDim + j] } }
            let a = Tensor.xavierUniform([2 * outputDim, 1], gain: gain, fans: (1, 2 * outputDim), rng: &rng)
            for j in 0..<outputDim { aNode[k * outputDim + j] = a.data[j]; aNeighbour[k * outputDim + j] = a.data[outputDim + j] }
        }
        self.heads = heads; self.outputDim = outputDim; self.merge = merge; self.slope = slope
        self.attentionDropout = attentionDropout
        weight = Tensor(w, shape: [inputDim, heads * outputDim], requiresGrad: true)
        attentionNode = Tensor(aNode, shape: [heads, outputDim], requiresGrad: true)
        attentionNeighbour = Tensor(aNeighbour, shape: [heads, outputDim], requiresGrad: true)
        bias = Tensor.zeros([heads * outputDim], requiresGrad: true)
    }

    /// A layer over given parameter tensors (shapes as listed on the type).
    public init(weight: Tensor, attentionNode: Tensor, attentionNeighbour: Tensor, bias: Tensor,
                merge: HeadMerge, slope: Float = 0.2, attentionDropout: Float = 0.5) {
        precondition(attentionNode.rank == 2 && attentionNode.shape == attentionNeighbour.shape, "GraphAttentionLayer: attention vectors \(attentionNode.shape), \(attentionNeighbour.shape)")
        heads = attentionNode.shape[0]; outputDim = attentionNode.shape[1]
        precondition(weight.rank == 2 && weight.shape[1] == heads * outputDim && bias.shape == [heads * outputDim],
                     "GraphAttentionLayer: weight \(weight.shape) and bias \(bias.shape) do not fit \(heads) heads of \(outputDim)")
        self.weight = weight; self.attentionNode = attentionNode; self.attentionNeighbour = attentionNeighbour; self.bias = bias
        self.merge = merge; self.slope = slope; self.attentionDropout = attentionDropout
    }

    public var parameters: [NamedParameter] {
        [NamedParameter("weight", weight), NamedParameter("attention_node", attentionNode),
         NamedParameter("attention_neighbour", attentionNeighbour), NamedParameter("bias", bias)]
    }

    /// - Parameters:
    ///   - x: [N, in] node features.
    ///   - graph: N nodes; node i attends over its neighbour list.
    ///   - isolated: `IsolatedNodes(graph)` for GENELink's treatment of nodes without neighbours
    ///     (see GraphAttentionLayer+Isolated.swift); nil leaves their aggregate zero.
    /// - Returns: [N, H·D] (concatenate) or [N, D] (mean).
    public func callAsFunction(_ tape: Tape, _ x: Tensor, _ graph: NeighbourGraph, isolated: IsolatedNodes? = nil) -> Tensor {
        let n = graph.nodeCount, h = heads, d = outputDim
        precondition(x.rank == 2 && x.shape[0] == n, "GraphAttentionLayer: x \(x.shape) for \(n) nodes")
        let features = tape.matmul(x, weight)                                   // [N, H·D]
        let edgeScores = tape.edgeScores(features, node: attentionNode, neighbour: attentionNeighbour, graph, slope: slope)  // [E, H]
        let attention = tape.dropout(tape.neighbourSoftmax(edgeScores, graph), p: attentionDropout)
        var aggregate = tape.neighbourAggregate(attention, features, graph)     // [N, H·D], zero rows when isolated
        if let isolated, isolated.count > 0 { aggregate = isolated.addMean(of: features, to: aggregate, tape) }
        let activated = tape.leakyRelu(aggregate, slope: slope)
        let normalised = tape.reshape(tape.l2Normalize(tape.reshape(activated, [n * h, d])), [n, h * d])
        let out = tape.add(normalised, bias)
        switch merge {
        case .concatenate: return out
        case .mean: return tape.mean(tape.reshape(out, [n, h, d]), axis: 1)
        }
    }
}
