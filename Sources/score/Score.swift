// score: rates regulator → target pairs with a trained model (graphify's MODEL stream) and writes
// them as a ranked edge list; with --truth, also AUROC, AUPRC and BEELINE's early precision ratio.
//
//   graphify … | score --tfs tfs.txt > edges.tsv
//   score --ranked grnboost2.tsv --truth network.tsv --plot curves.svg     (another tool's edges)
//   score model.sgrf --pairs Test.tsv --truth Test.tsv --metrics m.json --plot curves.svg
//
// Formats and metric definitions: docs/SCORE.md.

import ArgumentParser
import Foundation
import Frames
import LinearAlgebra
import Metrics
import ToolKit

@main
struct Score: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Rank regulator → target pairs with a trained model (MODEL stream) and evaluate them.",
        discussion: """
            Candidates are the pairs of --pairs FILE, or every TF × gene pair of --tfs FILE (self \
            pairs excluded); one of the two is required. Output (stdout or -o) is a ranked TSV with \
            one header line:
              regulator<TAB>target<TAB>score[<TAB>in_prior]
            ordered by score (descending), then regulator and target symbol. in_prior (1 or 0) says \
            whether the pair is an edge of the prior the model was trained on (graphify records it). \
            --per-regulator K keeps each regulator's K best targets; --top K the K best pairs \
            (default on a terminal: 20). --format beeline writes BEELINE's Gene1/Gene2/EdgeWeight \
            layout, --format grnboost arboreto's TF/target/importance.

            What a score means: score = sigmoid(logit) of a classifier trained to tell prior edges \
            from sampled non-edges (by default one per edge). It ranks pairs; it is not a \
            calibrated probability that an interaction is real: 0.5 means the model finds the pair \
            as much like a prior edge as like a sampled non-edge, under the training's class \
            balance, not a 50% chance. Compare pairs by rank, and thresholds within one model only.

            --truth FILE (regulator, target[, 0/1 label]) adds AUROC, AUPRC (average precision as \
            scikit-learn computes it), AUPRC ratio and BEELINE's early precision ratio, pooled and \
            as the mean over regulators; and, when the model records its prior, the same for the \
            pairs inside the prior and the novel ones, with a warning when the truth overlaps the \
            prior. Lines on stderr; JSON with --metrics FILE; curves with --plot FILE.svg. With \
            labels only labelled candidates are evaluated; a positive-only edge list makes every \
            other candidate a negative.

            --ranked FILE evaluates another method's ranked edge list instead of a model \
            (GRNBoost2's TF/target/importance, BEELINE's rankedEdges.csv): the same metrics, JSON \
            and plot; nothing is written to stdout.

            Edge files are TSV (or BEELINE's comma-separated Gene1,Gene2 files) of gene symbols; '#' \
            starts a comment. See docs/SCORE.md.
            """,
        version: "score " + scgrnVersion)

    static let examples = [
        "tokenize counts/ | graphify | score --tfs tfs.txt --per-regulator 100 -o edges.tsv",
        "score model.sgrf --pairs Test.tsv --truth Test.tsv --metrics metrics.json --plot curves.svg",
        "score --ranked grnboost2_adjacencies.tsv --truth network.tsv --metrics grnboost2.json",
    ]

    @Argument(help: "MODEL stream from graphify, or - for standard input.") var input = "-"
    @Option(help: ArgumentHelp("Candidate pairs: regulator<TAB>target[<TAB>…] (a third column is ignored).", valueName: "FILE"))
    var pairs: String?
    @Option(help: ArgumentHelp("TF list (one symbol per line, or a CSV with a TF column): candidates are every TF × gene pair.", valueName: "FILE"))
    var tfs: String?
    @Option(help: ArgumentHelp("Evaluate another tool's ranked edges (TF target importance, Gene1 Gene2 EdgeWeight) against --truth, instead of a model.", valueName: "FILE"))
    var ranked: String?
    @Option(help: ArgumentHelp("Ground truth: labelled pairs (regulator, target, 0/1) or a positive edge list.", valueName: "FILE"))
    var truth: String?
    @Option(help: ArgumentHelp("Write only the K best pairs (metrics still use all candidates; default on a terminal: \(Score.terminalTop)).", valueName: "K"))
    var top: Int?
    @Option(help: ArgumentHelp("Write only each regulator's K best targets (before --top; metrics still use all candidates).", valueName: "K"))
    var perRegulator: Int?
    @Option(help: ArgumentHelp("Write the --truth metrics as JSON to FILE.", valueName: "FILE"))
    var metrics: String?
    @Option(help: ArgumentHelp("Write the ROC and precision–recall curves of the --truth run as an SVG.", valueName: "FILE.svg"))
    var plot: String?
    @Option(help: "Output layout: tsv (regulator target score [in_prior]), beeline (Gene1 Gene2 EdgeWeight), grnboost (TF target importance).")
    var format: EdgeFormat = .tsv
    @OptionGroup var common: CommonOptions

    /// Pairs written when stdout is a terminal and no --top is given.
    static let terminalTop = 20

    mutating func validate() throws {
        if let ranked {
            if pairs != nil || tfs != nil { throw ValidationError("--ranked FILE is the candidates: it takes no --pairs or --tfs") }
            if input != "-" { throw ValidationError("give a MODEL stream or --ranked FILE, not both") }
            if truth == nil { throw ValidationError("--ranked \(ranked) needs --truth FILE to evaluate against") }
            if top != nil || perRegulator != nil || common.output != nil || format != .tsv {
                throw ValidationError("--ranked writes no edge list: --top, --per-regulator, --format and -o do not apply")
            }
            return
        }
        if pairs == nil && tfs == nil {
            throw ValidationError("give the candidate pairs: --tfs FILE (every TF × gene pair) or --pairs FILE "
                                  + "(scoring every gene × gene pair is not a useful default)")
        }
        if pairs != nil && tfs != nil { throw ValidationError("give --pairs or --tfs, not both") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let perRegulator, perRegulator < 1 { throw ValidationError("--per-regulator must be at least 1") }
        if truth == nil && (metrics != nil || plot != nil) {
            throw ValidationError("--metrics and --plot need --truth FILE")
        }
    }

    func run() throws {
        common.apply()
        BLAS.setThreads(common.threadCount)
        if let ranked { return try evaluateRanked(ranked) }
        if input == "-" && isatty(0) != 0 {
            throw ToolError.usage("no input: give a MODEL stream or pipe one in (… | graphify … | score --tfs TFS)\n"
                                  + Score.helpMessage())
        }
        let stream = try StreamReader(path: input)
        let model = try PairModel.read(stream)
        let prior = try TrainingPrior.recorded(in: stream.header, source: stream.name)
        let priorKeys = prior?.keys
        let lookup = GeneLookup(model.genes)
        Diagnostics.verbose("\(stream.name): \(model.geneCount) genes, width \(model.width), decoder \(model.decoderName)"
                            + (prior.map { ", trained on \($0.name) (\($0.pairs.count) edges)" } ?? ""))

        // Side files are read (and checked) before any work.
        let candidates: [GenePair]
        if let pairs {
            candidates = try Candidates.fromPairs(pairs, lookup)
        } else {
            candidates = try Candidates.fromTFs(tfs!, lookup)
        }
        let truthSet = try truth.map { try Truth.read($0, lookup) }

        let logits = model.logits(candidates)
        if let bad = logits.firstIndex(where: { $0.isNaN }) {
            let p = candidates[bad]
            throw ToolError.data(stream.name, "the model gives NaN for \(excerpt(model.genes[Int(p.regulator)].symbol))→\(excerpt(model.genes[Int(p.target)].symbol))")
        }
        var order = RankedEdges.order(candidates, logits: logits, genes: model.genes)
        Diagnostics.verbose("\(candidates.count) candidate pairs scored")
        if let perRegulator {
            order = RankedEdges.perRegulator(order, pairs: candidates, k: perRegulator, genes: model.geneCount)
        }
        var shown = top
        if shown == nil && common.output == nil && isatty(1) != 0 { shown = Score.terminalTop }

        let evaluation = try truthSet.map {
            try $0.evaluate(candidates, scores: logits.map(Double.init), prior: priorKeys)
        }

        let inputs = [input] + [pairs, tfs, truth].compactMap { $0 }
        let out = try OutputFile.open(common.output, binary: false, inputs: inputs)
        try RankedEdges.write(out, format: format, pairs: candidates, logits: logits,
                              order: order, genes: model.genes, top: shown, prior: priorKeys, threads: common.threadCount)
        var extra = [OutputFile]()
        if let evaluation {
            extra = try report(evaluation, candidates: candidates.count, prior: prior, data: stream.name, inputs: inputs)
        }
        for f in extra { try f.commit() }
        try out.commit()
        if top == nil, let shown, shown < order.count {
            Diagnostics.note("showed the best \(shown) of \(order.count) pairs (stdout is a terminal); "
                             + "-o FILE, a pipe or --top K writes more")
        }
    }

    /// --ranked: another tool's edge list against --truth.
    func evaluateRanked(_ path: String) throws {
        let ranked = try RankedInput.read(path)
        let lookup = GeneLookup(ranked.genes)
        let truthSet = try Truth.read(truth!, lookup)
        let evaluation = try truthSet.evaluate(ranked.pairs, scores: ranked.scores, prior: nil)
        let extra = try report(evaluation, candidates: ranked.pairs.count, prior: nil, data: ranked.name, inputs: [path, truth!])
        for f in extra { try f.commit() }
    }

    /// Warnings, summary lines, --metrics and --plot of a --truth run.
    /// - Returns: the files written, to commit once everything else has succeeded.
    func report(_ e: Evaluation, candidates: Int, prior: TrainingPrior?, data: String, inputs: [String]) throws -> [OutputFile] {
        var extra = [OutputFile]()
        let summary = e.ranking.summary
        if let metrics {
            let m = try OutputFile.open(metrics, binary: false, inputs: inputs)
            try m.write(MetricsReport.json(e, candidates: candidates, prior: prior))
            extra.append(m)
        }
        if let plot {
            let p = try OutputFile.open(plot, binary: false, inputs: inputs)
            let name = { (s: String) in URL(fileURLWithPath: s).lastPathComponent }
            try p.write(CurvePlot.svg(e.ranking, title: "score: \(name(data)) against \(name(e.truth.name))",
                                      method: ranked == nil ? "model" : name(data)))
            extra.append(p)
        }
        if e.notCandidates > 0 {
            Diagnostics.note("\(e.truth.name): \(e.notCandidates) of its \(e.truth.labels.count) "
                             + "\(e.truth.labelled ? "labelled pairs" : "edges") are not candidates; not evaluated")
        }
        if let prior { EvaluationWarnings.warnIfPriorOverlap(e, prior: prior) }
        EvaluationWarnings.warnIfSmall(e)
        Diagnostics.note(MetricsReport.summaryLine(summary))
        Diagnostics.note(MetricsReport.perRegulatorLine(e.perRegulator))
        if prior != nil {
            Diagnostics.note(MetricsReport.partLine("in the prior", e.split(inPrior: true)))
            Diagnostics.note(MetricsReport.partLine("novel (not in the prior)", e.split(inPrior: false)))
        }
        return extra
    }
}

extension PairModel {
    var decoderName: String {
        switch decoder {
        case .dot: return "dot"
        case .mlp(let layers): return "mlp (" + ([2 * width] + layers.map(\.outputs)).map(String.init).joined(separator: "→") + ")"
        }
    }
}
