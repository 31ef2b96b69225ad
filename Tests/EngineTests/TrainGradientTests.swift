// Every training-engine operation: forward against the float64 reference, gradient against
// float64 central finite differences, over several shapes including one row, one column,
// empty neighbour lists and empty tensors.

import Engine
import Foundation
import TestSupport
import XCTest

final class TrainGradientTests: XCTestCase {
    var gen = TestValues(2024)
    var worstGradient = 0.0, worstForward = 0.0

    func input(_ shape: [Int], scale: Float = 1, offset: Float = 0, differentiable: Bool = true) -> CheckInput {
        CheckInput(values: gen.array(shape.reduce(1, *), scale: scale, offset: offset), shape: shape, differentiable: differentiable)
    }

    func check(_ label: String, _ inputs: [CheckInput], forwardTolerance: Double = 2e-5, gradientTolerance: Double = 1e-5,
               engine: (Tape, [Tensor]) -> Tensor, reference: ([Ref]) -> Ref, line: UInt = #line) {
        let (f, g) = GradientCheck.run(label, inputs, forwardTolerance: forwardTolerance, gradientTolerance: gradientTolerance,
                                       engine: engine, reference: reference, line: line)
        worstForward = max(worstForward, f); worstGradient = max(worstGradient, g)
    }

    override func tearDown() {
        print("[TrainGradientTests] \(name): worst forward rel diff \(worstForward), worst gradient rel diff \(worstGradient), \(GradientCheck.checkedValues) gradient values checked so far")
    }

    // MARK: - Matrix products

    func testMatmulAllTransposes() {
        for (m, k, n) in [(1, 1, 1), (1, 5, 3), (4, 1, 6), (3, 7, 1), (5, 4, 6)] {
            for ta in [false, true] { for tb in [false, true] {
                let a = input(ta ? [k, m] : [m, k]), b = input(tb ? [n, k] : [k, n])
                check("matmul \(m)x\(k)x\(n) ta=\(ta) tb=\(tb)", [a, b],
                      engine: { $0.matmul($1[0], $1[1], transA: ta, transB: tb) },
                      reference: { R.matmul($0[0], $0[1], ta, tb) })
            } }
        }
    }

    func testMatmulBatchedAndFolded() {
        for tb in [false, true] {
            check("batched matmul tb=\(tb)", [input([2, 3, 4]), input(tb ? [2, 5, 4] : [2, 4, 5])],
                  engine: { $0.matmul($1[0], $1[1], transB: tb) }, reference: { R.matmul($0[0], $0[1], false, tb) })
        }
        check("folded rank-3 @ matrix", [input([2, 3, 4]), input([4, 2])],
              engine: { $0.matmul($1[0], $1[1]) },
              reference: { r in let y = R.matmul(Ref(r[0].v, [6, 4]), r[1]); return Ref(y.v, [2, 3, 2]) })
    }

    func testMatmulOneInputConstant() {
        check("matmul, a constant", [input([3, 4], differentiable: false), input([4, 2])],
              engine: { $0.matmul($1[0], $1[1]) }, reference: { R.matmul($0[0], $0[1]) })
    }

    // MARK: - Broadcasting arithmetic

    func testBroadcastArithmetic() {
        let pairs: [([Int], [Int])] = [([3, 4], [3, 4]), ([3, 4], [4]), ([3, 4], [3, 1]), ([1, 4], [3, 1]),
                                       ([2, 3, 4], [3, 4]), ([2, 3, 4], [2, 1, 4]), ([4], [2, 3, 4]), ([1], [1]), ([5, 1], [1])]
        for (sa, sb) in pairs {
            check("add \(sa)+\(sb)", [input(sa), input(sb)], engine: { $0.add($1[0], $1[1]) }, reference: { R.broadcast($0[0], $0[1], +) })
            check("sub \(sa)-\(sb)", [input(sa), input(sb)], engine: { $0.sub($1[0], $1[1]) }, reference: { R.broadcast($0[0], $0[1], -) })
            check("mul \(sa)*\(sb)", [input(sa), input(sb)], engine: { $0.mul($1[0], $1[1]) }, reference: { R.broadcast($0[0], $0[1], *) })
            check("div \(sa)/\(sb)", [input(sa), input(sb, scale: 0.5, offset: 1.5)],
                  engine: { $0.div($1[0], $1[1]) }, reference: { R.broadcast($0[0], $0[1], /) })
        }
    }

