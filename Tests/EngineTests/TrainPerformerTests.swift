// The trainable Performer: the fused FAVOR+ operation against a float64 twin (forward and
// gradients by central differences, stabilisers held fixed as the engine treats them), the
// Gaussian orthogonal random features, and the whole tape forward against scBERT's own outputs
// (the scbert-mini fixture) — so the network pretrain trains is the function embed runs.

import Engine
import Foundation
import Kernels
import LinearAlgebra
import Models
import TestSupport
import Weights
import XCTest

final class TrainPerformerTests: XCTestCase {
    var gen = TestValues(77)

    // MARK: - FAVOR+ float64 twin

    /// scBERT's FAVOR+ over q, k, v [B,N,H·E] in float64. The stabilisers (per-row query maxima,
    /// one key maximum per cell) are taken from `stabilisersOf` — the unperturbed inputs — so
    /// that finite differences see them as constants, as the engine's gradient does.
    static func favor(_ q: Ref, _ k: Ref, _ v: Ref, heads: Int, projection p: [Double], m: Int,
                      stabilisersOf base: (Ref, Ref)? = nil) -> Ref {
        let b = q.shape[0], n = q.shape[1], inner = q.shape[2], e = inner / heads
        let c = pow(Double(e), -0.25), ratio = pow(Double(m), -0.5), eps = 1e-4
        func proj(_ x: Ref, _ cell: Int, _ h: Int) -> [Double] {   // [N, M]
            var a = [Double](repeating: 0, count: n * m)
            for r in 0..<n { for j in 0..<m {
                var s = 0.0
                for t in 0..<e { s += c * x.v[(cell * n + r) * inner + h * e + t] * p[j * e + t] }
                a[r * m + j] = s
            } }
            return a
        }
        let (bq, bk) = base ?? (q, k)
        var out = [Double](repeating: 0, count: q.count)
        for cell in 0..<b {
            var kmax = -Double.infinity
            for h in 0..<heads { kmax = max(kmax, proj(bk, cell, h).max()!) }
            for h in 0..<heads {
                let aq = proj(q, cell, h), ak = proj(k, cell, h), aqBase = proj(bq, cell, h)
                var qf = aq, kf = ak
                for r in 0..<n {
                    var sq = 0.0, sk = 0.0
                    for t in 0..<e {
                        let xq = q.v[(cell * n + r) * inner + h * e + t], xk = k.v[(cell * n + r) * inner + h * e + t]
                        sq += xq * xq; sk += xk * xk
                    }
                    let rowMax = aqBase[(r * m)..<(r * m + m)].max()!
                    for j in 0..<m {
                        qf[r * m + j] = ratio * (exp(aq[r * m + j] - sq / 2 * c * c - rowMax) + eps)
                        kf[r * m + j] = ratio * (exp(ak[r * m + j] - sk / 2 * c * c - kmax) + eps)
                    }
                }
                var vh = [Double](repeating: 0, count: n * e)
                for r in 0..<n { for t in 0..<e { vh[r * e + t] = v.v[(cell * n + r) * inner + h * e + t] } }
                let o = PerformerReference.linearAttention(q: qf, k: kf, v: vh, rows: n, features: m, width: e)
                for r in 0..<n { for t in 0..<e { out[(cell * n + r) * inner + h * e + t] = o[r * e + t] } }
            }
        }
        return Ref(out, q.shape)
    }

