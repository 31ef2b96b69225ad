// embed: runs scBERT's Performer over each cell of a CELL stream and writes gene embeddings
// pooled over cells (GENE frames), one vector per cell (CELLVEC) or every position's encoding
// (ENCODING). docs/EMBED.md describes the options, the pooling and the output.

import ArgumentParser
import Foundation
import Frames
import LinearAlgebra
import Models
import ToolKit
import Weights

@main
struct Embed: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Run scBERT's transformer over tokenized cells and pool gene embeddings.",
        discussion: """
            Reads CELL frames with tokens (from tokenize --vocab <the model's vocabulary>) and runs \
            the model over each cell on its own, exactly as scBERT's PyTorch code does with batch \
            size 1. MODEL is scBERT's own checkpoint (.pth, e.g. panglao_pretrain.pth) or a \
            .safetensors file with the same tensors; its sizes are read from the tensors.

            --emit genes (default): per dataset gene, the sum of its final encodings over cells and \
            the pooling weight (GENE frames; --pool mean: weight = cells; --pool attention: \
            scTransNet's attention weights), plus the cells' expression values as CELL frames \
            without tokens. --emit cells: one vector per cell, the mean of its final encodings \
            over all positions (CELLVEC). --emit encodings: every position's final encoding \
            (ENCODING; `frames view` prints them).

            --genes vocabulary (default) runs the whole vocabulary plus scBERT's appended final \
            position, as scBERT does; --genes dataset runs only the vocabulary genes present in \
            the dataset's gene list plus the final position: a much shorter sequence.

            MODEL may also be Exceiver's Lightning checkpoint (.ckpt, or its state_dict as \
            .safetensors), recognised by its tensors. It reads raw counts (tokenize --keep-counts) \
            and needs --gene-map and --scaler; see docs/EXCEIVER.md.

            Without --model, the default model bundled with scgrn is used (models/default, \
            trained by scgrn's pretrain on real data; its MODEL_CARD.md says on what). Its \
            vocabulary is models/default/genes.txt: tokenize with --vocab that file.
            """,
        version: "embed " + scgrnVersion)

    static let examples = [
        "tokenize counts/ --vocab models/default/genes.txt | embed | graphify -o model.sgrf",
        "tokenize counts/ --vocab scbert_genes.txt | embed --model panglao_pretrain.pth --genes dataset > genes.sgrf",
        "embed cells.sgrf --emit cells -o cellvec.sgrf && frames view cellvec.sgrf | head",
    ]

    enum Emit: String, ExpressibleByArgument, CaseIterable { case genes, cells, encodings }
    enum Pool: String, ExpressibleByArgument, CaseIterable { case mean, attention }
    enum GeneSet: String, ExpressibleByArgument, CaseIterable { case vocabulary, dataset }
    enum Parallel: String, ExpressibleByArgument, CaseIterable { case cells, kernels }

    @Argument(help: "Input CELL stream, or - for standard input.") var input = "-"
    @Option(name: .customLong("model"),
            help: ArgumentHelp("scBERT checkpoint (.pth), Exceiver checkpoint (.ckpt) or .safetensors (default: the bundled models/default).",
                               valueName: "FILE"))
    var modelOption: String?
    @Option(help: "What to write: genes, cells or encodings.") var emit: Emit = .genes
    @Option(help: "How cells are pooled into gene embeddings: mean or attention (scTransNet).") var pool: Pool = .mean
    @Option(help: "Sequence: the whole model vocabulary, or only the dataset's vocabulary genes.") var genes: GeneSet = .vocabulary
    @Option(help: "Use the threads for several cells at once (cells) or inside each cell's products (kernels).")
    var parallel: Parallel = .cells
    @Option(help: ArgumentHelp("Exceiver only: index<TAB>gene lines giving each Exceiver gene index its gene.", valueName: "FILE"))
    var geneMap: String?
    @Option(help: ArgumentHelp("Exceiver only: the per-gene scaler, MEAN.npy,SCALE.npy or a mean<TAB>scale TSV.", valueName: "FILE"))
    var scaler: String?
    @OptionGroup var common: CommonOptions

    /// The bundled default model (models/default/MODEL_CARD.md), used when --model is not given.
    static let defaultModel = "models/default/model.safetensors"

    /// The model file: --model, else the bundled default (`run` checks first that it exists).
    var model: String { modelOption ?? BundledData.locate(Embed.defaultModel) ?? Embed.defaultModel }

    func validate() throws {
        if pool == .attention && emit != .genes { throw ValidationError("--pool applies to --emit genes only") }
    }

    func run() throws {
        common.apply()
        if input == "-" && isatty(0) != 0 {
            throw ToolError.usage("no input: give a CELL stream or pipe one in (tokenize … | embed)\n" + Embed.helpMessage())
        }
        if modelOption == nil {
            let path = try BundledData.require(Embed.defaultModel, what: "the default model")
            Diagnostics.verbose("no --model: using the bundled default model \(path)")
        }
        let weights = try WeightsFile.load(model)
        if ExceiverModel.recognises(weights) { return try ExceiverRun(options: self, weights: weights).run() }
        if geneMap != nil || scaler != nil { throw ToolError.usage("--gene-map and --scaler apply to Exceiver checkpoints; \(model) is an scBERT model") }
        let net = try PerformerModel(weights, name: model)
        Diagnostics.verbose("model \(model): \(net.config)")
        let stream = try StreamReader(path: input)
        let plan = try SequencePlan(header: stream.header, model: net, modelPath: model, input: stream.name,
                                    datasetOnly: genes == .dataset)
        let threads = common.threadCount
        let workers = parallel == .cells ? threads : 1
        BLAS.setThreads(parallel == .cells ? 1 : threads)
        let runner = CellRunner(model: net, plan: plan, workers: workers, scores: emit == .genes && pool == .attention)
        let output = try OutputFile.open(common.output, binary: true, inputs: [input, model])
        var header = stream.header
        header.content = emit == .genes ? .gene : (emit == .cells ? .cellVector : .encoding)
        header.setMetadata("model", URL(fileURLWithPath: model).lastPathComponent)
        header.setMetadata("model.config", net.config.description)
        header.setMetadata("embed.sequence", genes == .dataset ? "dataset genes + final position (\(plan.length))"
                           : "vocabulary + final position (\(plan.length))")
        header.setMetadata("embed.vectors", "final encodings (after the last LayerNorm)")
        if emit == .genes { header.setMetadata("pool", pool.rawValue) }
        if emit == .cells { header.setMetadata("cellvec", "mean of the final encodings over all \(plan.length) positions") }
        header.appendProvenance()
        let writer = try FrameWriter(output, header: header)
        let d = net.config.dim
        let pooled = emit == .genes ? GenePool(slots: plan.length, dim: d) : nil
        let progress = Progress(unit: "cells")

        var batch = [CellRecord]()
        func flush() throws {
            if batch.isEmpty { return }
            try runner.run(batch) { i, encodings, scores in
                let cell = batch[i]
                switch emit {
                case .genes:
                    pooled!.add(encodings, weights: scores)
                case .cells:
                    var mean = [Double](repeating: 0, count: d)
                    for p in 0..<plan.length { for j in 0..<d { mean[j] += Double(encodings[p * d + j]) } }
                    let v = mean.map { Float($0 / Double(plan.length)) }
                    try writer.append(cellVector: CellVectorRecord(barcode: cell.barcode, vector: v), dim: d)
                case .encodings:
                    let values = Array(UnsafeBufferPointer(start: encodings, count: plan.length * d))
                    try writer.append(encoding: EncodingRecord(barcode: cell.barcode, positions: plan.positionsU32, values: values), dim: d)
                }
            }
            if emit == .genes {
                for cell in batch {
                    try writer.append(cell: CellRecord(barcode: cell.barcode, total: cell.total, genes: cell.genes, values: cell.values), flags: [])
                }
            }
            progress.advance(by: batch.count)
            batch.removeAll(keepingCapacity: true)
        }
        while let frame = try stream.next() {
            guard case .cells(let flags, let cells) = frame else {
                throw ToolError.data(stream.name, "expected CELL frames (from tokenize), found another kind of data frame")
            }
            guard flags.contains(.tokens) else {
                throw ToolError.data(stream.name, "CELL frames without tokens: embed needs tokenize's binned tokens (tokenize --vocab <the model's vocabulary>)")
            }
            for cell in cells {
                try plan.check(cell, input: stream.name)
                batch.append(cell)
                if batch.count == workers { try flush() }
            }
        }
        try flush()
        if let pooled {
            try writer.write(genes: pooled.records(plan: plan), dim: d)
        }
        progress.finish()
        try writer.finish()
    }
}
