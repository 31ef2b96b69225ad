// The score executable: ranking against a double-precision reference of both decoders, output
// layouts, --truth metrics against scikit-learn's values, and every bad-input path's exit code.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

final class ScoreToolTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory(self)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Checks a ranked output against the model's reference logits: every pair present once, scores
    /// = sigmoid(reference) within float tolerance, and rows in (score desc, regulator, target) order.
    func checkRanking(_ text: String, _ model: SyntheticModel, expectedPairs: Set<String>,
                      file: StaticString = #filePath, line: UInt = #line) {
        let (header, rows) = parseRanked(text)
        XCTAssertEqual(header, "regulator\ttarget\tscore", file: file, line: line)
        XCTAssertEqual(Set(rows.map { "\($0.0)>\($0.1)" }), expectedPairs, file: file, line: line)
        XCTAssertEqual(rows.count, expectedPairs.count, "duplicate rows", file: file, line: line)
        let index = Dictionary(uniqueKeysWithValues: model.genes.enumerated().map { ($1, $0) })
        var got = [Float](), want = [Float]()
        for r in rows {
            got.append(Float(r.2))
            want.append(Float(1 / (1 + exp(-model.referenceLogit(index[r.0]!, index[r.1]!)))))
        }
        assertClose(got, want, atol: 2e-6, "sigmoid(logit) against the double reference", file: file, line: line)
        for k in 1..<rows.count {
            let a = rows[k - 1], b = rows[k]
            let ordered = a.2 > b.2 || (a.2 == b.2 && (a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)))
            XCTAssertTrue(ordered, "rows \(k) and \(k + 1) out of order: \(a) then \(b)", file: file, line: line)
        }
    }

    // MARK: - Ranking

    func testDotDecoderRanksEveryTFGenePair() throws {
        var model = SyntheticModel.random(genes: 9, width: 5, seed: 11)
        // Genes G07 and G08 get G03's target row: pairs into them tie with pairs into G03 exactly.
        for x in 0..<5 { model.target[7 * 5 + x] = model.target[3 * 5 + x]; model.target[8 * 5 + x] = model.target[3 * 5 + x] }
        try model.write(to: path("m.sgrf"))
        let tfs = try writeText("# TFs\nG04\nG01\n\nG04\n", dir, "tfs.txt")
        let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
        XCTAssertEqual(run.status, 0, run.stderr)
        var expected = Set<String>()
        for tf in ["G01", "G04"] { for g in model.genes where g != tf { expected.insert("\(tf)>\(g)") } }
        checkRanking(run.stdoutText, model, expectedPairs: expected)
        // The tied pairs are printed with one score and ordered by target symbol.
        let rows = parseRanked(run.stdoutText).rows.filter { $0.0 == "G01" && ["G03", "G07", "G08"].contains($0.1) }
        XCTAssertEqual(rows.map(\.1), ["G03", "G07", "G08"])
        XCTAssertEqual(Set(rows.map(\.2)).count, 1)
    }

    func testMLPDecoderMatchesReferenceOnPairs() throws {
        let model = SyntheticModel.random(genes: 12, width: 6, hidden: [7, 5], seed: 5)
        try model.write(to: path("m.sgrf"))
        var text = "regulator\ttarget\tlabel\n"
        var expected = Set<String>()
        for (i, j) in [(0, 1), (0, 2), (3, 1), (5, 11), (11, 5), (7, 7), (2, 9), (9, 2), (4, 10), (0, 1)] {
            text += "\(model.genes[i])\t\(model.genes[j])\t1\n"
            expected.insert("\(model.genes[i])>\(model.genes[j])")
        }
        let pairs = try writeText(text, dir, "pairs.tsv")
        let run = try Tools.run("score", [path("m.sgrf"), "--pairs", pairs])
        XCTAssertEqual(run.status, 0, run.stderr)
        checkRanking(run.stdoutText, model, expectedPairs: expected)
    }

    func testPropensityBiasesAreAddedToBothDecoders() throws {
        for hidden in [[], [4]] {
            var model = SyntheticModel.random(genes: 7, width: 3, hidden: hidden, seed: 23)
            var rng = LCG(state: 99)
            model.regulatorBias = rng.array(7)
            model.targetBias = rng.array(7)
            model.targetBias![6] = 0  // a gene without a training pair as target
            try model.write(to: path("m.sgrf"))
            let tfs = try writeText("G02\nG05\n", dir, "tfs.txt")
            let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
            XCTAssertEqual(run.status, 0, run.stderr)
            var expected = Set<String>()
            for tf in ["G02", "G05"] { for g in model.genes where g != tf { expected.insert("\(tf)>\(g)") } }
            checkRanking(run.stdoutText, model, expectedPairs: expected)
        }
        // A bias of the wrong length is refused.
        var bad = SyntheticModel.random(genes: 4, width: 2, seed: 1)
        bad.targetBias = [1, 2, 3]
        try bad.write(to: path("m.sgrf"))
        let run = try Tools.run("score", [path("m.sgrf"), "--tfs", try writeText("G00\n", dir, "t.txt")])
        XCTAssertEqual(run.status, 65, run.stderr)
        XCTAssertTrue(run.stderr.contains("tensor 'target.bias' has shape [3], expected [4]"), run.stderr)
    }

    func testSingleLayerMLPHasNoReLU() throws {
        var model = SyntheticModel.random(genes: 5, width: 3, seed: 8)
        var rng = LCG(state: 99)
        model.layers = [(rng.array(6), [-2], 1, 6)]  // a negative bias: ReLU would clip many logits
        try model.write(to: path("m.sgrf"))
        let tfs = try writeText("G00\nG02\n", dir, "tfs.txt")
        let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--format", "tsv"])
        XCTAssertEqual(run.status, 0, run.stderr)
        var expected = Set<String>()
        for tf in ["G00", "G02"] { for g in model.genes where g != tf { expected.insert("\(tf)>\(g)") } }
        checkRanking(run.stdoutText, model, expectedPairs: expected)
        XCTAssertTrue(parseRanked(run.stdoutText).rows.contains { $0.2 < 0.5 })
    }

    func testPairsAndTFsGiveTheSameScores() throws {
        for hidden in [[], [8]] {
            let model = SyntheticModel.random(genes: 40, width: 16, hidden: hidden, seed: 3)
            try model.write(to: path("m.sgrf"))
            let tfs = try writeText("G05\nG17\nG30\n", dir, "tfs.txt")
            let all = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
            XCTAssertEqual(all.status, 0, all.stderr)
            let some = parseRanked(all.stdoutText).rows.filter { $0.1.hasSuffix("3") }
            let pairs = try writeText(some.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n") + "\n", dir, "pairs.tsv")
            let one = try Tools.run("score", [path("m.sgrf"), "--pairs", pairs])
            XCTAssertEqual(one.status, 0, one.stderr)
            let got = parseRanked(one.stdoutText).rows
            XCTAssertEqual(got.map { "\($0.0)\t\($0.1)\t\($0.2)" }, some.map { "\($0.0)\t\($0.1)\t\($0.2)" },
                           "decoder \(hidden.isEmpty ? "dot" : "mlp")")
        }
    }

    func testOutputIsTheSameWithOneOrTwoThreads() throws {
        let model = SyntheticModel.random(genes: 300, width: 32, seed: 21)
        try model.write(to: path("m.sgrf"))
        let tfs = try writeText(model.genes.prefix(40).joined(separator: "\n"), dir, "tfs.txt")
        let a = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "-t", "1"])
        let b = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "-t", "2"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertEqual(parseRanked(a.stdoutText).rows.count, 40 * 299)
    }

    func testTopAndLayoutsAndStdin() throws {
        let model = SyntheticModel.random(genes: 6, width: 4, seed: 2)
        try model.write(to: path("m.sgrf"))
        let stream = try Data(contentsOf: URL(fileURLWithPath: path("m.sgrf")))
        let tfs = try writeText("G00\nG01\n", dir, "tfs.txt")
        let full = try Tools.run("score", ["--tfs", tfs], stdin: stream)
        XCTAssertEqual(full.status, 0, full.stderr)
        let rows = parseRanked(full.stdoutText).rows
        let top = try Tools.run("score", ["-", "--tfs", tfs, "--top", "3"], stdin: stream)
        XCTAssertEqual(parseRanked(top.stdoutText).rows.map { "\($0)" }, rows.prefix(3).map { "\($0)" })
        let beeline = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--format", "beeline"])
        let grnboost = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--format", "grnboost", "-o", path("adj.tsv")])
        XCTAssertEqual(grnboost.status, 0, grnboost.stderr)
        XCTAssertTrue(grnboost.stdout.isEmpty)
        let adj = try String(contentsOfFile: path("adj.tsv"), encoding: .utf8)
        let body = full.stdoutText.drop { $0 != "\n" }
        XCTAssertEqual(beeline.stdoutText, "Gene1\tGene2\tEdgeWeight" + body)
        XCTAssertEqual(adj, "TF\ttarget\timportance" + body)
        let bad = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--format", "csv"])
        XCTAssertEqual(bad.status, 64)
    }

    // MARK: - Metrics

    /// A model whose logits are chosen: d = 1, regulator[TF] = 1, target[gene] = its score.
    func scoredModel(_ scores: [Double]) throws -> SyntheticModel {
        let names = ["TF"] + scores.indices.map { "g\($0)" }
        let m = SyntheticModel(genes: names, width: 1, regulator: [1] + scores.map { _ in 0 },
                               target: [0] + scores.map { Float($0) })
        try m.write(to: path("m.sgrf"))
        return m
    }

    /// Golden values from scikit-learn 1.9.1 (Tests/Fixtures/score/make_golden_metrics.py, case
    /// "ties"): roc_auc_score 0.6666666666666666, average_precision_score 0.5361111111111111;
    /// BEELINE's early precision over the top k = 4 positives takes 5 items (ties), 3 positive.
    func testTruthMetricsMatchScikitLearn() throws {
        let labels = [1, 0, 1, 0, 1, 0, 0, 1, 0, 0]
        let scores = [0.9, 0.9, 0.7, 0.7, 0.7, 0.5, 0.5, 0.2, 0.2, 0.1]
        _ = try scoredModel(scores)
        let labelled = try writeText("# truth with labels\n" + labels.indices.map { "TF\tg\($0)\t\(labels[$0])" }.joined(separator: "\n") + "\n",
                                     dir, "truth.tsv")
        let positives = try writeText("Gene1,Gene2\n" + labels.indices.filter { labels[$0] == 1 }.map { "TF,g\($0)" }.joined(separator: "\n") + "\n",
                                      dir, "truth.csv")
        let tfs = try writeText("TF\n", dir, "tfs.txt")
        for (truth, candidates) in [(labelled, ["--pairs", labelled]), (positives, ["--tfs", tfs]), (labelled, ["--tfs", tfs])] {
            let run = try Tools.run("score", [path("m.sgrf"), "--truth", truth, "--metrics", path("m.json"), "--plot", path("c.svg")] + candidates)
            XCTAssertEqual(run.status, 0, run.stderr)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("m.json")))) as! [String: Any]
            XCTAssertEqual(json["evaluated"] as? Int, 10)
            XCTAssertEqual(json["positives"] as? Int, 4)
            XCTAssertEqual(json["auroc"] as! Double, 0.6666666666666666, accuracy: 1e-12)
            XCTAssertEqual(json["auprc"] as! Double, 0.5361111111111111, accuracy: 1e-12)
            XCTAssertEqual(json["auprc_ratio"] as! Double, 0.5361111111111111 / 0.4, accuracy: 1e-12)
            XCTAssertEqual(json["early_precision_selected"] as? Int, 5)
            XCTAssertEqual(json["early_precision"] as! Double, 0.6, accuracy: 1e-12)
            XCTAssertEqual(json["early_precision_ratio"] as! Double, 1.5, accuracy: 1e-12)
            XCTAssertTrue(run.stderr.contains("AUROC 0.6667 AUPRC 0.5361 (ratio 1.340) EPR 1.500"), run.stderr)
            let svg = try String(contentsOfFile: path("c.svg"), encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n") && svg.contains("<polyline"))
        }
    }

    /// Golden values from scikit-learn 1.9.1 (make_golden_metrics.py, case "negative_scores_ties").
    func testLabelledTruthEvaluatesOnlyLabelledCandidates() throws {
        let labels = [0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1]
        let scores = [-2.5, 4.0, -0.5, -0.5, 1.25, 1.25, 1.25, -7.0, 0.0, 0.0, 3.0, -0.5]
        // Two more genes, scored but unlabelled: they must not count.
        _ = try scoredModel(scores + [10, -10])
        let truth = try writeText(labels.indices.map { "TF\tg\($0)\t\(labels[$0])" }.joined(separator: "\n") + "\nTF\tnot_a_gene\t1\n", dir, "t.tsv")
        let tfs = try writeText("TF\n", dir, "tfs.txt")
        let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--truth", truth, "--metrics", path("m.json")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("1 of 13 truth edges name genes absent from the dataset"), run.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("m.json")))) as! [String: Any]
        XCTAssertEqual(json["candidates"] as? Int, 14)
        XCTAssertEqual(json["evaluated"] as? Int, 12)
        XCTAssertEqual(json["auroc"] as! Double, 0.5857142857142857, accuracy: 1e-12)
        XCTAssertEqual(json["auprc"] as! Double, 0.5657142857142857, accuracy: 1e-12)
        XCTAssertEqual(json["early_precision_selected"] as? Int, 5)
        XCTAssertEqual(json["early_precision_true_positives"] as? Int, 2)
    }

    // MARK: - Bad input

    func testMissingCandidatesIsAUsageError() throws {
        try SyntheticModel.random(genes: 4, width: 2, seed: 1).write(to: path("m.sgrf"))
        let run = try Tools.run("score", [path("m.sgrf")])
        XCTAssertEqual(run.status, 64)
        XCTAssertTrue(run.stderr.contains("--tfs FILE"), run.stderr)
        XCTAssertEqual(try Tools.run("score", [path("m.sgrf"), "--tfs", "x", "--pairs", "y"]).status, 64)
        XCTAssertEqual(try Tools.run("score", [path("m.sgrf"), "--tfs", "x", "--metrics", "m.json"]).status, 64)
        XCTAssertEqual(try Tools.run("score", [path("m.sgrf"), "--tfs", "x", "--top", "0"]).status, 64)
    }

    func testStreamWithoutModelFrameIs65() throws {
        try SyntheticModel.random(genes: 4, width: 2, seed: 1).write(to: path("m.sgrf"), withModelFrame: false)
        let tfs = try writeText("G00\n", dir, "tfs.txt")
        let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.contains("has no MODEL frame"), run.stderr)
        XCTAssertTrue(run.stdout.isEmpty)
    }

    func testOtherStreamKindsAndBrokenStreamsAre65() throws {
        let tfs = try writeText("G00\n", dir, "tfs.txt")
        // A GENE stream (embed's output) is not a model.
        let h = StreamHeader(content: .gene, genes: [GeneName(symbol: "G00"), GeneName(symbol: "G01")])
        let w = try FrameWriter(try OutputFile.open(path("g.sgrf"), binary: true), header: h)
        try w.write(genes: [GeneRecord(gene: 0, known: true, weight: 1, sum: [1, 2])], dim: 2)
        try w.finish()
        var run = try Tools.run("score", [path("g.sgrf"), "--tfs", tfs])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.contains("not a MODEL"), run.stderr)
        // A truncated stream (no END).
        try SyntheticModel.random(genes: 4, width: 2, seed: 1).write(to: path("m.sgrf"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("m.sgrf")))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: path("cut.sgrf")))
        run = try Tools.run("score", [path("cut.sgrf"), "--tfs", tfs])
        XCTAssertEqual(run.status, 65, run.stderr)
        // Not a stream at all.
        run = try Tools.run("score", [tfs, "--tfs", tfs])
        XCTAssertEqual(run.status, 65, run.stderr)
        // Empty input.
        run = try Tools.run("score", ["--tfs", tfs], stdin: Data())
        XCTAssertEqual(run.status, 65, run.stderr)
    }

    func testMalformedModelsAre65() throws {
        let tfs = try writeText("G00\n", dir, "tfs.txt")
        let model = SyntheticModel.random(genes: 4, width: 2, seed: 1)
        let cases: [(String, () throws -> Void)] = [
            ("no 'decoder'", { try model.write(to: self.path("m.sgrf"), decoderOverride: "") }),
            ("unknown decoder 'bilinear'", { try model.write(to: self.path("m.sgrf"), decoderOverride: "bilinear") }),
            ("no tensor 'decoder.0.weight'", { try model.write(to: self.path("m.sgrf"), decoderOverride: "mlp") }),
            ("has shape [3, 2]", {
                // A regulator of 3 rows for a 4-gene HEAD.
                var m = model; m.regulator.removeLast(2)
                let h = StreamHeader(content: .model, genes: model.genes.map { GeneName(symbol: $0) }, metadata: [("decoder", "dot")])
                let fw = try FrameWriter(try OutputFile.open(self.path("m.sgrf"), binary: true), header: h)
                try fw.write(model: [ModelTensor(name: "regulator", shape: [3, 2], data: m.regulator),
                                     ModelTensor(name: "target", shape: [4, 2], data: model.target)])
                try fw.finish()
            }),
            ("last decoder layer", {
                var m = SyntheticModel.random(genes: 4, width: 2, hidden: [3], seed: 1)
                m.layers[1] = (m.layers[1].weight + m.layers[1].weight, [0, 0], 2, 3)
                try m.write(to: self.path("m.sgrf"))
            }),
            ("nan at 3 is non-finite", {
                var m = model; m.target[3] = .nan
                try m.write(to: self.path("m.sgrf"))
            }),
            ("-inf at 0 is non-finite", {
                var m = model; m.regulator[0] = -.infinity
                try m.write(to: self.path("m.sgrf"))
            }),
        ]
        for (message, make) in cases {
            try make()
            let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
            XCTAssertEqual(run.status, 65, "\(message): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), "expected '\(message)' in: \(run.stderr)")
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stdout.isEmpty)
        }
    }

    func testModelOfAnotherDataset() throws {
        try SyntheticModel.random(genes: 5, width: 3, seed: 4).write(to: path("m.sgrf"))
        // Some pairs name genes of another dataset: warned, counted and skipped.
        let mixed = try writeText("G00\tG01\nG00\tXYZ1\nABC\tG02\nG03\tG04\n", dir, "mixed.tsv")
        var run = try Tools.run("score", [path("m.sgrf"), "--pairs", mixed])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("2 of 4 candidate edges name genes absent from the dataset (2 genes: XYZ1, ABC)"), run.stderr)
        XCTAssertEqual(parseRanked(run.stdoutText).rows.count, 2)
        // None of them: a clear error.
        let other = try writeText("Gene1,Gene2\nSOX2,POU5F1\nNANOG,SOX2\n", dir, "other.csv")
        run = try Tools.run("score", [path("m.sgrf"), "--pairs", other])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.contains("another dataset"), run.stderr)
        XCTAssertTrue(run.stdout.isEmpty)
        let tfs = try writeText("SOX2\n", dir, "tfs.txt")
        run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.contains("another dataset"), run.stderr)
    }

    func testBadTruthFilesAre65() throws {
        _ = try scoredModel([0.5, 0.2, 0.9])
        let tfs = try writeText("TF\n", dir, "tfs.txt")
        let cases: [(String, String)] = [
            ("TF\tg0\t1\nTF\tg1\t2\n", "line 2: label '2' is not 0 or 1"),
            ("TF\tg0\t1\nTF\tg1\tyes\n", "line 2: label 'yes' is not 0 or 1"),
            ("TF\tg0\t1\nTF\tg1\n", "line 2: has no third column"),
            ("TF\tg0\t1\nTF\tg0\t0\n", "line 2: pair TF→g0 is labelled 0 here and 1 on line 1"),
            ("TF\tg0\t0\nTF\tg1\t0\n", "all negative"),
            ("# nothing\n", "has no edges"),
            ("TFg0\n", "line 1: expected regulator"),
        ]
        for (text, message) in cases {
            let truth = try writeText(text, dir, "t.tsv")
            let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--truth", truth, "-o", path("out.tsv")])
            XCTAssertEqual(run.status, 65, "\(message): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("t.tsv") && run.stderr.contains(message), "expected '\(message)' in: \(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.tsv")), "no output on failure")
        }
    }
}