    func testSameTensorOnBothSides() {
        // x·x: both gradient contributions must add up in the same buffer.
        check("mul x*x", [input([3, 2])], engine: { $0.mul($1[0], $1[0]) }, reference: { R.broadcast($0[0], $0[0], *) })
    }

    // MARK: - Element-wise functions

    func testElementwiseFunctions() {
        let cases: [(String, (Tape, Tensor) -> Tensor, (Double) -> Double, Float, Float)] = [
            ("exp", { $0.exp($1) }, { Foundation.exp($0) }, 2, 0),
            ("log", { $0.log($1) }, { Foundation.log($0) }, 0.9, 1.0),
            ("sqrt", { $0.sqrt($1) }, { $0.squareRoot() }, 0.9, 1.0),
            ("square", { $0.square($1) }, { $0 * $0 }, 2, 0),
            ("affine", { $0.affine($1, scale: -1.5, shift: 0.25) }, { $0 * -1.5 + 0.25 }, 2, 0),
            ("relu", { $0.relu($1) }, { max($0, 0) }, 2, 0),
            ("leakyRelu 0.2", { $0.leakyRelu($1, slope: 0.2) }, { $0 > 0 ? $0 : 0.2 * $0 }, 2, 0),
            ("elu", { $0.elu($1) }, { $0 > 0 ? $0 : Foundation.expm1($0) }, 3, 0),
            ("elu alpha 0.5", { $0.elu($1, alpha: 0.5) }, { $0 > 0 ? $0 : 0.5 * Foundation.expm1($0) }, 3, 0),
            ("gelu", { $0.gelu($1) }, R.gelu, 3, 0),
            ("sigmoid", { $0.sigmoid($1) }, R.sigmoid, 6, 0),
            ("tanh", { $0.tanh($1) }, { Foundation.tanh($0) }, 3, 0),
        ]
        for (name, f, ref, scale, offset) in cases {
            for shape in [[1], [1, 7], [6, 1], [3, 4, 2]] {
                check("\(name) \(shape)", [input(shape, scale: scale, offset: offset)],
                      engine: { f($0, $1[0]) }, reference: { R.map($0[0], ref) })
            }
        }
    }

    func testSigmoidSaturatesWithoutNaN() {
        let tape = Tape()
        let x = Tensor([-200, -30, 0, 30, 200], shape: [5], requiresGrad: true)
        let y = tape.sigmoid(x)
        XCTAssertEqual(y.data, [0, Float(R.sigmoid(-30)), 0.5, 1, 1])
        tape.backward(y)
        XCTAssertTrue(x.grad.allSatisfy { $0.isFinite })
    }

    // MARK: - Reductions and softmax

    func testReductions() {
        for shape in [[1], [5], [1, 6], [4, 1], [2, 3, 4]] {
            check("sum \(shape)", [input(shape)], engine: { $0.sum($1[0]) }, reference: { R.sumAll($0[0]) })
            check("mean \(shape)", [input(shape)], engine: { $0.mean($1[0]) },
                  reference: { Ref([$0[0].v.reduce(0, +) / Double($0[0].count)], []) })
            for ax in 0..<shape.count {
                for keep in [false, true] {
                    check("sum axis \(ax) \(shape) keep=\(keep)", [input(shape)], engine: { $0.sum($1[0], axis: ax, keepDims: keep) },
                          reference: { R.sumAxis($0[0], ax, keep: keep) })
                    check("mean axis \(ax) \(shape) keep=\(keep)", [input(shape)], engine: { $0.mean($1[0], axis: ax, keepDims: keep) },
                          reference: { R.sumAxis($0[0], ax, mean: true, keep: keep) })
                }
            }
        }
    }

    func testSoftmax() {
        for shape in [[1], [1, 5], [4, 1], [3, 6], [2, 2, 3]] {
            check("softmax \(shape)", [input(shape, scale: 3)], engine: { $0.softmax($1[0]) }, reference: { R.softmaxRows($0[0]) })
        }
        // Large logits: stabilised by the row maximum.
        let t = Tape()
        let y = t.softmax(Tensor([1000, 1001, 999], shape: [1, 3]))
        XCTAssertTrue(y.data.allSatisfy { $0.isFinite })
        XCTAssertEqual(Double(y.data.reduce(0, +)), 1, accuracy: 1e-6)
    }

    // MARK: - Normalisation

    func testLayerNorm() {
        for shape in [[1, 2], [1, 8], [5, 3], [2, 3, 6]] {
            let d = shape.last!
            check("layerNorm \(shape)", [input(shape, scale: 2), input([d], offset: 1), input([d])],
                  engine: { $0.layerNorm($1[0], gamma: $1[1], beta: $1[2]) },
                  reference: { R.layerNorm($0[0], $0[1], $0[2]) })
        }
    }

