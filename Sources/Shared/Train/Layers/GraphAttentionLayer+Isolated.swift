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

/// The nodes of a graph that have no neighbour, as the constants the attention layer needs
/// (`GraphAttentionLayer.callAsFunction(_:_:_:isolated:)`).
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

extension IsolatedNodes {
    /// `aggregate` with the mean of `features` over all N nodes added to the isolated nodes' rows
    /// (whose neighbour aggregate is zero): GENELink's uniform attention, per head.
    ///
    /// - Parameters:
    ///   - features: [N, H·D], h = x · W.
    ///   - aggregate: [N, H·D], the neighbour aggregate.
    /// - Returns: [N, H·D].
    func addMean(of features: Tensor, to aggregate: Tensor, _ tape: Tape) -> Tensor {
        precondition(mask.shape == [features.shape[0], 1], "IsolatedNodes: mask \(mask.shape) for features \(features.shape)")
        // The mean over all nodes, [1, H·D], put on the isolated rows by an outer product: two sgemms.
        let everyNode = tape.matmul(uniform, features)
        return tape.add(aggregate, tape.matmul(mask, everyNode))
    }
}
