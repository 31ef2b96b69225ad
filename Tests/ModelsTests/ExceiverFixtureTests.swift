// The released Exceiver checkpoint against the outputs of Exceiver's own PyTorch code on 4 real
// PBMC cells (Tests/Fixtures/exceiver/README.md): loading from the Lightning .ckpt and from
// safetensors, the preprocessing from raw counts and the scaler, and every stage of the forward
// (latents after the encoder and the process stack, decoder outputs, predictions), unmasked and masked.

import Foundation
import Models
import TestSupport
import Weights
import XCTest

/// The fixture's files and the inputs they define.
enum ExceiverFixture {
    static func path(_ name: String) -> String { Fixtures.path("exceiver/" + name) }
    static let checkpoint = path("pretrained_TS_exceiver.ckpt")
    static let safetensors = path("exceiver_state_dict.safetensors")
    static let genes = 19_067

    /// counts.tsv: per cell, its barcode and its counts at Exceiver indices 0..<G.
    static func counts() throws -> [(barcode: String, counts: [Double])] {
        let text = try String(contentsOfFile: path("counts.tsv"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: "\t")
            return (String(f[0]), f.dropFirst().map { Double($0)! })
        }
    }

    static func scaler() throws -> ExceiverScaler {
        try ExceiverScaler(argument: path("scaler_mean.npy") + "," + path("scaler_scale.npy"), genes: genes)
    }

    static func npy(_ name: String) throws -> [Float] { try NPYArray(path: path(name)).floats }

    /// gene_vals and key_padding_mask per cell, computed by the code under test.
    static func inputs() throws -> [(values: [Float], mask: [Float])] {
        let s = try scaler()
        return try counts().map { cell in
            var v = [Float](repeating: 0, count: genes), m = [Float](repeating: 0, count: genes)
            cell.counts.withUnsafeBufferPointer { c in s.prepare(counts: c.baseAddress!, values: &v, mask: &m) }
            return (v, m)
        }
    }
}

final class ExceiverFixtureTests: XCTestCase {
    // MARK: - Loading

    func testCheckpointAndSafetensorsLoadTheSameModel() throws {
        let ckpt = try ExceiverModel.load(ExceiverFixture.checkpoint)
        let c = ckpt.config
        XCTAssertEqual([c.genes, c.geneDim, c.latents, c.latentDim, c.layers, c.heads, c.crossHeads, c.ffHidden, c.headHidden],
                       [19_067, 4, 128, 4, 8, 4, 4, 2048, 1])
        XCTAssertEqual(c.headsSource, "hyper_parameters.nhead")
        let st = try ExceiverModel.load(ExceiverFixture.safetensors)
        XCTAssertTrue(st.config.headsSource.hasPrefix("assumed"))
        let a = try WeightsFile.load(ExceiverFixture.checkpoint), b = try WeightsFile.load(ExceiverFixture.safetensors)
        XCTAssertEqual(a.names.count, 148)
        XCTAssertEqual(Set(a.names), Set(b.names))
        let differing = a.names.filter { a[$0] != b[$0] }
        XCTAssertTrue(differing.isEmpty, "tensors differ between the .ckpt and the safetensors copy: \(differing.prefix(5))")
        // The padding row is zero.
        XCTAssertEqual(Array(ckpt.geneEmbedding.array[(19_067 * 4)...]), [0, 0, 0, 0])
    }

    /// The checkpoint is parsed once: its Lightning hyper_parameters arrive as the file's metadata.
    func testLightningHyperParameters() throws {
        let ckpt = try WeightsFile.load(ExceiverFixture.checkpoint)
        XCTAssertEqual(ckpt.metadata["hyper_parameters.nhead"], "4")
        XCTAssertEqual(ckpt.metadata["hyper_parameters.seq_len"], "19067")
        XCTAssertNil(ckpt.metadata["hyper_parameters.logs"], "a PosixPath placeholder is not metadata")
        let st = try WeightsFile.load(ExceiverFixture.safetensors)
        XCTAssertTrue(st.metadata.keys.allSatisfy { !$0.hasPrefix("hyper_parameters.") })

        var wrong = ckpt
        wrong.metadata["hyper_parameters.seq_len"] = "19000"
        XCTAssertThrowsError(try ExceiverModel(wrong, name: "m.ckpt")) { XCTAssertTrue("\($0)".contains("seq_len is 19000"), "\($0)") }
        wrong = ckpt
        wrong.metadata["hyper_parameters.nhead"] = "four"
        XCTAssertThrowsError(try ExceiverModel(wrong, name: "m.ckpt")) { XCTAssertTrue("\($0)".contains("not an integer"), "\($0)") }
    }

