// Evaluation: ranked candidates against a ground truth (--truth) — AUROC, AUPRC, their ratios and
// BEELINE's early precision ratio, pooled and per regulator, over all pairs and split into pairs
// that are edges of the model's training prior and novel ones; as summary lines and as JSON.
//
// A truth file with labels (regulator, target, 0/1) evaluates only the labelled candidates; a
// positive-only edge list makes every candidate not in it a negative. Metrics are computed on the
// scores the output ranks by (a model's logits, or a --ranked file's scores), so ties are exact ties.

import Foundation
import Frames
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
    /// - Parameters:
    ///   - scores: one score per candidate, higher is better (no NaN).
    ///   - prior: the keys of the model's training prior edges, when the model records them.
    /// - Throws: `ToolError.badInput` (65) when the evaluated candidates hold no positive or no negative.
    func evaluate(_ pairs: [GenePair], scores: [Double], prior: Set<Int>?) throws -> Evaluation {
        var e = Evaluation(truth: self)
        var matched = 0
        for (i, p) in pairs.enumerated() {
            let key = Int(p.regulator) << 32 | Int(p.target)
            let y: Bool
            if let label = labels[key] {
                matched += 1
                y = label
            } else if !labelled {
                y = false
            } else {
                continue
            }
            e.scores.append(scores[i]); e.labels.append(y); e.regulators.append(p.regulator)
            e.inPrior.append(prior?.contains(key) ?? false)
        }
        e.notCandidates = labels.count - matched
        e.ranking = BinaryRanking(scores: e.scores, labels: e.labels)
        if e.ranking.count == 0 {
            throw ToolError.data(name, "no candidate pair is labelled here: nothing to evaluate")
        }
        if e.ranking.positives == 0 || e.ranking.negatives == 0 {
            throw ToolError.data(name, "the \(e.ranking.count) evaluated candidates are all \(e.ranking.positives == 0 ? "negative" : "positive"): "
                                 + "AUROC and AUPRC are undefined")
        }
        if let prior {
            e.positivesInPrior = labels.filter { $0.value && prior.contains($0.key) }.count
            e.positivesTotal = labels.values.filter { $0 }.count
        }
        return e
    }
}

/// The evaluated pairs of a --truth run and the metrics over them.
struct Evaluation {
    let truth: Truth
    var scores = [Double]()
    var labels = [Bool]()
    var regulators = [Int32]()
    /// Per evaluated pair: whether it is an edge of the model's training prior.
    var inPrior = [Bool]()
    var ranking = BinaryRanking(scores: [Double](), labels: [])
    /// Truth pairs that are not candidates (not evaluated).
    var notCandidates = 0
    /// With a recorded prior: truth positives that are prior edges, and all truth positives.
    var positivesInPrior: Int? = nil
    var positivesTotal = 0

    /// The metrics over the evaluated pairs that are (true) or are not (false) prior edges; nil
    /// when that part is empty.
    func split(inPrior wanted: Bool) -> BinaryRanking? {
        var s = [Double](), y = [Bool]()
        for i in scores.indices where inPrior[i] == wanted { s.append(scores[i]); y.append(labels[i]) }
        return s.isEmpty ? nil : BinaryRanking(scores: s, labels: y)
    }

    /// Per-regulator (macro) metrics (Metrics' GroupedRanking over the regulators).
    var perRegulator: PerRegulator {
        let g = GroupedRanking(scores: scores, labels: labels, groups: regulators)
        return PerRegulator(regulators: g.groups, evaluatedRegulators: g.evaluatedGroups, auroc: g.auroc, auprc: g.averagePrecision)
    }
}

struct PerRegulator {
    /// Regulators among the evaluated pairs, and those with both classes (the ones averaged).
    var regulators: Int
    var evaluatedRegulators: Int
    var auroc: Double?
    var auprc: Double?
}

// MARK: - Warnings

enum EvaluationWarnings {
    /// Below these counts AUROC and AUPRC are too noisy to compare methods by.
    static let small = (pairs: 100, perClass: 20)

    /// The standard error of an AUROC (Hanley & McNeil 1982), for the small-set warning.
    static func aurocStandardError(_ a: Double, positives p: Int, negatives n: Int) -> Double {
        let q1 = a / (2 - a), q2 = 2 * a * a / (1 + a)
        let v = (a * (1 - a) + Double(p - 1) * (q1 - a * a) + Double(n - 1) * (q2 - a * a)) / Double(p * n)
        return v > 0 ? v.squareRoot() : 0
    }

    static func warnIfSmall(_ e: Evaluation) {
        let r = e.ranking
        guard r.count < small.pairs || r.positives < small.perClass || r.negatives < small.perClass else { return }
        let se = r.auroc.map { aurocStandardError($0, positives: r.positives, negatives: r.negatives) } ?? 0
        Diagnostics.warning("\(e.truth.name): only \(r.count) pairs evaluated (\(r.positives) positive, \(r.negatives) negative): "
                            + String(format: "AUROC has a standard error of about %.2f here; compare methods on a larger test set", se))
    }