    func testL2Normalize() {
        for shape in [[1, 1], [1, 5], [6, 1], [4, 3], [2, 2, 4]] {
            check("l2Normalize \(shape)", [input(shape, offset: 0.1)], engine: { $0.l2Normalize($1[0]) },
                  reference: { R.l2Normalize($0[0]) })
        }
        // A zero row stays zero and its gradient is finite (the eps clamp).
        let t = Tape()
        let x = Tensor([0, 0, 3, 4], shape: [2, 2], requiresGrad: true)
        let y = t.l2Normalize(x)
        XCTAssertEqual(y.data, [0, 0, 0.6, 0.8])
        t.backward(y)
        XCTAssertTrue(x.grad.allSatisfy { $0.isFinite })
    }

    // MARK: - Shapes

    func testConcatSliceReshapePermute() {
        for ax in 0..<3 {
            var shapes = [[2, 3, 4], [2, 3, 4]]
            shapes[1][ax] = 1
            check("concat axis \(ax)", [input(shapes[0]), input(shapes[1])], engine: { $0.concat([$1[0], $1[1]], axis: ax) },
                  reference: { R.concat($0, ax) })
            let n = [2, 3, 4][ax]
            for r in [0..<1, 1..<n, 0..<n] {
                check("slice axis \(ax) \(r)", [input([2, 3, 4])], engine: { $0.slice($1[0], axis: ax, r) },
                      reference: { R.slice($0[0], ax, r) })
            }
        }
        check("concat three, last axis", [input([3, 1]), input([3, 2]), input([3, 1])],
              engine: { $0.concat([$1[0], $1[1], $1[2]], axis: -1) }, reference: { R.concat($0, 1) })
        check("reshape", [input([2, 6])], engine: { $0.reshape($1[0], [3, -1]) }, reference: { Ref($0[0].v, [3, 4]) })
        for order in [[1, 0, 2], [2, 0, 1], [0, 2, 1]] {
            check("permute \(order)", [input([2, 3, 4])], engine: { $0.permute($1[0], order) }, reference: { R.permute($0[0], order) })
        }
        check("transpose", [input([1, 5])], engine: { $0.transpose($1[0]) }, reference: { R.permute($0[0], [1, 0]) })
    }

    // MARK: - Gather, scatter, embedding

    func testGatherScatterEmbedding() {
        let idx: [Int32] = [2, 0, 2, 3, 2]
        check("gatherRows repeated", [input([4, 3])], engine: { $0.gatherRows($1[0], idx) }, reference: { R.gatherRows($0[0], idx) })
        check("gatherRows one column", [input([4, 1])], engine: { $0.gatherRows($1[0], idx) }, reference: { R.gatherRows($0[0], idx) })
        check("embedding rank 3 table", [input([5, 2, 2])], engine: { $0.embedding($1[0], [4, 1]) },
              reference: { R.gatherRows($0[0], [4, 1]) })
        check("scatterAddRows", [input([5, 3])], engine: { $0.scatterAddRows($1[0], idx, count: 6) },
              reference: { R.scatterAddRows($0[0], idx, 6) })
        check("scatterAddRows one row", [input([1, 4])], engine: { $0.scatterAddRows($1[0], [1], count: 2) },
              reference: { R.scatterAddRows($0[0], [1], 2) })
        check("addToRows", [input([5, 3]), input([3])], engine: { $0.addToRows($1[0], $1[1], [4, 0, 2]) },
              reference: { r in
                  var v = r[0].v
                  for i in [4, 0, 2] { for j in 0..<3 { v[i * 3 + j] += r[1].v[j] } }
                  return Ref(v, [5, 3])
              })
        // Nothing gathered: an empty result, no gradient.
        let t = Tape()
        let x = Tensor([1, 2, 3], shape: [3, 1], requiresGrad: true)
        let y = t.gatherRows(x, [])
        XCTAssertEqual(y.shape, [0, 1])
        t.backward(t.sum(y))
        XCTAssertTrue(x.grad.allSatisfy { $0 == 0 })
    }

    // MARK: - Graph attention primitives

    /// Graphs with isolated nodes (empty neighbour lists), self-loops and a node with one neighbour.
    func graphs() -> [NeighbourGraph] {
        [NeighbourGraph(nodeCount: 5, edges: [(0, 1), (0, 2), (0, 4), (2, 2), (2, 0), (3, 1)]),   // 1 and 4 empty
         NeighbourGraph(nodeCount: 1, edges: [(0, 0)]),
         NeighbourGraph(nodeCount: 3, edges: []),
         NeighbourGraph.undirected(nodeCount: 4, pairs: [(0, 1), (1, 2), (1, 3)], selfLoops: true)]
    }

