// The Performer's fast kernels and encoder against the float64 plain-loop reference, over many
// shapes (odd widths, tails shorter than a vector, sequences longer than a row block).

import Engine
import Foundation
import LinearAlgebra
import Models
import TestSupport
import Weights
import XCTest

/// A seeded generator of test values (SplitMix64 → uniform and normal draws).
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
    mutating func floats(_ n: Int, scale: Double = 1, shift: Double = 0) -> [Float] {
        (0..<n).map { _ in Float(shift + scale * normal()) }
    }
}

/// A random scBERT-shaped state_dict.
func randomPerformer(_ c: PerformerConfig, seed: UInt64) -> TensorFile {
    var r = TestRandom(state: seed)
    var f = TensorFile()
    let d = c.dim, i = c.inner
    func linear(_ out: Int, _ inp: Int) -> [Float] { r.floats(out * inp, scale: 1 / Double(inp).squareRoot()) }
    f.set("token_emb.weight", StoredTensor(r.floats(c.tokens * d), shape: [c.tokens, d]))
    f.set("pos_emb.emb.weight", StoredTensor((0..<(c.positions * d)).map { _ in r.normal() }, shape: [c.positions, d]))
    for l in 0..<c.depth {
        let a = "performer.net.layers.\(l).0.", b = "performer.net.layers.\(l).1."
        f.set(a + "norm.weight", StoredTensor(r.floats(d, scale: 0.2, shift: 1), shape: [d]))
        f.set(a + "norm.bias", StoredTensor(r.floats(d, scale: 0.2), shape: [d]))
        f.set(a + "fn.fast_attention.projection_matrix", StoredTensor(r.floats(c.features * c.dimHead), shape: [c.features, c.dimHead]))
        for n in ["q", "k", "v"] {
            f.set(a + "fn.to_\(n).weight", StoredTensor(linear(i, d), shape: [i, d]))
            if c.qkvBias { f.set(a + "fn.to_\(n).bias", StoredTensor(r.floats(i, scale: 0.1), shape: [i])) }
        }
        f.set(a + "fn.to_out.weight", StoredTensor(linear(d, i), shape: [d, i]))
        f.set(a + "fn.to_out.bias", StoredTensor(r.floats(d, scale: 0.1), shape: [d]))
        f.set(b + "norm.weight", StoredTensor(r.floats(d, scale: 0.2, shift: 1), shape: [d]))
        f.set(b + "norm.bias", StoredTensor(r.floats(d, scale: 0.2), shape: [d]))
        f.set(b + "fn.fn.w1.weight", StoredTensor(linear(c.ffHidden, d), shape: [c.ffHidden, d]))
        f.set(b + "fn.fn.w1.bias", StoredTensor(r.floats(c.ffHidden, scale: 0.1), shape: [c.ffHidden]))
        f.set(b + "fn.fn.w2.weight", StoredTensor(linear(d, c.ffHidden), shape: [d, c.ffHidden]))
        f.set(b + "fn.fn.w2.bias", StoredTensor(r.floats(d, scale: 0.1), shape: [d]))
    }
    f.set("norm.weight", StoredTensor(r.floats(d, scale: 0.2, shift: 1), shape: [d]))
    f.set("norm.bias", StoredTensor(r.floats(d, scale: 0.2), shape: [d]))
    if !c.tiedOutput {
        f.set("to_out.weight", StoredTensor(linear(c.tokens, d), shape: [c.tokens, d]))
        f.set("to_out.bias", StoredTensor(r.floats(c.tokens, scale: 0.1), shape: [c.tokens]))
    }
    f.set("performer.calls_since_last_redraw", StoredTensor([Int64(0)], shape: []))
    return f
}

final class PerformerKernelTests: XCTestCase {
    func testMaximumMatchesSwiftMax() {
        var r = TestRandom(state: 9)
        for n in [1, 5, 16, 17, 31, 32, 33, 1000] {
            let x = r.floats(n, scale: 100, shift: -500)
            XCTAssertEqual(x.withUnsafeBufferPointer { PerformerKernels.maximum($0.baseAddress!, count: n) }, x.max()!, "n \(n)")
        }
    }

