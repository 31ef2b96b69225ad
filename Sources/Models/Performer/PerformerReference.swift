// PerformerReference: the Performer forward and its kernels as plain loops in float64.
//
// The oracle for PerformerKernels and PerformerEncoder: no BLAS, no vectors, no blocking, each
// formula written the way scBERT's PyTorch code states it (see PerformerEncoder for the math).
// Slow (it materialises nothing N×N, but it is O(N·everything) in scalar float64), meant for tests.

import Foundation
import Kernels
import LinearAlgebra

public enum PerformerReference {
    // MARK: - Kernels

    /// e^x in float64.
    public static func exp(_ x: [Float]) -> [Float] { x.map { Float(Foundation.exp(Double($0))) } }

    /// GELU with the exact erf, in float64.
    public static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    /// LayerNorm of each row of D values ([rows, D]).
    public static func layerNorm(_ x: [Double], rows: Int, dim d: Int, weight: [Double], bias: [Double], eps: Double) -> [Double] {
        var out = [Double](repeating: 0, count: rows * d)
        for r in 0..<rows {
            var mean = 0.0
            for j in 0..<d { mean += x[r * d + j] }
            mean /= Double(d)
            var v = 0.0
            for j in 0..<d { v += (x[r * d + j] - mean) * (x[r * d + j] - mean) }
            v /= Double(d)
            for j in 0..<d { out[r * d + j] = (x[r * d + j] - mean) / (v + eps).squareRoot() * weight[j] + bias[j] }
        }
        return out
    }

    /// The softmax-kernel feature map of rows of E values ([rows, E] → [rows, M]).
    /// - Parameters:
    ///   - projection: [M, E].
    ///   - isQuery: queries are stabilised by their row maximum; keys by `keyMax`, which the caller
    ///     takes over all heads (pass nil to use this block's overall maximum).
    public static func softmaxFeatures(_ data: [Double], rows: Int, width e: Int, projection: [Double], features m: Int,
                                       isQuery: Bool, keyMax: Double? = nil) -> [Double] {
        let c = pow(Double(e), -0.25), ratio = pow(Double(m), -0.5), eps = 1e-4
        var dash = [Double](repeating: 0, count: rows * m)
        for r in 0..<rows {
            for j in 0..<m {
                var s = 0.0
                for k in 0..<e { s += c * data[r * e + k] * projection[j * e + k] }
                dash[r * m + j] = s
            }
        }
        let globalMax = keyMax ?? (dash.max() ?? 0)
        var out = dash
        for r in 0..<rows {
            var sq = 0.0
            for k in 0..<e { sq += data[r * e + k] * data[r * e + k] }
            let diag = sq / 2 * c * c
            let stabiliser = isQuery ? (dash[(r * m)..<(r * m + m)].max() ?? 0) : globalMax
            for j in 0..<m { out[r * m + j] = ratio * (Foundation.exp(dash[r * m + j] - diag - stabiliser) + eps) }
        }
        return out
    }

    /// The largest key projection c·k·Pᵀ over rows ([rows, E]).
    public static func keyProjectionMax(_ data: [Double], rows: Int, width e: Int, projection: [Double], features m: Int) -> Double {
        let c = pow(Double(e), -0.25)
        var best = -Double.infinity
        for r in 0..<rows {
            for j in 0..<m {
                var s = 0.0
                for k in 0..<e { s += c * data[r * e + k] * projection[j * e + k] }
                best = max(best, s)
            }
        }
        return best
    }

    /// Non-causal linear attention: out[n,:] = (q'[n]·(k'ᵀv)) / (q'[n]·Σk').
    /// q', k' are [N, M], v is [N, E]; returns [N, E].
    public static func linearAttention(q: [Double], k: [Double], v: [Double], rows n: Int, features m: Int, width e: Int) -> [Double] {
        var ksum = [Double](repeating: 0, count: m)
        var ctx = [Double](repeating: 0, count: m * e)
        for i in 0..<n {
            for j in 0..<m {
                ksum[j] += k[i * m + j]
                for t in 0..<e { ctx[j * e + t] += k[i * m + j] * v[i * e + t] }
            }
        }
        var out = [Double](repeating: 0, count: n * e)
        for i in 0..<n {
            var den = 0.0
            for j in 0..<m { den += q[i * m + j] * ksum[j] }
            for t in 0..<e {
                var s = 0.0
                for j in 0..<m { s += q[i * m + j] * ctx[j * e + t] }
                out[i * e + t] = s / den
            }
        }
        return out
    }

    // MARK: - Forward

