// Every variant of the training engine's C kernels (generic, AVX2+FMA, AVX-512 — those this CPU
// can run) against float64 loops: neighbour aggregation over random neighbour lists with isolated
// nodes, self-loops and repeated edges, one and several heads, head widths around every vector
// size; ELU and its gradient over the whole float range, lengths around every vector size; Adam's
// update, LeakyReLU, row L2 normalisation and the attention score halves against plain loops,
// float for float.

import CKernels
@testable import Engine
import Foundation
@testable import Models
import XCTest

final class TrainKernelVariantTests: XCTestCase {
    let variants = PerformerKernelSet.available
    let shapes = [(1, 1), (1, 5), (3, 4), (3, 7), (2, 16), (3, 17), (1, 33), (3, 64), (2, 128), (3, 128), (1, 200),
                  (2, 256), (300, 2)]  // (heads, d): register blocks of 8, 4, 2, 1 vectors and tails; more heads than a list

    /// A random graph over n nodes: about 3 edges per node, some nodes without any, node 1 with
    /// 600 (longer than the kernels' edge lists, so they go in pieces).
    func randomGraph(_ n: Int, _ r: inout TestRandom) -> NeighbourGraph {
        var edges = [(node: Int, neighbour: Int)]()
        for i in 0..<n where i % 5 != 3 {
            for _ in 0..<(i == 1 ? 600 : 1 + Int(r.next() % 5)) { edges.append((i, Int(r.next() % UInt64(n)))) }
        }
        edges.append((0, 0))   // a self-loop
        return NeighbourGraph(nodeCount: n, edges: edges)
    }

    /// Float32 sums of `terms` values: error within a few ulps per term of the sum's scale.
    func assertNear(_ got: [Float], _ want: [Double], terms: Int, _ label: String) {
        XCTAssertEqual(got.count, want.count, label)
        var worst = 0.0
        for (g, w) in zip(got, want) { worst = max(worst, abs(Double(g) - w) / max(1, abs(w))) }
        XCTAssertLessThanOrEqual(worst, 1e-7 * Double(terms + 10), label)
    }

    func testAggregateAndGradientsMatchFloat64Loops() {
        for k in variants {
            let c = k.table.pointee
            var r = TestRandom(state: 11)
            for (h, d) in shapes {
                let n = 23, g = randomGraph(n, &r), e = g.edgeCount, w = h * d
                // A third of the weights zero (dropped out): skipped, and their gradient is zero.
                let weights = r.floats(e * h).map { r.next() % 3 == 0 ? 0 : $0 }
                let values = r.floats(n * w), upstream = r.floats(n * w)
                let label = "\(k.name) h \(h) d \(d)"
                // Forward: out[i,k,:] = Σ_e weights[e,k] · values[nb[e],k,:].
                var want = [Double](repeating: 0, count: n * w)
                for i in 0..<n { for edge in g.offsets[i]..<g.offsets[i + 1] { for q in 0..<h { for j in 0..<d {
                    want[i * w + q * d + j] += Double(weights[edge * h + q]) * Double(values[Int(g.neighbours[edge]) * w + q * d + j])
                } } } }
                var out = [Float](repeating: .nan, count: n * w)
                c.neighbour_aggregate(weights, values, g.offsets, g.neighbours, 0, n, h, d, &out)
                assertNear(out, want, terms: 610, "aggregate \(label)")
                // d weights[e,k] = upstream[i,k,:] · values[nb[e],k,:] (0 where the weight is 0), fresh and accumulated.
                var wantW = [Double](repeating: 0, count: e * h)
                for i in 0..<n { for edge in g.offsets[i]..<g.offsets[i + 1] { for q in 0..<h where weights[edge * h + q] != 0 { for j in 0..<d {
                    wantW[edge * h + q] += Double(upstream[i * w + q * d + j]) * Double(values[Int(g.neighbours[edge]) * w + q * d + j])
                } } } }
                var gw = [Float](repeating: .nan, count: e * h)
                c.neighbour_weight_grad(weights, upstream, values, g.offsets, g.neighbours, 0, n, h, d, 1, &gw)
                assertNear(gw, wantW, terms: d, "weight gradient (fresh) \(label)")
                c.neighbour_weight_grad(weights, upstream, values, g.offsets, g.neighbours, 0, n, h, d, 0, &gw)
                assertNear(gw, wantW.map { 2 * $0 }, terms: 2 * d, "weight gradient (accumulated) \(label)")
                // d values[j,k,:] += Σ over edges into j: weights[e,k] · upstream[node(e),k,:], in two node ranges.
                let start = r.floats(n * w)
                var wantV = start.map(Double.init)
                for edge in 0..<e { let i = Int(g.nodes[edge]), j = Int(g.neighbours[edge]); for q in 0..<h { for x in 0..<d {
                    wantV[j * w + q * d + x] += Double(weights[edge * h + q]) * Double(upstream[i * w + q * d + x])
                } } }
                var gv = start
                for (lo, hi) in [(0, 9), (9, n)] {
                    c.neighbour_value_grad(weights, upstream, g.reverseOffsets, g.reverseEdges, g.nodes, lo, hi, h, d, &gv)
                }
                assertNear(gv, wantV, terms: 610, "value gradient \(label)")
            }
        }
    }

