// BinaryRanking: ranking metrics of scored, labelled items — AUROC, average precision (AUPRC),
// early precision — computed as scikit-learn and BEELINE compute them.
//
// Items with equal scores are one group: a threshold either takes all of them or none, as
// scikit-learn's roc_curve / precision_recall_curve do. So:
//   AUROC = trapezoidal area under the ROC points of the tie groups (sklearn roc_auc_score),
//           which equals P(score of a random positive > a random negative) + ½ P(equal);
//   AP    = Σₙ (Rₙ − Rₙ₋₁) · Pₙ over the tie groups in descending score order (sklearn
//           average_precision_score; no interpolation);
//   early precision (BEELINE) = the precision of every item scored at least as high as the k-th
//           ranked item (ties at the cut all taken), k = the number of positives by default.
// Counts are integers and every ratio is computed in Double.

import Foundation

/// The tie-grouped operating points of a scored, labelled set.
///
/// Group g holds the items whose score is the g-th largest distinct score; `truePositives[g]` and
/// `falsePositives[g]` count the items scored at least that high.
public struct BinaryRanking {
    /// The number of positive and negative items.
    public let positives: Int
    public let negatives: Int
    /// Per tie group (descending score): the distinct score.
    public let thresholds: [Double]
    /// Per tie group: cumulative positives and negatives scored at or above its threshold.
    public let truePositives: [Int]
    public let falsePositives: [Int]

    /// Groups the items by score.
    /// - Parameters:
    ///   - scores: one score per item (no NaN); higher means more likely positive.
    ///   - labels: one label per item.
    public init(scores: [Double], labels: [Bool]) {
        precondition(scores.count == labels.count, "BinaryRanking: \(scores.count) scores, \(labels.count) labels")
        precondition(!scores.contains { $0.isNaN }, "BinaryRanking: NaN score")
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var th = [Double](), tp = [Int](), fp = [Int]()
        var p = 0, n = 0
        var i = 0
        while i < order.count {
            let s = scores[order[i]]
            while i < order.count && scores[order[i]] == s {
                if labels[order[i]] { p += 1 } else { n += 1 }
                i += 1
            }
            th.append(s); tp.append(p); fp.append(n)
        }
        positives = p
        negatives = n
        thresholds = th
        truePositives = tp
        falsePositives = fp
    }

    /// Groups the items by score (float scores, compared exactly).
    public init(scores: [Float], labels: [Bool]) {
        self.init(scores: scores.map(Double.init), labels: labels)
    }

    public var count: Int { positives + negatives }

    /// The share of positives among the items, or nil when there are none.
    public var positiveFraction: Double? {
        count == 0 ? nil : Double(positives) / Double(count)
    }

    // MARK: - Metrics

    /// The area under the ROC curve as scikit-learn's `roc_auc_score` computes it (ties grouped,
    /// trapezoids), or nil when there are no positives or no negatives.
    public var auroc: Double? {
        guard positives > 0 && negatives > 0 else { return nil }
        var area = 0.0
        var prevTP = 0, prevFP = 0
        for g in thresholds.indices {
            area += Double(falsePositives[g] - prevFP) * Double(truePositives[g] + prevTP) / 2
            prevTP = truePositives[g]
            prevFP = falsePositives[g]
        }
        return area / (Double(positives) * Double(negatives))
    }

    /// Average precision as scikit-learn's `average_precision_score` computes it:
    /// Σₙ (Rₙ − Rₙ₋₁) · Pₙ over the tie groups, or nil when there are no positives.
    public var averagePrecision: Double? {
        guard positives > 0 else { return nil }
        var ap = 0.0
        var prevTP = 0
        for g in thresholds.indices where truePositives[g] != prevTP {
            let recallStep = Double(truePositives[g] - prevTP) / Double(positives)
            let precision = Double(truePositives[g]) / Double(truePositives[g] + falsePositives[g])
            ap += recallStep * precision
            prevTP = truePositives[g]
        }
        return ap
    }

    /// BEELINE's early precision: the precision among every item scored at least as high as the
    /// k-th ranked one (all items tied with it included).
    /// - Parameter k: the cut; the number of positives when nil. Clamped to the item count.
    /// - Returns: nil when k is 0 (no positives and no k given) or there are no items.
    public func earlyPrecision(k: Int? = nil) -> EarlyPrecision? {
        let cut = min(k ?? positives, count)
        guard cut > 0 else { return nil }
        guard let g = thresholds.indices.first(where: { truePositives[$0] + falsePositives[$0] >= cut }) else { return nil }
        let selected = truePositives[g] + falsePositives[g]
        return EarlyPrecision(k: cut, selected: selected, truePositives: truePositives[g],
                              precision: Double(truePositives[g]) / Double(selected))
    }

