// GraphAttentionLayer+Isolated: graph attention with GENELink's treatment of nodes that have no
// neighbour, still in O(edges).
//
// GENELink masks its dense N × N score matrix with −9e15 off the edges and takes a row softmax.
// For a node with at least one neighbour that is the softmax over its neighbours (what the plain
// layer computes). For a node with none, every entry of its row is −9e15, the softmax is uniform
// over all N nodes, and the node's aggregate is the mean of h over every node in the graph. The
// plain layer gives such a node zero instead. Here that mean is computed once per head (the
// column mean of h, O(N · H · D)) and added to the rows of the isolated nodes.
//
// In training GENELink also drops out the uniform weights of those rows (p = 0.5); this layer
// uses their expectation, the exact mean, in training as well (drawing an N-wide mask for every
// isolated node would bring back the dense cost).

/// The nodes of a graph that have no neighbour, as the constants the attention layer needs.
public struct IsolatedNodes {
    /// The number of nodes without a neighbour.
    public let count: Int
    /// [N, 1]: 1 for a node without neighbours, 0 otherwise (a constant, never differentiated).
    public let mask: Tensor
    /// [1, N]: 1/N everywhere; uniform · h is the mean of h over the nodes (one sgemm).
    public let uniform: Tensor

    /// The isolated nodes of `graph`.
    public init(_ graph: NeighbourGraph) {
        let n = graph.nodeCount
        var m = [Float](repeating: 0, count: n)
        var c = 0
        for i in 0..<n where graph.offsets[i + 1] == graph.offsets[i] { m[i] = 1; c += 1 }
        count = c
        mask = Tensor(m, shape: [n, 1])
        uniform = Tensor([Float](repeating: n > 0 ? 1 / Float(n) : 0, count: n), shape: [1, n])
    }
}

extension GraphAttentionLayer {
    /// The layer's output with GENELink's uniform attention over all nodes for isolated nodes.
    ///
    /// Equals `callAsFunction(tape, x, graph)` for every node with a neighbour; an isolated node's
    /// aggregate (before LeakyReLU and normalisation) is the mean of h = x · W over all N nodes, per head.
    /// - Parameters:
    ///   - x: [N, in] node features.
    ///   - graph: N nodes.
    ///   - isolated: `IsolatedNodes(graph)` (computed once per graph).
    /// - Returns: [N, H·D] (concatenate) or [N, D] (mean).
    public func callAsFunction(_ tape: Tape, _ x: Tensor, _ graph: NeighbourGraph, isolated: IsolatedNodes) -> Tensor {
        if isolated.count == 0 { return self(tape, x, graph) }
        let n = graph.nodeCount, h = heads, d = outputDim
        precondition(x.rank == 2 && x.shape[0] == n, "GraphAttentionLayer: x \(x.shape) for \(n) nodes")
        precondition(isolated.mask.shape == [n, 1], "GraphAttentionLayer: isolated mask \(isolated.mask.shape) for \(n) nodes")
        let features = tape.matmul(x, weight)                                   // [N, H·D]
        let perHead = tape.reshape(features, [n, h, d])
        let scoreNode = tape.sum(tape.mul(perHead, attentionNode), axis: 2)     // [N, H]
        let scoreNeighbour = tape.sum(tape.mul(perHead, attentionNeighbour), axis: 2)
        let edgeScores = tape.leakyRelu(tape.add(tape.gatherRows(scoreNode, graph.nodes),
                                                 tape.gatherRows(scoreNeighbour, graph.neighbours)), slope: slope)  // [E, H]
        let attention = tape.dropout(tape.neighbourSoftmax(edgeScores, graph), p: attentionDropout)
        let neighbourhood = tape.neighbourAggregate(attention, features, graph)  // [N, H·D], zero rows when isolated
        // The mean over all nodes, [1, H·D], put on the isolated rows by an outer product: two sgemms.
        let everyNode = tape.matmul(isolated.uniform, features)
        let aggregated = tape.leakyRelu(tape.add(neighbourhood, tape.matmul(isolated.mask, everyNode)), slope: slope)
        let normalised = tape.reshape(tape.l2Normalize(tape.reshape(aggregated, [n * h, d])), [n, h * d])
        let out = tape.add(normalised, bias)
        switch merge {
        case .concatenate: return out
        case .mean: return tape.mean(tape.reshape(out, [n, h, d]), axis: 1)
        }
    }
}
