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

    /// CPU seconds this process has used (every thread): on a shared machine, a one-thread rate
    /// per CPU second is what the same work takes on a quiet one, while wall time is not.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// The median rates, in FLOP/s of wall time and of process CPU time, of `repeats` square sgemm
    /// calls of size n on the current BLAS thread count (OpenBLAS's own threading: its best case).
    static func sgemmRates(n: Int = 1024, repeats: Int = 7) -> (wall: Double, cpu: Double) {
        var cpu = [Double]()
        let wall = sgemmRate(n: n, repeats: repeats) { cpu.append($0) }
        cpu.sort()
        return (wall, 2 * Double(n * n * n) / cpu[cpu.count / 2])
    }

    /// The median rate, in FLOP/s, of `repeats` square sgemm calls of size n on the current BLAS
    /// thread count (OpenBLAS's own threading: its best case); `cpuTime` receives each call's CPU seconds.
    static func sgemmRate(n: Int = 1024, repeats: Int = 7, cpuTime: (Double) -> Void = { _ in }) -> Double {
        var rng = Xoshiro256(seed: 42)
        let a = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }, b = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }
        var c = [Float](repeating: 0, count: n * n)
        var times = [Double]()
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for r in 0...repeats {   // the first call warms up and is not counted
                        let t0 = DispatchTime.now().uptimeNanoseconds, c0 = processCPUSeconds()
                        BLAS.sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        if r > 0 { times.append(t); cpuTime(processCPUSeconds() - c0) }
                    }
                }
            }
        }
        times.sort()
        return 2 * Double(n * n * n) / times[times.count / 2]
    }
}