    func testELUAndItsGradient() {
        for k in variants {
            let c = k.table.pointee
            var r = TestRandom(state: 12)
            var worst = 0.0
            for n in [1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 1000] {
                // Values near 0 (the series), around −ln2/2 (the switch), far negative (saturation), positive.
                let x = (0..<n).map { i -> Float in
                    switch i % 4 {
                    case 0: return Float(r.normal() * 0.3)
                    case 1: return Float(-0.3466 + r.normal() * 0.01)
                    case 2: return Float(-120 * r.uniform())
                    default: return Float(r.normal() * 5)
                    }
                }
                for alpha: Float in [1, 0.5] {
                    var y = [Float](repeating: .nan, count: n)
                    c.elu(x, &y, n, alpha)
                    for (i, v) in x.enumerated() {
                        let want = v > 0 ? Double(v) : Double(alpha) * Foundation.expm1(Double(v))
                        let err = abs(Double(y[i]) - want) / max(abs(want), 1e-30)
                        worst = max(worst, err)
                        XCTAssertLessThanOrEqual(err, 4e-7, "\(k.name) elu(\(v)) alpha \(alpha): \(y[i]) vs \(want)")
                    }
                    let g = r.floats(n)
                    var gx = [Float](repeating: .nan, count: n)
                    c.elu_backward(x, y, g, &gx, n, alpha, 1)
                    let want = (0..<n).map { Double(g[$0]) * (x[$0] > 0 ? 1 : Double(y[$0]) + Double(alpha)) }
                    assertNear(gx, want, terms: 1, "\(k.name) elu gradient (fresh) n \(n)")
                    c.elu_backward(x, y, g, &gx, n, alpha, 0)
                    assertNear(gx, want.map { 2 * $0 }, terms: 1, "\(k.name) elu gradient (accumulated) n \(n)")
                }
            }
            print("\(k.name) elu: max relative error \(worst)")
        }
    }

    /// Adam's vectorised update gives exactly the floats of the plain loop (each operation rounded
    /// on its own), for lengths around every vector width and several steps.
    func testAdamMatchesThePlainLoop() {
        for k in variants {
            let c = k.table.pointee
            var r = TestRandom(state: 13)
            for n in [1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 1000] {
                var x = r.floats(n), m = r.floats(n, scale: 0.1), v = r.floats(n).map { $0 * $0 * 0.01 }
                var (px, pm, pv) = (x, m, v)
                let (b1, b2, eps): (Float, Float, Float) = (0.9, 0.999, 1e-8)
                for step in 1...3 {
                    let g = r.floats(n, scale: step == 2 ? 1e-6 : 1)   // tiny gradients: eps matters
                    let stepSize = Float(3e-3 / (1 - Foundation.pow(0.9, Double(step))))
                    let bc2Sqrt = Float((1 - Foundation.pow(Double(b2), Double(step))).squareRoot())
                    c.adam(&x, g, &m, &v, n, b1, b2, stepSize, bc2Sqrt, eps)
                    for i in 0..<n {
                        pm[i] += (1 - b1) * (g[i] - pm[i])
                        pv[i] = b2 * pv[i] + (1 - b2) * g[i] * g[i]
                        px[i] -= stepSize * (pm[i] / (pv[i].squareRoot() / bc2Sqrt + eps))
                    }
                    XCTAssertEqual(x, px, "\(k.name) adam x, n \(n) step \(step)")
                    XCTAssertEqual(m, pm, "\(k.name) adam m, n \(n) step \(step)")
                    XCTAssertEqual(v, pv, "\(k.name) adam v, n \(n) step \(step)")
                }
            }
        }
    }

