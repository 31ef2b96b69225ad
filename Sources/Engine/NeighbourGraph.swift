// NeighbourGraph: a compressed sparse row (CSR) list of each node's neighbours, the structure
// graph attention runs over in O(edges) — never a dense nodes × nodes matrix.

/// Each node's neighbour list in CSR form: node i attends over `neighbours[offsets[i]..<offsets[i+1]]`.
///
/// Edges are numbered 0..<edgeCount in (node, neighbour) order; per-edge tensors ([E, …]) use that
/// numbering. A node with an empty list is allowed: it receives nothing from its neighbours
/// (the attention aggregate for it is zero).
public struct NeighbourGraph: Equatable {
    /// The number of nodes N.
    public let nodeCount: Int
    /// [N+1]: edge range of each node.
    public let offsets: [Int]
    /// [E]: the neighbour (source) node of each edge.
    public let neighbours: [Int32]
    /// [E]: the node (destination) each edge belongs to.
    public let nodes: [Int32]
    /// [N+1] and [E]: for each node j, the edges whose neighbour is j, in increasing edge order
    /// (the transpose, so gradients into neighbours are gathered per node in a fixed order).
    public let reverseOffsets: [Int]
    public let reverseEdges: [Int32]

    /// The number of edges E.
    public var edgeCount: Int { neighbours.count }

    /// A graph in which node `i` attends to node `j` for every pair (i, j); duplicates are dropped.
    ///
    /// - Precondition: every index is in 0..<nodeCount (callers validate untrusted input first).
    public init(nodeCount: Int, edges: [(node: Int, neighbour: Int)]) {
        precondition(nodeCount >= 0 && nodeCount <= Int(Int32.max), "NeighbourGraph: bad node count \(nodeCount)")
        var keys = [Int64]()
        keys.reserveCapacity(edges.count)
        for (i, j) in edges {
            precondition(i >= 0 && i < nodeCount && j >= 0 && j < nodeCount,
                         "NeighbourGraph: edge (\(i), \(j)) outside 0..<\(nodeCount)")
            keys.append(Int64(i) << 32 | Int64(j))
        }
        keys.sort()
        var nodes = [Int32](), neighbours = [Int32]()
        nodes.reserveCapacity(keys.count); neighbours.reserveCapacity(keys.count)
        var last: Int64 = -1
        for k in keys where k != last {
            last = k
            nodes.append(Int32(truncatingIfNeeded: k >> 32))
            neighbours.append(Int32(truncatingIfNeeded: k & 0xFFFF_FFFF))
        }
        self.init(nodeCount: nodeCount, sortedNodes: nodes, neighbours: neighbours)
    }

    /// The graph of edges already in (node, neighbour) order without duplicates: the CSR offsets
    /// and the transpose are derived from them in O(nodes + edges).
    private init(nodeCount: Int, sortedNodes nodes: [Int32], neighbours: [Int32]) {
        var offsets = [Int](repeating: 0, count: nodeCount + 1)
        for i in nodes { offsets[Int(i) + 1] += 1 }
        for i in 0..<nodeCount { offsets[i + 1] += offsets[i] }
        self.nodeCount = nodeCount
        self.offsets = offsets
        self.neighbours = neighbours
        self.nodes = nodes
        var rOffsets = [Int](repeating: 0, count: nodeCount + 1)
        for j in neighbours { rOffsets[Int(j) + 1] += 1 }
        for i in 0..<nodeCount { rOffsets[i + 1] += rOffsets[i] }
        var fill = rOffsets
        var rEdges = [Int32](repeating: 0, count: neighbours.count)
        for (e, j) in neighbours.enumerated() { rEdges[fill[Int(j)]] = Int32(e); fill[Int(j)] += 1 }
        reverseOffsets = rOffsets
        reverseEdges = rEdges
    }

    /// This graph without the edges between the given pairs, in either direction (edge masking:
    /// a pair scored in training must not see its own edge). Pairs that are not edges are ignored.
    public func removing(undirected pairs: [(Int32, Int32)]) -> NeighbourGraph {
        // Mark the edges to drop (each node's neighbours are sorted: a binary search per
        // direction), then keep the rest in order — no re-sort, the same graph as rebuilding it.
        var drop = [Bool](repeating: false, count: edgeCount)
        var dropped = 0
        func mark(_ i: Int32, _ j: Int32) {
            guard i >= 0, Int(i) < nodeCount else { return }
            var lo = offsets[Int(i)], hi = offsets[Int(i) + 1]
            while lo < hi {
                let mid = (lo + hi) / 2
                if neighbours[mid] < j { lo = mid + 1 } else { hi = mid }
            }
            if lo < offsets[Int(i) + 1] && neighbours[lo] == j && !drop[lo] { drop[lo] = true; dropped += 1 }
        }
        for (a, b) in pairs { mark(a, b); mark(b, a) }
        if dropped == 0 { return self }
        var keptNodes = [Int32](), keptNeighbours = [Int32]()
        keptNodes.reserveCapacity(edgeCount - dropped); keptNeighbours.reserveCapacity(edgeCount - dropped)
        for e in 0..<edgeCount where !drop[e] {
            keptNodes.append(nodes[e]); keptNeighbours.append(neighbours[e])
        }
        return NeighbourGraph(nodeCount: nodeCount, sortedNodes: keptNodes, neighbours: keptNeighbours)
    }

    /// The graph over its linked nodes alone — those with a neighbour or that are one — and those
    /// nodes in increasing order: node k of the result is node `nodes[k]` of this graph, and the
    /// edges keep their order. Attention over it gives the linked nodes what attention over this
    /// graph gives them; the other nodes take nothing and give nothing, so a caller that does not
    /// use their rows can leave them out of its products (graphify's scgrn encoder).
    public func linked() -> (graph: NeighbourGraph, nodes: [Int32]) {
        var index = [Int32](repeating: -1, count: nodeCount), kept = [Int32]()
        for i in 0..<nodeCount where offsets[i + 1] > offsets[i] || reverseOffsets[i + 1] > reverseOffsets[i] {
            index[i] = Int32(kept.count)
            kept.append(Int32(i))
        }
        if kept.count == nodeCount { return (self, kept) }
        // Renumbering is increasing, so the (node, neighbour) order survives.
        return (NeighbourGraph(nodeCount: kept.count, sortedNodes: nodes.map { index[Int($0)] },
                               neighbours: neighbours.map { index[Int($0)] }), kept)
    }

    /// The symmetric graph of undirected pairs: both (a, b) and (b, a), plus (i, i) for every node
    /// when `selfLoops` (GENELink's adjacency: each positive training pair in both directions).
    public static func undirected(nodeCount: Int, pairs: [(Int, Int)], selfLoops: Bool = false) -> NeighbourGraph {
        var edges = [(node: Int, neighbour: Int)]()
        edges.reserveCapacity(2 * pairs.count + (selfLoops ? nodeCount : 0))
        for (a, b) in pairs { edges.append((a, b)); edges.append((b, a)) }
        if selfLoops { for i in 0..<nodeCount { edges.append((i, i)) } }
        return NeighbourGraph(nodeCount: nodeCount, edges: edges)
    }
}