    /// The whole forward pass in float64.
    /// - Returns: encodings [N, D] and the residual stream after the embedding and after every
    ///   sublayer (2L+1 arrays of [N, D]), and scTransNet's attention score per position [N].
    ///   The scores cost O(N²) and are computed only when `withScores` is set.
    public static func forward(_ model: PerformerModel, tokens: [Int32], positions: [Int32], withScores: Bool = false)
        -> (encodings: [Double], hidden: [[Double]], scores: [Double]) {
        let c = model.config, n = tokens.count, d = c.dim, inner = c.inner, e = c.dimHead, m = c.features
        func arr(_ b: FloatBuffer) -> [Double] { b.array.map(Double.init) }
        func linear(_ x: [Double], _ rows: Int, _ inDim: Int, _ w: [Double], _ outDim: Int, _ b: [Double]?) -> [Double] {
            ReferenceKernels.linear(x, rows: rows, inputs: inDim, weight: w, bias: b, outputs: outDim)
        }
        func head(_ x: [Double], _ h: Int) -> [Double] {
            var out = [Double](repeating: 0, count: n * e)
            for i in 0..<n { for t in 0..<e { out[i * e + t] = x[i * inner + h * e + t] } }
            return out
        }
        let te = arr(model.tokenEmbedding), pe = model.positionTable.array
        var x = [Double](repeating: 0, count: n * d)
        for i in 0..<n {
            for j in 0..<d { x[i * d + j] = Double(Float(te[Int(tokens[i]) * d + j] + pe[Int(positions[i]) * d + j])) }
        }
        var hidden = [x]
        var scores = [Double](repeating: 0, count: n)
        for layer in model.layers {
            let qkvW = arr(layer.qkvWeight), qkvB = layer.qkvBias.map(arr)
            func qkv(_ x: [Double]) -> ([Double], [Double], [Double]) {
                let xn = layerNorm(x, rows: n, dim: d, weight: arr(layer.norm1Weight), bias: arr(layer.norm1Bias),
                                   eps: Double(c.layerNormEps))
                let q = linear(xn, n, d, Array(qkvW[0..<(inner * d)]), inner, qkvB.map { Array($0[0..<inner]) })
                let k = linear(xn, n, d, Array(qkvW[(inner * d)..<(2 * inner * d)]), inner, qkvB.map { Array($0[inner..<(2 * inner)]) })
                let v = linear(xn, n, d, Array(qkvW[(2 * inner * d)...]), inner, qkvB.map { Array($0[(2 * inner)...]) })
                return (q, k, v)
            }
            let proj = arr(layer.projection)
            func features(_ q: [Double], _ k: [Double]) -> ([[Double]], [[Double]]) {
                var kmax = -Double.infinity
                for h in 0..<c.heads { kmax = max(kmax, keyProjectionMax(head(k, h), rows: n, width: e, projection: proj, features: m)) }
                let qf = (0..<c.heads).map { softmaxFeatures(head(q, $0), rows: n, width: e, projection: proj, features: m, isQuery: true) }
                let kf = (0..<c.heads).map { softmaxFeatures(head(k, $0), rows: n, width: e, projection: proj, features: m, isQuery: false, keyMax: kmax) }
                return (qf, kf)
            }
            let (q, k, v) = qkv(x)
            let (qf, kf) = features(q, k)
            var att = [Double](repeating: 0, count: n * inner)
            for h in 0..<c.heads {
                let o = linearAttention(q: qf[h], k: kf[h], v: head(v, h), rows: n, features: m, width: e)
                for i in 0..<n { for t in 0..<e { att[i * inner + h * e + t] = o[i * e + t] } }
            }
            let ao = linear(att, n, inner, arr(layer.outWeight), d, arr(layer.outBias))
            for i in 0..<(n * d) { x[i] += ao[i] }
            hidden.append(x)
            // scTransNet's attention score: attention recomputed on the updated stream.
            if withScores {
            let (q2, k2, _) = qkv(x)
            let (qf2, kf2) = features(q2, k2)
            for h in 0..<c.heads {
                var ksum = [Double](repeating: 0, count: m)
                for i in 0..<n { for j in 0..<m { ksum[j] += kf2[h][i * m + j] } }
                for i in 0..<n {
                    var den = 0.0
                    for j in 0..<m { den += qf2[h][i * m + j] * ksum[j] }
                    for jj in 0..<n {
                        var a = 0.0
                        for j in 0..<m { a += qf2[h][i * m + j] * kf2[h][jj * m + j] }
                        scores[jj] += a / den / Double(c.depth * c.heads * n)
                    }
                }
            }
            }
            let xn2 = layerNorm(x, rows: n, dim: d, weight: arr(layer.norm2Weight), bias: arr(layer.norm2Bias), eps: Double(c.layerNormEps))
            let h1 = linear(xn2, n, d, arr(layer.w1), c.ffHidden, arr(layer.b1)).map(gelu)
            let h2 = linear(h1, n, c.ffHidden, arr(layer.w2), d, arr(layer.b2))
            for i in 0..<(n * d) { x[i] += h2[i] }
            hidden.append(x)
        }
        let enc = layerNorm(x, rows: n, dim: d, weight: arr(model.finalNormWeight), bias: arr(model.finalNormBias), eps: Double(c.layerNormEps))
        let total = scores.reduce(0, +)
        return (enc, hidden, withScores ? scores.map { $0 / total } : scores)
    }
}