    func testNeighbourSoftmax() {
        for g in graphs() {
            for h in [1, 3] {
                let e = g.edgeCount
                check("neighbourSoftmax N=\(g.nodeCount) E=\(e) H=\(h)", [input([e, h], scale: 3)],
                      engine: { $0.neighbourSoftmax($1[0], g) },
                      reference: { R.neighbourSoftmax($0[0], edgeNodes: g.nodes, nodeCount: g.nodeCount) })
            }
        }
    }

    func testHeadDot() {
        for (n, h, d) in [(1, 1, 1), (4, 1, 5), (3, 3, 2), (2, 2, 11), (5, 1, 1)] {
            check("headDot N=\(n) H=\(h) D=\(d)", [input([n, h * d]), input([h, d])], engine: { $0.headDot($1[0], $1[1]) },
                  reference: { r in R.sumAxis(R.broadcast(Ref(r[0].v, [n, h, d]), r[1], *), 2) })
        }
    }

    /// The fused edge scores give exactly the floats (values and every gradient) of the ops they
    /// replace: headDot twice, gatherRows by nodes and neighbours, add, leakyRelu.
    func testEdgeScoresEqualTheComposition() {
        for g in graphs() + [NeighbourGraph(nodeCount: 40, edges: (0..<300).map { ($0 % 37, ($0 * 7) % 40) })] {
            for (h, d) in [(1, 1), (3, 2), (2, 9), (3, 64), (1, 33)] {
                let n = g.nodeCount, e = g.edgeCount
                let x = gen.array(n * h * d), a1 = gen.array(h * d), a2 = gen.array(h * d), upstream = gen.array(e * h)
                func run(_ fused: Bool) -> (y: [Float], gx: [Float], g1: [Float], g2: [Float]) {
                    let tape = Tape(seed: 1)
                    let xt = Tensor(x, shape: [n, h * d], requiresGrad: true)
                    let t1 = Tensor(a1, shape: [h, d], requiresGrad: true), t2 = Tensor(a2, shape: [h, d], requiresGrad: true)
                    let y = fused ? tape.edgeScores(xt, node: t1, neighbour: t2, g, slope: 0.2)
                        : tape.leakyRelu(tape.add(tape.gatherRows(tape.headDot(xt, t1), g.nodes),
                                                  tape.gatherRows(tape.headDot(xt, t2), g.neighbours)), slope: 0.2)
                    let out = y.data
                    if e > 0 { tape.backward(y, seed: upstream) }
                    return (out, xt.grad, t1.grad, t2.grad)
                }
                let (fused, plain) = (run(true), run(false))
                let label = "edgeScores N=\(n) E=\(e) H=\(h) D=\(d)"
                XCTAssertEqual(fused.y, plain.y, label)
                XCTAssertEqual(fused.gx, plain.gx, "\(label) x gradient")
                XCTAssertEqual(fused.g1, plain.g1, "\(label) node-vector gradient")
                XCTAssertEqual(fused.g2, plain.g2, "\(label) neighbour-vector gradient")
            }
        }
    }

    func testNeighbourAggregate() {
        for g in graphs() {
            for (h, d) in [(1, 1), (1, 4), (3, 2), (2, 9)] {
                let e = g.edgeCount
                check("neighbourAggregate N=\(g.nodeCount) E=\(e) H=\(h) D=\(d)", [input([e, h]), input([g.nodeCount, h * d])],
                      engine: { $0.neighbourAggregate($1[0], $1[1], g) },
                      reference: { R.neighbourAggregate($0[0], $0[1], edgeNodes: g.nodes, edgeNeighbours: g.neighbours, nodeCount: g.nodeCount) })
            }
        }
    }

    func testNeighbourGraphStructure() {
        let g = NeighbourGraph(nodeCount: 4, edges: [(2, 1), (0, 3), (2, 0), (0, 3), (2, 1)])
        XCTAssertEqual(g.offsets, [0, 1, 1, 3, 3])
        XCTAssertEqual(g.neighbours, [3, 0, 1])
        XCTAssertEqual(g.nodes, [0, 2, 2])
        let u = NeighbourGraph.undirected(nodeCount: 3, pairs: [(0, 2)], selfLoops: true)
        XCTAssertEqual(u.neighbours, [0, 2, 1, 0, 2])
    }

