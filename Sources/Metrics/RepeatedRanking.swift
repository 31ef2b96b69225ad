// RepeatedRanking: the AUROC of one labelled item set under many scorings — pooled, and the mean
// over groups (GroupedRanking's per-group figure) — for searches that score the same items again
// and again (graphify's weight grid). The grouping is made once and every scoring reuses one
// buffer; no precision–recall figure is computed. Each result equals `BinaryRanking(…).auroc` and
// `GroupedRanking(…).auroc` of the same scores to the bit: the same tie groups, the same trapezoids
// summed in the same order, the groups summed in ascending key order.

public struct RepeatedRanking {
    private typealias Item = (score: Double, positive: Bool)

    private let labels: [Bool]
    private let positives: Int
    private let negatives: Int
    /// The groups holding both classes, in ascending key order: their items (ascending) and counts.
    private let groups: [(items: [Int], positives: Int, negatives: Int)]
    private var buffer: [Item]

    /// - Parameters: one label and group (e.g. the regulator's index) per item.
    public init<G: Hashable & Comparable>(labels: [Bool], groups keys: [G]) {
        precondition(labels.count == keys.count, "RepeatedRanking: \(labels.count) labels, \(keys.count) groups")
        self.labels = labels
        positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        negatives = labels.count - positives
        var members = [G: [Int]]()
        for i in keys.indices { members[keys[i], default: []].append(i) }
        groups = members.keys.sorted().compactMap { key in
            let items = members[key]!
            let p = items.reduce(0) { $0 + (labels[$1] ? 1 : 0) }
            return p > 0 && p < items.count ? (items, p, items.count - p) : nil
        }
        buffer = [Item](repeating: (0, false), count: labels.count)
    }

    /// The pooled AUROC of `scores` (one per item, no NaN), or nil without both classes.
    public mutating func auroc(_ scores: [Double]) -> Double? {
        precondition(scores.count == labels.count, "RepeatedRanking: \(scores.count) scores, \(labels.count) labels")
        guard positives > 0 && negatives > 0 else { return nil }
        let labels = self.labels
        return buffer.withUnsafeMutableBufferPointer { b in
            for i in scores.indices { b[i] = (scores[i], labels[i]) }
            return Self.area(UnsafeMutableBufferPointer(rebasing: b[...]), positives: positives, negatives: negatives)
        }
    }

    /// The mean AUROC over the groups holding both classes, or nil when none does.
    public mutating func groupedAUROC(_ scores: [Double]) -> Double? {
        precondition(scores.count == labels.count, "RepeatedRanking: \(scores.count) scores, \(labels.count) labels")
        guard !groups.isEmpty else { return nil }
        let (labels, groups) = (self.labels, self.groups)
        let sum = buffer.withUnsafeMutableBufferPointer { b -> Double in
            var sum = 0.0
            for g in groups {
                for (k, i) in g.items.enumerated() { b[k] = (scores[i], labels[i]) }
                sum += Self.area(UnsafeMutableBufferPointer(rebasing: b[0..<g.items.count]),
                                 positives: g.positives, negatives: g.negatives)
            }
            return sum
        }
        return sum / Double(groups.count)
    }

    /// Sorts `items` by descending score and returns the trapezoidal ROC area over the tie groups,
    /// as `BinaryRanking.auroc` sums it.
    private static func area(_ buffer: UnsafeMutableBufferPointer<Item>, positives: Int, negatives: Int) -> Double {
        var items = buffer
        precondition(!items.contains { $0.score.isNaN }, "RepeatedRanking: NaN score")
        items.sort { $0.score > $1.score }
        var area = 0.0
        var tp = 0, fp = 0, prevTP = 0, prevFP = 0
        var i = 0
        while i < items.count {
            let s = items[i].score
            while i < items.count && items[i].score == s {
                if items[i].positive { tp += 1 } else { fp += 1 }
                i += 1
            }
            area += Double(fp - prevFP) * Double(tp + prevTP) / 2
            prevTP = tp
            prevFP = fp
        }
        return area / (Double(positives) * Double(negatives))
    }
}
