// JointGRNNetwork and GENELink's isolated-node attention: forward results against float64
// references written from GENELink's dense definition, gradients against float64 finite
// differences, in GENELink's own configuration (profiles only) and with an embedding.

import Engine
import Foundation
import Kernels
import Models
import TestSupport
import XCTest

final class JointGRNNetworkTests: XCTestCase {
    var gen = TestValues(4242)

    func values(_ shape: [Int], scale: Float = 1) -> CheckInput {
        CheckInput(values: gen.array(shape.reduce(1, *), scale: scale), shape: shape)
    }

    static func leaky(_ x: Ref, _ s: Double) -> Ref { R.map(x) { $0 > 0 ? $0 : s * $0 } }

    /// GENELink's AttentionLayer exactly as its dense code computes it (float64): e = LeakyReLU(h·a₁ ⊕ h·a₂ᵀ),
    /// non-edges set to −9e15, row softmax over all N columns, aggregate, LeakyReLU, L2 rows, + bias.
    static func denseGENELinkGAT(_ x: Ref, _ w: Ref, _ aNode: Ref, _ aNeighbour: Ref, _ b: Ref,
                                 adjacency: Set<Int>, n: Int, mean: Bool, slope: Double = 0.2) -> Ref {
        let h = aNode.shape[0], d = aNode.shape[1]
        let f = R.matmul(x, w)                          // [N, H·D]
        var out = [Double](repeating: 0, count: n * h * d)
        for k in 0..<h {
            var s1 = [Double](repeating: 0, count: n), s2 = s1
            for i in 0..<n { for t in 0..<d {
                s1[i] += f.v[i * h * d + k * d + t] * aNode.v[k * d + t]
                s2[i] += f.v[i * h * d + k * d + t] * aNeighbour.v[k * d + t]
            } }
            for i in 0..<n {
                var row = [Double](repeating: 0, count: n)
                for j in 0..<n {
                    let e = s1[i] + s2[j]
                    row[j] = adjacency.contains(i * n + j) ? (e > 0 ? e : slope * e) : -9e15
                }
                let m = row.max()!
                let ex = row.map { Foundation.exp($0 - m) }
                let z = ex.reduce(0, +)
                var agg = [Double](repeating: 0, count: d)
                for j in 0..<n { for t in 0..<d { agg[t] += ex[j] / z * f.v[j * h * d + k * d + t] } }
                agg = agg.map { $0 > 0 ? $0 : slope * $0 }
                let norm = max(agg.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12)
                for t in 0..<d { out[i * h * d + k * d + t] = agg[t] / norm + b.v[k * d + t] }
            }
        }
        let o = Ref(out, [n, h * d])
        return mean ? R.sumAxis(Ref(out, [n, h, d]), 1, mean: true) : o
    }

    static func adjacency(_ g: NeighbourGraph) -> Set<Int> {
        Set((0..<g.edgeCount).map { Int(g.nodes[$0]) * g.nodeCount + Int(g.neighbours[$0]) })
    }

    // MARK: - Isolated nodes

    func testIsolatedNodeAttentionMatchesGENELinkDenseSoftmax() {
        let graphs = [NeighbourGraph.undirected(nodeCount: 6, pairs: [(0, 1), (0, 2), (3, 4)]),        // node 5 isolated
                      NeighbourGraph.undirected(nodeCount: 5, pairs: [(0, 1), (2, 3), (3, 4)]),        // none isolated
                      NeighbourGraph(nodeCount: 4, edges: []),                                          // all isolated
                      NeighbourGraph(nodeCount: 5, edges: [(0, 1), (1, 1), (2, 0)])]                    // directed, 3 and 4 isolated
        for g in graphs {
            let adj = Self.adjacency(g), iso = IsolatedNodes(g)
            for (heads, d, merge) in [(1, 3, HeadMerge.concatenate), (3, 2, .concatenate), (2, 3, .mean)] {
                let inDim = 4
                let inputs = [values([g.nodeCount, inDim]), values([inDim, heads * d]), values([heads, d]), values([heads, d]), values([heads * d])]
                GradientCheck.run("isolated GAT N=\(g.nodeCount) E=\(g.edgeCount) H=\(heads) D=\(d) \(merge)", inputs,
                                  engine: { tape, t in
                                      let layer = GraphAttentionLayer(weight: t[1], attentionNode: t[2], attentionNeighbour: t[3], bias: t[4],
                                                                      merge: merge, attentionDropout: 0)
                                      return layer(tape, t[0], g, isolated: iso)
                                  },
                                  reference: { r in
                                      Self.denseGENELinkGAT(r[0], r[1], r[2], r[3], r[4], adjacency: adj, n: g.nodeCount, mean: merge == .mean)
                                  })
            }
        }
    }

