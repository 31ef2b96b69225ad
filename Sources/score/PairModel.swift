// PairModel: the trained network read from a MODEL stream, and the logits it gives gene pairs.
//
// What the stream holds — tensor names, shapes, the decoders' definitions — is the MODEL
// contract, Sources/Frames/ModelContract.swift (`RegulationModel`); this file only computes it
// fast. Dimensions (docs/ARCHITECTURE.md): G genes, d representation width, R regulators in a
// block, h hidden width, B pairs in a chunk.

import Foundation
import Frames
import LinearAlgebra
import ToolKit

/// The per-gene representations and decoder of a trained model.
struct PairModel {
    typealias Decoder = RegulationModel.Decoder

    let genes: [GeneName]
    /// d: the width of a gene's regulator and target representation.
    let width: Int
    let regulator: [Float]  // [G, d]
    let target: [Float]     // [G, d]
    let decoder: Decoder
    /// Per-gene propensity terms added to the logit ([G] each), when the model has them.
    let regulatorBias: [Float]?
    let targetBias: [Float]?

    var geneCount: Int { genes.count }

    // MARK: - Reading

    /// Reads the model from a stream (HEAD with MODEL content, MODEL frames, END).
    /// - Throws: `ToolError.badInput` (65) for whatever the MODEL contract rejects.
    static func read(_ stream: StreamReader) throws -> PairModel {
        PairModel(genes: stream.header.genes, try RegulationModel.read(stream))
    }

    init(genes: [GeneName], _ m: RegulationModel) {
        precondition(genes.count == m.geneCount, "PairModel: \(genes.count) genes for a model of \(m.geneCount)")
        self.genes = genes
        width = m.width
        regulator = m.regulator
        target = m.target
        decoder = m.decoder
        regulatorBias = m.regulatorBias
        targetBias = m.targetBias
    }

    // MARK: - Scoring

    /// The logits of the pairs (regulator, target), in the order given.
    ///
    /// dot: the regulators' rows are multiplied with all target rows in blocks by sgemm
    /// ([R, d] · [G, d]ᵀ → [R, G]) and the asked entries picked, so a pair gets the same logit
    /// whether it is scored alone, from a pair file or among all TF × gene pairs.
    /// Biases: the regulator's and the target's propensity terms, when present, are added.
    /// mlp: the first layer splits into W₀ = [Wᵣ | Wₜ], so regulator[i]·Wᵣᵀ and target[j]·Wₜᵀ are
    /// computed once per gene ([G, d] · [d, h1]); pairs then go through the rest in chunks.
    /// - Parameter pairs: pairs of gene indices, each < G.
    /// - Returns: one logit per pair.
    func logits(_ pairs: [(regulator: Int32, target: Int32)]) -> [Float] {
        var out: [Float]
        switch decoder {
        case .dot: out = dotLogits(pairs)
        case .mlp(let layers): out = mlpLogits(pairs, layers)
        }
        // (decoder + regulator bias) + target bias, the order graphify trains with.
        if let b = regulatorBias { for (p, pair) in pairs.enumerated() { out[p] += b[Int(pair.regulator)] } }
        if let b = targetBias { for (p, pair) in pairs.enumerated() { out[p] += b[Int(pair.target)] } }
        return out
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
