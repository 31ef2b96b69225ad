// Evaluation: ranked candidates against a ground truth (--truth) — AUROC, AUPRC, their ratios and
// BEELINE's early precision ratio, as a summary line and as JSON.
//
// A truth file with labels (regulator, target, 0/1) evaluates only the labelled candidates; a
// positive-only edge list makes every candidate not in it a negative. Metrics are computed on the
// logits (the order score ranks by), so ties are exact ties of the model's output.

import Foundation
import Metrics
import ToolKit

/// The ground truth of a run, keyed by pair (`IndexedEdge.key`).
struct Truth {
    let name: String
    /// Whether the file labels pairs (else it lists positives only).
    let labelled: Bool
    /// Pair key → label (positive-only files: every entry true).
    let labels: [Int: Bool]

    /// Reads --truth: labels must be 0/1; a pair labelled both 0 and 1 is an error (65).
    static func read(_ path: String, _ lookup: GeneLookup) throws -> Truth {
        let table = try EdgeList.read(path, values: .labels)
        let edges = try table.resolve(lookup, what: "truth", required: true)
        var labels = [Int: Bool]()
        var lineOf = [Int: Int]()
        for e in edges {
            let y = table.valueKind == .label ? e.value == 1 : true
            if let prior = labels[e.key], prior != y {
                throw ToolError.badInput(file: table.name, line: e.line, message:
                    "pair \(lookup.genes[e.regulator].symbol)→\(lookup.genes[e.target].symbol) is labelled \(y ? 1 : 0) "
                    + "here and \(prior ? 1 : 0) on line \(lineOf[e.key]!)")
            }
            labels[e.key] = y
            lineOf[e.key] = lineOf[e.key] ?? e.line
        }
        return Truth(name: table.name, labelled: table.valueKind == .label, labels: labels)
    }

    /// Labels the candidates and computes the metrics.
    /// - Returns: the ranking of the evaluated candidates and how many truth pairs are no candidate.
    /// - Throws: `ToolError.badInput` (65) when the evaluated candidates hold no positive or no negative.
    func evaluate(_ pairs: [GenePair], logits: [Float]) throws -> (ranking: BinaryRanking, notCandidates: Int) {
        var scores = [Float](), ys = [Bool]()
        var matched = 0
        for (i, p) in pairs.enumerated() {
            let key = Int(p.regulator) << 32 | Int(p.target)
            if let y = labels[key] {
                matched += 1
                scores.append(logits[i]); ys.append(y)
            } else if !labelled {
                scores.append(logits[i]); ys.append(false)
            }
        }
        let notCandidates = labels.count - matched
        let ranking = BinaryRanking(scores: scores, labels: ys)
        if ranking.count == 0 {
            throw ToolError.data(name, "no candidate pair is labelled here: nothing to evaluate")
        }
        if ranking.positives == 0 || ranking.negatives == 0 {
            throw ToolError.data(name, "the \(ranking.count) evaluated candidates are all \(ranking.positives == 0 ? "negative" : "positive"): "
                                 + "AUROC and AUPRC are undefined")
        }
        return (ranking, notCandidates)
    }
}

// MARK: - Reporting

enum MetricsReport {
    static func number(_ x: Double?, digits: Int = 4) -> String {
        guard let x else { return "NA" }
        return String(format: "%.\(digits)f", x)
    }

    /// The one-line summary printed on stderr.
    static func summaryLine(_ s: RankingSummary) -> String {
        var line = "\(s.count) pairs evaluated, \(s.positives) positive (\(number(s.positiveFraction))): "
        line += "AUROC \(number(s.auroc)) AUPRC \(number(s.auprc)) (ratio \(number(s.auprcRatio, digits: 3)))"
        if let ep = s.earlyPrecision {
            line += " EPR \(number(s.earlyPrecisionRatio, digits: 3)) (early precision \(number(ep.precision)) over the top \(ep.selected))"
        }
        return line
    }

    static func json(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "null" }
        return x.description
    }

    /// The metrics as a JSON object (keys in a fixed order, numbers in shortest round-trip form).
    static func json(_ s: RankingSummary, truth: Truth, candidates: Int, notCandidates: Int) -> String {
        var f = [(String, String)]()
        f.append(("truth", JSONText.quoted(truth.name)))
        f.append(("truth_kind", truth.labelled ? "\"labelled\"" : "\"positive_edges\""))
        f.append(("candidates", String(candidates)))
        f.append(("evaluated", String(s.count)))
        f.append(("positives", String(s.positives)))
        f.append(("negatives", String(s.negatives)))
        f.append(("truth_not_candidates", String(notCandidates)))
        f.append(("positive_fraction", json(s.positiveFraction)))
        f.append(("auroc", json(s.auroc)))
        f.append(("auprc", json(s.auprc)))
        f.append(("auprc_ratio", json(s.auprcRatio)))
        f.append(("early_precision_k", s.earlyPrecision.map { String($0.k) } ?? "null"))
        f.append(("early_precision_selected", s.earlyPrecision.map { String($0.selected) } ?? "null"))
        f.append(("early_precision_true_positives", s.earlyPrecision.map { String($0.truePositives) } ?? "null"))
        f.append(("early_precision", json(s.earlyPrecision?.precision)))
        f.append(("early_precision_ratio", json(s.earlyPrecisionRatio)))
        return "{\n" + f.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }
}
