// Optimisers, schedules, clipping, initialisation, the generator and checkpoints.
//
// Expected optimiser trajectories were produced by torch 2.13.0 (CPU, float32, foreach=False) on
// the same parameters and gradient sequence: p0 = [0.5, −1, 2, 0], step s (from 1) gradient
// g = [0.1·s − 0.3, 0.5, −0.2·s, 0.001·s].

import Engine
import Foundation
import Kernels
import TestSupport
import ToolKit
import XCTest

final class TrainOptimizerTests: XCTestCase {
    static let p0: [Float] = [0.5, -1.0, 2.0, 0.0]
    static func gradient(_ s: Int) -> [Float] {
        let d = Double(s)
        return [Float(0.1 * d - 0.3), 0.5, Float(-0.2 * d), Float(1e-3 * d)]
    }

    /// Runs three steps and compares every parameter value after each with torch's.
    func trajectory(_ label: String, _ make: ([NamedParameter]) -> Optimizer, _ want: [[Double]]) {
        let p = Tensor(Self.p0, shape: [4], requiresGrad: true)
        let opt = make([NamedParameter("p", p)])
        for (s, row) in want.enumerated() {
            p.grad = Self.gradient(s + 1)
            opt.step()
            for (got, w) in zip(p.data, row) {
                XCTAssertEqual(Double(got), w, accuracy: 2e-7 * max(1, abs(w)), "\(label) step \(s + 1)")
            }
        }
        XCTAssertEqual(opt.stepCount, want.count)
    }

    func testAdamMatchesTorch() {
        trajectory("adam", { Adam($0, learningRate: 0.01) }, [
            [0.5099999904632568, -1.0099999904632568, 2.009999990463257, -0.009999900124967098],
            [0.5193217992782593, -1.0199999809265137, 2.0196518898010254, -0.019651658833026886],
            [0.5265275835990906, -1.0299999713897705, 2.0292317867279053, -0.02923162654042244]])
        trajectory("adam with L2 weight decay", { Adam($0, learningRate: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1) }, [
            [0.5029999613761902, -1.003000020980835, 2.0, -0.0029970030300319195],
            [0.5055363178253174, -1.0059999227523804, 2.0023510456085205, -0.005978837609291077],
            [0.506633996963501, -1.0089995861053467, 2.005007266998291, -0.008985921740531921]])
    }

    func testAdamWMatchesTorch() {
        trajectory("adamw", { Adam.adamW($0, learningRate: 0.01, weightDecay: 0.05) }, [
            [0.5097500085830688, -1.0095000267028809, 2.009000062942505, -0.009999900124967098],
            [0.5188169479370117, -1.0189952850341797, 2.0176475048065186, -0.01964665949344635],
            [0.5257633328437805, -1.0284857749938965, 2.0262184143066406, -0.02921680361032486]])
    }