    func testFavorAttentionForwardAndGradients() {
        for (b, n, heads, e, m) in [(1, 1, 1, 2, 3), (2, 5, 2, 3, 4), (1, 7, 3, 4, 9), (3, 4, 1, 5, 2)] {
            var rng = Xoshiro256(seed: UInt64(n * 31 + m))
            let p = RandomFeatures.gaussianOrthogonal(rows: m, columns: e, rng: &rng)
            let shape = [b, n, heads * e]
            let inputs = (0..<3).map { _ in CheckInput(values: gen.array(shape.reduce(1, *), scale: 1.5), shape: shape) }
            let base = (Ref(inputs[0].values.map(Double.init), shape), Ref(inputs[1].values.map(Double.init), shape))
            GradientCheck.run("favor B\(b) N\(n) H\(heads) E\(e) M\(m)", inputs, forwardTolerance: 2e-5, gradientTolerance: 2e-4,
                              engine: { $0.favorAttention($1[0], $1[1], $1[2], heads: heads, projection: p, features: m) },
                              reference: { r in
                                  TrainPerformerTests.favor(r[0], r[1], r[2], heads: heads, projection: p.map(Double.init), m: m,
                                                            stabilisersOf: base)
                              })
        }
    }

    func testFavorAttentionSameResultOnAnyThreadCount() {
        let shape = [3, 40, 4 * 8]
        var rng = Xoshiro256(seed: 5)
        let p = RandomFeatures.gaussianOrthogonal(rows: 20, columns: 8, rng: &rng)
        let vals = (0..<3).map { _ in gen.array(shape.reduce(1, *)) }
        func run(_ threads: Int) -> ([Float], [Float]) {
            BLAS.setThreads(threads)
            defer { BLAS.setThreads(1) }
            let tape = Tape()
            let t = vals.map { Tensor($0, shape: shape, requiresGrad: true) }
            let y = tape.favorAttention(t[0], t[1], t[2], heads: 4, projection: p, features: 20)
            tape.backward(tape.sum(tape.mul(y, y)))
            return (y.data, t[0].grad + t[1].grad + t[2].grad)
        }
        let one = run(1), two = run(2)
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
    }

    /// The ragged operation (cells of different lengths stacked row after row) equals the
    /// [1, N, H·E] operation run on each cell alone, bit for bit, forward and backward — over
    /// many shapes, with empty and one-row cells — and its gradient passes finite differences.
    func testRaggedFavorAttentionEqualsEachCellAlone() {
        let cases: [([Int], Int, Int, Int)] = [([1], 1, 2, 3), ([3, 5], 2, 3, 4), ([0, 4, 1], 1, 4, 5), ([7, 2, 9, 1], 3, 4, 9),
                                               ([40, 0, 17], 4, 8, 20), ([1, 1, 1], 2, 2, 2), ([64, 33], 4, 16, 44)]
        for (lengths, heads, e, m) in cases {
            var rng = Xoshiro256(seed: UInt64(lengths.reduce(0, +) * 7 + m))
            let p = RandomFeatures.gaussianOrthogonal(rows: m, columns: e, rng: &rng)
            let inner = heads * e, rows = lengths.reduce(0, +)
            let vals = (0..<3).map { _ in gen.array(rows * inner, scale: 1.5) }
            let weights = gen.array(rows * inner)
            let tape = Tape()
            let t = vals.map { Tensor($0, shape: [rows, inner], requiresGrad: true) }
            let y = tape.favorAttention(t[0], t[1], t[2], heads: heads, projection: p, features: m, lengths: lengths)
            tape.backward(tape.sum(tape.mul(y, Tensor(weights, shape: [rows, inner]))))
            var start = 0
            for n in lengths {
                defer { start += n }
                if n == 0 { continue }
                let range = (start * inner)..<((start + n) * inner)
                let one = Tape()
                let c = vals.map { Tensor(Array($0[range]), shape: [1, n, inner], requiresGrad: true) }
                let yc = one.favorAttention(c[0], c[1], c[2], heads: heads, projection: p, features: m)
                one.backward(one.sum(one.mul(yc, Tensor(Array(weights[range]), shape: [1, n, inner]))))
                let label = "lengths \(lengths) H\(heads) E\(e) M\(m), cell at row \(start)"
                XCTAssertEqual(Array(y.data[range]), yc.data, label)
                for i in 0..<3 { XCTAssertEqual(Array(t[i].grad[range]), c[i].grad, label + ", gradient \(i)") }
            }
        }
        // Finite differences on a ragged batch, against the float64 twin run per cell.
        let lengths = [3, 1, 4], heads = 2, e = 3, m = 4, inner = heads * e, rows = 8
        var rng = Xoshiro256(seed: 3)
        let p = RandomFeatures.gaussianOrthogonal(rows: m, columns: e, rng: &rng)
        let inputs = (0..<3).map { _ in CheckInput(values: gen.array(rows * inner, scale: 1.5), shape: [rows, inner]) }
        func perCell(_ r: [Ref], base: [Ref]) -> Ref {
            var out = [Double](), start = 0
            for n in lengths {
                let range = (start * inner)..<((start + n) * inner)
                func cut(_ x: Ref) -> Ref { Ref(Array(x.v[range]), [1, n, inner]) }
                out += TrainPerformerTests.favor(cut(r[0]), cut(r[1]), cut(r[2]), heads: heads, projection: p.map(Double.init), m: m,
                                                 stabilisersOf: (cut(base[0]), cut(base[1]))).v
                start += n
            }
            return Ref(out, [rows, inner])
        }
        let base = inputs.map { Ref($0.values.map(Double.init), [rows, inner]) }
        GradientCheck.run("ragged favor \(lengths)", inputs, forwardTolerance: 2e-5, gradientTolerance: 2e-4,
                          engine: { $0.favorAttention($1[0], $1[1], $1[2], heads: heads, projection: p, features: m, lengths: lengths) },
                          reference: { r in perCell(r, base: base) })
    }

