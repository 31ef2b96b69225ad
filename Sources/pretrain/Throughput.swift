// Throughput: the figures of the pretrain benchmark (bench/pretrain_bench.sh) — training speed
// in positions per second and in floating-point operations, against the machine's SGEMM rate
// measured in the same process (the ceiling every dense model's training is judged against).

import Foundation
import Kernels
import LinearAlgebra
import Models

enum Throughput {
    /// Floating-point operations of one training step: 3 × the forward pass (forward, and a
    /// backward pass of about twice its cost) of every cell, plus the token head.
    static func stepFlops(_ c: PerformerConfig, length: Int, batch: Int) -> Double {
        3 * Double(batch) * c.flops(length: length)
    }

    /// The median rate, in FLOP/s, of `repeats` square sgemm calls of size n on the current BLAS
    /// thread count (OpenBLAS's own threading: its best case).
    static func sgemmRate(n: Int = 1024, repeats: Int = 7) -> Double {
        var rng = Xoshiro256(seed: 42)
        let a = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }, b = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }
        var c = [Float](repeating: 0, count: n * n)
        var times = [Double]()
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for r in 0...repeats {   // the first call warms up and is not counted
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        BLAS.sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        if r > 0 { times.append(t) }
                    }
                }
            }
        }
        times.sort()
        return 2 * Double(n * n * n) / times[times.count / 2]
    }
}
