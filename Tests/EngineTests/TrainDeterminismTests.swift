// Determinism: the same seed gives bit-identical parameters after training, with OpenBLAS on
// one thread or two, on a GENELink-sized model (1,448 genes, 425 inputs, heads [3, 3]) whose
// matrix products are large enough for OpenBLAS to split them across threads.

import Engine
import Foundation
import Kernels
import LinearAlgebra
import Models
import TestSupport
import XCTest

final class TrainDeterminismTests: XCTestCase {
    /// A few Adam steps of GENELink on seeded inputs; returns every parameter's values.
    static func train(threads: Int, seed: UInt64, steps: Int = 2, genes: Int = 1448, inputs: Int = 425) -> [[Float]] {
        let saved = BLAS.threads
        BLAS.setThreads(threads)
        defer { BLAS.setThreads(saved) }
        var rng = Xoshiro256(seed: 100)
        let x = Tensor.normal([genes, inputs], std: 1, rng: &rng, requiresGrad: false)
        let pairs = (0..<5000).map { _ in (rng.int(below: genes), rng.int(below: genes)) }
        let graph = NeighbourGraph.undirected(nodeCount: genes, pairs: pairs)
        let net = JointGRNNetwork(JointGRNConfiguration(profileDim: inputs), seed: seed)
        let isolated = IsolatedNodes(graph)
        let opt = Adam(net.parameters, learningRate: 3e-3)
        let schedule = StepDecay(base: 3e-3, stepSize: 1, gamma: 0.99)
        for step in 0..<steps {
            let regs = (0..<256).map { _ in Int32(rng.int(below: genes)) }, tgts = (0..<256).map { _ in Int32(rng.int(below: genes)) }
            let labels = Tensor((0..<256).map { Float($0 % 2) }, shape: [256, 1])
            let tape = Tape(seed: seed &+ UInt64(step))
            let (r, t) = net.embed(tape, profiles: x, embedding: nil, graph: graph, isolated: isolated)
            let loss = tape.binaryCrossEntropyWithLogits(net.score(tape, regulator: r, target: t, regulators: regs, targets: tgts), labels)
            net.zeroGrad()
            tape.backward(loss)
            opt.step()
            schedule.apply(to: opt, step: step + 1)
        }
        return net.parameters.map { $0.tensor.data }
    }

    func testSameSeedSameParametersWhateverTheThreadCount() {
        let one = Self.train(threads: 1, seed: 8)
        let two = Self.train(threads: 2, seed: 8)
        let again = Self.train(threads: 2, seed: 8)
        let names = JointGRNNetwork(JointGRNConfiguration(profileDim: 425), seed: 8).parameters.map(\.name)
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
        for (k, name) in names.enumerated() {
            XCTAssertEqual(differing(one[k], two[k]), 0, "\(name): values differing in bits between 1 and 2 threads")
            XCTAssertEqual(differing(two[k], again[k]), 0, "\(name): values differing in bits between two runs")
        }
        let other = Self.train(threads: 2, seed: 9)
        XCTAssertNotEqual(other[0], two[0], "another seed gives another model")
    }
}
