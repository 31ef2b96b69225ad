// Every variant of the Performer's C kernels (generic SSE2, AVX2+FMA, AVX-512 — those this CPU
// can run) against float64 loops over many shapes and values: odd widths, tails shorter than a
// vector, row strides wider than the rows (whose gaps must stay untouched).

import Engine
import Foundation
import Models
import TestSupport
import XCTest

final class PerformerKernelVariantTests: XCTestCase {
    let variants = PerformerKernelSet.available
    /// Widths around every vector size (4, 8, 16 lanes) and the model's (64, 200, 266, 800).
    let widths = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 200, 266, 800]
    let gap = Float.nan  // what the stride gaps hold; a kernel that writes them is caught

    func testTheGenericVariantIsAlwaysThereAndTheBestIsUsed() {
        XCTAssertEqual(variants.first?.variant, .generic)
        XCTAssertEqual(PerformerKernelSet.best.variant, variants.last?.variant)
        XCTAssertEqual(PerformerKernels.variantName, variants.last?.name)
        print("kernel variants on this CPU: \(variants.map(\.name)); in use: \(PerformerKernels.variantName)")
    }

    func testExp() {
        for k in variants {
            var r = TestRandom(state: 1)
            var worst = 0.0
            for n in widths {
                let x = (0..<n).map { _ in Float(-95 + 190 * r.uniform()) }
                var got = [Float](repeating: 0, count: n)
                k.exp(x, &got, count: n)
                for (i, v) in x.enumerated() {
                    let c = Double(min(max(v, -87.3), 88))
                    let want = Foundation.exp(c)
                    let err = abs(Double(got[i]) - want) / want
                    worst = max(worst, err)
                    XCTAssertLessThanOrEqual(err, 3e-7, "\(k.name) exp(\(v))")
                }
            }
            print("\(k.name) exp: max relative error \(worst)")
        }
    }

    func testMaximumWithStrides() {
        for k in variants {
            var r = TestRandom(state: 2)
            for cols in widths {
                for (rows, extra) in [(1, 0), (3, 0), (5, 3), (2, 16)] {
                    let ld = cols + extra
                    var x = r.floats(rows * ld, scale: 100, shift: -500)
                    var want = -Float.greatestFiniteMagnitude
                    for i in 0..<rows { for j in 0..<ld { if j < cols { want = max(want, x[i * ld + j]) } else { x[i * ld + j] = 1e30 } } }
                    XCTAssertEqual(k.maximum(x, rows: rows, cols: cols, ld: ld), want, "\(k.name) max \(rows)x\(cols) ld \(ld)")
                }
            }
        }
    }

    func testHalfSquaredNorms() {
        for k in variants {
            var r = TestRandom(state: 3)
            for e in widths {
                let rows = 4, ld = e + 5
                let x = r.floats(rows * ld, scale: 2)
                var diag = [Float](repeating: 0, count: rows)
                k.halfSquaredNorms(x, rows: rows, width: e, ld: ld, normalizer: 0.35, &diag)
                for i in 0..<rows {
                    let s = (0..<e).reduce(0.0) { $0 + Double(x[i * ld + $1]) * Double(x[i * ld + $1]) }
                    let want = s / 2 * Double(Float(0.35) * Float(0.35))
                    XCTAssertEqual(Double(diag[i]), want, accuracy: 1e-6 * want + 1e-30, "\(k.name) norms e \(e)")
                }
            }
        }
    }

    /// The feature maps from given projections u: each value against float64 from the same inputs.
    /// The bound grows with the exponent's size: u − shift is rounded to float32 once.
    func testFeatureMaps() {
        let ratio: Float = 0.0613, eps: Float = 1e-4
        for k in variants {
            var r = TestRandom(state: 4)
            for m in widths {
                let rows = 6, ld = m + 7
                var u = r.floats(rows * ld, scale: 3)
                for i in 0..<rows { for j in m..<ld { u[i * ld + j] = gap } }
                let diag = (0..<rows).map { _ in Float(3 * r.uniform()) }
                var gmax = -Float.greatestFiniteMagnitude
                for i in 0..<rows { for j in 0..<m { gmax = max(gmax, u[i * ld + j]) } }
                var q = u, kf = u
                var sums = [Double](repeating: 0.5, count: m)
                k.queryFeatures(&q, rows: rows, features: m, ld: ld, diag: diag, ratio: ratio, eps: eps)
                k.keyFeatures(&kf, rows: rows, features: m, ld: ld, diag: diag, globalMax: gmax, ratio: ratio, eps: eps,
                              columnSums: &sums)
                for i in 0..<rows {
                    let rowMax = (0..<m).map { u[i * ld + $0] }.max()!
                    for j in 0..<ld {
                        let at = i * ld + j
                        if j >= m {
                            XCTAssertTrue(q[at].isNaN && kf[at].isNaN, "\(k.name) features wrote a stride gap (m \(m))")
                            continue
                        }
                        for (got, stab, what) in [(q[at], rowMax, "query"), (kf[at], gmax, "key")] {
                            let arg = Double(u[at]) - Double(diag[i]) - Double(stab)
                            let want = Double(ratio) * (Foundation.exp(arg) + Double(eps))
                            let tol = want * (3e-7 + 1.2e-7 * (abs(arg) + abs(Double(diag[i]) + Double(stab))))
                            XCTAssertEqual(Double(got), want, accuracy: tol, "\(k.name) \(what) features m \(m) (\(i),\(j))")
                        }
                    }
                }
                for j in 0..<m {
                    let want = 0.5 + (0..<rows).reduce(0.0) { $0 + Double(kf[$1 * ld + j]) }
                    XCTAssertEqual(sums[j], want, accuracy: 1e-12 * want, "\(k.name) key column sum \(j)")
                }
            }
        }
    }

    /// GELU with the exact erf in float64, without the cancellation of 1 + erf for negative x.
    static func exactGELU(_ x: Double) -> Double {
        x >= 0 ? 0.5 * x * (1 + erf(x / 2.0.squareRoot())) : 0.5 * x * erfc(-x / 2.0.squareRoot())
    }

    /// The error bound GELU(x) is tested to (see testGELUAccuracyOverADenseGrid).
    static func geluTolerance(_ x: Double, _ want: Double) -> Double {
        if x >= -0.7 { return 4 * Double(Float(want).magnitude.ulp) }
        return max(abs(want) * 6e-7 * (1 + x * x), 1e-36)
    }

    /// GELU over a dense grid against the float64 GELU. The erfc fit has a fractional error below
    /// 1.2e-7 and e^(−z²) inherits the float32 rounding of z², so the bounds are: within 4 ulps
    /// of the result for x ≥ −0.7 (where erf's own fit is used near zero), a relative error below
    /// 6e-7·(1 + x²) for x < −0.7 (where |GELU| < 0.17 and falls fast), and an absolute error
    /// below the reference formula's own (1 + erf, as PyTorch writes it, cancels for negative x).
    func testGELUAccuracyOverADenseGrid() {
        let n = 240_001
        let x = (0..<n).map { Float(-12 + 24 * Double($0) / Double(n - 1)) } + [0, -0.0, 1e-30, -1e-30, 30, -30, 100, -100]
        let zero = [Float](repeating: 0, count: x.count)
        for k in variants {
            var got = x
            k.biasGELU(&got, rows: 1, cols: got.count, ld: got.count, bias: zero)
            var worstUlp = 0.0, worstAt: Float = 0, worstTail = 0.0, worstAbs = 0.0
            for (i, v) in x.enumerated() {
                let want = Self.exactGELU(Double(v))
                let err = abs(Double(got[i]) - want)
                worstAbs = max(worstAbs, err)
                if v >= -0.7 {
                    let ulp = Double(Float(want).magnitude.ulp)
                    if err / ulp > worstUlp { worstUlp = err / ulp; worstAt = v }
                    XCTAssertLessThanOrEqual(err, Self.geluTolerance(Double(v), want), "\(k.name) GELU(\(v)) = \(got[i]), want \(want)")
                } else if abs(want) > 1e-36 {
                    let rel = err / abs(want)
                    worstTail = max(worstTail, rel / (Double(v) * Double(v)))
                    XCTAssertLessThanOrEqual(err, Self.geluTolerance(Double(v), want), "\(k.name) GELU(\(v)) = \(got[i]), want \(want)")
                } else {
                    XCTAssertLessThanOrEqual(err, 1e-36, "\(k.name) GELU(\(v)) underflows")
                }
            }
            XCTAssertLessThanOrEqual(worstAbs, 5e-7)
            print("\(k.name) GELU: x ≥ −0.7: max error \(worstUlp) ulp (at x = \(worstAt)); x < −0.7: max relative error / x² \(worstTail); max abs error \(worstAbs)")
        }
    }

    func testBiasGELUWithStrides() {
        for k in variants {
            var r = TestRandom(state: 5)
            for cols in widths {
                let rows = 3, ld = cols + 2
                var x = r.floats(rows * ld, scale: 3)
                for i in 0..<rows { for j in cols..<ld { x[i * ld + j] = gap } }
                let bias = r.floats(cols, scale: 0.5)
                var got = x
                k.biasGELU(&got, rows: rows, cols: cols, ld: ld, bias: bias)
                for i in 0..<rows {
                    for j in 0..<ld {
                        let at = i * ld + j
                        if j >= cols { XCTAssertTrue(got[at].isNaN, "\(k.name) GELU wrote a stride gap"); continue }
                        let want = Self.exactGELU(Double(x[at] + bias[j]))
                        XCTAssertEqual(Double(got[at]), want, accuracy: Self.geluTolerance(Double(x[at] + bias[j]), want), "\(k.name) GELU \(cols) (\(i),\(j))")
                    }
                }
            }
        }
    }

    func testLayerNormAndTheFoldedBias() {
        for k in variants {
            var r = TestRandom(state: 6)
            for d in widths {
                let rows = 5
                let x = r.floats(rows * d, scale: 4, shift: 2), w = r.floats(d, scale: 0.3, shift: 1), b = r.floats(d)
                let add = r.floats(d)
                let want = PerformerReference.layerNorm(x.map(Double.init), rows: rows, dim: d, weight: w.map(Double.init),
                                                        bias: b.map(Double.init), eps: 1e-5).map { Float($0) }
                for withAdd in [false, true] {
                    var xs = x, got = [Float](repeating: 0, count: rows * d)
                    add.withUnsafeBufferPointer { ap in
                        k.layerNorm(&xs, &got, rows: rows, dim: d, weight: w, bias: b, eps: 1e-5,
                                    addToInput: withAdd ? ap.baseAddress! : nil)
                    }
                    assertClose(got, want, atol: 2e-6, rtol: 2e-6, "\(k.name) LayerNorm \(rows)x\(d)")
                    let xWant = withAdd ? (0..<(rows * d)).map { x[$0] + add[$0 % d] } : x
                    XCTAssertEqual(xs, xWant, "\(k.name) LayerNorm's folded bias, d \(d)")
                }
            }
        }
    }

    func testDivideByLast() {
        for k in variants {
            var r = TestRandom(state: 7)
            for cols in widths {
                let rows = 4, lds = cols + 3, ldd = cols + 2
                let src = r.floats(rows * lds, shift: 3)
                var dst = [Float](repeating: gap, count: rows * ldd)
                k.divideByLast(src, rows: rows, cols: cols, lds: lds, &dst, ldd: ldd)
                for i in 0..<rows {
                    let inv = 1 / src[i * lds + cols]
                    for j in 0..<ldd {
                        if j >= cols { XCTAssertTrue(dst[i * ldd + j].isNaN); continue }
                        XCTAssertEqual(dst[i * ldd + j], src[i * lds + j] * inv, "\(k.name) divide \(cols)")
                    }
                }
            }
        }
    }

    func testColumnSums() {
        for k in variants {
            var r = TestRandom(state: 9)
            for cols in widths {
                let rows = 7, ld = cols + 4
                var x = r.floats(rows * ld, scale: 2)
                for i in 0..<rows { for j in cols..<ld { x[i * ld + j] = gap } }
                var sums = (0..<cols).map { Double($0) }
                k.columnSums(x, rows: rows, cols: cols, ld: ld, &sums)
                for j in 0..<cols {
                    let want = Double(j) + (0..<rows).reduce(0.0) { $0 + Double(x[$1 * ld + j]) }
                    XCTAssertEqual(sums[j], want, accuracy: 1e-12 * (abs(want) + 1), "\(k.name) column sum \(j) of \(cols)")
                }
            }
        }
    }

    /// The variants agree with one another to a few ulps on the encoder's shapes.
    func testVariantsAgree() {
        guard variants.count > 1 else { return }
        var r = TestRandom(state: 8)
        let rows = 9, m = 266
        let u = r.floats(rows * m, scale: 3), diag = (0..<rows).map { _ in Float(r.uniform()) }
        var outs = [[Float]]()
        for k in variants {
            var q = u
            k.queryFeatures(&q, rows: rows, features: m, ld: m, diag: diag, ratio: 0.06, eps: 1e-4)
            var g = u
            k.biasGELU(&g, rows: rows, cols: m, ld: m, bias: [Float](repeating: 0.1, count: m))
            outs.append(q + g)
        }
        for o in outs.dropFirst() { assertClose(o, outs[0], atol: 1e-9, rtol: 1e-6, "variants agree") }
    }
}
