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

    /// Any family OpenBLAS loaded other than the CPU's instruction-set family is replaced by it,
    /// and never a family the user set in OPENBLAS_CORETYPE.
    func testAFamilyOtherThanTheCPUsIsReplaced() {
        XCTAssertEqual(BLAS.replacementCore(loaded: "Prescott", requested: nil, featureCore: "Cooperlake"), "Cooperlake")
        XCTAssertEqual(BLAS.replacementCore(loaded: "Prescott", requested: nil, featureCore: "Sandybridge"), "Sandybridge")
        XCTAssertEqual(BLAS.replacementCore(loaded: "PRESCOTT", requested: nil, featureCore: "SkylakeX"), "SkylakeX")
        XCTAssertEqual(BLAS.replacementCore(loaded: "Zen", requested: nil, featureCore: "Sandybridge"), "Sandybridge")
        XCTAssertEqual(BLAS.replacementCore(loaded: "Haswell", requested: nil, featureCore: "Sandybridge"), "Sandybridge")
        XCTAssertEqual(BLAS.replacementCore(loaded: "SkylakeX", requested: nil, featureCore: "Cooperlake"), "Cooperlake")
        XCTAssertNil(BLAS.replacementCore(loaded: "Cooperlake", requested: nil, featureCore: "Cooperlake"))
        XCTAssertNil(BLAS.replacementCore(loaded: "sandybridge", requested: nil, featureCore: "Sandybridge"))
        XCTAssertNil(BLAS.replacementCore(loaded: "Prescott", requested: "Prescott", featureCore: "SkylakeX"))
        XCTAssertNil(BLAS.replacementCore(loaded: "Zen", requested: "", featureCore: "Sandybridge"))
        XCTAssertNil(BLAS.replacementCore(loaded: "Prescott", requested: nil, featureCore: nil))
        XCTAssertTrue([nil, "Cooperlake", "SkylakeX", "Sandybridge"].contains(BLAS.featureCore))
        // This test process links the restart too: it runs another family than the CPU's only when
        // someone set OPENBLAS_CORETYPE so.
        if let feature = BLAS.featureCore, BLAS.coreName.lowercased() != feature.lowercased() {
            XCTAssertNotNil(getenv("OPENBLAS_CORETYPE"), "\(BLAS.coreName)'s kernels on a CPU with \(feature)'s")
        }
    }

    /// What the tools rely on (docs/ENGINE.md, "Determinism"): a row of a product comes out the
    /// same bits wherever it falls — in a subset of the rows, among equal rows, in a product split
    /// over columns or run on two of OpenBLAS's threads — over shapes and transposes, with inner
    /// sizes up to 200, those of the products that need it (embeddings, graphify's channels, score).
    /// (OpenBLAS's Haswell and Zen kernels fail it, and so does its generic fallback; with larger
    /// inner sizes OpenBLAS's threads change some products on any family.)
    func testAProductsRowsDoNotDependOnWhereTheyFall() {
        var rng = LCG(state: 11)
        let before = BLAS.threads
        defer { BLAS.setThreads(before) }
        var cases = 0
        let shapes = [1, 3, 7, 40, 130, 300].flatMap { m in [1, 5, 16, 64, 300].flatMap { n in [8, 32, 64, 200].map { k in (m, n, k) } } }
        for (m, n, k) in shapes {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                let a = (0..<(m * k)).map { _ in rng.next() }, b = (0..<(k * n)).map { _ in rng.next() }
                BLAS.setThreads(1)
                var whole = [Float](repeating: 0, count: m * n)
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a, b, &whole)
                let label = "m \(m) n \(n) k \(k) transA \(transA) transB \(transB)"
                // A block of `rows` × `cols` of C from A and B read in place at the offsets (leading
                // dimensions as for the whole), written at `cOffset` with the whole's row length.
                func block(rows: Int, cols: Int, aOffset: Int, bOffset: Int, into c: inout [Float], cOffset: Int) {
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                BLAS.sgemm(transA: transA, transB: transB, m: rows, n: cols, k: k,
                                           a: ap.baseAddress! + aOffset, lda: transA ? m : k, b: bp.baseAddress! + bOffset,
                                           ldb: transB ? k : n, c: cp.baseAddress! + cOffset, ldc: n)
                            }
                        }
                    }
                }
                for first in stride(from: 0, to: m, by: max(1, m / 5)) {       // rows first ..< first + count
                    let count = min(5, m - first)
                    var part = [Float](repeating: 0, count: count * n)
                    block(rows: count, cols: n, aOffset: transA ? first : first * k, bOffset: 0, into: &part, cOffset: 0)
                    XCTAssertEqual(part, Array(whole[(first * n)..<((first + count) * n)]), "rows \(first)..<\(first + count), \(label)")
                }
                for first in stride(from: 0, to: n, by: max(1, n / 5)) {       // columns first ..< first + count
                    let count = min(3, n - first)
                    var part = [Float](repeating: 0, count: m * n)
                    block(rows: m, cols: count, aOffset: 0, bOffset: transB ? first * k : first, into: &part, cOffset: first)
                    let mismatched = (0..<m).filter { i in part[(i * n + first)..<(i * n + first + count)] != whole[(i * n + first)..<(i * n + first + count)] }
                    XCTAssertEqual(mismatched.count, 0, "columns \(first)..<\(first + count), \(label)")
                }
                BLAS.setThreads(2)
                var threaded = [Float](repeating: 0, count: m * n)
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a, b, &threaded)
                XCTAssertEqual(threaded, whole, "2 threads, \(label)")
                cases += 1
            }
        }
        // Equal rows of A give equal rows of the product.
        BLAS.setThreads(1)
        let row = (0..<64).map { _ in rng.next() }, w = (0..<(64 * 48)).map { _ in rng.next() }
        var c = [Float](repeating: 0, count: 37 * 48)
        BLAS.sgemm(m: 37, n: 48, k: 64, Array((0..<37).map { _ in row }.joined()), w, &c)
        XCTAssertEqual(Set((0..<37).map { Array(c[($0 * 48)..<(($0 + 1) * 48)]) }).count, 1, "37 equal rows")
        XCTAssertEqual(cases, 480)
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
