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
    /// The nodes without a neighbour, in increasing order.
    public let nodes: [Int32]
    /// The number of nodes without a neighbour.
    public var count: Int { nodes.count }

    /// The isolated nodes of `graph`.
    public init(_ graph: NeighbourGraph) {
        nodes = (0..<graph.nodeCount).filter { graph.offsets[$0 + 1] == graph.offsets[$0] }.map { Int32($0) }
    }

    /// `aggregate` with the mean of `features` over all N nodes added to the isolated nodes' rows
    /// (whose neighbour aggregate is zero): GENELink's uniform attention, per head.
    ///
    /// - Parameters:
    ///   - features: [N, H·D], h = x · W.
    ///   - aggregate: [N, H·D], the neighbour aggregate.
    /// - Returns: [N, H·D].
    func addMean(of features: Tensor, to aggregate: Tensor, _ tape: Tape) -> Tensor {
        tape.addToRows(aggregate, tape.mean(features, axis: 0), nodes)
    }
}
