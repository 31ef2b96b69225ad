// Vector: the small explicit-SIMD loops the operations share (dot product, axpy), written with
// a fixed lane layout so their results are the same on every run and every thread count.

import LinearAlgebra

extension EngineLoops {
    /// Σ a[i]·b[i] over n values: eight lanes of products accumulated in index order, lanes summed
    /// in a fixed order, then the tail.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            acc += x * y   // not addingProduct: without -mfma that is a libm call per lane
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// y[i] += alpha·x[i] over n values.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let a = SIMD8<Float>(repeating: alpha)
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv + a * xv, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// y[i] = alpha·x[i] over n values (axpy onto a buffer not yet written).
    @inline(__always)
    static func scale(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = alpha * x[i] }
    }

    /// An array of n values whose contents the caller overwrites entirely (no zero fill).
    @inline(__always)
    static func uninitialized(_ n: Int, _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: n) { buffer, count in
            fill(buffer)
            count = n
        }
    }
}

extension EngineLoops {
    /// Runs body over contiguous sub-ranges of 0..<count on up to `BLAS.threads` workers, for loops
    /// whose iterations are independent (each writes only its own outputs), so the split cannot
    /// change any result. Counts under `grain` run inline.
    static func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let workers = min(BLAS.threads, count / max(grain, 1))
        if workers <= 1 { if count > 0 { body(0..<count) }; return }
        let size = (count + workers - 1) / workers
        EngineLoops.parallel(workers, workers: workers) { w in
            let lo = w * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }
}