    func testSGDMatchesTorch() {
        trajectory("sgd", { SGD($0, learningRate: 0.1) }, [
            [0.5199999809265137, -1.0499999523162842, 2.0199999809265137, -0.00010000000474974513],
            [0.5299999713897705, -1.0999999046325684, 2.059999942779541, -0.0003000000142492354],
            [0.5299999713897705, -1.1499998569488525, 2.119999885559082, -0.0006000000284984708]])
        trajectory("sgd momentum", { SGD($0, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }, [
            [0.5195000171661377, -1.0490000247955322, 2.0179998874664307, -0.00010000000474974513],
            [0.5455824732780457, -1.1371558904647827, 2.0683836936950684, -0.00036991003435105085],
            [0.5685656666755676, -1.2604727745056152, 2.165867567062378, -0.0008824961259961128]])
        trajectory("sgd nesterov", { SGD($0, learningRate: 0.05, momentum: 0.8, nesterov: true) }, [
            [0.5180000066757202, -1.0449999570846558, 2.0179998874664307, -9.000000864034519e-05],
            [0.5333999991416931, -1.1059999465942383, 2.0603997707366943, -0.00030200002947822213],
            [0.5417199730873108, -1.1797999143600464, 2.132319688796997, -0.0006616000318899751]])
    }

    func testAdamFirstStepByHand() {
        // At step 1 Adam moves each value by lr · g / (|g| + eps·…) ≈ lr · sign(g): the textbook check.
        let p = Tensor([1, 1], shape: [2], requiresGrad: true)
        let opt = Adam([NamedParameter("p", p)], learningRate: 0.5)
        p.grad = [4, -0.25]
        opt.step()
        XCTAssertEqual(p.data[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(p.data[1], 1.5, accuracy: 1e-6)
    }

    func testParameterWithoutGradientIsLeftAlone() {
        let a = Tensor([1], shape: [1], requiresGrad: true), b = Tensor([2], shape: [1], requiresGrad: true)
        let opt = Adam([NamedParameter("a", a), NamedParameter("b", b)], learningRate: 0.1)
        a.grad = [1]
        opt.step()
        XCTAssertEqual(b.data, [2])
        XCTAssertNotEqual(a.data, [1])
    }

    // MARK: - Schedules and clipping

    func testStepDecayMatchesTorchStepLR() {
        let s = StepDecay(base: 3e-3, stepSize: 1, gamma: 0.99)   // GENELink's schedule
        XCTAssertEqual(s.rate(at: 0), 0.003)
        // torch's rates, to float32 rounding (the engine's learning rate is a Float).
        XCTAssertEqual(s.rate(at: 1), Float(0.00297))
        XCTAssertEqual(s.rate(at: 10), Float(0.0027131462250264133))
        XCTAssertEqual(s.rate(at: 299), Float(0.000148608769912987))
        let s3 = StepDecay(base: 0.1, stepSize: 3, gamma: 0.5)
        XCTAssertEqual((0..<8).map { s3.rate(at: $0) }, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])
    }

    func testCosineWithWarmup() {
        let s = CosineWithWarmup(base: 1e-3, warmupSteps: 4, totalSteps: 12)
        XCTAssertEqual(s.rate(at: 0), 0)
        XCTAssertEqual(s.rate(at: 2), 5e-4)
        XCTAssertEqual(s.rate(at: 4), 1e-3)
        XCTAssertEqual(Double(s.rate(at: 8)), 5e-4, accuracy: 1e-10)   // half-way down the cosine
        XCTAssertEqual(Double(s.rate(at: 12)), 0, accuracy: 1e-12)
        XCTAssertEqual(Double(s.rate(at: 20)), 0, accuracy: 1e-12)
        let floor = CosineWithWarmup(base: 1, warmupSteps: 0, totalSteps: 10, minFactor: 0.1)
        XCTAssertEqual(floor.rate(at: 0), 1)
        XCTAssertEqual(Double(floor.rate(at: 10)), 0.1, accuracy: 1e-7)
        let opt = SGD([], learningRate: 1)
        s.apply(to: opt, step: 2)
        XCTAssertEqual(opt.learningRate, 5e-4)
    }

    func testClipGradientNormMatchesTorch() {
        let a = Tensor.zeros([2, 2], requiresGrad: true), b = Tensor.zeros([3], requiresGrad: true)
        a.grad = [3, -4, 1, 2]; b.grad = [0.5, -0.5, 6]
        let n = clipGradientNorm([NamedParameter("a", a), NamedParameter("b", b)], maxNorm: 2)
        XCTAssertEqual(Double(n), 8.154753684997559, accuracy: 1e-6)
        assertClose(a.grad, [0.7357670664787292, -0.9810227751731873, 0.24525569379329681, 0.49051138758659363], atol: 2e-7, "clipped a")
        assertClose(b.grad, [0.12262784689664841, -0.12262784689664841, 1.4715341329574585], atol: 2e-7, "clipped b")
        // Below the limit nothing changes.
        let before = b.grad
        clipGradientNorm([NamedParameter("b", b)], maxNorm: 100)
        XCTAssertEqual(b.grad, before)
    }

    // MARK: - Generator and initialisation

    func testXoshiroMatchesTheAlgorithm() {
        // First outputs for seed 42 from an independent Python transcription of SplitMix64 + xoshiro256**.
        var g = Xoshiro256(seed: 42)
        XCTAssertEqual([g.next(), g.next(), g.next()], [1546998764402558742, 6990951692964543102, 12544586762248559009])
    }

    func testGeneratorDraws() {
        var g = Xoshiro256(seed: 7)
        let u = (0..<100_000).map { _ in g.nextFloat() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Double(u.reduce(0, +)) / 1e5, 0.5, accuracy: 0.005)
        let z = (0..<100_000).map { _ in g.normal() }
        let mean = z.reduce(0, +) / 1e5
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 1e5
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        let ints = (0..<60_000).map { _ in g.int(below: 6) }
        for v in 0..<6 { XCTAssertEqual(Double(ints.filter { $0 == v }.count) / 60_000, 1 / 6, accuracy: 0.01) }
        XCTAssertEqual(g.shuffled(Array(0..<10)).sorted(), Array(0..<10))
        var a = Xoshiro256(seed: 3), b = Xoshiro256(seed: 3)
        XCTAssertEqual((0..<10).map { _ in a.normal() }, (0..<10).map { _ in b.normal() })
    }

    func testInitialisationBoundsAndSpread() {
        var g = Xoshiro256(seed: 1)
        let xu = Tensor.xavierUniform([300, 200], gain: 1.414, rng: &g)
        let bound = Float(1.414 * (6.0 / 500).squareRoot())
        XCTAssertTrue(xu.data.allSatisfy { abs($0) <= bound })
        XCTAssertEqual(Double(xu.data.map { abs($0) }.max()!), Double(bound), accuracy: 0.01 * Double(bound))
        func std(_ v: [Float]) -> Double {
            let m = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
            return (v.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(v.count)).squareRoot()
        }
        XCTAssertEqual(std(Tensor.xavierNormal([300, 200], rng: &g).data), (2.0 / 500).squareRoot(), accuracy: 0.002)
        let ku = Tensor.kaimingUniform([400, 100], nonlinearity: .relu, rng: &g)
        XCTAssertTrue(ku.data.allSatisfy { abs($0) <= Float(2.0.squareRoot() * (3.0 / 400).squareRoot()) })
        XCTAssertEqual(std(Tensor.kaimingNormal([400, 100], nonlinearity: .leakyRelu(0.2), rng: &g).data),
                       (2 / 1.04).squareRoot() / 20, accuracy: 0.002)
        var g1 = Xoshiro256(seed: 9), g2 = Xoshiro256(seed: 9)
        XCTAssertEqual(Tensor.xavierUniform([3, 3], rng: &g1).data, Tensor.xavierUniform([3, 3], rng: &g2).data)
    }

    // MARK: - Checkpoints

    func model(seed: UInt64) -> [NamedParameter] {
        var g = Xoshiro256(seed: seed)
        return [NamedParameter("w", Tensor.xavierUniform([3, 2], rng: &g)), NamedParameter("b", Tensor.zeros([2], requiresGrad: true))]
    }

    func trainSteps(_ ps: [NamedParameter], _ opt: Optimizer, from: Int, to: Int) {
        let x = Tensor([1, 2, 3, -1, 0.5, 2], shape: [2, 3]), t = Tensor([1, 0, 0, 1], shape: [2, 2])
        for _ in from..<to {
            let tape = Tape()
            let loss = tape.meanSquaredError(tape.add(tape.matmul(x, ps[0].tensor), ps[1].tensor), t)
            ps.zeroGrad()
            tape.backward(loss)
            opt.step()
        }
    }

    func testCheckpointResumesBitIdentically() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        for kind in ["adam", "adamw", "sgd"] {
            func optimizer(_ ps: [NamedParameter]) -> Optimizer {
                switch kind {
                case "adam": return Adam(ps, learningRate: 0.01, weightDecay: 0.01)
                case "adamw": return Adam.adamW(ps, learningRate: 0.01)
                default: return SGD(ps, learningRate: 0.05, momentum: 0.9)
                }
            }
            let straight = model(seed: 4)
            let o1 = optimizer(straight)
            trainSteps(straight, o1, from: 0, to: 10)

            let first = model(seed: 4)
            let o2 = optimizer(first)
            trainSteps(first, o2, from: 0, to: 4)
            let path = dir.appendingPathComponent("\(kind).safetensors").path
            try Checkpoint.save(first, optimizer: o2, metadata: ["epoch": "4"], to: path)

            let resumed = model(seed: 99)   // different values: all must come from the file
            let o3 = optimizer(resumed)
            let meta = try Checkpoint.load(resumed, optimizer: o3, from: path)
            XCTAssertEqual(meta["epoch"], "4")
            XCTAssertEqual(o3.stepCount, 4)
            trainSteps(resumed, o3, from: 4, to: 10)
            for (a, b) in zip(straight, resumed) { XCTAssertEqual(a.tensor.data, b.tensor.data, "\(kind): \(a.name) after resuming") }
        }
    }

    func testBadCheckpointIsRejectedAndChangesNothing() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let ps = model(seed: 1)
        let path = dir.appendingPathComponent("m.safetensors").path
        try Checkpoint.save(ps, to: path)

        let wrongShape = [NamedParameter("w", Tensor.zeros([2, 3], requiresGrad: true)), NamedParameter("b", Tensor.zeros([2], requiresGrad: true))]
        XCTAssertThrowsError(try Checkpoint.load(wrongShape, from: path)) { e in
            XCTAssertEqual((e as? ToolError)?.exitCode, 65)
            XCTAssertTrue("\(e)".contains("'w'"), "\(e)")
        }
        XCTAssertTrue(wrongShape[0].tensor.data.allSatisfy { $0 == 0 })

        let extra = ps + [NamedParameter("c", Tensor.zeros([1], requiresGrad: true))]
        XCTAssertThrowsError(try Checkpoint.load(extra, from: path)) { e in XCTAssertTrue("\(e)".contains("lacks parameter 'c'")) }

        let other = model(seed: 2)
        let before = other[0].tensor.data
        XCTAssertThrowsError(try Checkpoint.load(other, optimizer: Adam(other), from: path)) { e in
            XCTAssertEqual((e as? ToolError)?.exitCode, 65)
        }
        XCTAssertEqual(other[0].tensor.data, before, "a failed load must not half-apply")

        let garbage = dir.appendingPathComponent("g.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: garbage))
        XCTAssertThrowsError(try Checkpoint.load(ps, from: garbage)) { e in XCTAssertEqual((e as? ToolError)?.exitCode, 65) }
    }
}
