// ReferenceKernels: plain-loop versions of the BLAS calls, the oracle the tests compare BLAS against.
// Accumulation is in Double so the reference is more exact than what it checks.

public enum ReferenceKernels {
    /// C[m,n] = alpha · op(A) · op(B) + beta · C, row-major, with explicit leading dimensions.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + old)
            }
        }
    }

    /// y = alpha · op(A) · x + beta · y with A row-major [rows, cols].
    public static func sgemv(trans: Bool, rows: Int, cols: Int, alpha: Float, a: [Float], lda: Int,
                             x: [Float], beta: Float, y: inout [Float]) {
        let outN = trans ? cols : rows
        let inN = trans ? rows : cols
        for i in 0..<outN {
            var s = 0.0
            for p in 0..<inN {
                let av = trans ? a[p * lda + i] : a[i * lda + p]
                s += Double(av) * Double(x[p])
            }
            y[i] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(y[i])))
        }
    }

    /// x·Wᵀ + b in float64, for x [rows, inputs], W [outputs, inputs], b [outputs] → [rows, outputs]:
    /// the linear layer of the models' float64 references (PerformerReference, ExceiverReference).
    public static func linear(_ x: [Double], rows: Int, inputs: Int, weight: [Double], bias: [Double]?,
                              outputs: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            for o in 0..<outputs {
                var s = bias?[o] ?? 0
                for i in 0..<inputs { s += x[r * inputs + i] * weight[o * inputs + i] }
                out[r * outputs + o] = s
            }
        }
        return out
    }
}