    func testIsolatedVariantEqualsPlainLayerWithoutIsolatedNodes() {
        var rng = Xoshiro256(seed: 3)
        let layer = GraphAttentionLayer(inputDim: 5, outputDim: 4, heads: 3, merge: .concatenate, attentionDropout: 0, rng: &rng)
        let g = NeighbourGraph.undirected(nodeCount: 7, pairs: [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)])
        let x = Tensor(gen.array(35), shape: [7, 5])
        let a = layer(Tape(recording: false), x, g), b = layer(Tape(recording: false), x, g, isolated: IsolatedNodes(g))
        XCTAssertEqual(a.data, b.data)
    }

    /// Removing pairs gives the graph built without them, over many random graphs: both directions
    /// go, self loops go when their pair is named, pairs that are not edges change nothing.
    func testRemovingPairsEqualsBuildingWithoutThem() {
        var rng = Xoshiro256(seed: 11)
        for trial in 0..<40 {
            let n = 2 + Int(rng.next() % 12)
            var pairs = [(Int, Int)]()
            for _ in 0..<Int(rng.next() % 30) { pairs.append((Int(rng.next() % UInt64(n)), Int(rng.next() % UInt64(n)))) }
            let selfLoops = trial % 3 == 0
            let graph = NeighbourGraph.undirected(nodeCount: n, pairs: pairs, selfLoops: selfLoops)
            var removed = [(Int32, Int32)]()
            for _ in 0..<Int(rng.next() % 8) { removed.append((Int32(rng.next() % UInt64(n)), Int32(rng.next() % UInt64(n)))) }
            let gone = Set(removed.flatMap { [Int64($0.0) << 32 | Int64($0.1), Int64($0.1) << 32 | Int64($0.0)] })
            var edges = [(node: Int, neighbour: Int)]()
            for (a, b) in pairs { edges += [(a, b), (b, a)] }
            if selfLoops { for i in 0..<n { edges.append((i, i)) } }
            let expected = NeighbourGraph(nodeCount: n, edges: edges.filter { !gone.contains(Int64($0.node) << 32 | Int64($0.neighbour)) })
            XCTAssertEqual(graph.removing(undirected: removed), expected, "trial \(trial)")
        }
        let g = NeighbourGraph.undirected(nodeCount: 4, pairs: [(0, 1), (1, 2)])
        XCTAssertEqual(g.removing(undirected: [(2, 1)]), NeighbourGraph.undirected(nodeCount: 4, pairs: [(0, 1)]))
        XCTAssertEqual(g.removing(undirected: [(0, 3), (3, 3)]), g)
        XCTAssertEqual(IsolatedNodes(g.removing(undirected: [(1, 0)])).nodes, [0, 3])
    }

    // MARK: - The joint network

    /// scgrn's own-feature path: the profiles' self path only when there is no embedding.
    func testSelfPathOnlyWithoutAnEmbedding() {
        var c = JointGRNConfiguration(profileDim: 7, embeddingDim: 5)
        c.architecture = .scgrn; c.geneCount = 6
        XCTAssertFalse(c.hasSelfPath)
        XCTAssertEqual(c.channelInputDim, 5 + c.hidden[1])
        XCTAssertNil(JointGRNNetwork(c, seed: 1).selfPath)
        c.embeddingDim = 0
        XCTAssertTrue(c.hasSelfPath)
        XCTAssertEqual(c.channelInputDim, 2 * c.hidden[1])
        XCTAssertNotNil(JointGRNNetwork(c, seed: 1).selfPath)
        c.architecture = .genelink
        XCTAssertFalse(c.hasSelfPath)
    }

    func testJointNetworkGradientsWithEmbeddingAndMLPDecoder() {
        let n = 6, inDim = 4, emb = 3, heads = [2, 2], hidden = [3, 2, 3], out = 2, mlpHidden = 3
        let g = NeighbourGraph.undirected(nodeCount: n, pairs: [(0, 1), (0, 2), (3, 4), (1, 3)])   // node 5 isolated
        let adj = Self.adjacency(g), iso = IsolatedNodes(g)
        let regulators: [Int32] = [0, 3, 1, 5], targets: [Int32] = [2, 4, 5, 0]
        let labels: [Float] = [1, 1, 0, 0]
        for useGNN in [true, false] {
            var c = JointGRNConfiguration(profileDim: inDim, embeddingDim: emb, useGNN: useGNN)
            c.heads = heads; c.hidden = hidden; c.outputDim = out; c.decoder = .mlp(hidden: mlpHidden)
            c.attentionDropout = 0; c.channelDropout = 0
            let u = c.channelInputDim
            XCTAssertEqual(u, useGNN ? emb + hidden[1] : emb)
            let shapes: [[Int]] = [[n, inDim], [n, emb],
                                   [inDim, heads[0] * hidden[0]], [heads[0], hidden[0]], [heads[0], hidden[0]], [heads[0] * hidden[0]],
                                   [heads[0] * hidden[0], heads[1] * hidden[1]], [heads[1], hidden[1]], [heads[1], hidden[1]], [heads[1] * hidden[1]],
                                   [u, hidden[2]], [hidden[2]], [hidden[2], out], [out],
                                   [u, hidden[2]], [hidden[2]], [hidden[2], out], [out],
                                   [2 * out, mlpHidden], [mlpHidden], [mlpHidden, 1], [1]]
            var inputs = shapes.map { values($0) }
            inputs[0].differentiable = false   // the profiles are data
            if !useGNN { for i in 2...9 { inputs[i].differentiable = false } }
            GradientCheck.run("joint network gnn=\(useGNN)", inputs, forwardTolerance: 1e-5,
                              engine: { tape, t in
                                  let net = JointGRNNetwork(
                                      c,
                                      layer1: useGNN ? GraphAttentionLayer(weight: t[2], attentionNode: t[3], attentionNeighbour: t[4], bias: t[5], merge: .concatenate, attentionDropout: 0) : nil,
                                      layer2: useGNN ? GraphAttentionLayer(weight: t[6], attentionNode: t[7], attentionNeighbour: t[8], bias: t[9], merge: .mean, attentionDropout: 0) : nil,
                                      regulator1: Linear(weight: t[10], bias: t[11]), regulator2: Linear(weight: t[12], bias: t[13]),
                                      target1: Linear(weight: t[14], bias: t[15]), target2: Linear(weight: t[16], bias: t[17]),
                                      decoder: [Linear(weight: t[18], bias: t[19]), Linear(weight: t[20], bias: t[21])])
                                  let (r, tg) = net.embed(tape, profiles: t[0], embedding: t[1], graph: g, isolated: iso)
                                  let logits = net.score(tape, regulator: r, target: tg, regulators: regulators, targets: targets)
                                  return tape.binaryCrossEntropyWithLogits(logits, Tensor(labels, shape: [4, 1]))
                              },
                              reference: { r in
                                  func linear(_ x: Ref, _ w: Ref, _ b: Ref) -> Ref { R.broadcast(R.matmul(x, w), b, +) }
                                  var joined = r[1]
                                  if useGNN {
                                      let h1 = R.map(Self.denseGENELinkGAT(r[0], r[2], r[3], r[4], r[5], adjacency: adj, n: n, mean: false)) {
                                          $0 > 0 ? $0 : Foundation.expm1($0)
                                      }
                                      let h2 = Self.denseGENELinkGAT(h1, r[6], r[7], r[8], r[9], adjacency: adj, n: n, mean: true)
                                      joined = R.concat([r[1], h2], 1)   // scTransNet: embedding first
                                  }
                                  let reg = Self.leaky(linear(Self.leaky(linear(joined, r[10], r[11]), 0.01), r[12], r[13]), 0.01)
                                  let tgt = Self.leaky(linear(Self.leaky(linear(joined, r[14], r[15]), 0.01), r[16], r[17]), 0.01)
                                  let pair = R.concat([R.gatherRows(reg, regulators), R.gatherRows(tgt, targets)], 1)
                                  let logits = linear(R.map(linear(pair, r[18], r[19])) { max($0, 0) }, r[20], r[21])
                                  return R.bceWithLogits(logits, Ref(labels.map(Double.init), [4, 1]))
                              })
        }
    }

    func testGENELinksConfigurationGradients() {
        // Profiles only, the GNN, and either decoder: GENELink's own model.
        let n = 6, inDim = 4, heads = [2, 2], hidden = [3, 2, 3], out = 2, mlpHidden = 3
        let g = NeighbourGraph.undirected(nodeCount: n, pairs: [(0, 1), (0, 2), (3, 4), (1, 3)])   // node 5 isolated
        let adj = Self.adjacency(g), iso = IsolatedNodes(g)
        let regulators: [Int32] = [0, 3, 1, 5], targets: [Int32] = [2, 4, 5, 0]
        let labels: [Float] = [1, 1, 0, 0]
        for decoder in [JointGRNConfiguration.Decoder.dot, .mlp(hidden: mlpHidden)] {
            var c = JointGRNConfiguration(profileDim: inDim)
            c.heads = heads; c.hidden = hidden; c.outputDim = out; c.decoder = decoder
            c.attentionDropout = 0; c.channelDropout = 0
            var shapes: [[Int]] = [[n, inDim],
                                   [inDim, heads[0] * hidden[0]], [heads[0], hidden[0]], [heads[0], hidden[0]], [heads[0] * hidden[0]],
                                   [heads[0] * hidden[0], heads[1] * hidden[1]], [heads[1], hidden[1]], [heads[1], hidden[1]], [heads[1] * hidden[1]],
                                   [hidden[1], hidden[2]], [hidden[2]], [hidden[2], out], [out],
                                   [hidden[1], hidden[2]], [hidden[2]], [hidden[2], out], [out]]
            if decoder != .dot { shapes += [[2 * out, mlpHidden], [mlpHidden], [mlpHidden, 1], [1]] }
            var inputs = shapes.map { values($0) }
            inputs[0].differentiable = false   // the profiles are data
            GradientCheck.run("GENELink configuration, \(decoder)", inputs, forwardTolerance: 1e-5,
                              engine: { tape, t in
                                  let net = JointGRNNetwork(
                                      c,
                                      layer1: GraphAttentionLayer(weight: t[1], attentionNode: t[2], attentionNeighbour: t[3], bias: t[4], merge: .concatenate, attentionDropout: 0),
                                      layer2: GraphAttentionLayer(weight: t[5], attentionNode: t[6], attentionNeighbour: t[7], bias: t[8], merge: .mean, attentionDropout: 0),
                                      regulator1: Linear(weight: t[9], bias: t[10]), regulator2: Linear(weight: t[11], bias: t[12]),
                                      target1: Linear(weight: t[13], bias: t[14]), target2: Linear(weight: t[15], bias: t[16]),
                                      decoder: decoder == .dot ? [] : [Linear(weight: t[17], bias: t[18]), Linear(weight: t[19], bias: t[20])])
                                  let (r, tg) = net.embed(tape, profiles: t[0], embedding: nil, graph: g, isolated: iso)
                                  let logits = net.score(tape, regulator: r, target: tg, regulators: regulators, targets: targets)
                                  return tape.binaryCrossEntropyWithLogits(logits, Tensor(labels, shape: [4, 1]))
                              },
                              reference: { r in
                                  func linear(_ x: Ref, _ w: Ref, _ b: Ref) -> Ref { R.broadcast(R.matmul(x, w), b, +) }
                                  let h1 = R.map(Self.denseGENELinkGAT(r[0], r[1], r[2], r[3], r[4], adjacency: adj, n: n, mean: false)) {
                                      $0 > 0 ? $0 : Foundation.expm1($0)
                                  }
                                  let h2 = Self.denseGENELinkGAT(h1, r[5], r[6], r[7], r[8], adjacency: adj, n: n, mean: true)
                                  let reg = Self.leaky(linear(Self.leaky(linear(h2, r[9], r[10]), 0.01), r[11], r[12]), 0.01)
                                  let tgt = Self.leaky(linear(Self.leaky(linear(h2, r[13], r[14]), 0.01), r[15], r[16]), 0.01)
                                  let rr = R.gatherRows(reg, regulators), tt = R.gatherRows(tgt, targets)
                                  let logits: Ref
                                  if decoder == .dot { logits = R.sumAxis(R.broadcast(rr, tt, *), 1, keep: true) }
                                  else { logits = linear(R.map(linear(R.concat([rr, tt], 1), r[17], r[18])) { max($0, 0) }, r[19], r[20]) }
                                  return R.bceWithLogits(logits, Ref(labels.map(Double.init), [4, 1]))
                              })
        }
    }

    // MARK: - scgrn's encoder over the linked genes

    func testLinkedGraphKeepsEveryEdgeRenumbered() {
        var rng = Xoshiro256(seed: 12)
        for trial in 0..<40 {
            let n = 1 + Int(rng.next() % 15)
            var edges = [(node: Int, neighbour: Int)]()
            for _ in 0..<Int(rng.next() % 20) { edges.append((Int(rng.next() % UInt64(n)), Int(rng.next() % UInt64(n)))) }
            let g = NeighbourGraph(nodeCount: n, edges: edges)   // directed: a node may only be a neighbour
            let (sub, nodes) = g.linked()
            XCTAssertEqual(nodes, (0..<n).filter { i in edges.contains { $0.node == i || $0.neighbour == i } }.map { Int32($0) },
                           "trial \(trial)")
            XCTAssertEqual(sub.nodeCount, nodes.count)
            XCTAssertEqual(sub.edgeCount, g.edgeCount)
            XCTAssertEqual(sub.nodes.map { nodes[Int($0)] }, g.nodes, "trial \(trial)")
            XCTAssertEqual(sub.neighbours.map { nodes[Int($0)] }, g.neighbours, "trial \(trial)")
        }
        let full = NeighbourGraph.undirected(nodeCount: 3, pairs: [(0, 1), (1, 2)])
        XCTAssertEqual(full.linked().graph, full)
    }

    /// scgrn runs its graph encoder over the linked genes only. Logits and every gradient must be
    /// those of the encoder over all genes with the unlinked ones' graph term zeroed afterwards
    /// (computed here with the same layers, the same tape seed and so the same dropout draws).
    func testScgrnEncoderOverLinkedGenesEqualsTheWholeGraph() {
        let n = 40, inDim = 9
        var rng = Xoshiro256(seed: 77)
        var pairs = [(Int, Int)]()
        for _ in 0..<45 { pairs.append((rng.int(below: 30), rng.int(below: 30))) }   // genes 30..<40 unlinked
        let full = NeighbourGraph.undirected(nodeCount: n, pairs: pairs)
        let regulators = (0..<64).map { _ in Int32(rng.int(below: n)) }, targets = (0..<64).map { _ in Int32(rng.int(below: n)) }
        let labels = Tensor((0..<64).map { Float($0 % 2) }, shape: [64, 1])
        let profiles = Tensor.normal([n, inDim], std: 1, rng: &rng, requiresGrad: false)
        // Last case: a graph of the batch's own pairs, which masking empties.
        for (emb, masked, batchGraph) in [(0, false, false), (5, false, false), (5, true, false), (5, true, true)] {
            var c = JointGRNConfiguration(profileDim: inDim, embeddingDim: emb)
            c.architecture = .scgrn; c.geneCount = n; c.heads = [2, 2]; c.hidden = [6, 4, 5]; c.outputDim = 3
            let net = JointGRNNetwork(c, seed: 5)
            for p in net.parameters where p.name.hasSuffix(".bias") && p.tensor.shape == [n, 1] {
                for i in 0..<n { p.tensor.data[i] = Float(i % 7) * 0.1 - 0.3 }   // propensities in play
            }
            let embedding = emb > 0 ? Tensor.normal([n, emb], std: 1, rng: &rng, requiresGrad: false) : nil
            // Edge masking as in training: the batch's own pairs leave the graph.
            let base = batchGraph ? NeighbourGraph.undirected(nodeCount: n, pairs: zip(regulators, targets).map { (Int($0), Int($1)) }) : full
            let graph = masked ? base.removing(undirected: Array(zip(regulators, targets))) : base
            let isolated = IsolatedNodes(graph)
            XCTAssertLessThan(graph.linked().nodes.count, n)
            let dropped = (0..<n).map { $0 % 5 == 1 }
            func run(_ body: (Tape) -> (Tensor, Tensor)) -> (logits: [Float], grads: [[Float]]) {
                net.zeroGrad()
                let tape = Tape(seed: 31)
                let (r, t) = body(tape)
                let logits = net.score(tape, regulator: r, target: t, regulators: regulators, targets: targets)
                tape.backward(tape.binaryCrossEntropyWithLogits(logits, labels))
                return (logits.data, net.parameters.map { $0.tensor.grad })
            }
            let got = run { tape in
                net.embed(tape, profiles: profiles, embedding: embedding, graph: graph, isolated: isolated, graphDropped: dropped)
            }
            let want = run { tape in
                var keep = [Float](repeating: 1, count: n)
                for i in isolated.nodes { keep[Int(i)] = 0 }
                for i in 0..<n where dropped[i] { keep[i] = 0 }
                let z = tape.mul(net.layer2!(tape, tape.elu(net.layer1!(tape, profiles, graph)), graph), Tensor(keep, shape: [n, 1]))
                let s = net.selfPath.map { [tape.elu($0(tape, profiles))] } ?? []
                let u = tape.concat((embedding.map { [$0] } ?? []) + [z] + s, axis: 1)
                func channel(_ a: Linear, _ b: Linear) -> Tensor {
                    b(tape, tape.dropout(tape.leakyRelu(a(tape, u)), p: c.channelDropout))
                }
                return (channel(net.regulator1, net.regulator2), channel(net.target1, net.target2))
            }
            let label = "embedding \(emb), masked \(masked), batch graph \(batchGraph)"
            XCTAssertEqual(graph.linked().nodes.isEmpty, batchGraph, label)
            for (a, b) in zip(got.logits, want.logits) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), label) }
            for (k, p) in net.parameters.enumerated() {
                // A parameter no path reached has no gradient at all: count that as zeros.
                func dense(_ g: [Float]) -> [Float] { g.isEmpty ? [Float](repeating: 0, count: p.tensor.count) : g }
                let g = dense(got.grads[k]), w = dense(want.grads[k])
                XCTAssertEqual(g.count, w.count, "\(label): \(p.name)")
                let scale = max(w.map { abs($0) }.max() ?? 0, 1e-3)
                let worst = zip(g, w).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-5 * scale, "\(label): \(p.name) gradient")
            }
            XCTAssertTrue(got.grads.contains { g in g.contains { $0 != 0 } }, label)
        }
    }
}