    /// Zero sampling's encode (rows gather their own position-table rows, attention per cell)
    /// with every position of every cell in order is the full-sequence encode, value for value;
    /// and a cell's encodings do not depend on the other cells of its batch.
    func testEncodeByPositionsMatchesFullSequence() {
        let config = PerformerConfig(dim: 16, depth: 2, heads: 2, dimHead: 8, features: 10, ffHidden: 32, tokens: 7, positions: 30)
        let net = PerformerNetwork(config: config, seed: 4)
        var rng = Xoshiro256(seed: 9)
        let cells = 3, p = config.positions
        let tokens = (0..<(cells * p)).map { _ in Int32(rng.int(below: 7)) }
        let tape = Tape(training: false, recording: false)
        let full = net.encode(tape, tokens: tokens, batch: cells)
        let positions = (0..<(cells * p)).map { Int32($0 % p) }
        let ragged = net.encode(tape, tokens: tokens, positions: positions, lengths: [Int](repeating: p, count: cells))
        XCTAssertEqual(ragged.shape, [cells * p, 16])
        XCTAssertEqual(ragged.data, full.data)
        // A subset of positions per cell: cell 1 alone gives the rows it gives in the batch.
        let picks: [[Int32]] = [[0, 3, 7, 29], [1, 2, 5, 8, 13, 21, 29], [29]]
        let sub = picks.enumerated().flatMap { c, ps in ps.map { tokens[c * p + Int($0)] } }
        let batch = net.encode(tape, tokens: sub, positions: picks.flatMap { $0 }, lengths: picks.map(\.count))
        let alone = net.encode(tape, tokens: picks[1].map { tokens[p + Int($0)] }, positions: picks[1], lengths: [picks[1].count])
        XCTAssertEqual(Array(batch.data[(4 * 16)..<(11 * 16)]), alone.data)
    }

    // MARK: - Random features

