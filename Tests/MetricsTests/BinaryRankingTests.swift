// BinaryRanking against scikit-learn's values (golden constants) and against brute-force
// definitions over many random tied inputs.

import Metrics
import XCTest

final class BinaryRankingTests: XCTestCase {
    /// Golden values printed by Tests/Fixtures/score/make_golden_metrics.py with scikit-learn 1.9.1
    /// (roc_auc_score, average_precision_score); early precision by BEELINE's rule
    /// (every item scored at least as high as the k-th, k = number of positives): (selected, tp).
    struct Golden {
        var labels: [Int]; var scores: [Double]; var auroc: Double; var ap: Double; var early: (Int, Int)
    }

    static let goldens: [String: Golden] = [
        "distinct": Golden(labels: [1, 0, 1, 1, 0, 0, 1, 0], scores: [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.1],
                           auroc: 0.6875, ap: 0.7470238095238095, early: (4, 3)),
        "ties": Golden(labels: [1, 0, 1, 0, 1, 0, 0, 1, 0, 0], scores: [0.9, 0.9, 0.7, 0.7, 0.7, 0.5, 0.5, 0.2, 0.2, 0.1],
                       auroc: 0.6666666666666666, ap: 0.5361111111111111, early: (5, 3)),
        "all_tied": Golden(labels: [1, 0, 0, 1, 0], scores: [0.5, 0.5, 0.5, 0.5, 0.5], auroc: 0.5, ap: 0.4, early: (5, 2)),
        "perfect": Golden(labels: [0, 0, 1, 1], scores: [-3.0, -1.0, 2.0, 2.5], auroc: 1.0, ap: 1.0, early: (2, 2)),
        "inverted": Golden(labels: [1, 1, 0, 0, 0], scores: [0.1, 0.2, 0.3, 0.4, 0.5], auroc: 0.0, ap: 0.325, early: (2, 0)),
        "negative_scores_ties": Golden(labels: [0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1],
                                       scores: [-2.5, 4.0, -0.5, -0.5, 1.25, 1.25, 1.25, -7.0, 0.0, 0.0, 3.0, -0.5],
                                       auroc: 0.5857142857142857, ap: 0.5657142857142857, early: (5, 2)),
        "seeded200": Golden(
            labels: Array("00000010000000000000010110000000110001010000001000001001000000010001000000100001100100000010000010110000000000001010010010000010100000000000000000100000000000010001000000000110000100000111001010101000").map { $0 == "1" ? 1 : 0 },
            scores: [0.9, -0.5, 1.5, -1.2, 0.9, 0.5, 1.7, 1.9, 1.5, -1.1, -1.7, 0.8, -1.0, -0.0, 0.8, -1.6, -2.1, 0.3, 0.0, -0.2, 0.0, -0.1, -1.5, 0.6, -0.2, -1.6, 0.5, -0.1, 0.4, -1.0, -0.7, -1.0, -0.1, 1.0, -0.8, 0.4, 0.3, 2.8, -1.4, 1.7, -0.1, -0.0, -1.4, -0.5, 0.7, -0.1, 0.9, -0.3, 1.2, -0.0, -2.2, -0.7, -1.2, -3.3, -0.5, 2.1, 0.0, -1.2, -0.9, 1.1, 0.2, 0.0, -0.1, 0.8, 0.8, 0.6, 0.2, -0.2, 0.5, -0.7, 1.1, -1.3, -0.1, -0.0, -0.5, 1.7, 1.5, -0.5, 0.8, 1.2, -1.8, 0.3, -0.1, 0.9, -1.1, -0.3, -0.2, 1.2, 0.3, -0.0, 2.3, -0.6, -0.4, -1.8, 1.6, 1.0, 1.7, 0.7, 0.9, 1.0, -0.3, -0.2, 0.1, 1.5, 0.6, -0.1, -0.6, -0.6, 1.6, 0.5, 0.1, -0.3, -0.3, -0.1, 1.7, -0.4, -0.2, 0.6, 0.1, -1.6, 0.6, -0.9, 0.9, -0.8, 0.6, 1.5, 0.5, -0.6, 1.0, -0.0, -1.0, 0.5, 2.0, -0.3, -0.2, -1.0, 0.3, -1.2, -1.1, 1.3, -0.9, 1.1, 1.5, 0.3, 0.6, 2.0, 0.6, -0.6, -1.4, 0.0, 1.5, 1.0, -0.9, -0.9, -0.5, 0.3, -0.2, 0.2, 0.3, 0.5, -0.0, 0.2, -0.1, 1.3, 1.9, 0.6, 0.1, -1.7, 0.4, -1.9, -1.4, 0.9, 0.7, 0.7, -0.9, -0.4, -0.7, 0.6, 2.3, 1.0, -0.8, -1.2, -0.1, -0.2, -1.2, 0.9, -0.4, 1.9, 1.1, 1.1, 0.3, 0.5, 0.7, -0.4, 0.5, -1.3, -0.6, 0.8, -0.2, 0.2],
            auroc: 0.6969531250000001, ap: 0.3856489029962979, early: (47, 18)),
    ]

