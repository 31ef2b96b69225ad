// PerformerKernels: the element-wise and row-wise kernels of the Performer forward, vectorised.
//
// Each kernel is a plain function over raw pointers: output, inputs, sizes. The GEMMs around
// them go through `BLAS`. `PerformerReference` beside this file computes the same things with
// plain loops in float64; tests compare the two over many shapes.
//
// Vector code uses SIMD16<Float>, which the compiler lowers to whatever vector width the target
// has. exp uses Cody–Waite range reduction and a degree-6 polynomial (≈1 ulp on the range used
// here); GELU's erf comes from a Chebyshev fit of erfc (fractional error < 1.2e-7), written so
// that 1 + erf(x) never cancels for negative x.

import Foundation

public enum PerformerKernels {
    public typealias V = SIMD16<Float>

    // MARK: - Vector helpers

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Loads `n` < 16 values, padding with `fill`.
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float) -> V {
        var v = V(repeating: fill)
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    @inline(__always) static func storePartial(_ v: V, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    // MARK: - exp

    static let expLow = V(repeating: -87.3), expHigh = V(repeating: 88)
    static let magic = V(repeating: 12_582_912), log2e = V(repeating: 1.442_695_04)
    static let ln2High = V(repeating: 0.693_359_375), ln2Low = V(repeating: -2.121_944_4e-4)
    static let e0 = V(repeating: 1.987_569_15e-4), e1 = V(repeating: 1.398_199_950_7e-3)
    static let e2 = V(repeating: 8.333_451_907_3e-3), e3 = V(repeating: 4.166_579_589_4e-2)
    static let e4 = V(repeating: 1.666_666_545_9e-1), e5 = V(repeating: 5.000_000_120_1e-1)
    static let one = V(repeating: 1)

    /// e^x for 16 lanes; inputs are clamped to [-87.3, 88], so the result is finite and ≥ 1.2e-38.
    @inline(__always) public static func exp(_ x0: V) -> V {
        let x: V = x0.clamped(lowerBound: expLow, upperBound: expHigh)
        // n = round(x / ln 2) with the 1.5·2²³ trick: t's low mantissa bits hold n.
        let t: V = x * log2e + magic
        let n: V = t - magic
        var r: V = x - n * ln2High
        r = r - n * ln2Low
        var p: V = e0 * r + e1
        p = p * r + e2
        p = p * r + e3
        p = p * r + e4
        p = p * r + e5
        let r2: V = r * r
        let y: V = p * r2 + r + one
        let ni: SIMD16<Int32> = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale: V = unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
        return y * scale
    }

    /// out[i] = e^(x[i]) over n values (in place allowed).
    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n { store(exp(load(x + i)), out + i); i += 16 }
        if i < n { storePartial(exp(loadPartial(x + i, n - i, fill: 0)), out + i, n - i) }
    }

    // MARK: - GELU

    static let invSqrt2 = V(repeating: 0.707_106_781_186_547_5), half = V(repeating: 0.5), two = V(repeating: 2)
    static let zero = V(repeating: 0)
    /// Chebyshev fit of erfc (Numerical Recipes' erfcc): erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2),
    /// with fractional error below 1.2e-7 for every z ≥ 0.
    static let c0 = V(repeating: -1.265_512_23), c1 = V(repeating: 1.000_023_68), c2 = V(repeating: 0.374_091_96)
    static let c3 = V(repeating: 0.096_784_18), c4 = V(repeating: -0.186_288_06), c5 = V(repeating: 0.278_868_07)
    static let c6 = V(repeating: -1.135_203_98), c7 = V(repeating: 1.488_515_87), c8 = V(repeating: -0.822_152_23)
    static let c9 = V(repeating: 0.170_872_77)

    /// GELU(x) = x/2 · (1 + erf(x/√2)) for 16 lanes.
    ///
    /// 1 + erf(x/√2) is erfc(|x|/√2) for x < 0 (so no cancellation) and 2 − erfc(x/√2) otherwise.
    @inline(__always) public static func gelu(_ x: V) -> V {
        let ax: V = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
        let z: V = ax * invSqrt2
        let t: V = one / (one + half * z)
        var p: V = c9 * t + c8
        p = p * t + c7
        p = p * t + c6
        p = p * t + c5
        p = p * t + c4
        p = p * t + c3
        p = p * t + c2
        p = p * t + c1
        p = p * t + c0
        let z2: V = z * z
        let erfc: V = t * exp(p - z2)
        let onePlusErf: V = (two - erfc).replacing(with: erfc, where: x .< zero)
        return half * x * onePlusErf
    }

    /// x[r, j] = GELU(x[r, j] + bias[j]) over a [rows, cols] block with row stride ld.
    public static func biasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * ld
            var j = 0
            while j + 16 <= cols { store(gelu(load(row + j) + load(bias + j)), row + j); j += 16 }
            if j < cols {
                let n = cols - j
                storePartial(gelu(loadPartial(row + j, n, fill: 0) + loadPartial(bias + j, n, fill: 0)), row + j, n)
            }
        }
    }

    // MARK: - LayerNorm

    /// out[r,:] = (x[r,:] - mean) / sqrt(var + eps) · weight + bias, per row of D values.
    /// Mean and variance (biased, two-pass) are accumulated in float64.
    public static func layerNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, dim d: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let xr = x + r * d, o = out + r * d
            var s = 0.0
            for j in 0..<d { s += Double(xr[j]) }
            let mean = s / Double(d)
            var v = 0.0
            for j in 0..<d { let c = Double(xr[j]) - mean; v += c * c }
            let rstd = 1 / (v / Double(d) + Double(eps)).squareRoot()
            let fm = Float(mean), fr = Float(rstd)
            for j in 0..<d { o[j] = (xr[j] - fm) * fr * weight[j] + bias[j] }
        }
    }

    // MARK: - FAVOR+ feature maps

    /// diag[r] = Σ_e x[r,e]² · c²/2 for rows of E values at stride ld (the softmax kernel's
    /// ‖x‖²/2 term, with c the data normaliser E^-1/4).
    public static func halfSquaredNorms(_ x: UnsafePointer<Float>, rows: Int, width e: Int, ld: Int,
                                        normalizer c: Float, _ diag: UnsafeMutablePointer<Float>) {
        let scale = c * c
        for r in 0..<rows {
            let xr = x + r * ld
            var acc = V(repeating: 0)
            var j = 0
            while j + 16 <= e { let v = load(xr + j); acc += v * v; j += 16 }
            var s = acc.sum()
            while j < e { s += xr[j] * xr[j]; j += 1 }
            diag[r] = (s / 2) * scale
        }
    }

    /// The query feature map in place: for each row of M projections u (already scaled by c),
    /// u ← ratio · (exp(u − diag[r] − max_j u) + eps). Row stride ld.
    public static func queryFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                                     diag: UnsafePointer<Float>, ratio: Float, eps: Float) {
        for r in 0..<rows {
            let row = u + r * ld
            var mx = V(repeating: -.infinity)
            var j = 0
            while j + 16 <= m { mx = pointwiseMax(mx, load(row + j)); j += 16 }
            var rowMax = mx.max()
            while j < m { rowMax = max(rowMax, row[j]); j += 1 }
            expFeatures(row, m, diag[r], rowMax, ratio, eps)
        }
    }

    /// The key feature map in place with one stabiliser for the whole sequence (all heads):
    /// u ← ratio · (exp(u − diag[r] − globalMax) + eps); also adds each column's sum to `columnSums`
    /// (float64, M values) — the keys' sum over positions that normalises the attention.
    public static func keyFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                                   diag: UnsafePointer<Float>, globalMax: Float, ratio: Float, eps: Float,
                                   columnSums: UnsafeMutablePointer<Double>) {
        // Column sums are kept in float32 blocks of up to 64 rows, then added into float64.
        let block = 64
        var partial = [Float](repeating: 0, count: m)
        partial.withUnsafeMutableBufferPointer { pb in
            let ps = pb.baseAddress!
            var r0 = 0
            while r0 < rows {
                let r1 = min(rows, r0 + block)
                ps.update(repeating: 0, count: m)
                for r in r0..<r1 {
                    let row = u + r * ld
                    expFeatures(row, m, diag[r], globalMax, ratio, eps)
                    var j = 0
                    while j + 16 <= m { store(load(ps + j) + load(row + j), ps + j); j += 16 }
                    while j < m { ps[j] += row[j]; j += 1 }
                }
                for j in 0..<m { columnSums[j] += Double(ps[j]) }
                r0 = r1
            }
        }
    }

    /// row ← ratio · (exp((row − diag) − stabiliser) + eps) over m values.
    @inline(__always) static func expFeatures(_ row: UnsafeMutablePointer<Float>, _ m: Int, _ diag: Float,
                                              _ stabiliser: Float, _ ratio: Float, _ eps: Float) {
        let dg = V(repeating: diag), st = V(repeating: stabiliser), ra = V(repeating: ratio), ep = V(repeating: eps)
        var j = 0
        while j + 16 <= m { store(ra * (exp((load(row + j) - dg) - st) + ep), row + j); j += 16 }
        if j < m {
            let n = m - j
            storePartial(ra * (exp((loadPartial(row + j, n, fill: 0) - dg) - st) + ep), row + j, n)
        }
    }

    /// The largest of n values.
    public static func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var mx = V(repeating: -.infinity)
        var j = 0
        while j + 16 <= n { mx = pointwiseMax(mx, load(x + j)); j += 16 }
        var r = mx.max()
        while j < n { r = max(r, x[j]); j += 1 }
        return r
    }
}
