// ExceiverKernels and ExceiverForward against the float64 plain-loop ExceiverReference, over many
// shapes and random models (equal and unequal gene/latent widths, 1–4 heads, blocked attention rows),
// and the model loader's refusals (misshapen, missing and foreign tensors).

import Foundation
import Kernels
import Models
import TestSupport
import ToolKit
import Weights
import XCTest

/// Random Exceiver state_dicts with the original's tensor names.
enum RandomExceiver {
    struct Shape {
        var genes: Int, k: Int, latents: Int, e: Int, layers: Int, heads: Int, ff: Int, hidden: Int
    }

    static func file(_ s: Shape, seed: UInt64) -> TensorFile {
        var rng = Xoshiro256(seed: seed)
        var f = TensorFile()
        func put(_ name: String, _ shape: [Int], scale: Double = 0.5, offset: Double = 0) {
            let n = shape.reduce(1, *)
            f.set(name, StoredTensor((0..<n).map { _ in Float(offset + scale * rng.normal()) }, shape: shape))
        }
        func norm(_ p: String, _ d: Int) { put(p + ".weight", [d], scale: 0.2, offset: 1); put(p + ".bias", [d], scale: 0.2) }
        func attention(_ p: String, w: Int, kv: Int) {
            if w == kv {
                put(p + ".in_proj_weight", [3 * w, w])
            } else {
                put(p + ".q_proj_weight", [w, w]); put(p + ".k_proj_weight", [w, kv]); put(p + ".v_proj_weight", [w, kv])
            }
            put(p + ".in_proj_bias", [3 * w], scale: 0.1)
            put(p + ".out_proj.weight", [w, w]); put(p + ".out_proj.bias", [w], scale: 0.1)
        }
        func cross(_ p: String, w: Int, kv: Int) {
            norm(p + ".layernorm_kv", kv); norm(p + ".layernorm_q", w)
            attention(p + ".cross_attn", w: w, kv: kv)
            norm(p + ".mlp.0", w); put(p + ".mlp.1.weight", [w, w]); put(p + ".mlp.1.bias", [w], scale: 0.1)
            norm(p + ".mlp.3", w); put(p + ".mlp.4.weight", [w, w]); put(p + ".mlp.4.bias", [w], scale: 0.1)
        }
        put("gene_emb.weight", [s.genes + 1, s.k])
        // The padding row is zero, as nn.Embedding(padding_idx=seq_len) keeps it.
        var table = f["gene_emb.weight"]!.floats
        for j in 0..<s.k { table[s.genes * s.k + j] = 0 }
        f.set("gene_emb.weight", StoredTensor(table, shape: [s.genes + 1, s.k]))
        put("query_emb", [s.latents, s.e], scale: 1)
        cross("encoder_cross_attn", w: s.e, kv: s.k)
        for l in 0..<s.layers {
            let p = "process_self_attn.transformer.layers.\(l)."
            attention(p + "self_attn", w: s.e, kv: s.e)
            put(p + "linear1.weight", [s.ff, s.e]); put(p + "linear1.bias", [s.ff], scale: 0.1)
            put(p + "linear2.weight", [s.e, s.ff], scale: 0.2); put(p + "linear2.bias", [s.e], scale: 0.1)
            norm(p + "norm1", s.e); norm(p + "norm2", s.e)
        }
        cross("decoder_cross_attn", w: s.k, kv: s.e)
        norm("mlp.0", s.k)
        put("mlp.1.weight", [s.hidden, s.k]); put("mlp.1.bias", [s.hidden], scale: 0.1)
        put("mlp.3.weight", [1, s.hidden]); put("mlp.3.bias", [1], scale: 0.1)
        f.metadata["nhead"] = String(s.heads)
        return f
    }
}

