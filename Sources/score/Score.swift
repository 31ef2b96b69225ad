// score: rates regulator → target pairs with a trained model (graphify's MODEL stream) and writes
// them as a ranked edge list; with --truth, also AUROC, AUPRC and BEELINE's early precision ratio.
//
//   graphify --prior P.tsv … | score --tfs tfs.txt > edges.tsv
//   score model.frames --pairs Test.tsv --truth Test.tsv --metrics m.json --plot curves.svg
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
              regulator<TAB>target<TAB>score        score = sigmoid(logit), best first
            ordered by score (descending), then regulator and target symbol. --format beeline writes \
            BEELINE's Gene1/Gene2/EdgeWeight layout, --format grnboost arboreto's TF/target/importance.

            --truth FILE (regulator, target[, 0/1 label]) adds AUROC, AUPRC (average precision as \
            scikit-learn computes it), AUPRC ratio and BEELINE's early precision ratio: one line on \
            stderr, and JSON with --metrics FILE. With labels only labelled candidates are evaluated; \
            a positive-only edge list makes every other candidate a negative.

            Edge files are TSV (or BEELINE's comma-separated Gene1,Gene2 files) of gene symbols; '#' \
            starts a comment. See docs/SCORE.md.
            """,
        version: scgrnVersion)

    @Argument(help: "MODEL stream from graphify, or - for standard input.") var input = "-"
    @Option(help: ArgumentHelp("Candidate pairs: regulator<TAB>target[<TAB>…] (a third column is ignored).", valueName: "FILE"))
    var pairs: String?
    @Option(help: ArgumentHelp("TF list (one symbol per line, or a CSV with a TF column): candidates are every TF × gene pair.", valueName: "FILE"))
    var tfs: String?
    @Option(help: ArgumentHelp("Ground truth: labelled pairs (regulator, target, 0/1) or a positive edge list.", valueName: "FILE"))
    var truth: String?
    @Option(help: ArgumentHelp("Write only the K best pairs (metrics still use all candidates).", valueName: "K"))
    var top: Int?
    @Option(help: ArgumentHelp("Write the --truth metrics as JSON to FILE.", valueName: "FILE"))
    var metrics: String?
    @Option(help: ArgumentHelp("Write the ROC and precision–recall curves of the --truth run as an SVG.", valueName: "FILE.svg"))
    var plot: String?
    @Option(help: "Output layout: tsv (regulator target score), beeline (Gene1 Gene2 EdgeWeight), grnboost (TF target importance).")
    var format: String = "tsv"
    @OptionGroup var common: CommonOptions

    mutating func validate() throws {
        if pairs == nil && tfs == nil {
            throw ValidationError("give the candidate pairs: --tfs FILE (every TF × gene pair) or --pairs FILE "
                                  + "(scoring every gene × gene pair is not a useful default)")
        }
        if pairs != nil && tfs != nil { throw ValidationError("give --pairs or --tfs, not both") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if EdgeFormat(rawValue: format) == nil {
            throw ValidationError("--format: unknown layout '\(format)' (tsv, beeline, grnboost)")
        }
        if truth == nil && (metrics != nil || plot != nil) {
            throw ValidationError("--metrics and --plot need --truth FILE")
        }
    }

    func run() throws {
        common.apply()
        BLAS.setThreads(common.threadCount)
        if input == "-" && isatty(0) != 0 {
            throw ToolError.usage("no input: give a MODEL stream or pipe one in (… | graphify … | score --tfs TFS)\n"
                                  + Score.helpMessage())
        }
        let stream = try StreamReader(path: input)
        let model = try PairModel.read(stream)
        let lookup = GeneLookup(model.genes)
        Diagnostics.verbose("\(stream.name): \(model.geneCount) genes, width \(model.width), decoder \(model.decoderName)")

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
            throw ToolError.data(stream.name, "the model gives NaN for \(model.genes[Int(p.regulator)].symbol)→\(model.genes[Int(p.target)].symbol)")
        }
        let order = RankedEdges.order(candidates, logits: logits, genes: model.genes)
        Diagnostics.verbose("\(candidates.count) candidate pairs scored")

        var evaluation: (ranking: BinaryRanking, notCandidates: Int)?
        if let truthSet {
            evaluation = try truthSet.evaluate(candidates, logits: logits)
        }

        let inputs = [input] + [pairs, tfs, truth].compactMap { $0 }
        let out = try OutputFile.open(common.output, binary: false, inputs: inputs)
        try RankedEdges.write(out, format: EdgeFormat(rawValue: format)!, pairs: candidates, logits: logits,
                              order: order, genes: model.genes, top: top, threads: common.threadCount)
        var extra = [OutputFile]()
        if let evaluation, let truthSet {
            let summary = evaluation.ranking.summary
            if let metrics {
                let m = try OutputFile.open(metrics, binary: false, inputs: inputs)
                try m.write(MetricsReport.json(summary, truth: truthSet, candidates: candidates.count,
                                               notCandidates: evaluation.notCandidates))
                extra.append(m)
            }
            if let plot {
                let p = try OutputFile.open(plot, binary: false, inputs: inputs)
                try p.write(CurvePlot.svg(evaluation.ranking, title: "score: " + URL(fileURLWithPath: truthSet.name).lastPathComponent))
                extra.append(p)
            }
            if evaluation.notCandidates > 0 {
                Diagnostics.note("\(truthSet.name): \(evaluation.notCandidates) of its \(truthSet.labels.count) "
                                 + "\(truthSet.labelled ? "labelled pairs" : "edges") are not candidates; not evaluated")
            }
            Diagnostics.note(MetricsReport.summaryLine(summary))
        }
        for f in extra { try f.commit() }
        try out.commit()
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
