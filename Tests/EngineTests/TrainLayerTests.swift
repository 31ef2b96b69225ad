// Layers: the graph-attention layer and a whole (small) GENELink network against float64
// references built from the plain-loop twins, gradients by float64 finite differences.

import Engine
import Foundation
import Kernels
import Models
import TestSupport
import XCTest

final class TrainLayerTests: XCTestCase {
    var gen = TestValues(77)

    func values(_ shape: [Int], scale: Float = 1) -> CheckInput {
        CheckInput(values: gen.array(shape.reduce(1, *), scale: scale), shape: shape)
    }

    // MARK: - float64 references

    static func leaky(_ x: Ref, _ s: Double) -> Ref { R.map(x) { $0 > 0 ? $0 : s * $0 } }

    /// GENELink's attention layer, written from its definition (per head, explicit loops).
    static func referenceGAT(_ x: Ref, _ w: Ref, _ aNode: Ref, _ aNeighbour: Ref, _ b: Ref,
                             _ g: NeighbourGraph, mean: Bool, slope: Double = 0.2) -> Ref {
        let n = g.nodeCount, h = aNode.shape[0], d = aNode.shape[1]
        let f = R.matmul(x, w)
        var sN = [Double](repeating: 0, count: n * h), sB = sN
        for i in 0..<n { for k in 0..<h { for t in 0..<d {
            sN[i * h + k] += f.v[i * h * d + k * d + t] * aNode.v[k * d + t]
            sB[i * h + k] += f.v[i * h * d + k * d + t] * aNeighbour.v[k * d + t]
        } } }
        var e = [Double]()
        for edge in 0..<g.edgeCount { for k in 0..<h {
            let v = sN[Int(g.nodes[edge]) * h + k] + sB[Int(g.neighbours[edge]) * h + k]
            e.append(v > 0 ? v : slope * v)
        } }
        let att = R.neighbourSoftmax(Ref(e, [g.edgeCount, h]), edgeNodes: g.nodes, nodeCount: n)
        let agg = leaky(R.neighbourAggregate(att, f, edgeNodes: g.nodes, edgeNeighbours: g.neighbours, nodeCount: n), slope)
        let normed = R.l2Normalize(Ref(agg.v, [n * h, d]))
        let out = R.broadcast(Ref(normed.v, [n, h * d]), b, +)
        return mean ? R.sumAxis(Ref(out.v, [n, h, d]), 1, mean: true) : out
    }

    // MARK: - Graph attention layer

    func testGraphAttentionLayerGradients() {
        let graphs = [NeighbourGraph(nodeCount: 5, edges: [(0, 1), (0, 2), (1, 0), (2, 2), (2, 3), (2, 4), (4, 0)]),  // node 3 isolated
                      NeighbourGraph.undirected(nodeCount: 4, pairs: [(0, 1), (2, 3)], selfLoops: true),
                      NeighbourGraph(nodeCount: 3, edges: [])]
        for g in graphs {
            for (heads, d, merge) in [(1, 3, HeadMerge.concatenate), (3, 2, .concatenate), (2, 3, .mean)] {
                let inDim = 4
                let inputs = [values([g.nodeCount, inDim]), values([inDim, heads * d]), values([heads, d]), values([heads, d]), values([heads * d])]
                let mean = merge == .mean
                GradientCheck.run("GAT N=\(g.nodeCount) E=\(g.edgeCount) H=\(heads) D=\(d) \(merge)", inputs,
                                  engine: { tape, t in
                                      let layer = GraphAttentionLayer(weight: t[1], attentionNode: t[2], attentionNeighbour: t[3], bias: t[4],
                                                                      merge: merge, attentionDropout: 0)
                                      return layer(tape, t[0], g)
                                  },
                                  reference: { r in Self.referenceGAT(r[0], r[1], r[2], r[3], r[4], g, mean: mean) })
            }
        }
    }

    func testIsolatedNodeGetsOnlyItsBias() {
        var rng = Xoshiro256(seed: 1)
        let layer = GraphAttentionLayer(inputDim: 3, outputDim: 2, heads: 2, merge: .concatenate, attentionDropout: 0, rng: &rng)
        layer.bias.data = [0.1, 0.2, 0.3, 0.4]
        let g = NeighbourGraph(nodeCount: 3, edges: [(0, 1), (1, 0)])
        let y = layer(Tape(recording: false), Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [3, 3]), g)
        XCTAssertEqual(Array(y.data[8..<12]), [0.1, 0.2, 0.3, 0.4])
        XCTAssertTrue(y.data.allSatisfy { $0.isFinite })
    }

    func testGENELinkInitialisationFollowsXavier() {
        let net = JointGRNNetwork(JointGRNConfiguration(profileDim: 425), seed: 8)
        let w = net.layer1!.weight
        XCTAssertEqual(w.shape, [425, 384])
        let bound = Float(1.414 * (6.0 / (425 + 128)).squareRoot())
        XCTAssertTrue(w.data.allSatisfy { abs($0) <= bound })
        XCTAssertEqual(net.layer2!.weight.shape, [384, 192])
        XCTAssertEqual(net.regulator2.weight.shape, [32, 16])
        XCTAssertEqual(net.parameters.count, 16)
        XCTAssertEqual(Set(net.parameters.map(\.name)).count, 16, "parameter names are unique")
    }
}