    // MARK: - Curves

    /// The ROC points (false positive rate, true positive rate) from (0, 0) to (1, 1), one per tie
    /// group, or empty when there are no positives or no negatives.
    public var rocCurve: [(fpr: Double, tpr: Double)] {
        guard positives > 0 && negatives > 0 else { return [] }
        var pts: [(fpr: Double, tpr: Double)] = [(0, 0)]
        for g in thresholds.indices {
            pts.append((Double(falsePositives[g]) / Double(negatives), Double(truePositives[g]) / Double(positives)))
        }
        return pts
    }

    /// The precision–recall points (recall, precision) as scikit-learn's `precision_recall_curve`
    /// gives them, in ascending recall: (0, 1) first, then one point per tie group up to the
    /// first group reaching full recall. Empty when there are no positives.
    public var precisionRecallCurve: [(recall: Double, precision: Double)] {
        guard positives > 0 else { return [] }
        var pts: [(recall: Double, precision: Double)] = [(0, 1)]
        for g in thresholds.indices {
            pts.append((Double(truePositives[g]) / Double(positives),
                        Double(truePositives[g]) / Double(truePositives[g] + falsePositives[g])))
            if truePositives[g] == positives { break }
        }
        return pts
    }

    /// All the summary metrics at once.
    public var summary: RankingSummary {
        let frac = positiveFraction
        let ap = averagePrecision
        let ep = earlyPrecision()
        return RankingSummary(
            count: count, positives: positives, negatives: negatives, positiveFraction: frac,
            auroc: auroc, auprc: ap,
            auprcRatio: ap.flatMap { a in frac.flatMap { $0 > 0 ? a / $0 : nil } },
            earlyPrecision: ep,
            earlyPrecisionRatio: ep.flatMap { e in frac.flatMap { $0 > 0 ? e.precision / $0 : nil } })
    }
}

/// BEELINE's early precision at a cut k.
public struct EarlyPrecision: Equatable {
    /// The cut: the number of positives unless another was asked for.
    public var k: Int
    /// The items taken: the k best and every item tied with the k-th (≥ k).
    public var selected: Int
    /// The positives among them.
    public var truePositives: Int
    /// truePositives / selected.
    public var precision: Double
}

/// The metrics a labelled ranking is summarised by; nil where undefined.
public struct RankingSummary {
    public var count: Int
    public var positives: Int
    public var negatives: Int
    /// positives / count: the precision of a random ranking.
    public var positiveFraction: Double?
    public var auroc: Double?
    /// Average precision (sklearn's `average_precision_score`).
    public var auprc: Double?
    /// auprc / positiveFraction.
    public var auprcRatio: Double?
    public var earlyPrecision: EarlyPrecision?
    /// earlyPrecision.precision / positiveFraction (BEELINE's EPR).
    public var earlyPrecisionRatio: Double?
}

/// Per-group (macro) metrics: the mean over the groups (regulators) whose items hold both a
/// positive and a negative of that group's AUROC and average precision, each computed as the
/// pooled metrics are. Ranking whole groups above others cannot raise them.
public struct GroupedRanking {
    /// Groups among the items, and those with both classes (the ones averaged).
    public let groups: Int
    public let evaluatedGroups: Int
    public let auroc: Double?
    public let averagePrecision: Double?

    /// - Parameters: one score, label and group (e.g. the regulator's index) per item.
    public init<G: Hashable & Comparable>(scores: [Double], labels: [Bool], groups keys: [G]) {
        precondition(scores.count == labels.count && scores.count == keys.count, "GroupedRanking: lengths differ")
        var members = [G: [Int]]()
        for i in keys.indices { members[keys[i], default: []].append(i) }
        var auroc = 0.0, ap = 0.0, used = 0
        // Summed in group order, so the figure does not depend on dictionary order.
        for g in members.keys.sorted() {
            let items = members[g]!
            let ranking = BinaryRanking(scores: items.map { scores[$0] }, labels: items.map { labels[$0] })
            guard let a = ranking.auroc, let p = ranking.averagePrecision else { continue }
            auroc += a; ap += p; used += 1
        }
        groups = members.count
        evaluatedGroups = used
        self.auroc = used > 0 ? auroc / Double(used) : nil
        averagePrecision = used > 0 ? ap / Double(used) : nil
    }
}
