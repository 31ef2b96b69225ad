// Graph: the operations of graph attention over a NeighbourGraph — row gather and scatter-add
// (also the embedding lookup), the softmax over each node's neighbour list, and the
// attention-weighted sum of neighbour features. All are O(E · features).
//
// Backward scatters (into gathered rows and neighbour features) run sequentially in edge order,
// so gradients are bit-identical from run to run. The neighbour aggregation's three loops run in
// CKernels (one variant per instruction set, chosen at run time; tested against float64 loops).

import CKernels
import Foundation

extension Tape {
    // MARK: - Gather and scatter

    /// Rows of `x` picked by `indices` (the embedding lookup; gradients scatter-add back).
    ///
    /// - Parameters:
    ///   - x: [N, rest…].
    ///   - indices: [E], each in 0..<N.
    /// - Returns: [E, rest…].
    public func gatherRows(_ x: Tensor, _ indices: [Int32]) -> Tensor {
        precondition(x.rank >= 1, "gatherRows: x must have rows")
        let n = x.shape[0], w = n == 0 ? 0 : x.count / n
        var out = EngineLoops.uninitialized(indices.count * w) { _ in }   // every row is written below
        x.data.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { o in
                for (e, idx) in indices.enumerated() {
                    let i = Int(idx)
                    precondition(i >= 0 && i < n, "gatherRows: index \(i) outside 0..<\(n)")
                    for j in 0..<w { o[e * w + j] = xs[i * w + j] }
                }
            }
        }
        let tracked = tracks(x)
        let y = result(out, [indices.count] + x.shape.dropFirst(), tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.accumulateGrad { gx in
                        for (e, idx) in indices.enumerated() {
                            let i = Int(idx)
                            for j in 0..<w { gx[i * w + j] += g[e * w + j] }
                        }
                    }
                }
            }
        }
        return y
    }

    /// The embedding lookup: rows of `table` [V, D] for token ids [T] → [T, D]; the gradient
    /// scatter-adds into the table rows used.
    public func embedding(_ table: Tensor, _ ids: [Int32]) -> Tensor { gatherRows(table, ids) }

    /// Sums rows of `x` into `count` rows: out[indices[e]] += x[e].
    ///
    /// - Parameters:
    ///   - x: [E, rest…].
    ///   - indices: [E], each in 0..<count.
    /// - Returns: [count, rest…]; rows nothing was added to are zero.
    public func scatterAddRows(_ x: Tensor, _ indices: [Int32], count: Int) -> Tensor {
        precondition(x.rank >= 1 && x.shape[0] == indices.count, "scatterAddRows: x \(x.shape) needs \(indices.count) rows")
        let w = indices.isEmpty ? x.shape.dropFirst().reduce(1, *) : x.count / indices.count
        var out = [Float](repeating: 0, count: count * w)
        x.data.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { o in
                for (e, idx) in indices.enumerated() {
                    let i = Int(idx)
                    precondition(i >= 0 && i < count, "scatterAddRows: index \(i) outside 0..<\(count)")
                    for j in 0..<w { o[i * w + j] += xs[e * w + j] }
                }
            }
        }
        let tracked = tracks(x)
        let y = result(out, [count] + x.shape.dropFirst(), tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                y.grad.withUnsafeBufferPointer { g in
                    x.accumulateGrad { gx in
                        for (e, idx) in indices.enumerated() {
                            let i = Int(idx)
                            for j in 0..<w { gx[e * w + j] += g[i * w + j] }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `x` with `row` added to the rows listed in `indices`.
    ///
    /// - Parameters:
    ///   - x: [N, W].
    ///   - row: [W].
    ///   - indices: rows of x (a row listed twice gets `row` twice).
    /// - Returns: [N, W]; the gradient of `row` sums the listed rows' gradients in list order.
    public func addToRows(_ x: Tensor, _ row: Tensor, _ indices: [Int32]) -> Tensor {
        precondition(x.rank == 2 && row.count == x.shape[1], "addToRows: x \(x.shape), row \(row.shape)")
        let n = x.shape[0], w = x.shape[1]
        var out = x.data
        out.withUnsafeMutableBufferPointer { o in
            row.data.withUnsafeBufferPointer { r in
                for idx in indices {
                    let i = Int(idx)
                    precondition(i >= 0 && i < n, "addToRows: index \(i) outside 0..<\(n)")
                    for j in 0..<w { o[i * w + j] += r[j] }
                }
            }
        }
        let tracked = tracks(x, row)
        let y = result(out, x.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty else { return }
                if x.requiresGrad { x.accumulateGrad(y.grad) }
                if row.requiresGrad {
                    y.grad.withUnsafeBufferPointer { g in
                        row.accumulateGrad { gr in
                            for idx in indices { for j in 0..<w { gr[j] += g[Int(idx) * w + j] } }
                        }
                    }
                }
            }
        }
        return y
    }

    // MARK: - Attention over neighbour lists

    /// Per-head dot products of node features with one vector per head: the attention scores'
    /// halves in graph attention. out[n, k] = Σ_d x[n, k, d] · a[k, d].
    ///
    /// - Parameters:
    ///   - x: [N, H·D] (or [N, H, D]).
    ///   - a: [H, D].
    /// - Returns: [N, H].
    public func headDot(_ x: Tensor, _ a: Tensor) -> Tensor {
        precondition(a.rank == 2 && x.rank >= 1, "headDot: a must be [H, D], got \(a.shape)")
        let h = a.shape[0], d = a.shape[1], n = x.rank == 0 ? 0 : x.shape[0]
        precondition(x.count == n * h * d, "headDot: x \(x.shape) is not [\(n), \(h)·\(d)]")
        var out = [Float](repeating: 0, count: n * h)   // zero when d = 0
        if d > 0 {
            x.data.withUnsafeBufferPointer { xs in
                a.data.withUnsafeBufferPointer { av in
                    for i in 0..<n { for k in 0..<h {
                        out[i * h + k] = EngineLoops.dot(xs.baseAddress! + (i * h + k) * d, av.baseAddress! + k * d, d)
                    } }
                }
            }
        }
        let tracked = tracks(x, a)
        let y = result(out, [n, h], tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, d > 0, n > 0 else { return }
                y.grad.withUnsafeBufferPointer { g in
                    if x.requiresGrad {
                        a.data.withUnsafeBufferPointer { av in
                            x.updateGrad { gx, fresh in   // each value of gx is touched once
                                for i in 0..<n { for k in 0..<h {
                                    let dst = gx.baseAddress! + (i * h + k) * d
                                    if fresh { EngineLoops.scale(g[i * h + k], av.baseAddress! + k * d, dst, d) }
                                    else { EngineLoops.axpy(g[i * h + k], av.baseAddress! + k * d, dst, d) }
                                } }
                            }
                        }
                    }
                    if a.requiresGrad {
                        x.data.withUnsafeBufferPointer { xs in
                            a.accumulateGrad { ga in
                                for i in 0..<n { for k in 0..<h {
                                    EngineLoops.axpy(g[i * h + k], xs.baseAddress! + (i * h + k) * d, ga.baseAddress! + k * d, d)
                                } }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Graph attention's edge scores: e[edge, k] = LeakyReLU(x[i, k, :] · aNode[k, :] + x[j, k, :] ·
    /// aNeighbour[k, :]) for each edge i ← j. The same floats as headDot twice, gatherRows of each
    /// by the edges' nodes and neighbours, add and leakyRelu, in one op that reads x once forward and
    /// once backward.
    ///
    /// - Parameters:
    ///   - x: [N, H·D] node features.
    ///   - aNode, aNeighbour: [H, D].
    ///   - slope: the LeakyReLU's negative slope.
    /// - Returns: [E, H].
    public func edgeScores(_ x: Tensor, node aNode: Tensor, neighbour aNeighbour: Tensor, _ graph: NeighbourGraph,
                           slope: Float) -> Tensor {
        precondition(aNode.rank == 2 && aNode.shape == aNeighbour.shape, "edgeScores: a must be [H, D], got \(aNode.shape), \(aNeighbour.shape)")
        let h = aNode.shape[0], d = aNode.shape[1], n = graph.nodeCount, e = graph.edgeCount
        precondition(x.rank >= 1 && x.shape[0] == n && x.count == n * h * d, "edgeScores: x \(x.shape) is not [\(n), \(h)·\(d)]")
        let c = EngineLoops.trainKernels, grain = max(1, (1 << 14) / max(h * d, 1))
        var sNode = [Float](repeating: 0, count: n * h), sNeighbour = sNode   // zero when d = 0
        if d > 0 {
            x.data.withUnsafeBufferPointer { xs in
                aNode.data.withUnsafeBufferPointer { a1 in
                    aNeighbour.data.withUnsafeBufferPointer { a2 in
                        sNode.withUnsafeMutableBufferPointer { s1 in
                            sNeighbour.withUnsafeMutableBufferPointer { s2 in
                                EngineLoops.parallelFor(n, grain: grain) { rows in
                                    c.head_dots(xs.baseAddress, a1.baseAddress, a2.baseAddress, rows.lowerBound, rows.upperBound,
                                                h, d, s1.baseAddress, s2.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Before the LeakyReLU, kept for its derivative.
        let raw = EngineLoops.uninitialized(e * h) { r in
            graph.nodes.withUnsafeBufferPointer { nodes in graph.neighbours.withUnsafeBufferPointer { nb in
                sNode.withUnsafeBufferPointer { s1 in sNeighbour.withUnsafeBufferPointer { s2 in
                    for edge in 0..<e {
                        let i = Int(nodes[edge]) * h, j = Int(nb[edge]) * h
                        for k in 0..<h { r[edge * h + k] = s1[i + k] + s2[j + k] }
                    }
                } }
            } }
        }
        let out = raw.map { $0 > 0 ? $0 : $0 * slope }
        let tracked = tracks(x, aNode, aNeighbour)
        let y = result(out, [e, h], tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, d > 0, n > 0 else { return }
                // The halves' gradients: each edge's score gradient added to its node's and its
                // neighbour's rows, edges in order.
                var gNode = [Float](repeating: 0, count: n * h), gNeighbour = gNode
                y.grad.withUnsafeBufferPointer { g in raw.withUnsafeBufferPointer { r in
                    graph.nodes.withUnsafeBufferPointer { nodes in graph.neighbours.withUnsafeBufferPointer { nb in
                        gNode.withUnsafeMutableBufferPointer { g1 in gNeighbour.withUnsafeMutableBufferPointer { g2 in
                            for edge in 0..<e {
                                let i = Int(nodes[edge]) * h, j = Int(nb[edge]) * h
                                for k in 0..<h {
                                    let at = edge * h + k
                                    let gs = r[at] > 0 ? g[at] : g[at] * slope
                                    g1[i + k] += gs
                                    g2[j + k] += gs
                                }
                            }
                        } }
                    } }
                } }
                gNode.withUnsafeBufferPointer { g1 in
                    gNeighbour.withUnsafeBufferPointer { g2 in
                        if x.requiresGrad {
                            aNode.data.withUnsafeBufferPointer { a1 in
                                aNeighbour.data.withUnsafeBufferPointer { a2 in
                                    x.updateGrad { gx, fresh in
                                        EngineLoops.parallelFor(n, grain: grain) { rows in
                                            c.head_dots_backward_x(g1.baseAddress, g2.baseAddress, a1.baseAddress, a2.baseAddress,
                                                                   rows.lowerBound, rows.upperBound, h, d, fresh ? 1 : 0, gx.baseAddress)
                                        }
                                    }
                                }
                            }
                        }
                        x.data.withUnsafeBufferPointer { xs in
                            func accumulate(_ a: Tensor, _ body: (UnsafeMutablePointer<Float>?) -> Void) {
                                if a.requiresGrad { a.accumulateGrad { body($0.baseAddress) } } else { body(nil) }
                            }
                            accumulate(aNode) { ga1 in
                                accumulate(aNeighbour) { ga2 in
                                    c.head_dots_backward_a(xs.baseAddress, g1.baseAddress, g2.baseAddress, n, h, d, ga1, ga2)
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Softmax of edge scores over each node's neighbour list, per head.
    ///
    /// - Parameters:
    ///   - scores: [E, H] (or [E]): one score per edge and head.
    ///   - graph: the CSR structure the edges are numbered by.
    /// - Returns: scores' shape; for every node and head the weights over its edges sum to 1
    ///   (a node with no edges has no weights — its aggregate will be zero).
    public func neighbourSoftmax(_ scores: Tensor, _ graph: NeighbourGraph) -> Tensor {
        let e = graph.edgeCount
        precondition(scores.rank >= 1 && scores.shape[0] == e, "neighbourSoftmax: scores \(scores.shape) need \(e) rows")
        let h = e == 0 ? scores.shape.dropFirst().reduce(1, *) : scores.count / e
        var out = EngineLoops.uninitialized(scores.count) { _ in }   // the node lists cover every edge
        let offsets = graph.offsets
        if scores.count > 0 {
            scores.data.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { ys in
                    for i in 0..<graph.nodeCount {
                        let lo = offsets[i], n = offsets[i + 1] - lo
                        if n == 0 { continue }
                        for k in 0..<h { EngineLoops.softmaxRow(xs.baseAddress! + lo * h + k, ys.baseAddress! + lo * h + k, n, stride: h) }
                    }
                }
            }
        }
        let tracked = tracks(scores)
        let y = result(out, scores.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, scores.count > 0 else { return }
                y.grad.withUnsafeBufferPointer { g in
                    y.data.withUnsafeBufferPointer { ys in
                        scores.accumulateGrad { gx in
                            for i in 0..<graph.nodeCount {
                                let lo = offsets[i], n = offsets[i + 1] - lo
                                if n == 0 { continue }
                                for k in 0..<h {
                                    EngineLoops.softmaxBackwardRow(ys.baseAddress! + lo * h + k, g.baseAddress! + lo * h + k,
                                                               gx.baseAddress! + lo * h + k, n, stride: h)
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// The attention-weighted sum of neighbour features, per head:
    /// out[i, h, :] = Σ over edges e of node i of weights[e, h] · values[neighbour(e), h, :].
    ///
    /// A weight that is exactly zero gets gradient zero: the weights are meant to be attention
    /// (a softmax, possibly dropped out), where a zero weight's gradient is multiplied by zero on
    /// the way back anyway — by dropout's mask, or by the softmax's own output in its Jacobian — so
    /// it is not computed (half of the edges are dropped out in training).
    ///
    /// - Parameters:
    ///   - weights: [E, H] (or [E] for one head).
    ///   - values: [N, H·D] or [N, H, D] with N = graph.nodeCount.
    /// - Returns: values' shape; zero rows for nodes without neighbours.
    public func neighbourAggregate(_ weights: Tensor, _ values: Tensor, _ graph: NeighbourGraph) -> Tensor {
        let e = graph.edgeCount, n = graph.nodeCount
        precondition(weights.rank >= 1 && weights.shape[0] == e, "neighbourAggregate: weights \(weights.shape) need \(e) rows")
        precondition(values.rank >= 1 && values.shape[0] == n, "neighbourAggregate: values \(values.shape) need \(n) rows")
        let h = e == 0 ? max(weights.shape.dropFirst().reduce(1, *), 1) : weights.count / e
        let w = n == 0 ? 0 : values.count / n
        precondition(h > 0 && w % h == 0, "neighbourAggregate: \(w) features do not split into \(h) heads")
        let d = w / h
        let c = EngineLoops.trainKernels, heads = h
        let work = e > 0 && w > 0
        // The kernel writes every row (zero without edges); with no work the result is zeros.
        var out = work ? EngineLoops.uninitialized(values.count) { _ in } : [Float](repeating: 0, count: values.count)
        if work {
            withGraphArrays(graph) { offsets, nb, _, _, _ in
                weights.data.withUnsafeBufferPointer { ws in
                    values.data.withUnsafeBufferPointer { vs in
                        out.withUnsafeMutableBufferPointer { o in
                            EngineLoops.parallelFor(n, grain: 64) { nodes in
                                c.neighbour_aggregate(ws.baseAddress, vs.baseAddress, offsets, nb, nodes.lowerBound,
                                                      nodes.upperBound, heads, d, o.baseAddress)
                            }
                        }
                    }
                }
            }
        }
        let tracked = tracks(weights, values)
        let y = result(out, values.shape, tracked)
        if tracked {
            record {
                guard !y.grad.isEmpty, work else { return }
                withGraphArrays(graph) { offsets, nb, rOffsets, rEdges, rows in
                    y.grad.withUnsafeBufferPointer { g in
                        if weights.requiresGrad {
                            weights.data.withUnsafeBufferPointer { ws in
                                values.data.withUnsafeBufferPointer { vs in
                                    weights.updateGrad { gw, fresh in   // each edge's weight once
                                        EngineLoops.parallelFor(n, grain: 64) { nodes in
                                            c.neighbour_weight_grad(ws.baseAddress, g.baseAddress, vs.baseAddress, offsets, nb,
                                                                    nodes.lowerBound, nodes.upperBound, heads, d, fresh ? 1 : 0,
                                                                    gw.baseAddress)
                                        }
                                    }
                                }
                            }
                        }
                        if values.requiresGrad {
                            // Gathered per neighbour over the transposed lists, edges in increasing
                            // order: the same additions in the same order as an edge-order scatter.
                            weights.data.withUnsafeBufferPointer { ws in
                                values.accumulateGrad { gv in
                                    EngineLoops.parallelFor(n, grain: 64) { sources in
                                        c.neighbour_value_grad(ws.baseAddress, g.baseAddress, rOffsets, rEdges, rows,
                                                               sources.lowerBound, sources.upperBound, heads, d, gv.baseAddress)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}

extension EngineLoops {
    /// The C kernels (best variant for this CPU) the training engine uses (graph attention, ELU,
    /// LeakyReLU, L2 normalisation, Adam).
    static let trainKernels: ck_kernels = ck_table(Int32(CK_VARIANT_BEST)).pointee
}

/// Runs `body` on the graph's CSR arrays as C pointers: offsets, neighbours, reverse offsets,
/// reverse edges and each edge's node.
private func withGraphArrays<R>(_ graph: NeighbourGraph,
                                _ body: (UnsafePointer<Int>, UnsafePointer<Int32>, UnsafePointer<Int>,
                                         UnsafePointer<Int32>, UnsafePointer<Int32>) -> R) -> R {
    graph.offsets.withUnsafeBufferPointer { o in
        graph.neighbours.withUnsafeBufferPointer { nb in
            graph.reverseOffsets.withUnsafeBufferPointer { ro in
                graph.reverseEdges.withUnsafeBufferPointer { re in
                    graph.nodes.withUnsafeBufferPointer { rows in
                        body(o.baseAddress!, nb.baseAddress!, ro.baseAddress!, re.baseAddress!, rows.baseAddress!)
                    }
                }
            }
        }
    }
}