    func testGaussianOrthogonalFeatures() {
        var rng = Xoshiro256(seed: 11)
        let (m, e) = (44, 16)
        let p = RandomFeatures.gaussianOrthogonal(rows: m, columns: e, rng: &rng)
        XCTAssertEqual(p.count, m * e)
        // Rows of one block are orthogonal; norms are chi-distributed (mean ≈ √E).
        var meanNorm = 0.0
        for i in 0..<m {
            let ri = (0..<e).map { Double(p[i * e + $0]) }
            let ni = ri.map { $0 * $0 }.reduce(0, +).squareRoot()
            meanNorm += ni / Double(m)
            for j in (i / e * e)..<min(m, (i / e + 1) * e) where j != i {
                let rj = (0..<e).map { Double(p[j * e + $0]) }
                let nj = rj.map { $0 * $0 }.reduce(0, +).squareRoot()
                XCTAssertLessThan(abs(zip(ri, rj).map { $0 * $1 }.reduce(0, +)) / (ni * nj), 1e-5, "rows \(i), \(j)")
            }
        }
        XCTAssertEqual(meanNorm, Double(e).squareRoot(), accuracy: 0.6)
        var again = Xoshiro256(seed: 11)
        XCTAssertEqual(RandomFeatures.gaussianOrthogonal(rows: m, columns: e, rng: &again), p, "same seed, same matrix")
    }

    // MARK: - The whole network against scBERT's outputs

    func testTapeForwardMatchesScBERTFixture() throws {
        let file = try WeightsFile.load(Fixtures.path("scbert-mini/model.safetensors"))
        let net = try PerformerNetwork(file, name: "scbert-mini", learnPositions: false)
        XCTAssertEqual(net.config.positions, 2001)
        let lines = try String(contentsOfFile: Fixtures.path("scbert-mini/tokens.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t") }
        let tokens = lines.flatMap { $0.dropFirst().map { Int32($0)! } }
        let cells = lines.count
        let encodings = try NPYArray(path: Fixtures.path("scbert-mini/encodings.npy")).floats
        let logits = try NPYArray(path: Fixtures.path("scbert-mini/logits.npy")).floats
        let tape = Tape(training: false, recording: false)
        // All six cells in one batch: each cell's key maximum is its own (a batch of one in scBERT).
        let enc = net.encode(tape, tokens: tokens, batch: cells)
        XCTAssertEqual(enc.shape, [cells, 2001, 64])
        let dEnc = assertClose(enc.data, encodings, atol: 1e-5, rtol: 1e-4, maxAbs: 2e-5, "tape encodings vs scBERT")
        let lg = net.logits(tape, tape.reshape(enc, [cells * 2001, 64]))
        let dLog = assertClose(lg.data, logits, atol: 5e-6, rtol: 1e-4, maxAbs: 1e-5, "tape logits vs scBERT")
        print("[TrainPerformerTests] tape forward vs scBERT: encodings max abs diff \(dEnc), logits \(dLog)")
    }

    func testStateDictLoadsInTheInferenceModel() throws {
        let c = PerformerConfig(dim: 16, depth: 2, heads: 2, dimHead: 8, features: 10, ffHidden: 64, tokens: 7, positions: 31)
        let net = PerformerNetwork(config: c, seed: 3)
        let model = try PerformerModel(net.stateDict(), name: "trained")
        XCTAssertEqual(model.config, c)
        // The inference encoder and the tape agree on a random cell.
        var rng = Xoshiro256(seed: 9)
        let tokens = (0..<31).map { i in Int32(i == 30 ? 0 : rng.int(below: 6)) }
        let encoder = PerformerEncoder(model: model, maxLength: 31)
        var out = [Float](repeating: 0, count: 31 * 16)
        out.withUnsafeMutableBufferPointer { encoder.encode(tokens: tokens, positions: (0..<31).map(Int32.init), output: $0.baseAddress!) }
        let tape = Tape(training: false, recording: false)
        let enc = net.encode(tape, tokens: tokens, batch: 1)
        assertClose(enc.data, out, atol: 1e-5, rtol: 1e-4, maxAbs: 2e-5, "tape vs PerformerEncoder")
        XCTAssertEqual(net.positionTable.data.suffix(16), [Float](repeating: 0, count: 16), "appended position row is zero")
    }
}
