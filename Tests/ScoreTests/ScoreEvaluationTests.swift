// score's evaluation beyond the pooled metrics: per-regulator (macro) AUROC and AUPRC against
// scikit-learn, the training prior a MODEL records (in_prior column, prior/novel split, overlap
// warning), the small-test-set warning, --per-regulator, --ranked (another tool's edge list) and
// the plot's legend.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

final class ScoreEvaluationTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try Fixtures.temporaryDirectory(self)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func json(_ file: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(file)))) as! [String: Any]
    }

    /// Three regulators over six targets, every logit chosen: regulator TFk is the k-th unit vector,
    /// a target's vector holds its score under each TF (dot decoder).
    static let perRegulator: [(tf: String, labels: [Int], scores: [Float])] = [
        ("TF1", [1, 0, 1, 0, 0, 1], [5.0, 4.5, 4.5, 3.0, 2.5, 2.0]),
        ("TF2", [0, 1, 0, 0, 1, 0], [1.5, 1.0, 1.0, 0.5, -1.0, -2.0]),
        ("TF3", [0, 0, 0, 0, 0, 0], [0.25, 0.25, 0.0, -0.5, -0.5, -3.0]),
    ]

    func writePerRegulatorModel(metadata: [(key: String, value: String)] = []) throws -> (truth: String, genes: [String]) {
        let tfs = Self.perRegulator.map(\.tf)
        let genes = tfs + (0..<6).map { "g\($0)" }
        let d = tfs.count
        var regulator = [Float](repeating: 0, count: genes.count * d)
        var target = [Float](repeating: 0, count: genes.count * d)
        for k in 0..<d { regulator[k * d + k] = 1 }
        for (k, r) in Self.perRegulator.enumerated() { for j in 0..<6 { target[(d + j) * d + k] = r.scores[j] } }
        try SyntheticModel(genes: genes, width: d, regulator: regulator, target: target)
            .write(to: path("m.sgrf"), metadata: metadata)
        var text = "regulator\ttarget\tlabel\n"
        for r in Self.perRegulator { for j in 0..<6 { text += "\(r.tf)\tg\(j)\t\(r.labels[j])\n" } }
        return (try writeText(text, dir, "truth.tsv"), genes)
    }

    /// Goldens: scikit-learn 1.9.1, Tests/Fixtures/score/make_golden_metrics.py (PER_REGULATOR):
    /// macro AUROC 0.5243055555555556, macro AP 0.5444444444444445 over TF1 and TF2 (TF3 has no
    /// positive); pooled AUROC 0.7076923076923077, pooled AP 0.5847222222222221.
    func testPerRegulatorMetricsMatchScikitLearn() throws {
        let (truth, _) = try writePerRegulatorModel()
        let run = try Tools.run("score", [path("m.sgrf"), "--pairs", truth, "--truth", truth, "--metrics", path("m.json"), "-o", path("e.tsv")])
        XCTAssertEqual(run.status, 0, run.stderr)
        let j = try json("m.json")
        XCTAssertEqual(j["auroc"] as! Double, 0.7076923076923077, accuracy: 1e-12)
        XCTAssertEqual(j["auprc"] as! Double, 0.5847222222222221, accuracy: 1e-12)
        XCTAssertEqual(j["per_regulator_auroc"] as! Double, 0.5243055555555556, accuracy: 1e-12)
        XCTAssertEqual(j["per_regulator_auprc"] as! Double, 0.5444444444444445, accuracy: 1e-12)
        XCTAssertEqual(j["per_regulator_regulators"] as? Int, 3)
        XCTAssertEqual(j["per_regulator_evaluated_regulators"] as? Int, 2)
        XCTAssertTrue(j["prior"] is NSNull && j["novel"] is NSNull, "no prior recorded: \(j)")
        XCTAssertTrue(run.stderr.contains("per regulator (mean over the 2 of 3 regulators with positive and negative pairs): AUROC 0.5243 AUPRC 0.5444"),
                      run.stderr)
        // 18 pairs, 5 positive: too small to trust, and said so.
        XCTAssertTrue(run.stderr.contains("warning: \(truth): only 18 pairs evaluated (5 positive, 13 negative)"), run.stderr)
        // No prior recorded: three columns, as before.
        XCTAssertTrue(try String(contentsOfFile: path("e.tsv"), encoding: .utf8).hasPrefix("regulator\ttarget\tscore\n"))
    }

    func testRecordedPriorMarksEdgesAndSplitsTheMetrics() throws {
        // Prior: TF1→g0, TF1→g2 (positives), TF1→g1 (a negative), TF2→g4 (positive); gene indices
        // TF1 0, TF2 1, TF3 2, g0 3, ….
        let prior = TrainingPrior(name: "prior.tsv", sha256: String(repeating: "ab", count: 32),
                                  pairs: [(0, 3), (0, 5), (0, 4), (1, 7)])
        var h = StreamHeader(content: .model, genes: [])
        prior.record(in: &h)
        let (truth, _) = try writePerRegulatorModel(metadata: h.metadata)
        let run = try Tools.run("score", [path("m.sgrf"), "--pairs", truth, "--truth", truth, "--metrics", path("m.json"), "-o", path("e.tsv")])
        XCTAssertEqual(run.status, 0, run.stderr)
        // The output marks exactly the prior's edges.
        let lines = try String(contentsOfFile: path("e.tsv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(lines[0], ["regulator", "target", "score", "in_prior"])
        XCTAssertEqual(Set(lines.dropFirst().filter { $0[3] == "1" }.map { "\($0[0])>\($0[1])" }), ["TF1>g0", "TF1>g2", "TF1>g1", "TF2>g4"])
        XCTAssertEqual(lines.dropFirst().filter { $0[3] == "0" }.count, 14)
        // 3 of the 5 truth positives are prior edges.
        XCTAssertTrue(run.stderr.contains("warning: \(truth): 3 of its 5 positive pairs are edges of the prior the model was trained on (prior.tsv)"),
                      run.stderr)
        let j = try json("m.json")
        XCTAssertEqual(j["prior"] as? String, "prior.tsv")
        XCTAssertEqual(j["truth_positives_in_prior"] as? Int, 3)
        let inPrior = j["in_prior"] as! [String: Any], novel = j["novel"] as! [String: Any]
        XCTAssertEqual(inPrior["evaluated"] as? Int, 4)
        XCTAssertEqual(inPrior["positives"] as? Int, 3)
        XCTAssertEqual(novel["evaluated"] as? Int, 14)
        XCTAssertEqual(novel["positives"] as? Int, 2)
        // In the prior: scores 5.0 (1), 4.5 (0), 4.5 (1), -1.0 (1): AUROC = (1 + 0.5 + 0) / 3.
        XCTAssertEqual(inPrior["auroc"] as! Double, 0.5, accuracy: 1e-12)
        XCTAssertTrue(run.stderr.contains("[score] in the prior: 4 pairs, 3 positive"), run.stderr)
        XCTAssertTrue(run.stderr.contains("[score] novel (not in the prior): 14 pairs, 2 positive"), run.stderr)
    }

    func testTruthThatIsThePriorIsCalledOut() throws {
        var h = StreamHeader(content: .model, genes: [])
        TrainingPrior(name: "Train.tsv", sha256: "", pairs: [(0, 3), (0, 5), (0, 8), (1, 4), (1, 7)]).record(in: &h)
        let (truth, _) = try writePerRegulatorModel(metadata: h.metadata)
        let run = try Tools.run("score", [path("m.sgrf"), "--pairs", truth, "--truth", truth, "-o", path("scores.tsv")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("5 of its 5 positive pairs are edges of the prior"), run.stderr)
        XCTAssertTrue(run.stderr.contains("(100% overlap: this truth is largely the training prior itself)"), run.stderr)
        XCTAssertTrue(run.stderr.contains("in the prior: 5 pairs, 5 positive: AUROC and AUPRC undefined (one class only)"), run.stderr)
    }

    func testTrainingPriorRoundTripsAndRejectsBadIndices() throws {
        let pairs: [(regulator: Int, target: Int)] = [(2, 9), (0, 1), (2, 3), (0, 1), (7, 0)]
        let text = TrainingPrior.encode(pairs)
        XCTAssertEqual(text, "0:1;2:3,9;7:0")
        let back = try TrainingPrior.decode(text, geneCount: 10, source: "m")
        XCTAssertEqual(back.map { "\($0.regulator)>\($0.target)" }, ["0>1", "2>3", "2>9", "7>0"])
        XCTAssertEqual(try TrainingPrior.decode("", geneCount: 1, source: "m").count, 0)
        for bad in ["0:10", "x:1", "1", "0:1;;2:3", "-1:2"] {
            XCTAssertThrowsError(try TrainingPrior.decode(bad, geneCount: 10, source: "m"), bad)
        }
        // A stream whose recorded count disagrees with its pairs is malformed (65).
        var h = StreamHeader(content: .model, genes: [])
        TrainingPrior(name: "p", sha256: "", pairs: [(0, 1)]).record(in: &h)
        h.setMetadata(TrainingPrior.countKey, "2")
        let model = SyntheticModel.random(genes: 4, width: 2, seed: 1)
        try model.write(to: path("m.sgrf"), metadata: h.metadata)
        let tfs = try writeText("G00\n", dir, "tfs.txt")
        let run = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
        XCTAssertEqual(run.status, 65, run.stderr)
        XCTAssertTrue(run.stderr.contains("says 2 prior edges"), run.stderr)
    }

    // MARK: - Output selection

    func testPerRegulatorKeepsEachRegulatorsBestTargets() throws {
        let model = SyntheticModel.random(genes: 30, width: 6, seed: 4)
        try model.write(to: path("m.sgrf"))
        let tfs = try writeText("G01\nG05\nG09\n", dir, "tfs.txt")
        let all = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs])
        let some = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--per-regulator", "4"])
        let fewer = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--per-regulator", "4", "--top", "5"])
        XCTAssertEqual(some.status, 0, some.stderr)
        let allRows = parseRanked(all.stdoutText).rows, rows = parseRanked(some.stdoutText).rows
        XCTAssertEqual(rows.count, 12)
        var expected = [String]()
        var kept = [String: Int]()
        for r in allRows where kept[r.0, default: 0] < 4 { kept[r.0, default: 0] += 1; expected.append("\(r.0)>\(r.1)") }
        XCTAssertEqual(rows.map { "\($0.0)>\($0.1)" }, expected)
        XCTAssertEqual(parseRanked(fewer.stdoutText).rows.map { "\($0.0)>\($0.1)" }, Array(expected.prefix(5)))
        let bad = try Tools.run("score", [path("m.sgrf"), "--tfs", tfs, "--per-regulator", "0"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
    }

    // MARK: - Other tools' edge lists

    func testRankedListGetsTheSameMetricsAsTheModel() throws {
        let (truth, _) = try writePerRegulatorModel()
        let own = try Tools.run("score", [path("m.sgrf"), "--pairs", truth, "--truth", truth, "--metrics", path("own.json"),
                                          "--format", "grnboost", "-o", path("edges.tsv")])
        XCTAssertEqual(own.status, 0, own.stderr)
        // The written edges (GRNBoost2's layout) evaluated as another tool's output.
        let run = try Tools.run("score", ["--ranked", path("edges.tsv"), "--truth", truth, "--metrics", path("ranked.json"), "--plot", path("r.svg")])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.isEmpty)
        let a = try json("own.json"), b = try json("ranked.json")
        for key in ["evaluated", "positives", "auroc", "auprc", "early_precision_ratio", "per_regulator_auroc", "per_regulator_auprc"] {
            XCTAssertEqual("\(a[key]!)", "\(b[key]!)", key)
        }
        let svg = try String(contentsOfFile: path("r.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("score: edges.tsv against truth.tsv"), svg)
        XCTAssertTrue(svg.contains("18 pairs evaluated: 5 positive, 13 negative"))
        XCTAssertTrue(svg.contains("edges.tsv (AUROC 0.708)") && svg.contains("random (AUROC 0.500)") && svg.contains("EPR"), svg)

        // BEELINE's rankedEdges.csv, comma-separated, with a self edge and a repeated pair; and a
        // list without scores, ranked in file order.
        let beeline = try writeText("Gene1,Gene2,EdgeWeight\nTF1,TF1,9\nTF1,g0,0.9\nTF1,g1,0.8\nTF1,g0,0.1\nTF2,g1,0.7\nTF1,g3,0.2\n", dir, "rankedEdges.csv")
        let b2 = try Tools.run("score", ["--ranked", beeline, "--truth", truth, "--metrics", path("b.json")])
        XCTAssertEqual(b2.status, 0, b2.stderr)
        XCTAssertTrue(b2.stderr.contains("1 self edges and 1 repeated pairs dropped"), b2.stderr)
        let bj = try json("b.json")
        XCTAssertEqual(bj["evaluated"] as? Int, 4)
        XCTAssertEqual(bj["positives"] as? Int, 2)
        XCTAssertEqual(bj["auroc"] as! Double, 0.75, accuracy: 1e-12)   // 0.9(1) 0.8(0) 0.7(1) 0.2(0)
        let plain = try writeText("TF1\tg0\nTF1\tg1\nTF2\tg1\nTF1\tg3\n", dir, "plain.tsv")
        let p = try Tools.run("score", ["--ranked", plain, "--truth", truth, "--metrics", path("p.json")])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertEqual(try json("p.json")["auroc"] as! Double, 0.75, accuracy: 1e-12)
        XCTAssertTrue(p.stderr.contains("no score column; the file's order is the ranking"), p.stderr)
    }

    func testRankedUsageErrors() throws {
        let (truth, _) = try writePerRegulatorModel()
        let edges = try writeText("TF1\tg0\t1\n", dir, "e.tsv")
        for (args, message) in [(["--ranked", edges], "needs --truth"),
                                (["--ranked", edges, "--truth", truth, "--tfs", truth], "takes no --pairs or --tfs"),
                                (["--ranked", edges, "--truth", truth, "--top", "3"], "writes no edge list"),
                                ([path("m.sgrf"), "--ranked", edges, "--truth", truth], "not both")] {
            let run = try Tools.run("score", args)
            XCTAssertEqual(run.status, 64, "\(args): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), "\(args): \(run.stderr)")
        }
        let selfOnly = try writeText("TF1\tTF1\t1\n", dir, "s.tsv")
        let run = try Tools.run("score", ["--ranked", selfOnly, "--truth", truth])
        XCTAssertEqual(run.status, 65, run.stderr)
    }
}
