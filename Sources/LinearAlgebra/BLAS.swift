// BLAS: the only Swift file that calls OpenBLAS (CBLASCore, in C, asks it which kernels it loaded and restarts its threads).
//
// All matrices are row-major. Shapes are given as in the math: C[m,n] = alpha·op(A)[m,k]·op(B)[k,n] + beta·C.
// `ReferenceKernels` beside this file computes the same things with plain loops; tests compare.

import CBLASCore
import COpenBLAS

public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for one call.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }

    /// The number of threads OpenBLAS uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS runs ("Cooperlake", "Sandybridge", "Prescott", …). Every program
    /// that links this module has restarted itself on the family of the CPU's instruction sets
    /// before main if OpenBLAS had loaded another and OPENBLAS_CORETYPE was not set (CBLASCore).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The OpenBLAS family of this CPU's instruction sets: "Cooperlake" (AVX-512 with BF16),
    /// "SkylakeX" (AVX-512), "Sandybridge" (AVX, AVX2: not the Haswell or Zen kernels, whose rows
    /// depend on their position in the product), or nil.
    public static var featureCore: String? { scgrn_blas_feature_core().map { String(cString: $0) } }

    /// Whether this thread flushes subnormal floats to zero (x86-64's FTZ and DAZ). Every program
    /// that links this module sets both before main, for its threads and OpenBLAS's (CBLASCore).
    public static var subnormalsFlushed: Bool { scgrn_subnormals_flushed() != 0 }

    /// The family a program restarts with, or nil to keep the one loaded: any family other than
    /// `featureCore` is replaced by it, and none when the user set OPENBLAS_CORETYPE (`requested`,
    /// any value).
    public static func replacementCore(loaded: String, requested: String?, featureCore: String?) -> String? {
        scgrn_blas_should_replace(loaded, requested, featureCore) != 0 ? featureCore : nil
    }

    /// C[m,n] = alpha · op(A) · op(B) + beta · C, row-major.
    /// - Parameters:
    ///   - a: op(A) is [m,k]; A is [m,k] (lda ≥ k), or [k,m] when `transA` (lda ≥ m).
    ///   - b: op(B) is [k,n]; B is [k,n] (ldb ≥ n), or [n,k] when `transB` (ldb ≥ k).
    ///   - c: [m,n], ldc ≥ n.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[m] = alpha · op(A) · x + beta · y, with A row-major [m,n] (or [n,m] transposed when `trans`).
    @inline(__always)
    public static func sgemv(trans: Bool = false, rows: Int, cols: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                             beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        if rows == 0 || cols == 0 {
            let n = trans ? cols : rows
            for i in 0..<n { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), alpha,
                    a, Int32(lda), x, 1, beta, y, 1)
    }
}

extension BLAS {
    /// sgemm over Swift arrays: C[m,n] = alpha · op(A) · op(B) + beta · C, tightly packed.
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, _ a: [Float], _ b: [Float], beta: Float = 0, _ c: inout [Float]) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "sgemm: arrays smaller than their shapes")
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: ap.baseAddress!, lda: transA ? m : k, b: bp.baseAddress!, ldb: transB ? k : n,
                          beta: beta, c: cp.baseAddress!, ldc: n)
                }
            }
        }
    }
}
