// The pretrain and graphify hot paths rewritten for speed against the plain forms they replace,
// bit for bit: GELU keeping Φ(x) for its backward against the generic element-wise loop with
// GELUFunction (which recomputes erf), LayerNorm with its rows split over two workers against
// one, fresh gradients against adding into zeros, and the per-row broadcast against the index-map
// path. They must give the same floats, or the default model would no longer rebuild bit for bit
// and graphify's models would change.

@testable import Engine
import Foundation
import Kernels
import LinearAlgebra
import TestSupport
import XCTest

final class TrainKernelTwinTests: XCTestCase {
    var gen = TestValues(31)

    func testGELUEqualsTheGenericElementwiseLoop() {
        for count in [1, 2, 7, 64, 1000, (1 << 15) - 1, 1 << 15, (1 << 16) + 3, 100_003] {
            for threads in [1, 2] {
                BLAS.setThreads(threads)
                defer { BLAS.setThreads(1) }
                var values = gen.array(count, scale: 4)
                if count > 8 { values[0] = 0; values[1] = -0.0; values[2] = 30; values[3] = -30; values[4] = 1e-30 }
                let g = gen.array(count)
                func run(_ f: (Tape, Tensor) -> Tensor) -> ([Float], [Float]) {
                    let tape = Tape()
                    let x = Tensor(values, shape: [count], requiresGrad: true)
                    let y = f(tape, x)
                    tape.backward(tape.sum(tape.mul(y, Tensor(g, shape: [count]))))
                    return (y.data, x.grad)
                }
                let fast = run { $0.gelu($1) }, plain = run { $0.elementwise($1, GELUFunction()) }
                XCTAssertEqual(fast.0, plain.0, "GELU forward, \(count) values, \(threads) threads")
                XCTAssertEqual(fast.1, plain.1, "GELU gradient, \(count) values, \(threads) threads")
                // Without a tape the forward is the same too.
                let off = Tape(training: false, recording: false).gelu(Tensor(values, shape: [count]))
                XCTAssertEqual(off.data, plain.0)
            }
        }
    }

    func testLayerNormSameOnOneAndTwoWorkers() {
        for (rows, d) in [(1, 1), (3, 5), (1, 64), (257, 64), (1000, 16), (4096, 64), (10_000, 7)] {
            let x = gen.array(rows * d, scale: 3), gamma = gen.array(d), beta = gen.array(d), g = gen.array(rows * d)
            func run(_ threads: Int) -> [[Float]] {
                BLAS.setThreads(threads)
                defer { BLAS.setThreads(1) }
                let tape = Tape()
                let xt = Tensor(x, shape: [rows, d], requiresGrad: true)
                let gt = Tensor(gamma, shape: [d], requiresGrad: true), bt = Tensor(beta, shape: [d], requiresGrad: true)
                let y = tape.layerNorm(xt, gamma: gt, beta: bt)
                tape.backward(tape.sum(tape.mul(y, Tensor(g, shape: [rows, d]))))
                return [y.data, xt.grad, gt.grad, bt.grad]
            }
            XCTAssertEqual(run(1), run(2), "layerNorm \(rows)x\(d)")
        }
    }

    /// A gradient written fresh (no buffer yet) equals one added into a zeroed buffer, bit for bit
    /// (signed zeros included): the residual add's second operand and LayerNorm's input.
    func testFreshGradientsEqualAddingIntoZeros() {
        for (rows, d) in [(1, 1), (3, 5), (257, 64), (4096, 64)] {
            var g = gen.array(rows * d)
            g[0] = -0.0
            let x = gen.array(rows * d, scale: 3), z = gen.array(rows * d), gamma = gen.array(d), beta = gen.array(d)
            for kind in [0, 1, 2] {
                func run(_ zeroed: Bool) -> [Float] {
                    let tape = Tape()
                    let a = Tensor(x, shape: [rows, d], requiresGrad: true), b = Tensor(z, shape: [rows, d], requiresGrad: true)
                    if zeroed { b.grad = [Float](repeating: 0, count: rows * d) }
                    let y: Tensor
                    switch kind {
                    case 0: y = tape.add(a, b)
                    case 1: y = tape.sub(a, b)
                    default: y = tape.layerNorm(b, gamma: Tensor(gamma, shape: [d]), beta: Tensor(beta, shape: [d]))
                    }
                    tape.backward(y, seed: g)
                    return b.grad
                }
                let fresh = run(false), zeroed = run(true)
                XCTAssertEqual(fresh.map(\.bitPattern), zeroed.map(\.bitPattern), "kind \(kind), \(rows)x\(d)")
            }
        }
    }

    /// One value of b per row of a ([N,1] on [N,D], graphify's graph-dropout mask) takes a fast
    /// path; it must give the floats of the general index-map path, which the same values shaped
    /// [1,N,D] and [1,N,1] take: outputs and both gradients, fresh and accumulated.
    func testRowScalarBroadcastEqualsTheIndexMapPath() {
        for (rows, cols) in [(2, 3), (3, 5), (257, 64), (948, 64)] {
            var x = gen.array(rows * cols, scale: 3)
            x[0] = -0.0
            let z = gen.array(rows, scale: 0.5, offset: 1.5), g = gen.array(rows * cols), prior = gen.array(rows * cols)
            for kind in 0..<4 {
                for accumulated in [false, true] {
                    func run(_ general: Bool) -> [[UInt32]] {
                        let tape = Tape()
                        let a = Tensor(x, shape: general ? [1, rows, cols] : [rows, cols], requiresGrad: true)
                        let b = Tensor(z, shape: general ? [1, rows, 1] : [rows, 1], requiresGrad: true)
                        if accumulated { a.grad = prior; b.grad = Array(prior.prefix(rows)) }
                        let y = [tape.add, tape.sub, tape.mul, tape.div][kind](a, b)
                        tape.backward(y, seed: g)
                        return [y.data, a.grad, b.grad].map { $0.map(\.bitPattern) }
                    }
                    XCTAssertEqual(run(false), run(true), "kind \(kind), \(rows)x\(cols), accumulated \(accumulated)")
                }
            }
        }
    }
}
