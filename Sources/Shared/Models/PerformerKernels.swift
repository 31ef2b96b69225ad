// PerformerKernels: the element-wise and row-wise kernels of the Performer forward, vectorised.
//
// Each kernel is a plain function over raw pointers: output, inputs, sizes. The GEMMs around
// them go through `BLAS`. `PerformerReference` beside this file computes the same things with
// plain loops in float64; tests compare the two over many shapes.
//
// Vector code uses SIMD8<Float>, which the compiler lowers to whatever vector width the target
// has (two SSE registers on the baseline x86-64 target). exp uses Cody–Waite range reduction and a degree-6 polynomial (≈1 ulp on the range used
// here); GELU's erf comes from a Chebyshev fit of erfc (fractional error < 1.2e-7), written so
// that 1 + erf(x) never cancels for negative x.

import Foundation

public enum PerformerKernels {
    public typealias V = SIMD8<Float>
    /// Lanes per vector. Eight keeps the exp polynomial in registers even on plain SSE targets.
    static let lanes = V.scalarCount

    // MARK: - Vector helpers

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Loads `n` < lanes values, padding with `fill`.
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float) -> V {
        var v = V(repeating: fill)
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    @inline(__always) static func storePartial(_ v: V, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    typealias Bits = SIMD8<Int32>
    @inline(__always) static func bits(_ v: V) -> Bits { unsafeBitCast(v, to: Bits.self) }
    @inline(__always) static func float(_ b: Bits) -> V { unsafeBitCast(b, to: V.self) }

    /// Lanes of `b` where `mask` is all ones, of `a` where it is zero.
    @inline(__always) static func select(_ mask: Bits, _ a: V, _ b: V) -> V {
        float((bits(a) & ~mask) | (bits(b) & mask))
    }

    /// All ones in the lanes where a < b (finite a, b: a − b is negative exactly when a < b).
    @inline(__always) static func less(_ a: V, _ b: V) -> Bits { bits(a - b) &>> 31 }

    /// The lane-wise maximum, exact for finite values (plain vector arithmetic, no per-lane branches).
    @inline(__always) public static func vmax(_ a: V, _ b: V) -> V { select(less(a, b), a, b) }

    /// The largest lane.
    @inline(__always) static func horizontalMax(_ v: V) -> Float {
        var r = v[0]
        for i in 1..<lanes where v[i] > r { r = v[i] }
        return r
    }

    /// The lowest finite Float, the start of a maximum (−∞ would make a − b undefined).
    static let lowest = V(repeating: -.greatestFiniteMagnitude)

    // MARK: - exp

    /// e^x lane by lane; inputs are clamped to [-87.3, 88], so the result is finite and ≥ 1.2e-38.
    /// Constants are literals so the compiler can keep them in the constant pool, not in registers.
    @inline(__always) public static func exp(_ x0: V) -> V {
        let hi: V = V(repeating: 88)
        return expNonPositive(select(less(hi, x0), x0, hi))
    }

    /// e^x for x ≤ 88 (the FAVOR+ feature maps only take e^(≤ 0)); below −87.3 it returns e^−87.3.
    @inline(__always) public static func expNonPositive(_ x0: V) -> V {
        let lo: V = V(repeating: -87.3)
        let x: V = select(less(x0, lo), x0, lo)
        // n = round(x / ln 2) with the 1.5·2²³ trick: t's low mantissa bits hold n.
        let magic: V = V(repeating: 12_582_912)
        let t: V = x * V(repeating: 1.442_695_04) + magic
        let n: V = t - magic
        var r: V = x - n * V(repeating: 0.693_359_375)
        r = r - n * V(repeating: -2.121_944_4e-4)
        var p: V = V(repeating: 1.987_569_15e-4) * r + V(repeating: 1.398_199_950_7e-3)
        p = p * r + V(repeating: 8.333_451_907_3e-3)
        p = p * r + V(repeating: 4.166_579_589_4e-2)
        p = p * r + V(repeating: 1.666_666_545_9e-1)
        p = p * r + V(repeating: 5.000_000_120_1e-1)
        let r2: V = r * r
        let y: V = p * r2 + r + V(repeating: 1)
        let ni: Bits = bits(t) &- 0x4B40_0000
        let scale: V = float((ni &+ 127) &<< 23)
        return y * scale
    }

    /// out[i] = e^(x[i]) over n values (in place allowed).
    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + lanes <= n { store(exp(load(x + i)), out + i); i += lanes }
        if i < n { storePartial(exp(loadPartial(x + i, n - i, fill: 0)), out + i, n - i) }
    }

    // MARK: - GELU

    /// GELU(x) = x/2 · (1 + erf(x/√2)) lane by lane.
    ///
    /// 1 + erf(x/√2) is erfc(|x|/√2) for x < 0 (so no cancellation) and 2 − erfc(x/√2) otherwise;
    /// erfc is the Chebyshev fit of Numerical Recipes' erfcc, erfc(z) = t·exp(−z² + P(t)) with
    /// t = 1/(1 + z/2), whose fractional error is below 1.2e-7 for every z ≥ 0.
    @inline(__always) public static func gelu(_ x: V) -> V {
        let sign: Bits = bits(x) &>> 31
        let z: V = float(bits(x) & 0x7FFF_FFFF) * V(repeating: 0.707_106_781_186_547_5)
        let t: V = V(repeating: 1) / (V(repeating: 1) + V(repeating: 0.5) * z)
        var p: V = V(repeating: 0.170_872_77) * t + V(repeating: -0.822_152_23)
        p = p * t + V(repeating: 1.488_515_87)
        p = p * t + V(repeating: -1.135_203_98)
        p = p * t + V(repeating: 0.278_868_07)
        p = p * t + V(repeating: -0.186_288_06)
        p = p * t + V(repeating: 0.096_784_18)
        p = p * t + V(repeating: 0.374_091_96)
        p = p * t + V(repeating: 1.000_023_68)
        p = p * t + V(repeating: -1.265_512_23)
        let z2: V = z * z
        let erfc: V = t * exp(p - z2)
        let onePlusErf: V = select(sign, V(repeating: 2) - erfc, erfc)
        return V(repeating: 0.5) * x * onePlusErf
    }

    /// x[r, j] = GELU(x[r, j] + bias[j]) over a [rows, cols] block with row stride ld.
    public static func biasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * ld
            var j = 0
            while j + lanes <= cols { store(gelu(load(row + j) + load(bias + j)), row + j); j += lanes }
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
            while j + lanes <= e { let v = load(xr + j); acc += v * v; j += lanes }
            var s = acc.sum()
            while j < e { s += xr[j] * xr[j]; j += 1 }
            diag[r] = (s / 2) * scale
        }
    }

    /// The query feature map in place: for each row of M projections u (already scaled by c),
    /// u ← ratio · (exp(u − diag[r] − max_j u) + eps). Row stride ld ≥ paddedWidth(M); columns
    /// M..<paddedWidth(M) are scratch.
    public static func queryFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                                     diag: UnsafePointer<Float>, ratio: Float, eps: Float) {
        for r in 0..<rows {
            let row = u + r * ld
            var mx = lowest
            var j = 0
            while j + lanes <= m { mx = vmax(mx, load(row + j)); j += lanes }
            var rowMax = horizontalMax(mx)
            while j < m { if row[j] > rowMax { rowMax = row[j] }; j += 1 }
            expFeatures(row, m, diag[r], rowMax, ratio, eps)
        }
    }

    /// The key feature map in place with one stabiliser for the whole sequence (all heads):
    /// u ← ratio · (exp(u − diag[r] − globalMax) + eps); also adds each column's sum to `columnSums`
    /// (float64, M values) — the keys' sum over positions that normalises the attention.
    /// Row stride ld ≥ paddedWidth(M); columns M..<paddedWidth(M) are scratch.
    public static func keyFeatures(_ u: UnsafeMutablePointer<Float>, rows: Int, features m: Int, ld: Int,
                                   diag: UnsafePointer<Float>, globalMax: Float, ratio: Float, eps: Float,
                                   columnSums: UnsafeMutablePointer<Double>) {
        // Column sums are kept in float32 blocks of up to 64 rows, then added into float64.
        let block = 64
        let mp = paddedWidth(m)
        var partial = [Float](repeating: 0, count: mp)
        partial.withUnsafeMutableBufferPointer { pb in
            let ps = pb.baseAddress!
            var r0 = 0
            while r0 < rows {
                let r1 = min(rows, r0 + block)
                ps.update(repeating: 0, count: mp)
                for r in r0..<r1 {
                    let row = u + r * ld
                    expFeatures(row, m, diag[r], globalMax, ratio, eps)
                    var j = 0
                    while j < m { store(load(ps + j) + load(row + j), ps + j); j += lanes }
                }
                for j in 0..<m { columnSums[j] += Double(ps[j]) }
                r0 = r1
            }
        }
    }

    /// row ← ratio · (exp(row − (diag + stabiliser)) + eps) over m values rounded up to a multiple
    /// of 16 (the pad values are scratch).
    @inline(__always) static func expFeatures(_ row: UnsafeMutablePointer<Float>, _ m: Int, _ diag: Float,
                                              _ stabiliser: Float, _ ratio: Float, _ eps: Float) {
        let shift = V(repeating: diag + stabiliser), ra = V(repeating: ratio), ep = V(repeating: eps)
        var j = 0
        while j < m { store(ra * (expNonPositive(load(row + j) - shift) + ep), row + j); j += lanes }
    }

    /// Columns rounded up to a whole number of 16-lane vectors: the row stride feature buffers need.
    public static func paddedWidth(_ m: Int) -> Int { (m + 15) & ~15 }

    /// The largest value of a [rows, cols] block with row stride ld.
    public static func maximum(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) -> Float {
        if ld == cols { return maximum(x, count: rows * cols) }
        var m0 = lowest
        var tail = -Float.greatestFiniteMagnitude
        let full = cols - cols % lanes
        for r in 0..<rows {
            let row = x + r * ld
            var j = 0
            while j < full { m0 = vmax(m0, load(row + j)); j += lanes }
            while j < cols { if row[j] > tail { tail = row[j] }; j += 1 }
        }
        return max(horizontalMax(m0), tail)
    }

    /// The largest of n values.
    public static func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var m0 = lowest, m1 = lowest
        var j = 0
        while j + 2 * lanes <= n { m0 = vmax(m0, load(x + j)); m1 = vmax(m1, load(x + j + lanes)); j += 2 * lanes }
        while j + lanes <= n { m0 = vmax(m0, load(x + j)); j += lanes }
        var r = horizontalMax(vmax(m0, m1))
        while j < n { if x[j] > r { r = x[j] }; j += 1 }
        return r
    }
}