    /// LeakyReLU, row L2 normalisation and the attention score halves give exactly the floats of
    /// plain loops (the dot products summed as the engine's Swift dot), on every variant.
    func testRowKernelsMatchPlainLoops() {
        for k in variants {
            let c = k.table.pointee
            var r = TestRandom(state: 14)
            for (rows, h, d) in [(1, 1, 1), (3, 1, 7), (5, 3, 8), (4, 2, 17), (6, 3, 64), (2, 1, 128), (3, 2, 33)] {
                let w = h * d, label = "\(k.name) rows \(rows) h \(h) d \(d)"
                var x = r.floats(rows * w)
                x.replaceSubrange(0..<d, with: [Float](repeating: 0, count: d))   // a zero row: the norm's clamp
                let g = r.floats(rows * w)
                // LeakyReLU and its gradient (fresh, then added).
                var y = [Float](repeating: .nan, count: x.count)
                c.leaky_relu(x, &y, x.count, 0.2)
                XCTAssertEqual(y, x.map { $0 > 0 ? $0 : $0 * 0.2 }, "leaky \(label)")
                var gx = [Float](repeating: .nan, count: x.count)
                c.leaky_relu_backward(x, g, &gx, x.count, 0.2, 1)
                let want = zip(x, g).map { $0 > 0 ? $1 : $1 * 0.2 }
                XCTAssertEqual(gx, want, "leaky gradient \(label)")
                c.leaky_relu_backward(x, g, &gx, x.count, 0.2, 0)
                XCTAssertEqual(gx, want.map { $0 + $0 }, "leaky gradient added \(label)")
                // L2 normalisation of rows of d (rows·h of them).
                let eps: Float = 1e-12
                var norms = [Float](repeating: .nan, count: rows * h)
                c.l2_normalize(x, &y, &norms, rows * h, d, eps)
                var wantY = x, wantNorms = norms, wantG = x
                x.withUnsafeBufferPointer { xs in g.withUnsafeBufferPointer { gs in
                    for q in 0..<(rows * h) {
                        let norm = EngineLoops.dot(xs.baseAddress! + q * d, xs.baseAddress! + q * d, d).squareRoot()
                        wantNorms[q] = norm
                        for j in 0..<d { wantY[q * d + j] = x[q * d + j] * (1 / max(norm, eps)) }
                    }
                    wantY.withUnsafeBufferPointer { ys in
                        for q in 0..<(rows * h) {
                            let dot = EngineLoops.dot(ys.baseAddress! + q * d, gs.baseAddress! + q * d, d)
                            for j in 0..<d {
                                wantG[q * d + j] = wantNorms[q] > eps ? (g[q * d + j] - wantY[q * d + j] * dot) * (1 / wantNorms[q])
                                    : g[q * d + j] * (1 / eps)
                            }
                        }
                    }
                } }
                XCTAssertEqual(norms, wantNorms, "l2 norms \(label)")
                XCTAssertEqual(y, wantY, "l2 \(label)")
                c.l2_normalize_backward(y, g, norms, &gx, rows * h, d, eps, 1)
                XCTAssertEqual(gx, wantG, "l2 gradient \(label)")
                // Attention score halves and their gradients.
                let a1 = r.floats(w), a2 = r.floats(w), g1 = r.floats(rows * h), g2 = r.floats(rows * h)
                var s1 = [Float](repeating: .nan, count: rows * h), s2 = s1
                c.head_dots(x, a1, a2, 0, rows, h, d, &s1, &s2)
                var want1 = s1, want2 = s2
                x.withUnsafeBufferPointer { xs in a1.withUnsafeBufferPointer { p1 in a2.withUnsafeBufferPointer { p2 in
                    for i in 0..<rows { for q in 0..<h {
                        want1[i * h + q] = EngineLoops.dot(xs.baseAddress! + (i * h + q) * d, p1.baseAddress! + q * d, d)
                        want2[i * h + q] = EngineLoops.dot(xs.baseAddress! + (i * h + q) * d, p2.baseAddress! + q * d, d)
                    } }
                } } }
                XCTAssertEqual(s1, want1, "head dots \(label)")
                XCTAssertEqual(s2, want2, "head dots \(label)")
                let start = r.floats(rows * w)
                var gxs = start
                for (lo, hi) in [(0, rows / 2), (rows / 2, rows)] { c.head_dots_backward_x(g1, g2, a1, a2, lo, hi, h, d, 0, &gxs) }
                c.head_dots_backward_x(g1, g2, a1, a2, 0, rows, h, d, 1, &gx)
                var ga1 = a1, ga2 = a2
                c.head_dots_backward_a(x, g1, g2, rows, h, d, &ga1, &ga2)
                var wantAdded = start, wantFresh = start, wantA1 = a1, wantA2 = a2
                for i in 0..<rows { for q in 0..<h { for j in 0..<d {
                    let at = (i * h + q) * d + j
                    wantAdded[at] = (start[at] + g2[i * h + q] * a2[q * d + j]) + g1[i * h + q] * a1[q * d + j]
                    wantFresh[at] = g2[i * h + q] * a2[q * d + j] + g1[i * h + q] * a1[q * d + j]
                    wantA1[q * d + j] += g1[i * h + q] * x[at]
                    wantA2[q * d + j] += g2[i * h + q] * x[at]
                } } }
                XCTAssertEqual(gxs, wantAdded, "head dots x gradient added \(label)")
                XCTAssertEqual(gx, wantFresh, "head dots x gradient \(label)")
                XCTAssertEqual(ga1, wantA1, "head dots a1 gradient \(label)")
                XCTAssertEqual(ga2, wantA2, "head dots a2 gradient \(label)")
            }
        }
    }
}