    /// Warns when the truth's positives are edges the model was trained on.
    static func warnIfPriorOverlap(_ e: Evaluation, prior: TrainingPrior) {
        guard let k = e.positivesInPrior, k > 0 else { return }
        let share = Double(k) / Double(max(e.positivesTotal, 1))
        var text = "\(e.truth.name): \(k) of its \(e.positivesTotal) positive pairs are edges of the prior the model was trained on "
            + "(\(prior.name)): the figures over all pairs are optimistic; the 'novel' line scores only pairs outside the prior"
        if share >= 0.9 { text += String(format: " (%.0f%% overlap: this truth is largely the training prior itself)", share * 100) }
        Diagnostics.warning(text)
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

    /// The per-regulator line.
    static func perRegulatorLine(_ p: PerRegulator) -> String {
        "per regulator (mean over the \(p.evaluatedRegulators) of \(p.regulators) regulators with positive and negative pairs): "
            + "AUROC \(number(p.auroc)) AUPRC \(number(p.auprc))"
    }

    /// The line for the prior or novel part of the evaluated pairs.
    static func partLine(_ what: String, _ r: BinaryRanking?) -> String {
        guard let r else { return "\(what): no evaluated pair" }
        let s = r.summary
        if s.positives == 0 || s.negatives == 0 {
            return "\(what): \(s.count) pairs, \(s.positives) positive: AUROC and AUPRC undefined (one class only)"
        }
        return "\(what): \(s.count) pairs, \(s.positives) positive (\(number(s.positiveFraction))): AUROC \(number(s.auroc)) "
            + "AUPRC \(number(s.auprc)) (ratio \(number(s.auprcRatio, digits: 3))) EPR \(number(s.earlyPrecisionRatio, digits: 3))"
    }

    static func json(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "null" }
        return x.description
    }

    static func object(_ fields: [(String, String)], indent: String = "  ") -> String {
        "{\n" + fields.map { "\(indent)  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n\(indent)}"
    }

    /// A part's metrics as a nested JSON object, or null.
    static func partJSON(_ r: BinaryRanking?) -> String {
        guard let r else { return "null" }
        let s = r.summary
        return object([("evaluated", String(s.count)), ("positives", String(s.positives)), ("negatives", String(s.negatives)),
                       ("auroc", json(s.auroc)), ("auprc", json(s.auprc)), ("auprc_ratio", json(s.auprcRatio)),
                       ("early_precision_ratio", json(s.earlyPrecisionRatio))])
    }

    /// The metrics as a JSON object (keys in a fixed order, numbers in shortest round-trip form).
    static func json(_ e: Evaluation, candidates: Int, prior: TrainingPrior?) -> String {
        let s = e.ranking.summary
        let truth = e.truth
        var f = [(String, String)]()
        f.append(("truth", JSONText.quoted(truth.name)))
        f.append(("truth_kind", truth.labelled ? "\"labelled\"" : "\"positive_edges\""))
        f.append(("candidates", String(candidates)))
        f.append(("evaluated", String(s.count)))
        f.append(("positives", String(s.positives)))
        f.append(("negatives", String(s.negatives)))
        f.append(("truth_not_candidates", String(e.notCandidates)))
        f.append(("positive_fraction", json(s.positiveFraction)))
        f.append(("auroc", json(s.auroc)))
        f.append(("auprc", json(s.auprc)))
        f.append(("auprc_ratio", json(s.auprcRatio)))
        f.append(("early_precision_k", s.earlyPrecision.map { String($0.k) } ?? "null"))
        f.append(("early_precision_selected", s.earlyPrecision.map { String($0.selected) } ?? "null"))
        f.append(("early_precision_true_positives", s.earlyPrecision.map { String($0.truePositives) } ?? "null"))
        f.append(("early_precision", json(s.earlyPrecision?.precision)))
        f.append(("early_precision_ratio", json(s.earlyPrecisionRatio)))
        let p = e.perRegulator
        f.append(("per_regulator_regulators", String(p.regulators)))
        f.append(("per_regulator_evaluated_regulators", String(p.evaluatedRegulators)))
        f.append(("per_regulator_auroc", json(p.auroc)))
        f.append(("per_regulator_auprc", json(p.auprc)))
        f.append(("prior", prior.map { JSONText.quoted($0.name) } ?? "null"))
        f.append(("prior_sha256", prior.map { JSONText.quoted($0.sha256) } ?? "null"))
        f.append(("truth_positives_in_prior", e.positivesInPrior.map(String.init) ?? "null"))
        f.append(("in_prior", prior == nil ? "null" : partJSON(e.split(inPrior: true))))
        f.append(("novel", prior == nil ? "null" : partJSON(e.split(inPrior: false))))
        return object(f, indent: "") + "\n"
    }
}
