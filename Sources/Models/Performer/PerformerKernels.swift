// PerformerKernels: the element-wise and row-wise kernels of the Performer forward, vectorised.
//
// Each kernel is a plain function over raw pointers: output, inputs, sizes. The GEMMs around
// them go through `BLAS`. `PerformerReference` beside this file computes the same things with
// plain loops in float64; tests compare the two over many shapes, for every variant.
//
// The loops themselves are C (Sources/CKernels), compiled three times — baseline x86-64 (SSE2),
// AVX2+FMA and AVX-512 — with the variant chosen at run time from the CPU's features, so the
// binary stays portable while the hot loops use the widest vectors the machine has. exp uses
// Cody–Waite range reduction and a degree-6 polynomial (≈1 ulp); GELU's erf comes from a
// Chebyshev fit of erfc (fractional error < 1.2e-7), written so that 1 + erf(x) never cancels
// for negative x.

import CKernels

/// One variant of the kernels (an instruction set); `PerformerKernels` uses the best one.
public struct PerformerKernelSet: @unchecked Sendable {  // the table is immutable static data
    /// The instruction sets the kernels are compiled for.
    public enum Variant: Int32, CaseIterable, Sendable {
        case generic = 1, avx2 = 2, avx512 = 3
    }

    let table: UnsafePointer<ck_kernels>

    /// The variant `v`, or nil if this CPU cannot run it.
    public init?(_ v: Variant) {
        guard let t = ck_table(v.rawValue) else { return nil }
        table = t
    }

    init(best: Void) { table = ck_table(Int32(CK_VARIANT_BEST))! }

    /// The best variant this CPU supports (chosen once).
    public static let best = PerformerKernelSet(best: ())

    /// Every variant this CPU can run, in increasing order of vector width.
    public static var available: [PerformerKernelSet] { Variant.allCases.compactMap { PerformerKernelSet($0) } }

    /// This set's variant.
    public var variant: Variant { Variant(rawValue: table.pointee.variant)! }

    /// This set's name: "generic", "avx2" or "avx512".
    public var name: String { String(cString: table.pointee.name) }

    // MARK: - Kernels

    /// out[i] = e^(x[i]) over n values (in place allowed); inputs are clamped to [-87.3, 88].
    public func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        table.pointee.exp(x, out, n)
    }

    /// The largest value of a [rows, cols] block with row stride ld (finite values).
    public func maximum(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) -> Float {
        rows > 0 && cols > 0 ? table.pointee.maximum(x, rows, cols, ld) : -.greatestFiniteMagnitude
    }

    /// The largest of n values.
    public func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float { maximum(x, rows: 1, cols: n, ld: n) }

    /// x[r, j] = GELU(x[r, j] + bias[j]) over a [rows, cols] block with row stride ld.
    public func biasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, bias: UnsafePointer<Float>) {
        table.pointee.bias_gelu(x, rows, cols, ld, bias)
    }

    /// out[r,:] = (x[r,:] - mean) / sqrt(var + eps) · weight + bias, per row of D values ([rows, D],
    /// contiguous). Mean and variance (biased, two-pass) are accumulated in float64. If `addToInput`
    /// is given, x[r,:] += addToInput[:] afterwards (a bias folded into this pass over x).
    public func layerNorm(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, dim d: Int,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
                          addToInput: UnsafePointer<Float>? = nil) {
        table.pointee.layer_norm(x, out, rows, d, weight, bias, eps, addToInput)
    }

    /// diag[r] = Σ_e x[r,e]² · c²/2 for rows of E values at stride ld (the softmax kernel's
    /// ‖x‖²/2 term, with c the data normaliser E^-1/4).
    public func halfSquaredNorms(_ x: UnsafePointer<Float>, rows: Int, width e: Int, ld: Int,
                                 normalizer c: Float, _ diag: UnsafeMutablePointer<Float>) {
        table.pointee.half_squared_norms(x, rows, e, ld, c * c, diag)
    }

    /// The query feature map in place: for each row of M projections u (already scaled by c),
    /// u ← ratio · (exp(u − diag[r] − max_j u) + eps). Row stride ld ≥ M.
    public func queryFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                              diag: UnsafePointer<Float>, ratio: Float, eps: Float) {
        table.pointee.query_features(u, rows, m, ld, diag, ratio, eps)
    }

    /// The key feature map in place with one stabiliser for the whole sequence (all heads):
    /// u ← ratio · (exp(u − diag[r] − globalMax) + eps); also adds each column's sum to `columnSums`
    /// (float64, M values) — the keys' sum over positions that normalises the attention.
    /// Row stride ld ≥ M; globalMax must be at least every u (diag ≥ 0).
    public func keyFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                            diag: UnsafePointer<Float>, globalMax: Float, ratio: Float, eps: Float,
                            columnSums: UnsafeMutablePointer<Double>) {
        table.pointee.key_features(u, rows, m, ld, diag, globalMax, ratio, eps, columnSums)
    }

    /// sums[j] += Σ_r x[r, j], accumulated in float64, over a [rows, cols] block at stride ld.
    public func columnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, _ sums: UnsafeMutablePointer<Double>) {
        table.pointee.column_sums(x, rows, cols, ld, sums)
    }

    /// dst[r, j] = src[r, j] / src[r, cols] for j < cols: rows of [rows, cols+1] at stride lds
    /// (the last column is the divisor), written at stride ldd.
    public func divideByLast(_ src: UnsafePointer<Float>, rows: Int, cols: Int, lds: Int,
                             _ dst: UnsafeMutablePointer<Float>, ldd: Int) {
        table.pointee.divide_by_last(src, rows, cols, lds, dst, ldd)
    }
}