final class ExceiverKernelTests: XCTestCase {
    func randoms(_ n: Int, _ rng: inout Xoshiro256, scale: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(scale * rng.normal()) }
    }

    // MARK: - Kernels

    func testSoftmaxRowsAgainstReference() {
        var rng = Xoshiro256(seed: 11)
        for (rows, n) in [(1, 1), (3, 7), (5, 8), (4, 33), (2, 1000), (1, 19_067)] {
            for masked in [false, true] {
                let x = randoms(rows * n, &rng, scale: 8)
                let mask: [Float]? = masked ? (0..<n).map { _ in rng.int(below: 2) == 0 ? 0 : 1 } : nil
                var out = x
                out.withUnsafeMutableBufferPointer { o in
                    ExceiverKernels.softmaxRows(o.baseAddress!, rows: rows, count: n, ld: n, mask: mask)
                }
                let ref = ExceiverReference.softmaxRows(x.map(Double.init), rows: rows, count: n, mask: mask?.map(Double.init))
                assertClose(out, ref.map(Float.init), atol: 1e-7, rtol: 1e-5, "softmax \(rows)x\(n) masked \(masked)")
            }
        }
    }

    func testLinearAgainstReference() {
        var rng = Xoshiro256(seed: 12)
        for (rows, inputs, outputs) in [(1, 1, 1), (3, 4, 4), (7, 4, 2048), (5, 2048, 4), (19, 12, 8)] {
            let x = randoms(rows * inputs, &rng), w = randoms(outputs * inputs, &rng), b = randoms(outputs, &rng)
            var out = [Float](repeating: 0, count: rows * outputs)
            ExceiverKernels.linear(x, rows: rows, inputs: inputs, weight: w, bias: b, outputs: outputs, &out)
            let ref = ExceiverReference.linear(x.map(Double.init), rows: rows, inputs: inputs, weight: w.map(Double.init),
                                               bias: b.map(Double.init), outputs: outputs)
            assertClose(out, ref.map(Float.init), atol: 1e-5, rtol: 1e-5, "linear \(rows)x\(inputs)→\(outputs)")
        }
    }

    func testAttentionAgainstReference() {
        var rng = Xoshiro256(seed: 13)
        // (query rows, keys, width, heads, score capacity): small capacities force blocks of rows.
        for (lq, s, w, h, cap) in [(1, 1, 4, 4, 1), (7, 13, 8, 2, 13), (128, 300, 4, 4, 300), (128, 300, 4, 4, 1 << 16),
                                   (20, 50, 16, 1, 170), (9, 1000, 12, 3, 2500), (33, 19_067, 4, 4, 1 << 16)] {
            for masked in [false, true] {
                let q = randoms(lq * w, &rng, scale: 2), kv = randoms(s * 2 * w, &rng, scale: 2)
                let mask: [Float]? = masked ? (0..<s).map { _ in rng.int(below: 3) == 0 ? 0 : 1 } : nil
                var scores = [Float](repeating: 0, count: cap), out = [Float](repeating: 0, count: lq * w)
                ExceiverKernels.attention(q: q, rows: lq, kv: kv, keys: s, width: w, heads: h, mask: mask,
                                          scores: &scores, capacity: cap, out: &out)
                let ref = ExceiverReference.attention(q: q.map(Double.init), rows: lq, kv: kv.map(Double.init), keys: s,
                                                      width: w, heads: h, mask: mask?.map(Double.init))
                assertClose(out, ref.map(Float.init), atol: 2e-5, rtol: 1e-4, "attention \(lq)x\(s) w\(w) h\(h) cap \(cap) masked \(masked)")
            }
        }
    }

    // MARK: - Whole forward

    func testForwardAgainstReferenceOnRandomModels() throws {
        let shapes: [RandomExceiver.Shape] = [
            .init(genes: 37, k: 4, latents: 5, e: 4, layers: 1, heads: 1, ff: 16, hidden: 1),
            .init(genes: 50, k: 8, latents: 6, e: 12, layers: 2, heads: 3, ff: 20, hidden: 3),
            .init(genes: 200, k: 4, latents: 16, e: 8, layers: 3, heads: 2, ff: 64, hidden: 1),
            .init(genes: 3000, k: 4, latents: 128, e: 4, layers: 2, heads: 4, ff: 256, hidden: 1),
        ]
        for (n, shape) in shapes.enumerated() {
            let model = try ExceiverModel(RandomExceiver.file(shape, seed: UInt64(100 + n)), name: "random\(n)")
            XCTAssertEqual(model.config.heads, shape.heads)
            XCTAssertEqual(model.config.headsSource, "metadata nhead")
            var rng = Xoshiro256(seed: UInt64(200 + n))
            // Every gene once, a few pointing at the padding row, in a shuffled order.
            var ids = rng.shuffled((0..<shape.genes).map { Int32($0) })
            for i in 0..<min(5, ids.count) { ids[i * 3 % ids.count] = Int32(shape.genes) }
            let values = randoms(ids.count, &rng).map { $0 + 1 }
            let mask: [Float] = (0..<ids.count).map { _ in rng.int(below: 2) == 0 ? 0 : 1 }
            let queries = (0..<17).map { _ in Int32(rng.int(below: shape.genes + 1)) }
            let c = model.config, le = c.latents * c.latentDim
            let forward = ExceiverForward(model: model)
            var enc = [Float](repeating: 0, count: le), lat = enc
            var dec = [Float](repeating: 0, count: queries.count * c.geneDim), pred = [Float](repeating: 0, count: queries.count)
            forward.encode(ids: ids, values: values, mask: mask, count: ids.count, latentEncoded: &enc, latent: &lat)
            forward.decode(latent: lat, queries: queries, count: queries.count, output: &dec, predictions: &pred)
            let ref = ExceiverReference.forward(model, ids: ids, values: values, mask: mask, queries: queries)
            let f = { (x: [Double]) in x.map(Float.init) }
            assertClose(enc, f(ref.latentEncoded), atol: 2e-5, rtol: 1e-4, "random \(n) latent_enc")
            assertClose(lat, f(ref.latent), atol: 5e-5, rtol: 1e-4, "random \(n) latent")
            assertClose(dec, f(ref.decoderOut), atol: 5e-5, rtol: 1e-4, "random \(n) decoder_out")
            assertClose(pred, f(ref.predictions), atol: 5e-5, rtol: 1e-4, "random \(n) pred")
            // The same instance again gives the same bits (scratch reuse leaves nothing behind).
            var again = [Float](repeating: 0, count: le)
            forward.encode(ids: ids, values: values, mask: mask, count: ids.count, latent: &again)
            XCTAssertEqual(again, lat)
        }
    }

    // MARK: - Loader

    func refusal(_ file: TensorFile) -> String {
        do {
            _ = try ExceiverModel(file, name: "m.safetensors")
            return "accepted"
        } catch let e as ToolError {
            guard case .badInput = e else { return "not a bad-input error: \(e)" }
            return "\(e)"
        } catch {
            return "unexpected \(error)"
        }
    }

    func testLoaderRefusesMisshapenMissingAndForeignTensors() {
        let shape = RandomExceiver.Shape(genes: 20, k: 4, latents: 3, e: 4, layers: 2, heads: 2, ff: 8, hidden: 1)
        let good = RandomExceiver.file(shape, seed: 5)
        XCTAssertTrue(ExceiverModel.recognises(good))
        XCTAssertEqual(refusal(good), "accepted")

        var f = good
        f.set("query_emb", StoredTensor([Float](repeating: 0, count: 12), shape: [12]))
        XCTAssertTrue(refusal(f).contains("query_emb has shape [12]"), refusal(f))

        f = good
        f.set("process_self_attn.transformer.layers.1.linear2.weight", StoredTensor([Float](repeating: 0, count: 28), shape: [4, 7]))
        XCTAssertTrue(refusal(f).contains("linear2.weight has shape [4, 7], expected [4, 8]"), refusal(f))

        f = good
        f.set("decoder_cross_attn.cross_attn.in_proj_weight", StoredTensor([Float](repeating: 0, count: 32), shape: [8, 4]))
        XCTAssertTrue(refusal(f).contains("in_proj_weight has shape [8, 4], expected [12, 4]"), refusal(f))

        f = TensorFile()
        for n in good.names where n != "mlp.3.bias" { f.set(n, good[n]!) }
        f.metadata = good.metadata
        XCTAssertTrue(refusal(f).contains("missing tensor mlp.3.bias"), refusal(f))

        f = good
        f.set("mlp_classify.1.weight", StoredTensor([Float](repeating: 0, count: 4), shape: [1, 4]))
        XCTAssertTrue(refusal(f).contains("unsupported tensor mlp_classify.1.weight"), refusal(f))

        f = good
        f.metadata["nhead"] = "3"
        XCTAssertTrue(refusal(f).contains("3 heads do not divide the latent width 4"), refusal(f))

        // The template copy of the encoder layer is ignored.
        f = good
        f.set("process_self_attn.encoder_layer.norm1.weight", StoredTensor([Float](repeating: 9, count: 4), shape: [4]))
        XCTAssertEqual(refusal(f), "accepted")

        XCTAssertFalse(ExceiverModel.recognises(TensorFile()))
    }
}