    // MARK: - Dropout

    func testDropoutMaskAndGradient() {
        let tape = Tape(seed: 5)
        let x = Tensor([Float](repeating: 1, count: 10_000), shape: [100, 100], requiresGrad: true)
        let y = tape.dropout(x, p: 0.3)
        let kept = y.data.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 10_000, 0.7, accuracy: 0.02)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        tape.backward(y)
        XCTAssertEqual(x.grad, y.data, "the gradient passes exactly where the value did")
        // The same seed draws the same mask; evaluation mode is the identity.
        XCTAssertEqual(Tape(seed: 5).dropout(x, p: 0.3).data, y.data)
        XCTAssertTrue(Tape(training: false).dropout(x, p: 0.3) === x)
        // The mask is the plain rule, a value dropped when its nextFloat() draw is below p, for p
        // on and between multiples of 2⁻²⁴ (the draws' grid).
        for p: Float in [0.5, 0.3, 0.01, 1 / 3, 0x1p-24, 0.999, Float(3) * 0x1p-24 + 0x1p-26] {
            let tape = Tape(seed: 9)
            var plain = tape.rng
            let mask = tape.dropout(x, p: p).data
            let want = (0..<x.count).map { _ in plain.nextFloat() < p ? 0 : 1 / (1 - p) }
            XCTAssertEqual(mask, want, "p \(p)")
            XCTAssertEqual(tape.rng.next(), plain.next(), "p \(p): one draw per value")
        }
    }

    // MARK: - Losses

    func testLosses() {
        for n in [1, 7] {
            let targets = CheckInput(values: (0..<n).map { Float($0 % 2) }, shape: [n, 1], differentiable: false)
            check("bceWithLogits n=\(n)", [input([n, 1], scale: 4), targets],
                  engine: { $0.binaryCrossEntropyWithLogits($1[0], $1[1]) }, reference: { R.bceWithLogits($0[0], $0[1]) })
            check("mse n=\(n)", [input([n, 2]), input([n, 2])], engine: { $0.meanSquaredError($1[0], $1[1]) },
                  reference: { R.mse($0[0], $0[1]) })
        }
        let soft = CheckInput(values: [0.25, 0.9, 0], shape: [3], differentiable: false)
        check("bceWithLogits soft targets", [input([3], scale: 3), soft],
              engine: { $0.binaryCrossEntropyWithLogits($1[0], $1[1]) }, reference: { R.bceWithLogits($0[0], $0[1]) })
        for (targets, c) in [([Int32(2), 0, -100, 1, 2], 3), ([0], 1), ([3, -100], 5)] as [([Int32], Int)] {
            check("crossEntropy \(targets) C=\(c)", [input([targets.count, c], scale: 3)],
                  engine: { $0.crossEntropy($1[0], targets) }, reference: { R.crossEntropy($0[0], targets) })
        }
        // Every row ignored: 0, and no gradient.
        let t = Tape()
        let x = Tensor([1, 2], shape: [1, 2], requiresGrad: true)
        let l = t.crossEntropy(x, [-100])
        XCTAssertEqual(l.item, 0)
        t.backward(l)
        XCTAssertTrue(x.grad.allSatisfy { $0 == 0 })
        // Extreme logits stay finite.
        let big = t.binaryCrossEntropyWithLogits(Tensor([500, -500], shape: [2]), Tensor([0, 1], shape: [2]))
        XCTAssertEqual(big.item, 500, accuracy: 1e-3)
    }

    // MARK: - Composition

    func testComposedExpressionAccumulatesThroughSharedNodes() {
        // y = sum(softmax(x W) ⊙ (x W)) + mean(x): x reaches the loss by three paths.
        check("composed", [input([3, 4]), input([4, 5])],
              engine: { t, v in
                  let h = t.matmul(v[0], v[1])
                  return t.add(t.sum(t.mul(t.softmax(h), h)), t.mean(v[0]))
              },
              reference: { r in
                  let h = R.matmul(r[0], r[1])
                  let s = R.sumAll(R.broadcast(R.softmaxRows(h), h, *)).v[0]
                  return Ref([s + r[0].v.reduce(0, +) / Double(r[0].count)], [])
              })
    }

    func testUntrackedInputsRecordNothing() {
        let t = Tape()
        let a = Tensor([1, 2], shape: [1, 2]), b = Tensor([3, 4], shape: [2, 1])
        let y = t.matmul(a, b)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(t.count, 0)
        XCTAssertEqual(y.data, [11])
    }
}
