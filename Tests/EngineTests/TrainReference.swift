// TrainReference: float64 plain-loop twins of the training engine's operations, and the gradient
// checker that compares the engine's analytic gradients with central finite differences of
// these twins, computed in float64.

import Engine
import Foundation
import XCTest

/// A float64 tensor for reference computations.
struct Ref {
    var v: [Double]
    var shape: [Int]
    init(_ v: [Double], _ shape: [Int]) { precondition(v.count == shape.reduce(1, *)); self.v = v; self.shape = shape }
    var count: Int { v.count }
    var last: Int { shape.last ?? 1 }
    var rows: Int { last == 0 ? 0 : count / last }
}

/// Plain-loop float64 versions of every engine operation.
enum R {
    static func map(_ x: Ref, _ f: (Double) -> Double) -> Ref { Ref(x.v.map(f), x.shape) }

    static func matmul(_ a: Ref, _ b: Ref, _ ta: Bool = false, _ tb: Bool = false) -> Ref {
        let batched = a.shape.count == 3
        let bs = batched ? a.shape[0] : 1
        let (ar, ac) = (a.shape[a.shape.count - 2], a.shape[a.shape.count - 1])
        let (br, bc) = (b.shape[b.shape.count - 2], b.shape[b.shape.count - 1])
        let m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc
        var out = [Double](repeating: 0, count: bs * m * n)
        for z in 0..<bs { for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = ta ? a.v[z * m * k + p * m + i] : a.v[z * m * k + i * k + p]
                let bv = tb ? b.v[z * k * n + j * k + p] : b.v[z * k * n + p * n + j]
                s += av * bv
            }
            out[z * m * n + i * n + j] = s
        } } }
        return Ref(out, batched ? [bs, m, n] : [m, n])
    }

    /// NumPy broadcasting, by explicit multi-indices.
    static func broadcast(_ a: Ref, _ b: Ref, _ f: (Double, Double) -> Double) -> Ref {
        let r = max(a.shape.count, b.shape.count)
        let sa = [Int](repeating: 1, count: r - a.shape.count) + a.shape
        let sb = [Int](repeating: 1, count: r - b.shape.count) + b.shape
        let out = (0..<r).map { max(sa[$0], sb[$0]) }
        let n = out.reduce(1, *)
        var res = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var rem = i, ia = 0, ib = 0, ma = 1, mb = 1
            for d in stride(from: r - 1, through: 0, by: -1) {
                let idx = rem % out[d]; rem /= out[d]
                ia += (sa[d] == 1 ? 0 : idx) * ma; ma *= sa[d]
                ib += (sb[d] == 1 ? 0 : idx) * mb; mb *= sb[d]
            }
            res[i] = f(a.v[ia], b.v[ib])
        }
        return Ref(res, out)
    }

    static func sumAll(_ x: Ref) -> Ref { Ref([x.v.reduce(0, +)], []) }

    static func sumAxis(_ x: Ref, _ ax: Int, mean: Bool = false, keep: Bool = false) -> Ref {
        let n = x.shape[ax], outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        var out = [Double](repeating: 0, count: outer * inner)
        for p in 0..<outer { for k in 0..<n { for j in 0..<inner { out[p * inner + j] += x.v[(p * n + k) * inner + j] } } }
        if mean && n > 0 { out = out.map { $0 / Double(n) } }
        var s = x.shape
        if keep { s[ax] = 1 } else { s.remove(at: ax) }
        return Ref(out, s)
    }

    static func softmaxRows(_ x: Ref) -> Ref {
        var out = x.v
        let d = x.last
        for r in 0..<x.rows {
            let row = Array(x.v[(r * d)..<(r * d + d)])
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<d { out[r * d + j] = e[j] / s }
        }
        return Ref(out, x.shape)
    }

    static func layerNorm(_ x: Ref, _ g: Ref, _ b: Ref, eps: Double = 1e-5) -> Ref {
        var out = x.v
        let d = x.last
        for r in 0..<x.rows {
            let row = Array(x.v[(r * d)..<(r * d + d)])
            let mu = row.reduce(0, +) / Double(d)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(d)
            for j in 0..<d { out[r * d + j] = (row[j] - mu) / (v + eps).squareRoot() * g.v[j] + b.v[j] }
        }
        return Ref(out, x.shape)
    }

    static func l2Normalize(_ x: Ref, eps: Double = 1e-12) -> Ref {
        var out = x.v
        let d = x.last
        for r in 0..<x.rows {
            let nrm = (0..<d).map { x.v[r * d + $0] * x.v[r * d + $0] }.reduce(0, +).squareRoot()
            for j in 0..<d { out[r * d + j] = x.v[r * d + j] / max(nrm, eps) }
        }
        return Ref(out, x.shape)
    }

    static func gatherRows(_ x: Ref, _ idx: [Int32]) -> Ref {
        let w = x.count / x.shape[0]
        var out = [Double]()
        for i in idx { out += x.v[(Int(i) * w)..<(Int(i) * w + w)] }
        return Ref(out, [idx.count] + x.shape.dropFirst())
    }

    static func scatterAddRows(_ x: Ref, _ idx: [Int32], _ n: Int) -> Ref {
        let w = idx.isEmpty ? x.shape.dropFirst().reduce(1, *) : x.count / idx.count
        var out = [Double](repeating: 0, count: n * w)
        for (e, i) in idx.enumerated() { for j in 0..<w { out[Int(i) * w + j] += x.v[e * w + j] } }
        return Ref(out, [n] + x.shape.dropFirst())
    }

    /// Softmax of [E,H] edge scores over each node's edges, straight from an edge list (no CSR).
    static func neighbourSoftmax(_ s: Ref, edgeNodes: [Int32], nodeCount: Int) -> Ref {
        let e = edgeNodes.count, h = e == 0 ? 1 : s.count / e
        var out = s.v
        for i in 0..<nodeCount {
            let mine = (0..<e).filter { Int(edgeNodes[$0]) == i }
            for k in 0..<h where !mine.isEmpty {
                let m = mine.map { s.v[$0 * h + k] }.max()!
                let z = mine.map { Foundation.exp(s.v[$0 * h + k] - m) }.reduce(0, +)
                for edge in mine { out[edge * h + k] = Foundation.exp(s.v[edge * h + k] - m) / z }
            }
        }
        return out.isEmpty ? Ref([], s.shape) : Ref(out, s.shape)
    }

    static func neighbourAggregate(_ w: Ref, _ v: Ref, edgeNodes: [Int32], edgeNeighbours: [Int32], nodeCount: Int) -> Ref {
        let e = edgeNodes.count, h = e == 0 ? 1 : w.count / e
        let width = v.count / nodeCount, d = width / h
        var out = [Double](repeating: 0, count: v.count)
        for edge in 0..<e {
            let i = Int(edgeNodes[edge]), j = Int(edgeNeighbours[edge])
            for k in 0..<h { for t in 0..<d { out[i * width + k * d + t] += w.v[edge * h + k] * v.v[j * width + k * d + t] } }
        }
        return Ref(out, v.shape)
    }

    static func concat(_ parts: [Ref], _ ax: Int) -> Ref {
        let outer = parts[0].shape[..<ax].reduce(1, *), inner = parts[0].shape[(ax + 1)...].reduce(1, *)
        var out = [Double]()
        for o in 0..<outer { for p in parts { let w = p.shape[ax] * inner; out += p.v[(o * w)..<(o * w + w)] } }
        var s = parts[0].shape
        s[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        return Ref(out, s)
    }

    static func slice(_ x: Ref, _ ax: Int, _ r: Range<Int>) -> Ref {
        let n = x.shape[ax], outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        var out = [Double]()
        for o in 0..<outer { for k in r { out += x.v[((o * n + k) * inner)..<((o * n + k) * inner + inner)] } }
        var s = x.shape
        s[ax] = r.count
        return Ref(out, s)
    }

    static func permute(_ x: Ref, _ order: [Int]) -> Ref {
        let shape = order.map { x.shape[$0] }
        var strides = [Int](repeating: 1, count: x.shape.count)
        for i in stride(from: x.shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * x.shape[i + 1] }
        var out = [Double](repeating: 0, count: x.count)
        for i in 0..<x.count {
            var rem = i, src = 0
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                src += (rem % shape[d]) * strides[order[d]]; rem /= shape[d]
            }
            out[i] = x.v[src]
        }
        return Ref(out, shape)
    }

    static func bceWithLogits(_ x: Ref, _ t: Ref) -> Ref {
        let s = zip(x.v, t.v).map { (x, t) in -(t * Foundation.log(1 / (1 + Foundation.exp(-x))) + (1 - t) * Foundation.log(1 - 1 / (1 + Foundation.exp(-x)))) }
        return Ref([s.reduce(0, +) / Double(max(x.count, 1))], [])
    }

    static func crossEntropy(_ x: Ref, _ t: [Int32], ignore: Int32 = -100) -> Ref {
        let c = x.last
        var s = 0.0, kept = 0
        for (r, target) in t.enumerated() where target != ignore {
            let row = Array(x.v[(r * c)..<(r * c + c)])
            let z = row.map { Foundation.exp($0) }.reduce(0, +)
            s += Foundation.log(z) - row[Int(target)]
            kept += 1
        }
        return Ref([kept == 0 ? 0 : s / Double(kept)], [])
    }

    static func mse(_ p: Ref, _ t: Ref) -> Ref {
        Ref([zip(p.v, t.v).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(max(p.count, 1))], [])
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
}

