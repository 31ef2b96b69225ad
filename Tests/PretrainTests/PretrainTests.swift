// pretrain, run as a built executable on a tiny real corpus (Tests/Fixtures/pretrain): it learns
// (held-out loss falls, accuracy beats both baselines), with the full sequence and with zero
// sampling, it is byte-identical across thread counts and across a resume, embed loads its output and computes the same encodings as the trainer's
// tape, and bad input ends with exit 65 (usage errors 64) and no model file.

import Engine
import Foundation
import Frames
import Models
import TestSupport
import ToolKit
import Weights
import XCTest

final class PretrainTests: XCTestCase {
    let cells = Fixtures.path("pretrain/cells.sgrf")
    /// A small model for the tiny corpus (64 genes + 1 position).
    let small = ["--dim", "16", "--depth", "1", "--heads", "2", "--dim-head", "8", "--batch-size", "16", "--holdout-fraction", "0.2"]

    func pretrain(_ args: [String], stdin: Data? = nil) throws -> ToolRun {
        try Tools.run("pretrain", args, stdin: stdin)
    }

    func bytes(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    /// Held-out figures from the log lines: (step, loss, accuracy, most frequent, per gene).
    func evaluations(_ stderr: String) -> [(Int, Double, Double, Double, Double)] {
        stderr.split(separator: "\n").compactMap { line in
            guard line.contains("held-out loss") else { return nil }
            let nums = line.split(whereSeparator: { " ,:()/".contains($0) }).compactMap { Double($0) }
            // step, steps, train loss, held-out loss, accuracy, most frequent, per gene, masked, cells
            guard nums.count >= 7 else { return nil }
            return (Int(nums[0]), nums[3], nums[4], nums[5], nums[6])
        }
    }

    // MARK: - Learning

    func testShortRunLowersHeldOutLossAndBeatsBaselines() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let model = dir.appendingPathComponent("m.safetensors")
        let run = try pretrain([cells, "-o", model.path, "--steps", "200", "--lr", "1e-2", "--eval-every", "20", "-t", "1"] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        let evs = evaluations(run.stderr)
        XCTAssertGreaterThanOrEqual(evs.count, 5, run.stderr)
        let first = evs.first!, last = evs.last!
        print("[PretrainTests] held-out loss \(first.1) at step \(first.0) → \(last.1) at step \(last.0); accuracy \(last.2) vs most frequent \(last.3), per gene \(last.4)")
        XCTAssertLessThan(last.1, first.1 * 0.9, "held-out loss must fall")
        XCTAssertGreaterThan(last.2, last.4, "must beat each gene's most frequent token")
        XCTAssertGreaterThan(last.2, last.3, "must beat the most frequent token")
        // The figures are recorded in the model's metadata.
        let file = try Safetensors.read(path: model.path)
        XCTAssertEqual(file.metadata["pretrain.step"], "200")
        XCTAssertEqual(file.metadata["heldout.accuracy"].flatMap(Double.init) ?? -1, last.2, accuracy: 1e-4)
        XCTAssertEqual(file.metadata["vocabulary.genes"], "64")
    }

    func testMSEObjectiveLearnsValues() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let model = dir.appendingPathComponent("m.safetensors"), ckpt = dir.appendingPathComponent("c.safetensors")
        let run = try pretrain([cells, "-o", model.path, "--checkpoint", ckpt.path, "--objective", "mse", "--steps", "200",
                                "--lr", "1e-2", "--eval-every", "0", "-t", "1"] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        let file = try Safetensors.read(path: model.path)
        let mse = Double(file.metadata["heldout.mse"] ?? "") ?? .infinity
        let perGene = Double(file.metadata["heldout.baseline.per_gene_mean"] ?? "") ?? 0
        print("[PretrainTests] mse objective: held-out MSE \(mse), per-gene mean baseline \(perGene)")
        XCTAssertLessThan(mse, 0.95 * perGene, "masked-value regression must beat each gene's mean value")
        XCTAssertNil(file["to_value.weight"], "the model file holds scBERT's names only")
        XCTAssertNotNil(try Safetensors.read(path: ckpt.path)["to_value.weight"], "the checkpoint keeps the value head")
    }

    /// `--gene2vec` reads gene2vec's text format (comments and a word2vec header skipped) as a
    /// frozen position table: row i is vocabulary gene i's vector, zero for genes the file lacks
    /// and for the appended position, unchanged by training.
    func testGene2VecTableIsTheFrozenPositionTable() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let vocabulary = try StreamReader(path: cells).header.vocabulary
        XCTAssertEqual(vocabulary.count, 64)
        var text = "# a knowledge table\n64 16\n"
        var expected = [Float](repeating: 0, count: 65 * 16)
        for (i, g) in vocabulary.enumerated() where i != 3 {
            let v = (0..<16).map { Float(i * 16 + $0) / 100 - 5 }
            for j in 0..<16 { expected[i * 16 + j] = v[j] }
            text += g + " " + v.map { "\($0)" }.joined(separator: " ") + "\n"
        }
        let table = dir.appendingPathComponent("table.txt"), model = dir.appendingPathComponent("m.safetensors")
        try text.write(to: table, atomically: true, encoding: .utf8)
        let run = try pretrain([cells, "-o", model.path, "--steps", "5", "--eval-every", "0", "-t", "1", "--gene2vec", table.path] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("1 of 64 vocabulary genes have no vector (zero rows)"), run.stderr)
        let file = try Safetensors.read(path: model.path)
        XCTAssertEqual(file.metadata["pretrain.positions"], "gene2vec (frozen)")
        XCTAssertEqual(file["pos_emb.emb.weight"]?.shape, [65, 16])
        XCTAssertEqual(file["pos_emb.emb.weight"]?.floats, expected)
        // A width other than --dim is bad input.
        let bad = try pretrain([cells, "-o", dir.appendingPathComponent("bad.safetensors").path, "--steps", "5",
                                "--gene2vec", table.path] + small.map { $0 == "16" ? "32" : $0 })
        XCTAssertEqual(bad.status, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("16 numbers after the symbol, the model width is 32"), bad.stderr)
    }