    func testMatchesScikitLearnGoldens() {
        for (name, g) in Self.goldens.sorted(by: { $0.key < $1.key }) {
            let r = BinaryRanking(scores: g.scores, labels: g.labels.map { $0 == 1 })
            XCTAssertEqual(r.auroc!, g.auroc, accuracy: 1e-12, "\(name) AUROC")
            XCTAssertEqual(r.averagePrecision!, g.ap, accuracy: 1e-12, "\(name) AP")
            let e = r.earlyPrecision()!
            XCTAssertEqual(e.selected, g.early.0, "\(name) early precision: items taken")
            XCTAssertEqual(e.truePositives, g.early.1, "\(name) early precision: positives taken")
            print("\(name): |ΔAUROC| \(abs(r.auroc! - g.auroc)), |ΔAP| \(abs(r.averagePrecision! - g.ap))")
        }
        // Float scores: the same groups when the doubles stay distinct as floats.
        let g = Self.goldens["ties"]!
        let rf = BinaryRanking(scores: g.scores.map { Float($0) }, labels: g.labels.map { $0 == 1 })
        XCTAssertEqual(rf.auroc!, g.auroc, accuracy: 1e-12)
        XCTAssertEqual(rf.averagePrecision!, g.ap, accuracy: 1e-12)
    }

    func testSummaryRatiosAndUndefinedCases() {
        let g = Self.goldens["ties"]!
        let s = BinaryRanking(scores: g.scores, labels: g.labels.map { $0 == 1 }).summary
        XCTAssertEqual(s.positiveFraction!, 0.4, accuracy: 1e-15)
        XCTAssertEqual(s.auprcRatio!, g.ap / 0.4, accuracy: 1e-12)
        XCTAssertEqual(s.earlyPrecision!.k, 4)
        XCTAssertEqual(s.earlyPrecisionRatio!, 0.6 / 0.4, accuracy: 1e-12)

        let noPositives = BinaryRanking(scores: [1.0, 2, 3] as [Double], labels: [false, false, false])
        XCTAssertNil(noPositives.auroc)
        XCTAssertNil(noPositives.averagePrecision)
        XCTAssertNil(noPositives.earlyPrecision())
        XCTAssertTrue(noPositives.precisionRecallCurve.isEmpty)
        let noNegatives = BinaryRanking(scores: [1.0, 2] as [Double], labels: [true, true])
        XCTAssertNil(noNegatives.auroc)
        XCTAssertEqual(noNegatives.averagePrecision, 1)
        let empty = BinaryRanking(scores: [Double](), labels: [])
        XCTAssertNil(empty.positiveFraction)
        XCTAssertNil(empty.summary.auprcRatio)
    }

    /// AUROC = the Mann–Whitney statistic (ties ½) and AP = the mean over positives of the precision
    /// at their tie group, checked pair by pair on random inputs with many ties.
    func testMatchesBruteForceDefinitions() {
        var state: UInt64 = 12345
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for trial in 0..<300 {
            let n = 1 + next(60)
            let levels = 1 + next(12)
            let scores = (0..<n).map { _ in Double(next(levels)) / 4 - 1 }
            let labels = (0..<n).map { _ in next(4) == 0 }
            let r = BinaryRanking(scores: scores, labels: labels)
            let pos = labels.indices.filter { labels[$0] }, neg = labels.indices.filter { !labels[$0] }
            if !pos.isEmpty && !neg.isEmpty {
                var u = 0.0
                for i in pos { for j in neg { u += scores[i] > scores[j] ? 1 : (scores[i] == scores[j] ? 0.5 : 0) } }
                XCTAssertEqual(r.auroc!, u / Double(pos.count * neg.count), accuracy: 1e-12, "trial \(trial)")
            } else {
                XCTAssertNil(r.auroc)
            }
            if !pos.isEmpty {
                var ap = 0.0
                for i in pos {
                    let above = scores.indices.filter { scores[$0] >= scores[i] }
                    ap += Double(above.filter { labels[$0] }.count) / Double(above.count)
                }
                XCTAssertEqual(r.averagePrecision!, ap / Double(pos.count), accuracy: 1e-12, "trial \(trial)")
                let sorted = scores.sorted(by: >)
                let cut = sorted[pos.count - 1]
                let taken = scores.indices.filter { scores[$0] >= cut }
                let e = r.earlyPrecision()!
                XCTAssertEqual(e.selected, taken.count)
                XCTAssertEqual(e.truePositives, taken.filter { labels[$0] }.count)
                // The curves end where they must.
                XCTAssertEqual(r.precisionRecallCurve.last!.recall, 1)
                if !neg.isEmpty { XCTAssertEqual(r.rocCurve.last!.fpr, 1); XCTAssertEqual(r.rocCurve.last!.tpr, 1) }
            }
        }
    }
}