/// The kernels of the best variant this CPU supports, as static functions.
public enum PerformerKernels {
    static var k: PerformerKernelSet { PerformerKernelSet.best }

    /// The name of the variant in use ("generic", "avx2" or "avx512").
    public static var variantName: String { k.name }

    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        k.exp(x, out, count: n)
    }

    public static func maximum(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) -> Float {
        k.maximum(x, rows: rows, cols: cols, ld: ld)
    }

    public static func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float { k.maximum(x, count: n) }

    public static func biasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, bias: UnsafePointer<Float>) {
        k.biasGELU(x, rows: rows, cols: cols, ld: ld, bias: bias)
    }

    public static func layerNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, dim d: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        // Without addToInput the kernel does not write x.
        k.layerNorm(UnsafeMutablePointer(mutating: x), out, rows: rows, dim: d, weight: weight, bias: bias, eps: eps)
    }

    public static func layerNorm(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, dim d: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float,
                                 addToInput: UnsafePointer<Float>?) {
        k.layerNorm(x, out, rows: rows, dim: d, weight: weight, bias: bias, eps: eps, addToInput: addToInput)
    }

    public static func halfSquaredNorms(_ x: UnsafePointer<Float>, rows: Int, width e: Int, ld: Int,
                                        normalizer c: Float, _ diag: UnsafeMutablePointer<Float>) {
        k.halfSquaredNorms(x, rows: rows, width: e, ld: ld, normalizer: c, diag)
    }

    public static func queryFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                                     diag: UnsafePointer<Float>, ratio: Float, eps: Float) {
        k.queryFeatures(u, rows: rows, features: m, ld: ld, diag: diag, ratio: ratio, eps: eps)
    }

    public static func keyFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                                   diag: UnsafePointer<Float>, globalMax: Float, ratio: Float, eps: Float,
                                   columnSums: UnsafeMutablePointer<Double>) {
        k.keyFeatures(u, rows: rows, features: m, ld: ld, diag: diag, globalMax: globalMax, ratio: ratio, eps: eps,
                      columnSums: columnSums)
    }

    public static func columnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, _ sums: UnsafeMutablePointer<Double>) {
        k.columnSums(x, rows: rows, cols: cols, ld: ld, sums)
    }

    public static func divideByLast(_ src: UnsafePointer<Float>, rows: Int, cols: Int, lds: Int,
                                    _ dst: UnsafeMutablePointer<Float>, ldd: Int) {
        k.divideByLast(src, rows: rows, cols: cols, lds: lds, dst, ldd: ldd)
    }

    /// Columns rounded up to a whole number of 16-lane vectors: the row stride of feature buffers
    /// (keeps every row 64-byte aligned).
    public static func paddedWidth(_ m: Int) -> Int { (m + 15) & ~15 }
}