    func testExpMatchesFloat64() {
        var r = TestRandom(state: 1)
        for n in [1, 15, 16, 17, 100, 1000] {
            let x = (0..<n).map { _ in Float(-95 + 100 * r.uniform()) } + [0, -87.3, 5, -1e-8]
            var got = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { PerformerKernels.exp(xp.baseAddress!, $0.baseAddress!, count: x.count) } }
            for (i, v) in x.enumerated() {
                let want = Foundation.exp(Double(v))
                if v >= -87.3 {
                    XCTAssertLessThanOrEqual(abs(Double(got[i]) - want) / want, 3e-7, "exp(\(v))")
                } else {
                    XCTAssertLessThanOrEqual(got[i], 1.3e-38, "exp(\(v)) underflows to ~0")
                }
            }
        }
    }

    func testBiasGELUMatchesExactErf() {
        var r = TestRandom(state: 2)
        for (rows, cols) in [(1, 1), (3, 15), (2, 16), (5, 33), (7, 800)] {
            let x = r.floats(rows * cols, scale: 3)
            let bias = r.floats(cols, scale: 0.5)
            var got = x
            got.withUnsafeMutableBufferPointer { g in bias.withUnsafeBufferPointer { b in
                PerformerKernels.biasGELU(g.baseAddress!, rows: rows, cols: cols, ld: cols, bias: b.baseAddress!)
            } }
            let want = (0..<(rows * cols)).map { Float(PerformerReference.gelu(Double(x[$0] + bias[$0 % cols]))) }
            assertClose(got, want, atol: 2e-7, rtol: 2e-7, "GELU \(rows)x\(cols)")
        }
    }

    func testLayerNormMatchesReference() {
        var r = TestRandom(state: 3)
        for (rows, d) in [(1, 1), (2, 7), (5, 64), (3, 200), (1, 1000)] {
            let x = r.floats(rows * d, scale: 4, shift: 2), w = r.floats(d, scale: 0.3, shift: 1), b = r.floats(d)
            var got = [Float](repeating: 0, count: rows * d)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                got.withUnsafeMutableBufferPointer { PerformerKernels.layerNorm(xp.baseAddress!, $0.baseAddress!, rows: rows, dim: d,
                                                                                 weight: wp.baseAddress!, bias: bp.baseAddress!, eps: 1e-5) }
            } } }
            let want = PerformerReference.layerNorm(x.map(Double.init), rows: rows, dim: d, weight: w.map(Double.init),
                                                    bias: b.map(Double.init), eps: 1e-5).map { Float($0) }
            assertClose(got, want, atol: 2e-6, rtol: 2e-6, "LayerNorm \(rows)x\(d)")
        }
    }

    /// The feature maps, composed with the projection GEMM as the encoder does, against the reference.
    func testFeatureMapsMatchReference() {
        var r = TestRandom(state: 4)
        for (n, e, m) in [(1, 4, 3), (5, 16, 44), (33, 8, 17), (70, 64, 266)] {
            let data = r.floats(n * e, scale: 1.5), proj = r.floats(m * e)
            let c = Float(pow(Double(e), -0.25)), ratio = Float(pow(Double(m), -0.5))
            let mp = PerformerKernels.paddedWidth(m)
            var u0 = [Float](repeating: 0, count: n * m), diag = [Float](repeating: 0, count: n)
            BLAS.sgemm(transB: true, m: n, n: m, k: e, alpha: c, data, proj, &u0)
            // Padded rows, the pad lanes filled with junk the kernels must ignore.
            var u = [Float](repeating: 1e30, count: n * mp)
            for i in 0..<n { for j in 0..<m { u[i * mp + j] = u0[i * m + j] } }
            func unpad(_ x: [Float]) -> [Float] { (0..<(n * m)).map { x[($0 / m) * mp + $0 % m] } }
            data.withUnsafeBufferPointer { dp in diag.withUnsafeMutableBufferPointer {
                PerformerKernels.halfSquaredNorms(dp.baseAddress!, rows: n, width: e, ld: e, normalizer: c, $0.baseAddress!)
            } }
            var q = u, k = u
            var sums = [Double](repeating: 0, count: m)
            let gmax = u.withUnsafeBufferPointer { PerformerKernels.maximum($0.baseAddress!, rows: n, cols: m, ld: mp) }
            XCTAssertEqual(gmax, u0.max()!)
            q.withUnsafeMutableBufferPointer { qp in diag.withUnsafeBufferPointer { dp in
                PerformerKernels.queryFeatures(qp.baseAddress!, rows: n, features: m, ld: mp, diag: dp.baseAddress!, ratio: ratio, eps: 1e-4)
            } }
            k.withUnsafeMutableBufferPointer { kp in diag.withUnsafeBufferPointer { dp in sums.withUnsafeMutableBufferPointer { sp in
                PerformerKernels.keyFeatures(kp.baseAddress!, rows: n, features: m, ld: mp, diag: dp.baseAddress!, globalMax: gmax,
                                             ratio: ratio, eps: 1e-4, columnSums: sp.baseAddress!)
            } } }
            let dd = data.map(Double.init), pd = proj.map(Double.init)
            let qWant = PerformerReference.softmaxFeatures(dd, rows: n, width: e, projection: pd, features: m, isQuery: true)
            let kWant = PerformerReference.softmaxFeatures(dd, rows: n, width: e, projection: pd, features: m, isQuery: false)
            let scale = Float(ratio)
            q = unpad(q); k = unpad(k)
            assertClose(q, qWant.map { Float($0) }, atol: 1e-6 * scale, rtol: 2e-5, "query features n=\(n) e=\(e) m=\(m)")
            assertClose(k, kWant.map { Float($0) }, atol: 1e-6 * scale, rtol: 2e-5, "key features n=\(n) e=\(e) m=\(m)")
            for j in 0..<m {
                let want = (0..<n).reduce(0.0) { $0 + kWant[$1 * m + j] }
                XCTAssertEqual(sums[j], want, accuracy: 1e-5 * want + 1e-9, "key column sum \(j)")
            }
        }
    }

    /// The whole encoder against the float64 reference over random models of several shapes.
    func testEncoderMatchesReferenceOverShapes() throws {
        let shapes: [(PerformerConfig, Int)] = [
            (PerformerConfig(dim: 8, depth: 1, heads: 2, dimHead: 4, features: 5, ffHidden: 12, tokens: 3, positions: 9), 7),
            (PerformerConfig(dim: 16, depth: 2, heads: 1, dimHead: 16, features: 20, ffHidden: 32, tokens: 7, positions: 40), 33),
            (PerformerConfig(dim: 24, depth: 2, heads: 3, dimHead: 8, features: 19, ffHidden: 40, tokens: 7, positions: 301), 300),
            (PerformerConfig(dim: 12, depth: 1, heads: 2, dimHead: 6, features: 7, ffHidden: 20, tokens: 5, positions: 600,
                             qkvBias: true, tiedOutput: true), 520),
        ]
        for (s, (config, n)) in shapes.enumerated() {
            let model = try PerformerModel(randomPerformer(config, seed: UInt64(10 + s)), name: "random")
            XCTAssertEqual(model.config, config)
            var r = TestRandom(state: UInt64(100 + s))
            let tokens = (0..<n).map { _ in Int32(r.next() % UInt64(config.tokens)) }
            // Positions: a scattered subset, as `--genes dataset` uses, ending with the last row.
            var positions = (0..<Int32(config.positions - 1)).filter { _ in r.uniform() < Double(n) / Double(config.positions) }
            positions = Array(positions.prefix(n - 1))
            while positions.count < n - 1 { positions.append(Int32(positions.count)) }
            positions = positions.sorted() + [Int32(config.positions - 1)]
            let withScores = n <= 300
            let ref = PerformerReference.forward(model, tokens: tokens, positions: positions, withScores: withScores)
            let encoder = PerformerEncoder(model: model, maxLength: n + 5)
            var out = [Float](repeating: 0, count: n * config.dim), scores = [Float](repeating: 0, count: n)
            var hidden = [[Float]]()
            out.withUnsafeMutableBufferPointer { o in scores.withUnsafeMutableBufferPointer { sp in
                encoder.encode(tokens: tokens, positions: positions, output: o.baseAddress!, scores: withScores ? sp.baseAddress! : nil) { _, h in
                    hidden.append(Array(UnsafeBufferPointer(start: h, count: n * config.dim)))
                }
            } }
            let label = "shape \(s) (\(config), N \(n))"
            assertClose(out, ref.encodings.map { Float($0) }, atol: 2e-5, rtol: 1e-4, label + " encodings")
            XCTAssertEqual(hidden.count, ref.hidden.count)
            for (i, h) in hidden.enumerated() {
                assertClose(h, ref.hidden[i].map { Float($0) }, atol: 2e-5, rtol: 1e-4, label + " hidden \(i)")
            }
            if withScores {
                assertClose(scores, ref.scores.map { Float($0) }, atol: 1e-7, rtol: 1e-4, label + " attention scores")
                XCTAssertEqual(Double(scores.reduce(0, +)), 1, accuracy: 1e-5)
            }
        }
    }
}