    /// The real checkpoint's hyper_parameters hold pathlib.PosixPath objects: the restricted
    /// unpickler keeps them as inert placeholders (class name and arguments), calling nothing.
    func testPosixPathsStayInertPlaceholders() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ExceiverFixture.checkpoint))
        try data.withUnsafeBytes { raw in
            let zip = try ZipArchive(raw, name: "ckpt")
            let pkl = try XCTUnwrap(zip.member("archive/data.pkl"))
            let root = try Pickle.load(UnsafeRawBufferPointer(rebasing: raw[pkl.dataOffset..<(pkl.dataOffset + pkl.size)]))
            let hp = try XCTUnwrap(root.dict?["hyper_parameters"]?.dict)
            guard case .object(let logs) = try XCTUnwrap(hp["logs"]) else { return XCTFail("logs is not a placeholder") }
            XCTAssertEqual(logs.className, "pathlib.PosixPath")
            XCTAssertEqual(logs.arguments.compactMap(\.string), ["..", "data", "models"])
            XCTAssertEqual(root.dict?["pytorch-lightning_version"]?.string, "1.6.5")
        }
    }

    // MARK: - Preprocessing

    func testGeneValuesFromCountsAndScaler() throws {
        let ref = try ExceiverFixture.npy("gene_vals.npy")
        let cells = try ExceiverFixture.counts()
        XCTAssertEqual(cells.map(\.barcode), ["CTAAGGACCGTTAG-1", "CCAGTCTGCGGAGA-1", "CTATGTACTGTTTC-1", "GGAGCCACCTTCTA-1"])
        let inputs = try ExceiverFixture.inputs()
        let g = ExceiverFixture.genes
        var exact = 0
        for (i, input) in inputs.enumerated() {
            let want = Array(ref[(i * g)..<((i + 1) * g)])
            assertClose(input.values, want, atol: 1e-6, maxAbs: 1e-6, "gene_vals cell \(i)")
            exact += zip(input.values, want).filter { $0 == $1 }.count
            XCTAssertEqual(input.mask, cells[i].counts.map { $0 > 0 ? 0 : 1 }, "key_padding_mask cell \(i)")
            XCTAssertEqual(input.values[10_841...].allSatisfy { $0 == 1 }, true, "unmapped indices are 1.0")
            XCTAssertEqual(input.values.max(), 11)
        }
        print("gene_vals: \(exact) of \(inputs.count * g) values bit-identical")
    }

    // MARK: - Forward

    func runCase1(_ model: ExceiverModel, label: String) throws {
        let g = ExceiverFixture.genes, c = model.config, le = c.latents * c.latentDim
        let inputs = try ExceiverFixture.inputs()
        let queries = try NPYArray(path: ExceiverFixture.path("query_ids.npy")).int64s.map { Int32($0) }
        let ids = (0..<g).map { Int32($0) }
        let forward = ExceiverForward(model: model)
        var enc = [Float](), lat = [Float](), dec = [Float](), pred = [Float](), all = [Float]()
        for input in inputs {
            var e = [Float](repeating: 0, count: le), l = e
            var d = [Float](repeating: 0, count: queries.count * c.geneDim), p = [Float](repeating: 0, count: queries.count)
            forward.encode(ids: ids, values: input.values, mask: input.mask, count: g, latentEncoded: &e, latent: &l)
            forward.decode(latent: l, queries: queries, count: queries.count, output: &d, predictions: &p)
            var dAll = [Float](repeating: 0, count: g * c.geneDim), pAll = [Float](repeating: 0, count: g)
            forward.decode(latent: l, queries: ids, count: g, output: &dAll, predictions: &pAll)
            enc += e; lat += l; dec += d; pred += p; all += pAll
        }
        assertClose(enc, try ExceiverFixture.npy("latent_enc.npy"), atol: 1e-4, maxAbs: 1e-4, "\(label) latent_enc")
        assertClose(lat, try ExceiverFixture.npy("latent.npy"), atol: 1e-4, maxAbs: 1e-4, "\(label) latent")
        assertClose(dec, try ExceiverFixture.npy("decoder_out_query.npy"), atol: 1e-4, maxAbs: 1e-4, "\(label) decoder_out_query")
        assertClose(pred, try ExceiverFixture.npy("pred_query.npy"), atol: 2e-4, maxAbs: 2e-4, "\(label) pred_query")
        assertClose(all, try ExceiverFixture.npy("pred_all.npy"), atol: 2e-4, maxAbs: 2e-4, "\(label) pred_all")
    }

    func testInferenceMatchesExceiverFromCheckpoint() throws {
        try runCase1(try ExceiverModel.load(ExceiverFixture.checkpoint), label: "ckpt")
    }

    func testInferenceMatchesExceiverFromSafetensors() throws {
        try runCase1(try ExceiverModel.load(ExceiverFixture.safetensors), label: "safetensors")
    }

    /// Training-style masking: 152 expressed genes per cell get id G (the zero row) and value 1.0,
    /// the mask is unchanged, and the decoder predicts them.
    func runMasked(_ model: ExceiverModel, label: String) throws {
        let g = ExceiverFixture.genes, c = model.config, le = c.latents * c.latentDim
        let inputs = try ExceiverFixture.inputs()
        let maskIDs = try NPYArray(path: ExceiverFixture.path("masked_mask_ids.npy"))
        XCTAssertEqual(maskIDs.shape, [4, 152])
        let all = maskIDs.int64s.map { Int32($0) }
        let targets = try ExceiverFixture.npy("masked_targets.npy")
        let forward = ExceiverForward(model: model)
        var lat = [Float](), pred = [Float]()
        for (i, input) in inputs.enumerated() {
            let queries = Array(all[(i * 152)..<((i + 1) * 152)])
            var ids = (0..<g).map { Int32($0) }, values = input.values
            for q in queries {
                XCTAssertEqual(input.mask[Int(q)], 0, "masked genes are expressed genes")
                ids[Int(q)] = Int32(g); values[Int(q)] = 1
            }
            XCTAssertEqual(queries.map { input.values[Int($0)] }, Array(targets[(i * 152)..<((i + 1) * 152)]))
            var l = [Float](repeating: 0, count: le)
            var d = [Float](repeating: 0, count: 152 * c.geneDim), p = [Float](repeating: 0, count: 152)
            forward.encode(ids: ids, values: values, mask: input.mask, count: g, latent: &l)
            forward.decode(latent: l, queries: queries, count: 152, output: &d, predictions: &p)
            lat += l; pred += p
        }
        assertClose(lat, try ExceiverFixture.npy("masked_latent.npy"), atol: 1e-4, maxAbs: 1e-4, "\(label) masked_latent")
        assertClose(pred, try ExceiverFixture.npy("masked_pred.npy"), atol: 2e-4, maxAbs: 2e-4, "\(label) masked_pred")
    }

    func testMaskedCaseFromCheckpoint() throws {
        try runMasked(try ExceiverModel.load(ExceiverFixture.checkpoint), label: "ckpt")
    }

    func testMaskedCaseFromSafetensors() throws {
        try runMasked(try ExceiverModel.load(ExceiverFixture.safetensors), label: "safetensors")
    }

    /// The float64 reference on the real model and one real cell: it agrees with PyTorch's float32
    /// outputs to float32 rounding, and the float32 forward agrees with it.
    func testFloat64ReferenceOnTheRealModel() throws {
        let model = try ExceiverModel.load(ExceiverFixture.checkpoint)
        let g = ExceiverFixture.genes, c = model.config, le = c.latents * c.latentDim
        let input = try ExceiverFixture.inputs()[2]
        let queries = try NPYArray(path: ExceiverFixture.path("query_ids.npy")).int64s.map { Int32($0) }
        let ids = (0..<g).map { Int32($0) }
        let ref = ExceiverReference.forward(model, ids: ids, values: input.values, mask: input.mask, queries: queries)
        let f = { (x: [Double]) in x.map(Float.init) }
        assertClose(f(ref.latent), Array(try ExceiverFixture.npy("latent.npy")[(2 * le)..<(3 * le)]), atol: 1e-4, maxAbs: 1e-4,
                    "float64 reference vs PyTorch latent (cell 2)")
        assertClose(f(ref.predictions), Array(try ExceiverFixture.npy("pred_query.npy")[(2 * 64)..<(3 * 64)]), atol: 2e-4, maxAbs: 2e-4,
                    "float64 reference vs PyTorch pred_query (cell 2)")
        let forward = ExceiverForward(model: model)
        var e = [Float](repeating: 0, count: le), l = e, d = [Float](repeating: 0, count: 64 * c.geneDim), p = [Float](repeating: 0, count: 64)
        forward.encode(ids: ids, values: input.values, mask: input.mask, count: g, latentEncoded: &e, latent: &l)
        forward.decode(latent: l, queries: queries, count: 64, output: &d, predictions: &p)
        assertClose(e, f(ref.latentEncoded), atol: 5e-5, maxAbs: 5e-5, "float32 vs float64 latent_enc")
        assertClose(l, f(ref.latent), atol: 1e-4, maxAbs: 1e-4, "float32 vs float64 latent")
        assertClose(d, f(ref.decoderOut), atol: 1e-4, maxAbs: 1e-4, "float32 vs float64 decoder_out")
        assertClose(p, f(ref.predictions), atol: 2e-4, maxAbs: 2e-4, "float32 vs float64 pred")
    }

    /// The float mask is added to the logits: treating it as exclusion would change the latents a lot.
    func testMaskIsAddedNotExcluding() throws {
        let model = try ExceiverModel.load(ExceiverFixture.safetensors)
        let g = ExceiverFixture.genes, le = model.config.latents * model.config.latentDim
        let input = try ExceiverFixture.inputs()[0]
        let ids = (0..<g).map { Int32($0) }
        let forward = ExceiverForward(model: model)
        var plain = [Float](repeating: 0, count: le), none = plain
        forward.encode(ids: ids, values: input.values, mask: input.mask, count: g, latent: &plain)
        forward.encode(ids: ids, values: input.values, mask: nil, count: g, latent: &none)
        let ref = Array(try ExceiverFixture.npy("latent.npy")[0..<le])
        assertClose(plain, ref, atol: 1e-4, maxAbs: 1e-4, "with mask")
        let off = zip(none, ref).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(off, 1e-3, "running without the mask should differ from the reference")
    }
}
