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
        if ExceiverModel.recognises(weights) { return try runExceiver(weights) }
        if geneMap != nil || scaler != nil { throw ToolError.usage("--gene-map and --scaler apply to Exceiver checkpoints; \(model) is an scBERT model") }
        let net = try PerformerModel(weights, name: model)
        Diagnostics.verbose("model \(model): \(net.config)")
        let stream = try StreamReader(path: input)
        let plan = try SequencePlan(header: stream.header, model: net, modelPath: model, input: stream.name,
                                    datasetOnly: genes == .dataset)
        let scbert = ScBERTEmbedding(model: net, plan: plan, attentionWeights: emit == .genes && pool == .attention)
        try drive(scbert, stream: stream, inputs: [input, model], config: net.config.description) { header in
            header.setMetadata("embed.sequence", genes == .dataset ? "dataset genes + final position (\(plan.length))"
                               : "vocabulary + final position (\(plan.length))")
            header.setMetadata("embed.vectors", "final encodings (after the last LayerNorm)")
            if emit == .genes { header.setMetadata("pool", pool.rawValue) }
            if emit == .cells { header.setMetadata("cellvec", "mean of the final encodings over all \(plan.length) positions") }
        }
    }

    /// `embed` with an Exceiver checkpoint: checks its options, reads the gene map and the scaler.
    func runExceiver(_ weights: TensorFile) throws {
        guard let mapPath = geneMap, let scalerArgument = scaler else {
            throw ToolError.usage("\(model) is an Exceiver checkpoint: give its gene order and scaler with "
                                  + "--gene-map FILE and --scaler MEAN.npy,SCALE.npy (or a mean<TAB>scale TSV); see docs/EXCEIVER.md")
        }
        if pool != .mean { throw ToolError.usage("--pool attention is scBERT's (scTransNet's) pooling; Exceiver genes are mean-pooled") }
        if genes != .vocabulary { throw ToolError.usage("--genes applies to scBERT models; Exceiver always reads all its genes") }

        let net = try ExceiverModel(weights, name: model)
        let c = net.config
        if c.headsSource.hasPrefix("assumed") {
            Diagnostics.warning("\(model): the process stack's head count is not recorded (no Lightning hyper_parameters "
                                + "and no safetensors metadata nhead); assuming 4, as in the released Exceiver")
        }
        Diagnostics.verbose("model \(model): \(c)")
        let map = try ExceiverGeneMap(path: mapPath, genes: c.genes)
        let scalerValues = try ExceiverScaler(argument: scalerArgument, genes: c.genes)

        let stream = try StreamReader(path: input)
        let exceiver = try ExceiverEmbedding(model: net, scaler: scalerValues, map: map, mapPath: mapPath, header: stream.header,
                                             input: stream.name, decodes: emit != .cells)
        let scalerFiles = scalerArgument.split(separator: ",").map(String.init)
        try drive(exceiver, stream: stream, inputs: [input, model, mapPath] + scalerFiles, config: c.description) { header in
            header.setMetadata("exceiver.gene_map", "\(URL(fileURLWithPath: mapPath).lastPathComponent): "
                               + "\(exceiver.mapped) of \(exceiver.datasetGenes) dataset genes mapped")
            header.setMetadata("exceiver.scaler", scalerFiles.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ","))
            header.setMetadata("exceiver.input", "ln(1 + c / (T/1e4)) over the model's \(c.genes) genes, standardised, min(z, 10) + 1; "
                               + "mask 1 where c = 0, added to the encoder logits")
            switch emit {
            case .genes:
                header.setMetadata("embed.vectors", "Exceiver decoder_out (\(c.geneDim) values) with the gene as decoder query")
                header.setMetadata("pool", "mean")
            case .cells:
                header.setMetadata("cellvec", "Exceiver latent array after the process stack, flattened (\(c.latents) x \(c.latentDim))")
            case .encodings:
                header.setMetadata("embed.vectors", "Exceiver decoder_out per mapped gene; positions are Exceiver gene indices")
            }
        }
    }

    /// Opens the output, writes the stream header (the model's own entries added by `describe`)
    /// and runs the model over every cell of `stream`.
    /// - Parameter inputs: the files the output is made from (recorded by OutputFile).
    func drive<M: EmbedModel>(_ m: M, stream: StreamReader, inputs: [String], config: String,
                              describe: (inout StreamHeader) -> Void) throws {
        let threads = common.threadCount
        let workers = parallel == .cells ? threads : 1
        BLAS.setThreads(parallel == .cells ? 1 : threads)
        Diagnostics.verbose("OpenBLAS: \(BLAS.coreName) kernels")
        let output = try OutputFile.open(common.output, binary: true, inputs: inputs)
        var header = stream.header
        header.content = emit == .genes ? .gene : (emit == .cells ? .cellVector : .encoding)
        header.setMetadata("model", URL(fileURLWithPath: model).lastPathComponent)
        header.setMetadata("model.config", config)
        describe(&header)
        header.appendProvenance()
        let writer = try FrameWriter(output, header: header)
        try EmbedDriver(model: m, output: emit, workers: workers).run(stream, to: writer)
    }
}