    // MARK: - Reproducibility

    func testSameBytesOnOneAndTwoThreads() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        var outputs = [Data]()
        for t in ["1", "2"] {
            let model = dir.appendingPathComponent("m\(t).safetensors"), ckpt = dir.appendingPathComponent("c\(t).safetensors")
            let run = try pretrain([cells, "-o", model.path, "--checkpoint", ckpt.path, "--steps", "12", "--eval-every", "5",
                                    "--seed", "7", "-t", t] + small)
            XCTAssertEqual(run.status, 0, run.stderr)
            outputs.append(try bytes(model)); outputs.append(try bytes(ckpt))
        }
        XCTAssertEqual(outputs[0], outputs[2], "model bytes differ between -t 1 and -t 2")
        XCTAssertEqual(outputs[1], outputs[3], "checkpoint bytes differ between -t 1 and -t 2")
        // Another seed gives another model.
        let other = dir.appendingPathComponent("o.safetensors")
        XCTAssertEqual(try pretrain([cells, "-o", other.path, "--steps", "12", "--seed", "8"] + small).status, 0)
        XCTAssertNotEqual(try bytes(other), outputs[0])
    }

    func testResumeEqualsUninterruptedRun() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let straight = dir.appendingPathComponent("s.safetensors"), ckStraight = dir.appendingPathComponent("cs.safetensors")
        XCTAssertEqual(try pretrain([cells, "-o", straight.path, "--checkpoint", ckStraight.path, "--steps", "16",
                                     "--eval-every", "4"] + small).status, 0)
        let half = dir.appendingPathComponent("h.safetensors"), ck = dir.appendingPathComponent("ck.safetensors")
        let first = try pretrain([cells, "-o", half.path, "--checkpoint", ck.path, "--steps", "16", "--stop-after", "7"] + small)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(try Safetensors.read(path: ck.path).metadata["pretrain.step"], "7")
        let resumed = dir.appendingPathComponent("r.safetensors"), ck2 = dir.appendingPathComponent("ck2.safetensors")
        let second = try pretrain([cells, "-o", resumed.path, "--checkpoint", ck2.path, "--resume", ck.path, "--steps", "16",
                                   "--eval-every", "4", "-t", "2"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("resuming at step 7"), second.stderr)
        XCTAssertEqual(try bytes(resumed), try bytes(straight), "7 steps + resume 9 must equal 16 steps straight")
        XCTAssertEqual(try bytes(ck2), try bytes(ckStraight), "and so must the checkpoints")
    }

    // MARK: - Whole datasets held out (--heldout)

    func testHeldOutDatasetsAreTheEvaluationCellsAndResumeNeedsThem() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        // A second dataset: the first quarter of the fixture's cells, tokenized on their own.
        let held = dir.appendingPathComponent("held.sgrf")
        let tok = try Tools.run("tokenize", [Fixtures.path("pretrain/pbmc_64genes_240cells.csv.gz"), "--vocab",
                                             Fixtures.path("pretrain/genes.txt"), "--target-sum", "200", "--shard", "1/4",
                                             "-q", "-o", held.path])
        XCTAssertEqual(tok.status, 0, tok.stderr)
        let sizes = Array(small.dropLast(2))   // without --holdout-fraction
        let straight = dir.appendingPathComponent("s.safetensors")
        let run = try pretrain([cells, "--heldout", held.path, "-o", straight.path, "--steps", "8", "--eval-every", "4"] + sizes)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("300 cells (240 training, 60 held out)"), run.stderr)
        let meta = try Safetensors.read(path: straight.path).metadata
        XCTAssertEqual(meta["pretrain.heldout_cells"], "60")
        XCTAssertEqual(meta["heldout.cells"], "60")
        XCTAssertEqual(meta["pretrain.holdout_fraction"], "0.0")
        XCTAssertEqual(evaluations(run.stderr).count, 2, run.stderr)
        // Either whole datasets or a share of cells, not both.
        let both = try pretrain([cells, "--heldout", held.path, "--holdout-fraction", "0.1", "-o", straight.path + "2", "--steps", "2"])
        XCTAssertEqual(both.status, 64, both.stderr)
        XCTAssertTrue(both.stderr.contains("give one"), both.stderr)
        // A resume must hold out the same cells, and then equals the straight run.
        let ck = dir.appendingPathComponent("ck.safetensors"), half = dir.appendingPathComponent("h.safetensors")
        XCTAssertEqual(try pretrain([cells, "--heldout", held.path, "-o", half.path, "--checkpoint", ck.path, "--steps", "8",
                                     "--stop-after", "3"] + sizes).status, 0)
        let resumed = dir.appendingPathComponent("r.safetensors")
        let without = try pretrain([cells, "-o", resumed.path, "--resume", ck.path, "--steps", "8"])
        XCTAssertEqual(without.status, 64, without.stderr)
        XCTAssertTrue(without.stderr.contains("give the same --heldout"), without.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.path))
        let with = try pretrain([cells, "--heldout", held.path, "-o", resumed.path, "--resume", ck.path, "--steps", "8",
                                 "--eval-every", "4"])
        XCTAssertEqual(with.status, 0, with.stderr)
        XCTAssertEqual(try bytes(resumed), try bytes(straight), "3 steps + resume must equal 8 steps straight")
    }

    // MARK: - Zero sampling (--zeros)

    func testZeroSamplingLearnsAndIsReproducibleAcrossThreadsAndResume() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        // It learns: held-out loss falls and accuracy beats both baselines.
        let model = dir.appendingPathComponent("z.safetensors")
        let run = try pretrain([cells, "-o", model.path, "--steps", "200", "--lr", "1e-2", "--eval-every", "20", "--zeros", "0.25x",
                                "-t", "1", "-v"] + small)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("zero genes per sequence 0.25x"), run.stderr)
        XCTAssertTrue(run.stderr.contains("ETA") || run.stderr.contains("cells/s"), "progress on stderr with -v")
        let evs = evaluations(run.stderr)
        let first = evs.first!, last = evs.last!
        print("[PretrainTests] --zeros 0.25x: held-out loss \(first.1) → \(last.1); accuracy \(last.2) vs most frequent \(last.3), per gene \(last.4)")
        XCTAssertLessThan(last.1, first.1 * 0.9, "held-out loss must fall")
        XCTAssertGreaterThan(last.2, last.3, "must beat the most frequent token")
        XCTAssertGreaterThan(last.2, last.4, "must beat each gene's most frequent token")
        XCTAssertEqual(try Safetensors.read(path: model.path).metadata["pretrain.zeros"], "0.25x")
        XCTAssertTrue(run.stderr.contains("positions/s"), run.stderr)

        // Same bytes on 1 and 2 threads; 5 steps + a resume of 7 equal 12 straight.
        var outputs = [Data]()
        for t in ["1", "2"] {
            let m = dir.appendingPathComponent("m\(t).safetensors"), c = dir.appendingPathComponent("c\(t).safetensors")
            let r = try pretrain([cells, "-o", m.path, "--checkpoint", c.path, "--steps", "12", "--eval-every", "5", "--seed", "3",
                                  "--zeros", "10", "-t", t] + small)
            XCTAssertEqual(r.status, 0, r.stderr)
            outputs += [try bytes(m), try bytes(c)]
        }
        XCTAssertEqual(outputs[0], outputs[2], "model bytes differ between -t 1 and -t 2")
        XCTAssertEqual(outputs[1], outputs[3], "checkpoint bytes differ between -t 1 and -t 2")
        let half = dir.appendingPathComponent("h.safetensors"), ck = dir.appendingPathComponent("ck.safetensors")
        let a = try pretrain([cells, "-o", half.path, "--checkpoint", ck.path, "--checkpoint-every", "2", "--steps", "12",
                              "--stop-after", "5", "--seed", "3", "--zeros", "10"] + small)
        XCTAssertEqual(a.status, 0, a.stderr)
        let resumed = dir.appendingPathComponent("r.safetensors"), ck2 = dir.appendingPathComponent("ck2.safetensors")
        let b = try pretrain([cells, "-o", resumed.path, "--checkpoint", ck2.path, "--resume", ck.path, "--steps", "12",
                              "--eval-every", "5", "-t", "2"])
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stderr.contains("zero genes per sequence 10"), b.stderr)
        XCTAssertEqual(try bytes(resumed), outputs[0], "5 steps + resume 7 must equal 12 steps straight")
        XCTAssertEqual(try bytes(ck2), outputs[1], "and so must the checkpoints")
        // The sample is part of the run: another --zeros on resume is a usage error; a bad value too.
        let clash = try pretrain([cells, "-o", resumed.path, "--resume", ck.path, "--steps", "12", "--zeros", "all"])
        XCTAssertEqual(clash.status, 64, clash.stderr)
        XCTAssertTrue(clash.stderr.contains("--zeros cannot change"), clash.stderr)
        for bad in ["-1", "x", "1.5", "all2"] {
            let r = try pretrain([cells, "-o", model.path, "--zeros", bad])
            XCTAssertEqual(r.status, 64, "--zeros \(bad): \(r.stderr)")
        }
    }

    // MARK: - embed loads the result

    func testEmbedLoadsThePretrainedModelAndAgreesWithTheTape() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let model = dir.appendingPathComponent("m.safetensors")
        XCTAssertEqual(try pretrain([cells, "-o", model.path, "--steps", "10", "--eval-every", "0"] + small).status, 0)
        let out = dir.appendingPathComponent("enc.sgrf")
        let embed = try Tools.run("embed", [cells, "--model", model.path, "--emit", "encodings", "-o", out.path, "-t", "1"])
        XCTAssertEqual(embed.status, 0, embed.stderr)
        // The first cell's encodings from embed equal the trainer's tape forward on the same tokens.
        let stream = try StreamReader(path: out.path)
        guard case .encodings(let dim, let records)? = try stream.next() else { return XCTFail("no ENCODING frame") }
        XCTAssertEqual(dim, 16)
        let first = records[0]
        let net = try PerformerNetwork(try Safetensors.read(path: model.path), name: "m", learnPositions: true)
        let input = try StreamReader(path: cells)
        guard case .cells(_, let cellRecords)? = try input.next() else { return XCTFail("no CELL frame") }
        var tokens = [Int32](repeating: 0, count: 65)
        for (i, g) in cellRecords[0].genes.enumerated() where input.header.vocabularyIndex[Int(g)] >= 0 {
            tokens[Int(input.header.vocabularyIndex[Int(g)])] = Int32(cellRecords[0].tokens[i])
        }
        let enc = net.encode(Tape(training: false, recording: false), tokens: tokens, batch: 1)
        let d = assertClose(first.values, enc.data, atol: 1e-5, rtol: 1e-4, maxAbs: 2e-5, "embed vs tape")
        print("[PretrainTests] embed vs the trainer's tape on a pretrained model: max abs diff \(d)")
    }

    // MARK: - Bad input

    /// Writes a CELL stream with the given vocabulary and token flag.
    func stream(_ url: URL, vocabulary: [String], tokens: Bool, truncated: Bool = false) throws {
        let genes = (0..<4).map { GeneName(symbol: "G\($0)") }
        let head = StreamHeader(content: .cell, genes: genes, vocabulary: vocabulary,
                                vocabularyIndex: vocabulary.isEmpty ? [] : (0..<4).map { Int32($0 % vocabulary.count) })
        let out = try OutputFile.open(url.path, binary: true, inputs: [])
        let writer = try FrameWriter(out, header: head)
        let cellsOut = (0..<6).map { c in
            CellRecord(barcode: "c\(c)", total: 10, genes: [0, 1, 2], values: [1.5, 2.5, 3.5],
                       tokens: tokens ? [1, 2, 3] : [], counts: [])
        }
        for c in cellsOut { try writer.append(cell: c, flags: tokens ? [.tokens] : []) }
        if truncated { try writer.flushPending(); try out.commit() } else { try writer.finish() }
    }

    func testBadInputExitCodes() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let model = dir.appendingPathComponent("m.safetensors")
        func expect(_ status: Int32, _ args: [String], _ message: String, line: UInt = #line) throws {
            let run = try pretrain(args)
            XCTAssertEqual(run.status, status, run.stderr, line: line)
            XCTAssertTrue(run.stderr.contains(message), "stderr: \(run.stderr)", line: line)
            if status == 65 {   // one line in the tool's voice (usage errors may add the usage text)
                XCTAssertEqual(run.stderr.split(separator: "\n").filter { $0.hasPrefix("pretrain: ") }.count, 1, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: model.path), "no model after a failure", line: line)
        }
        let noTokens = dir.appendingPathComponent("notokens.sgrf")
        try stream(noTokens, vocabulary: ["A", "B"], tokens: false)
        try expect(65, [noTokens.path, "-o", model.path, "--steps", "2"], "without tokens")
        let noVocab = dir.appendingPathComponent("novocab.sgrf")
        try stream(noVocab, vocabulary: [], tokens: true)
        try expect(65, [noVocab.path, "-o", model.path, "--steps", "2"], "no model vocabulary")
        let cut = dir.appendingPathComponent("cut.sgrf")
        try stream(cut, vocabulary: ["A", "B"], tokens: true, truncated: true)
        try expect(65, [cut.path, "-o", model.path, "--steps", "2"], "cut.sgrf")
        // Inputs with different vocabularies.
        let other = dir.appendingPathComponent("other.sgrf")
        try stream(other, vocabulary: ["A", "B", "C"], tokens: true)
        try expect(65, [cells, other.path, "-o", model.path, "--steps", "2"], "differs from the first input")
        // Resume with a stream whose vocabulary size differs from the model's positions − 1.
        let ck = dir.appendingPathComponent("ck.safetensors"), m0 = dir.appendingPathComponent("m0.safetensors")
        XCTAssertEqual(try pretrain([cells, "-o", m0.path, "--checkpoint", ck.path, "--steps", "4", "--stop-after", "2"] + small).status, 0)
        try expect(65, [other.path, "-o", model.path, "--resume", ck.path, "--steps", "4"], "tokenize with the checkpoint's own vocabulary")
        try expect(65, [cells, "-o", model.path, "--resume", m0.path, "--steps", "4"], "holds no training state")
        // A checkpoint with a NaN weight: decoded without the check, poisoned, written again.
        var poisoned = try Data(contentsOf: ck).withUnsafeBytes { try Safetensors.decode($0, name: "ck") }
        let weight = poisoned.names.first { poisoned[$0]!.dtype == .f32 && poisoned[$0]!.count > 3 }!
        var values = poisoned[weight]!.floats
        values[3] = .nan
        poisoned.set(weight, StoredTensor(values, shape: poisoned[weight]!.shape))
        let nan = dir.appendingPathComponent("nan.safetensors")
        try Safetensors.write(poisoned, to: nan.path)
        try expect(65, [cells, "-o", model.path, "--resume", nan.path, "--steps", "4"],
                   "tensor \(weight) holds a non-finite value (NaN or infinity) at element 3")
        // Usage errors.
        try expect(64, [cells, "--steps", "2"], "-o MODEL")
        try expect(64, [cells, "-o", model.path, "--resume", ck.path, "--steps", "4", "--seed", "99"], "--seed cannot change")
        try expect(64, [cells, "-o", model.path, "--objective", "bert"], "one of 'mlm' and 'mse'")
        // A checkpoint whose settings are out of range, or whose zero sampling is not one.
        for (key, value) in [("pretrain.batch_size", "-3"), ("pretrain.mask_prob", "nan"), ("pretrain.lr", "0"), ("pretrain.zeros", "-2x")] {
            var doctored = try Safetensors.read(path: ck.path)
            doctored.metadata[key] = value
            let bad = dir.appendingPathComponent("bad.safetensors")
            try Safetensors.write(doctored, to: bad.path)
            try expect(65, [cells, "-o", model.path, "--resume", bad.path, "--steps", "4"], "bad.safetensors")
        }
        // A corrupt checkpoint.
        let junk = dir.appendingPathComponent("junk.safetensors")
        try Data([1, 2, 3]).write(to: junk)
        try expect(65, [cells, "-o", model.path, "--resume", junk.path, "--steps", "4"], "junk.safetensors")
    }
}
