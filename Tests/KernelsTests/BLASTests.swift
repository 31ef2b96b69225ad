// BLAS against the plain-loop reference over many shapes, transposes and leading dimensions.

import Foundation
import LinearAlgebra
import TestSupport
import XCTest

final class BLASTests: XCTestCase {
    struct LCG {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    /// Only OpenBLAS's generic fallback ("Prescott") is replaced, by the CPU's own family, and
    /// never a family the user set in OPENBLAS_CORETYPE or one OpenBLAS chose for a CPU it knows.
    func testOnlyTheGenericFallbackIsReplaced() {
        XCTAssertEqual(BLAS.replacementCore(loaded: "Prescott", requested: nil, featureCore: "Cooperlake"), "Cooperlake")
        XCTAssertEqual(BLAS.replacementCore(loaded: "Prescott", requested: nil, featureCore: "Haswell"), "Haswell")
        XCTAssertEqual(BLAS.replacementCore(loaded: "PRESCOTT", requested: nil, featureCore: "SkylakeX"), "SkylakeX")
        XCTAssertNil(BLAS.replacementCore(loaded: "Prescott", requested: "Prescott", featureCore: "SkylakeX"))
        XCTAssertNil(BLAS.replacementCore(loaded: "Prescott", requested: "", featureCore: "SkylakeX"))
        XCTAssertNil(BLAS.replacementCore(loaded: "Haswell", requested: nil, featureCore: "SkylakeX"))
        XCTAssertNil(BLAS.replacementCore(loaded: "Prescott", requested: nil, featureCore: nil))
        XCTAssertTrue([nil, "Cooperlake", "SkylakeX", "Haswell"].contains(BLAS.featureCore))
        // This test process links the restart too: it runs the generic kernels on a CPU with better
        // ones only when someone set OPENBLAS_CORETYPE so.
        if BLAS.coreName.lowercased() == "prescott", BLAS.featureCore != nil {
            XCTAssertNotNil(getenv("OPENBLAS_CORETYPE"), "the generic kernels on a CPU with \(BLAS.featureCore!)'s")
        }
    }

    /// Subnormal floats are zeros on every thread, OpenBLAS's included: a product of subnormal
    /// entries by 1e30 would be about 1e-9 per term without DAZ; it is 0 on every row, so on the rows
    /// OpenBLAS's second thread computed too. (A product with a few subnormals ran 15–60 × slower.)
    func testSubnormalsAreFlushedOnEveryThread() {
        #if arch(x86_64)
        XCTAssertTrue(BLAS.subnormalsFlushed, "the test runner's main thread")
        final class Flag: @unchecked Sendable { var value = false }
        let spawned = Flag(), done = DispatchSemaphore(value: 0)
        Thread { spawned.value = BLAS.subnormalsFlushed; done.signal() }.start()
        done.wait()
        XCTAssertTrue(spawned.value, "a thread the program starts")
        let before = BLAS.threads
        defer { BLAS.setThreads(before) }
        BLAS.setThreads(2)
        let n = 512
        let a = [Float](repeating: 1e-39, count: n * n), b = [Float](repeating: 1e30, count: n * n)
        XCTAssertTrue(a[0].isSubnormal)
        var c = [Float](repeating: -1, count: n * n)
        BLAS.sgemm(m: n, n: n, k: n, a, b, &c)
        let rows = (0..<n).filter { i in c[(i * n)..<((i + 1) * n)].contains { $0 != 0 } }
        XCTAssertEqual(rows.count, 0, "rows with a subnormal input counted: \(rows.prefix(3)) …")
        #endif
    }

    func testSgemmMatchesReferenceOverShapes() {
        var rng = LCG(state: 42)
        let sizes = [1, 2, 3, 7, 16, 33, 65]
        var cases = 0
        for m in sizes { for n in [1, 5, 17, 64] { for k in [0, 1, 4, 31, 100] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let pad = (m + n + k) % 3  // leading dimensions larger than the rows
                let lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad
                let a = (0..<((ta ? k : m) * lda)).map { _ in rng.next() }
                let b = (0..<((tb ? n : k) * ldb)).map { _ in rng.next() }
                let c0 = (0..<(m * ldc)).map { _ in rng.next() }
                let alpha: Float = 0.75, beta: Float = (m + k) % 2 == 0 ? 0 : 0.5
                var want = c0
                ReferenceKernels.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha,
                                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &want, ldc: ldc)
                var got = c0
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in got.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                               b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc)
                } } }
                let d = zip(got, want).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(d, 1e-4 * Float(max(k, 1)), "sgemm m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb)")
                cases += 1
            }
        } } }
        XCTAssertEqual(cases, 7 * 4 * 5 * 4)
    }

    func testSgemvMatchesReference() {
        var rng = LCG(state: 7)
        for rows in [1, 3, 40] { for cols in [1, 8, 57] { for trans in [false, true] {
            let a = (0..<(rows * cols)).map { _ in rng.next() }
            let x = (0..<(trans ? rows : cols)).map { _ in rng.next() }
            let y0 = (0..<(trans ? cols : rows)).map { _ in rng.next() }
            var want = y0
            ReferenceKernels.sgemv(trans: trans, rows: rows, cols: cols, alpha: 1.5, a: a, lda: cols, x: x, beta: 0.25, y: &want)
            var got = y0
            a.withUnsafeBufferPointer { ap in x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { yp in
                BLAS.sgemv(trans: trans, rows: rows, cols: cols, alpha: 1.5, a: ap.baseAddress!, lda: cols,
                           x: xp.baseAddress!, beta: 0.25, y: yp.baseAddress!)
            } } }
            assertClose(got, want, atol: 1e-5, rtol: 1e-5, "sgemv \(rows)x\(cols) trans=\(trans)")
        } } }
    }
}
