// PairModel: the trained network read from a MODEL stream, and the logits it gives gene pairs.
//
// The MODEL contract (graphify writes exactly this; docs/SCORE.md):
//   HEAD content MODEL, genes = the dataset genes (G), metadata `decoder` = `dot` or `mlp`;
//   tensors `regulator` [G, d] and `target` [G, d]: each gene's representation as a regulator
//   and as a target;
//   dot: logit(i→j) = regulator[i] · target[j];
//   mlp: layers `decoder.0.weight` [h1, 2d], `decoder.0.bias` [h1], `decoder.1.weight` [h2, h1], …,
//        the last with output size 1; input concat(regulator[i], target[j]); ReLU between layers,
//        none after the last.
// Other tensors (graphify may keep more of its model) are ignored.
//
// Dimension legend: G genes, d representation width, R regulators in a block, h hidden width,
// C pairs in a chunk.

import Foundation
import Frames
import LinearAlgebra
import ToolKit

/// One dense layer of the MLP decoder: y = W x + b, W [out, in].
struct DenseLayer {
    let weight: [Float]  // [out, in]
    let bias: [Float]    // [out]
    let outputs: Int
    let inputs: Int
}

/// The per-gene representations and decoder of a trained model.
struct PairModel {
    enum Decoder { case dot, mlp([DenseLayer]) }

    let genes: [GeneName]
    /// d: the width of a gene's regulator and target representation.
    let width: Int
    let regulator: [Float]  // [G, d]
    let target: [Float]     // [G, d]
    let decoder: Decoder

    var geneCount: Int { genes.count }

    // MARK: - Reading

    /// Reads the model from a stream (HEAD with MODEL content, MODEL frames, END).
    /// - Throws: `ToolError.badInput` (65) for another content kind, no MODEL frame, missing or
    ///   misshapen tensors, non-finite values, or an unknown decoder.
    static func read(_ stream: StreamReader) throws -> PairModel {
        let name = stream.name
        let h = stream.header
        guard h.content == .model else {
            throw ToolError.data(name, "carries \(h.content) frames, not a MODEL: score reads graphify's output "
                                 + "(… | graphify --prior EDGES | score --tfs TFS)")
        }
        var tensors = [String: ModelTensor]()
        var frames = 0
        while let frame = try stream.next() {
            guard case .model(let ts) = frame else { continue }
            frames += 1
            for t in ts {
                if tensors[t.name] != nil { throw ToolError.data(name, "tensor '\(t.name)' appears twice") }
                tensors[t.name] = t
            }
        }
        if frames == 0 { throw ToolError.data(name, "has no MODEL frame (the stream holds no trained model)") }
        return try PairModel(header: h, tensors: tensors, name: name)
    }

    init(header h: StreamHeader, tensors: [String: ModelTensor], name: String) throws {
        let g = h.genes.count
        func tensor(_ key: String) throws -> ModelTensor {
            guard let t = tensors[key] else { throw ToolError.data(name, "MODEL has no tensor '\(key)'") }
            if let bad = t.data.firstIndex(where: { !$0.isFinite }) {
                throw ToolError.data(name, "tensor '\(key)' holds a non-finite value (\(t.data[bad]) at \(bad))")
            }
            return t
        }
        let reg = try tensor("regulator"), tgt = try tensor("target")
        for t in [reg, tgt] where t.shape.count != 2 || t.shape[0] != g || t.shape[1] < 1 {
            throw ToolError.data(name, "tensor '\(t.name)' has shape \(t.shape), expected [\(g), d] (one row per gene of the HEAD)")
        }
        guard reg.shape[1] == tgt.shape[1] else {
            throw ToolError.data(name, "tensors 'regulator' \(reg.shape) and 'target' \(tgt.shape) differ in width")
        }
        let d = reg.shape[1]
        genes = h.genes
        width = d
        regulator = reg.data
        target = tgt.data
        switch h.metadata("decoder") {
        case "dot":
            decoder = .dot
        case "mlp":
            var layers = [DenseLayer]()
            var inputs = 2 * d
            while let w = tensors["decoder.\(layers.count).weight"] {
                let n = layers.count
                let w = try tensor(w.name)
                guard w.shape.count == 2, w.shape[1] == inputs, w.shape[0] >= 1 else {
                    throw ToolError.data(name, "tensor 'decoder.\(n).weight' has shape \(w.shape), expected [h, \(inputs)]")
                }
                let b = try tensor("decoder.\(n).bias")
                guard b.shape == [w.shape[0]] else {
                    throw ToolError.data(name, "tensor 'decoder.\(n).bias' has shape \(b.shape), expected [\(w.shape[0])]")
                }
                layers.append(DenseLayer(weight: w.data, bias: b.data, outputs: w.shape[0], inputs: inputs))
                inputs = w.shape[0]
            }
            guard let last = layers.last else {
                throw ToolError.data(name, "decoder is 'mlp' but the MODEL has no tensor 'decoder.0.weight'")
            }
            guard last.outputs == 1 else {
                throw ToolError.data(name, "the last decoder layer (decoder.\(layers.count - 1)) has \(last.outputs) outputs, expected 1")
            }
            decoder = .mlp(layers)
        case let other?:
            throw ToolError.data(name, "unknown decoder '\(other)' in the HEAD metadata (dot or mlp)")
        case nil:
            throw ToolError.data(name, "HEAD metadata has no 'decoder' (dot or mlp): not a MODEL written by graphify")
        }
    }

    // MARK: - Scoring