/// A seeded source of test values (independent of the engine's generator).
struct TestValues {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Double(state >> 11) * 0x1p-53 * 2 - 1)
    }
    mutating func array(_ n: Int, scale: Float = 1, offset: Float = 0) -> [Float] { (0..<n).map { _ in next() * scale + offset } }
}

/// An input of a gradient check.
struct CheckInput {
    var values: [Float]
    var shape: [Int]
    var differentiable = true
}

/// The gradient checker: every analytic gradient of the engine against central differences of
/// the float64 reference, and the engine's forward result against the reference's.
enum GradientCheck {
    /// Counts every checked gradient value across the test run (for the report).
    nonisolated(unsafe) static var checkedValues = 0

    /// Checks one operation at one point.
    ///
    /// The scalar probed is L = Σ w ⊙ f(inputs) with fixed random weights w, so every output
    /// value contributes; the engine gets w as the seed of its backward pass.
    /// - Returns: (forward max abs diff, gradient max abs diff).
    @discardableResult
    static func run(_ label: String, _ inputs: [CheckInput], seed: UInt64 = 1,
                    forwardTolerance: Double = 2e-5, gradientTolerance: Double = 1e-5,
                    engine: (Tape, [Tensor]) -> Tensor, reference: ([Ref]) -> Ref,
                    file: StaticString = #filePath, line: UInt = #line) -> (Double, Double) {
        let tape = Tape()
        let tensors = inputs.map { Tensor($0.values, shape: $0.shape, requiresGrad: $0.differentiable) }
        let y = engine(tape, tensors)
        let refs = inputs.map { Ref($0.values.map(Double.init), $0.shape) }
        let want = reference(refs)
        XCTAssertEqual(y.shape, want.shape, "\(label): forward shape", file: file, line: line)
        guard y.shape == want.shape else { return (.infinity, .infinity) }
        var forwardDiff = 0.0
        for (a, b) in zip(y.data, want.v) { forwardDiff = max(forwardDiff, abs(Double(a) - b) / max(1, abs(b))) }
        XCTAssertLessThanOrEqual(forwardDiff, forwardTolerance, "\(label): forward differs from the float64 reference", file: file, line: line)

        var gen = TestValues(seed &+ 99)
        let w = gen.array(y.count)
        tape.backward(y, seed: w)
        let wd = w.map(Double.init)
        func loss(_ rs: [Ref]) -> Double { zip(reference(rs).v, wd).map { $0 * $1 }.reduce(0, +) }

        var gradDiff = 0.0
        for (k, input) in inputs.enumerated() where input.differentiable {
            let analytic = tensors[k].grad.isEmpty ? [Float](repeating: 0, count: input.values.count) : tensors[k].grad
            for i in 0..<input.values.count {
                let x0 = refs[k].v[i]
                let h = 1e-6 * max(1, abs(x0))
                var plus = refs, minus = refs
                plus[k].v[i] = x0 + h
                minus[k].v[i] = x0 - h
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                let diff = abs(Double(analytic[i]) - numeric)
                gradDiff = max(gradDiff, diff / max(1, abs(numeric)))
                if diff > gradientTolerance * max(1, abs(numeric)) {
                    XCTFail("\(label): d/d input\(k)[\(i)] analytic \(analytic[i]) vs finite difference \(numeric)", file: file, line: line)
                    return (forwardDiff, gradDiff)
                }
                checkedValues += 1
            }
        }
        return (forwardDiff, gradDiff)
    }
}