    /// The logits of the pairs (regulator, target), in the order given.
    ///
    /// dot: the regulators' rows are multiplied with all target rows in blocks by sgemm
    /// ([R, d] · [G, d]ᵀ → [R, G]) and the asked entries picked, so a pair gets the same logit
    /// whether it is scored alone, from a pair file or among all TF × gene pairs.
    /// mlp: the first layer splits into W₀ = [Wᵣ | Wₜ], so regulator[i]·Wᵣᵀ and target[j]·Wₜᵀ are
    /// computed once per gene ([G, d] · [d, h1]); pairs then go through the rest in chunks.
    /// - Parameter pairs: pairs of gene indices, each < G.
    /// - Returns: one logit per pair.
    func logits(_ pairs: [(regulator: Int32, target: Int32)]) -> [Float] {
        switch decoder {
        case .dot: return dotLogits(pairs)
        case .mlp(let layers): return mlpLogits(pairs, layers)
        }
    }

    private func dotLogits(_ pairs: [(regulator: Int32, target: Int32)]) -> [Float] {
        let g = geneCount, d = width
        var out = [Float](repeating: 0, count: pairs.count)
        // Pairs grouped by regulator (a counting sort), regulators in blocks of up to `block` rows.
        var start = [Int](repeating: 0, count: g + 1)
        for pair in pairs { start[Int(pair.regulator) + 1] += 1 }
        for i in 0..<g { start[i + 1] += start[i] }
        var grouped = [Int](repeating: 0, count: pairs.count)
        var fill = start
        for (p, pair) in pairs.enumerated() {
            grouped[fill[Int(pair.regulator)]] = p
            fill[Int(pair.regulator)] += 1
        }
        let regs = (0..<g).filter { start[$0 + 1] > start[$0] }
        let block = max(1, min(regs.count, (1 << 22) / max(g, 1)))
        var rows = [Float](repeating: 0, count: block * d)
        var c = [Float](repeating: 0, count: block * g)
        var first = 0
        while first < regs.count {
            let r = min(block, regs.count - first)
            for k in 0..<r {
                let i = regs[first + k]
                for x in 0..<d { rows[k * d + x] = regulator[i * d + x] }
            }
            rows.withUnsafeBufferPointer { a in
                target.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.sgemm(transB: true, m: r, n: g, k: d, a: a.baseAddress!, lda: d,
                                   b: b.baseAddress!, ldb: d, c: cp.baseAddress!, ldc: g)
                    }
                }
            }
            for k in 0..<r {
                let i = regs[first + k]
                for p in grouped[start[i]..<start[i + 1]] { out[p] = c[k * g + Int(pairs[p].target)] }
            }
            first += r
        }
        return out
    }

    private func mlpLogits(_ pairs: [(regulator: Int32, target: Int32)], _ layers: [DenseLayer]) -> [Float] {
        let g = geneCount, d = width
        let first = layers[0]
        let h1 = first.outputs
        // Per gene: A = regulator · Wᵣᵀ [G, h1], B = target · Wₜᵀ [G, h1]; W₀ is [h1, 2d], lda 2d.
        var a = [Float](repeating: 0, count: g * h1)
        var b = [Float](repeating: 0, count: g * h1)
        first.weight.withUnsafeBufferPointer { w in
            regulator.withUnsafeBufferPointer { x in
                a.withUnsafeMutableBufferPointer { y in
                    BLAS.sgemm(transB: true, m: g, n: h1, k: d, a: x.baseAddress!, lda: d,
                               b: w.baseAddress!, ldb: 2 * d, c: y.baseAddress!, ldc: h1)
                }
            }
            target.withUnsafeBufferPointer { x in
                b.withUnsafeMutableBufferPointer { y in
                    BLAS.sgemm(transB: true, m: g, n: h1, k: d, a: x.baseAddress!, lda: d,
                               b: w.baseAddress! + d, ldb: 2 * d, c: y.baseAddress!, ldc: h1)
                }
            }
        }
        var out = [Float](repeating: 0, count: pairs.count)
        let chunk = 4096
        let widest = layers.map(\.outputs).max()!
        var x = [Float](repeating: 0, count: chunk * widest)
        var y = [Float](repeating: 0, count: chunk * widest)
        var start = 0
        while start < pairs.count {
            let n = min(chunk, pairs.count - start)
            // Layer 0 from the per-gene halves.
            let relu0 = layers.count > 1
            for p in 0..<n {
                let i = Int(pairs[start + p].regulator) * h1, j = Int(pairs[start + p].target) * h1
                for u in 0..<h1 {
                    let v = a[i + u] + b[j + u] + first.bias[u]
                    x[p * h1 + u] = relu0 ? max(v, 0) : v
                }
            }
            var inputs = h1
            for (l, layer) in layers.enumerated().dropFirst() {
                let o = layer.outputs
                x.withUnsafeBufferPointer { xp in
                    layer.weight.withUnsafeBufferPointer { wp in
                        y.withUnsafeMutableBufferPointer { yp in
                            BLAS.sgemm(transB: true, m: n, n: o, k: inputs, a: xp.baseAddress!, lda: inputs,
                                       b: wp.baseAddress!, ldb: inputs, c: yp.baseAddress!, ldc: o)
                        }
                    }
                }
                let relu = l < layers.count - 1
                for p in 0..<n {
                    for u in 0..<o {
                        let v = y[p * o + u] + layer.bias[u]
                        y[p * o + u] = relu ? max(v, 0) : v
                    }
                }
                swap(&x, &y)
                inputs = o
            }
            for p in 0..<n { out[start + p] = x[p] }  // the last layer has one output
            start += n
        }
        return out
    }
}
