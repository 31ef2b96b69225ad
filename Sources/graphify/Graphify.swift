// graphify: trains a graph-attention network of gene regulation — scgrn's architecture by default,
// GENELink's exactly with --arch genelink — joined with transformer gene embeddings as scTransNet
// joins them, on a prior network, and writes the trained model as a MODEL stream.
//
//   tokenize counts/ | graphify | score --tfs tfs.txt > edges.tsv         (the bundled prior of the species)
//   graphify cells.sgrf --prior Train.tsv --train Train.tsv --valid Valid.tsv -o model.sgrf
//
// Model, protocol, defaults and formats: docs/GRAPHIFY.md.

import ArgumentParser
import Engine
import Foundation
import Frames
import LinearAlgebra
import Models
import ToolKit

@main
struct Graphify: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "graphify",
        abstract: "Train a graph-attention model of gene regulation on a prior network; write it as a MODEL stream.",
        discussion: """
            Input: CELL frames (from tokenize: expression alone) or a GENE stream (from embed: \
            the pooled transformer embeddings join the graph encoder's output, as in scTransNet). \
            --arch genelink is GENELink's model and schedule exactly; the default --arch scgrn adds a \
            self path, graph dropout and per-gene propensities, anneals the rate over the run, and \
            adds a likeness term (--contrast) weighted on the validation pairs. \
            Nodes are the dataset genes; their features are expression profiles over cells, z-scored \
            per gene. The graph is the --prior network made symmetric.

            Training pairs: --train/--valid labelled pairs (regulator<TAB>target<TAB>0|1); with \
            --train only, a --valid-fraction share is held out; with neither, the prior's edges are \
            positives, negatives are sampled from regulator × gene pairs, and a share of both is \
            held out. The epoch with the best validation AUROC is kept; test pairs are never read.

            Prior: --prior FILE, or a network bundled with scgrn by name (collectri, dorothea, \
            trrust; priors/README.md). Without --prior, the bundled CollecTRI network of the data's \
            species is used: the species is --species, else the stream's (tokenize --species), else \
            told from the gene symbols, with a note. The MODEL records which prior it was trained \
            on (name, SHA-256 and its edges), so score can tell prior edges from novel ones.

            Output (stdout or -o): a MODEL stream for score (… | score --tfs tfs.txt). \
            --seed makes a run reproducible byte for byte, whatever -t. See docs/GRAPHIFY.md.
            """,
        version: "graphify " + scgrnVersion)

    static let examples = [
        "tokenize counts/ | graphify -o model.sgrf                 # bundled CollecTRI prior",
        "tokenize counts/ | embed | graphify --prior dorothea --epochs 40 -o model.sgrf",
        "graphify cells.sgrf --prior Train.tsv --train Train.tsv --valid Valid.tsv -o model.sgrf",
    ]

    @Argument(help: "CELL or GENE stream, or - for standard input.") var input = "-"
    @Option(help: ArgumentHelp("Prior network: an edge file (regulator<TAB>target[<TAB>0|1]; labelled files give their label-1 rows), "
                               + "or a bundled network by name: collectri (the default), dorothea, trrust, for the data's species.",
                               valueName: "EDGES|NAME"))
    var prior: String?
    @Option(help: ArgumentHelp("Species of the data, for the bundled priors and gene sets: human or mouse (default: the stream's, else told from the gene symbols).",
                               valueName: "NAME"))
    var species: String?
    @Option(help: ArgumentHelp("Labelled training pairs (regulator, target, 0/1).", valueName: "PAIRS"))
    var train: String?
    @Option(help: ArgumentHelp("Labelled validation pairs, for model selection and early stopping.", valueName: "PAIRS"))
    var valid: String?
    @Option(help: ArgumentHelp("Regulators to sample negatives for when there is no --train (default: genes with an outgoing prior edge).", valueName: "FILE"))
    var tfs: String?
    @Option(help: "Pair decoder: dot (regulator · target) or mlp (a ReLU MLP over the concatenated pair).")
    var decoder: DecoderKind = .dot
    @Option(help: "Architecture: scgrn (self path, graph dropout, per-gene propensities, cosine schedule) or genelink (GENELink exactly).")
    var arch = "scgrn"
    @Option(help: ArgumentHelp("scgrn: share of genes whose graph encoding is dropped in each training batch (default 0.5).", valueName: "Q"))
    var graphDropout: Double?
    @Option(help: ArgumentHelp("scgrn: remove each training batch's own pairs from the graph its pass runs over, on or off (default on).",
                               valueName: "on|off"))
    var maskEdges: Switch?
    @Option(help: ArgumentHelp("scgrn: the per-gene propensities learn at K × --lr (default 10).", valueName: "K"))
    var propensityLrScale: Double?
    @Option(help: "Adam weight decay (L2, coupled as torch.optim.Adam's).") var weightDecay = 0.0
    @Option(help: "Training epochs.") var epochs = 20
    @Option(help: "Adam learning rate (scgrn: half cosine to 0 over the run; genelink: StepLR γ 0.99 after every batch).") var lr = 3e-3
    @Option(help: "Pairs per batch.") var batchSize = 256
    @Option(help: "Random seed (initialisation, dropout, batch order, sampling, sketch).") var seed: UInt64 = 8
    @Option(help: ArgumentHelp("Train K models on the same pairs (seeds --seed … --seed + K − 1) and write the one that averages "
                               + "their logits: a ranking that depends less on the seed, for K × the training time (dot decoder).",
                               valueName: "K"))
    var ensemble = 1
    @Flag(help: "Ablation: ignore the transformer embeddings of a GENE stream (GENELink's model).") var noTransformer = false
    @Flag(help: "Ablation: no graph encoder; the channels read the embeddings (or, without them, the profiles).") var noGnn = false
    @Option(help: ArgumentHelp("Per-gene feature table (lines 'SYMBOL v1 … vD', e.g. models/knowledge/gene_table_64.txt.gz), "
                               + "joined where the transformer embeddings join; genes it lacks get zeros.", valueName: "FILE"))
    var geneFeatures: String?
    @Option(help: ArgumentHelp("A term that rates a target by its likeness to the regulator's training targets over its non-targets, "
                               + "weighted on the validation pairs: a comma-separated list of expression (the profiles), knowledge (the bundled "
                               + "Gene Ontology + PROGENy table, models/knowledge), go (the bundled GO biological-process sets), gene table files "
                               + "and gene-set files (.gmt, .gmt.gz), or none (dot decoder; "
                               + "default: expression,knowledge,go for --arch scgrn, none for genelink or --decoder mlp).",
                               valueName: "LIST"))
    var contrast: String?
    @Option(help: ArgumentHelp("Stop after N epochs without a better validation figure (default: run every epoch).", valueName: "N"))
    var patience: Int?
    @Option(help: "Validation figure that chooses the epoch kept: auroc (all pairs) or per-regulator (the mean AUROC within each regulator's pairs).")
    var select: SelectionMetric = .auroc
    @Option(help: "Share of the pairs held out for validation when --valid is not given.") var validFraction = 0.1
    @Option(help: ArgumentHelp("Negatives sampled per prior edge when there is no --train.", valueName: "K"))
    var negativesPerPositive = 1
    @Option(help: "The most cells kept as exact profiles; more are sketched (random projection).") var maxProfileCells = 5000
    @Option(help: "Width of the profile sketch.") var sketchWidth = 512
    @Flag(help: "Add self loops to the graph (every gene attends to itself too).") var selfLoops = false
    @OptionGroup var common: CommonOptions

    mutating func validate() throws {
        guard JointGRNConfiguration.Architecture(rawValue: arch) != nil else {
            throw ValidationError("--arch: '\(arch)' is not scgrn or genelink")
        }
        if let q = graphDropout {
            guard arch == "scgrn" else { throw ValidationError("--graph-dropout applies to --arch scgrn") }
            guard q >= 0 && q < 1 else { throw ValidationError("--graph-dropout must be in [0, 1)") }
        }
        if maskEdges != nil && arch != "scgrn" { throw ValidationError("--mask-edges applies to --arch scgrn") }
        if let k = propensityLrScale {
            guard arch == "scgrn" else { throw ValidationError("--propensity-lr-scale applies to --arch scgrn") }
            guard k > 0 && k.isFinite else { throw ValidationError("--propensity-lr-scale must be positive") }
        }
        guard weightDecay >= 0 && weightDecay.isFinite else { throw ValidationError("--weight-decay must be at least 0") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard (1...Self.maxEnsemble).contains(ensemble) else { throw ValidationError("--ensemble must be between 1 and \(Self.maxEnsemble)") }
        if ensemble > 1 && decoder != .dot { throw ValidationError("--ensemble needs --decoder dot (an MLP decoder's models cannot be averaged into one)") }
        if let patience, patience < 1 { throw ValidationError("--patience must be at least 1") }
        guard validFraction > 0 && validFraction < 1 else { throw ValidationError("--valid-fraction must be in (0, 1)") }
        guard negativesPerPositive >= 1 else { throw ValidationError("--negatives-per-positive must be at least 1") }
        guard maxProfileCells >= 1 else { throw ValidationError("--max-profile-cells must be at least 1") }
        guard sketchWidth >= 1 else { throw ValidationError("--sketch-width must be at least 1") }
        if valid != nil && train == nil { throw ValidationError("--valid needs --train (without --train, validation pairs are held out of the prior)") }
        if let species, Species(name: species) == nil {
            throw ValidationError("--species: '\(species)' has no bundled prior (human or mouse); give --prior FILE")
        }
        if geneFeatures == "-" { throw ValidationError("--gene-features must be a file (standard input is the stream's)") }
        if let contrast, try !ContrastSource.parse(contrast).isEmpty && decoder != .dot {
            throw ValidationError("--contrast needs --decoder dot (the term joins the dot product)")
        }
        if tfs != nil && train != nil { throw ValidationError("--tfs chooses regulators for sampled negatives; it does not apply with --train") }
    }

    /// The most models --ensemble trains.
    static let maxEnsemble = 32

    func run() throws {
        common.apply()
        BLAS.setThreads(common.threadCount)
        Diagnostics.verbose("OpenBLAS: \(BLAS.coreName) kernels")
        try requireInput(input, Graphify.self)
        let started = Date()

        // Input features first (the gene list), then the side files against it.
        let stream = try StreamReader(path: input)
        let features = try NodeFeatures.read(stream, maxCells: maxProfileCells, sketchWidth: sketchWidth, seed: seed)
        let genes = features.header.genes
        let useTransformer = features.embeddingDim > 0 && !noTransformer
        let table = try geneFeatures.map { try GeneFeatures.read($0, genes: genes.map(\.symbol)) }
        if features.embeddingDim > 0 && noTransformer {
            Diagnostics.verbose("--no-transformer: the stream's \(features.embeddingDim)-wide embeddings are not used")
        }
        if !noGnn && features.cellCount == 0 {
            throw ToolError.data(stream.name, "has no CELL frames: the graph encoder needs expression profiles "
                                 + "(use --no-gnn to train on the embeddings alone)")
        }
        if noGnn && !useTransformer && table == nil && features.cellCount == 0 {
            throw ToolError.data(stream.name, "has no CELL frames and no usable embeddings: nothing to train on")
        }
        // The ortholog table, read once however many steps ask for it (telling the species, matching gene sets).
        var orthologTable: [(mouse: String, human: String)]?
        func orthologPairs() throws -> [(mouse: String, human: String)] {
            if let orthologTable { return orthologTable }
            let pairs = try Species.orthologs()
            orthologTable = pairs
            return pairs
        }
        let priorChoice = try PriorChoice.resolve(prior: prior, species: species, metadataSpecies: features.header.metadata("species"),
                                                  genes: genes, orthologs: orthologPairs)
        let pairs = try TrainingPairs.make(
            .init(prior: priorChoice.path, priorName: priorChoice.name, train: train, valid: valid, tfs: tfs, validFraction: validFraction,
                  negativesPerPositive: negativesPerPositive, selfLoops: selfLoops, seed: seed), genes: genes)
        let isolated = IsolatedNodes(pairs.graph)
        Diagnostics.verbose("\(stream.name): \(genes.count) genes, \(features.cellCount) cells (\(features.profileKind) profiles, "
                            + "width \(features.profileWidth)), embeddings \(useTransformer ? "\(features.embeddingDim)-wide for \(features.embeddedGenes) genes" : "not used")")
        Diagnostics.verbose("graph: \(pairs.graphEdges) prior edges, \(genes.count - isolated.count) genes with neighbours; "
                            + "\(pairs.train.count) training pairs (\(pairs.train.positives) positive), "
                            + "\(pairs.valid.count) validation pairs (\(pairs.valid.positives) positive) from \(pairs.source)")

        // --contrast's blocks, read before the training (they need only the features and the training pairs).
        // The default's bundled sources are skipped, with a note, where they name no dataset gene
        // (e.g. Ensembl ids), and match by symbol alone where the species cannot be told.
        let sources = try contrastSources(hasCells: features.cellCount > 0)
        let required = contrast != nil
        // The ortholog pairs gene sets match mouse genes through: worked out once, when a set source asks.
        var setOrthologs: [(mouse: String, human: String)]?
        let orthologs = { () throws -> [(mouse: String, human: String)] in
            if let setOrthologs { return setOrthologs }
            var species = priorChoice.species
            if species == nil {
                do {
                    species = try Species.resolve(option: self.species, metadata: features.header.metadata("species"), genes: genes,
                                                  orthologs: orthologPairs)
                } catch let error as ToolError where !required {
                    Diagnostics.note("the default likeness term matches gene sets by symbol alone: \(error)")
                }
            }
            let pairs = species == .mouse ? try orthologPairs() : []
            setOrthologs = pairs
            return pairs
        }
        let blocks = try sources.compactMap {
            try contrastBlock($0, features: features, streamName: stream.name, genes: genes, geneTable: table, orthologs: orthologs,
                              required: required, train: pairs.train)
        }

        // The channels' extra input: the transformer embedding, then the gene feature table.
        let joined = GeneFeatures.join(useTransformer ? features.embedding : [], width: useTransformer ? features.embeddingDim : 0,
                                       table, genes: genes.count)
        var c = JointGRNConfiguration(profileDim: features.profileWidth, embeddingDim: joined.width, useGNN: !noGnn)
        c.decoder = decoder == .mlp ? .mlp(hidden: 2 * c.outputDim) : .dot
        c.architecture = JointGRNConfiguration.Architecture(rawValue: arch)!
        c.geneCount = genes.count
        let g = genes.count
        let inputs = ModelInputs(
            profiles: features.cellCount > 0 ? Tensor(features.profiles, shape: [g, features.profileWidth]) : nil,
            embedding: joined.width > 0 ? Tensor(joined.values, shape: [g, joined.width]) : nil,
            graph: pairs.graph, isolated: isolated)
        // scgrn's settings with their defaults (GENELink's architecture has none of them).
        let dropout = graphDropout ?? 0.5, propensityScale = propensityLrScale ?? 10
        let masking = c.architecture == .scgrn && !noGnn && maskEdges != .off
        let rules = pairs.propensityRules(count: g)
        // One network, or --ensemble K of them on the same pairs: member k has seed + k (the first is
        // the single model), and the model written averages their logits.
        var members: [(result: TrainingResult, model: RegulationModel, validLogits: [Float])] = []
        for k in 0..<ensemble {
            let memberSeed = seed &+ UInt64(k)
            if ensemble > 1 { Diagnostics.verbose("model \(k + 1) of \(ensemble) (seed \(memberSeed))") }
            let network = JointGRNNetwork(c, seed: memberSeed)
            let result = Trainer.train(network, inputs: inputs, pairs: pairs,
                                       options: TrainingOptions(epochs: epochs, learningRate: lr, batchSize: batchSize,
                                                                seed: memberSeed, patience: patience, architecture: c.architecture,
                                                                graphDropout: dropout, maskEdges: masking,
                                                                propensityRateScale: propensityScale,
                                                                weightDecay: weightDecay, selection: select))
            // The selected network's representations, in evaluation mode, as the MODEL contract
            // holds them (Sources/Frames/ModelContract.swift; the engine stores W as [in, out]).
            let (regulator, target) = Trainer.represent(network, inputs: inputs)
            let layers = network.decoder.map {
                DenseLayer(inOutWeight: $0.weight.data, bias: $0.bias!.data, inputs: $0.weight.shape[0], outputs: $0.weight.shape[1])
            }
            let model = RegulationModel(geneCount: g, width: c.outputDim, regulator: regulator.data, target: target.data,
                                        decoder: layers.isEmpty ? .dot : .mlp(layers),
                                        regulatorBias: network.regulatorBias.map { rules.regulator.apply($0.data) },
                                        targetBias: network.targetBias.map { rules.target.apply($0.data) })
            let validLogits = ensemble > 1 ? Trainer.logits(network, inputs: inputs, pairs: pairs.valid, propensityRules: rules) : []
            members.append((result, model, validLogits))
        }
        var model = RegulationModel(averaging: members.map(\.model))
        // The figures of the model written: the single network's, or those of the members' mean logits.
        var result = members[0].result
        if ensemble > 1 {
            let mean = (0..<pairs.valid.count).map { i in members.reduce(Float(0)) { $0 + $1.validLogits[i] } / Float(ensemble) }
            let (ranking, grouped) = Trainer.rank(mean, pairs: pairs.valid)
            result.validAUROC = ranking.auroc ?? 0.5
            result.validAUPRC = ranking.averagePrecision ?? 0
            result.validPerRegulatorAUROC = grouped.auroc ?? 0.5
        }
        // --contrast: its weights chosen on the validation pairs, folded into the model written.
        var contrastMeta: [(String, String)] = []
        if !blocks.isEmpty {
            let choice = ContrastChoice.choose(blocks: blocks, logits: ContrastChoice.logits(model, pairs: pairs.valid), valid: pairs.valid)
            model = choice.fold(model, blocks: blocks)
            (result.validAUROC, result.validAUPRC, result.validPerRegulatorAUROC) = choice.chosen
            let weights = zip(blocks, choice.weights).map { "\($0.name) \($1)" }.joined(separator: ", ")
            contrastMeta = [("graphify.contrast", weights), ("graphify.contrast_logit_scale", String(choice.logitScale)),
                            ("graphify.contrast_regulators", blocks.map { String($0.regulators) }.joined(separator: ",")),
                            ("graphify.contrast_base_valid_auroc", String(choice.base.auroc)),
                            ("graphify.contrast_base_valid_per_regulator_auroc", String(choice.base.perRegulator))]
            let digests = try sources.compactMap(\.file).map { "\($0) " + (try SHA256.hex(file: $0)) }
            if !digests.isEmpty { contrastMeta.append(("graphify.contrast_table_sha256", digests.joined(separator: ", "))) }
            Diagnostics.note(String(format: "contrast weights %@ (regulators with a term: %@): validation per regulator AUROC %.4f -> %.4f, AUROC %.4f -> %.4f",
                                    weights, blocks.map { String($0.regulators) }.joined(separator: ", "),
                                    choice.base.perRegulator, choice.chosen.perRegulator, choice.base.auroc, choice.chosen.auroc))
        }
        let bestEpochs = members.map { String($0.result.bestEpoch) }.joined(separator: ",")
        var header = StreamHeader(content: .model, genes: genes, metadata: [], provenance: features.header.provenance)
        var meta: [(String, String)] = [
            ("decoder", decoder.rawValue),
            ("graphify.model", noGnn ? "mlp-channels" : "\(arch)-gat"),
            ("graphify.arch", arch),
            ("graphify.transformer", useTransformer ? "true" : "false"),
            ("graphify.gnn", noGnn ? "false" : "true"),
            ("graphify.seed", String(seed)),
            ("graphify.epochs", String(epochs)),
            ("graphify.epochs_run", members.map { String($0.result.epochsRun) }.joined(separator: ",")),
            ("graphify.best_epoch", bestEpochs),
            ("graphify.valid_auroc", String(result.validAUROC)),
            ("graphify.valid_auprc", String(result.validAUPRC)),
            ("graphify.valid_per_regulator_auroc", String(result.validPerRegulatorAUROC)),
            ("graphify.select", select.rawValue),
            ("graphify.train_pairs", String(pairs.train.count)),
            ("graphify.valid_pairs", String(pairs.valid.count)),
            ("graphify.graph_edges", String(pairs.graphEdges)),
            ("graphify.profiles", "\(features.profileKind) \(features.profileWidth) from \(features.cellCount) cells"),
        ]
        if useTransformer { meta.append(("graphify.embedding_dim", String(features.embeddingDim))) }
        if let table, let path = geneFeatures {
            meta += [("graphify.gene_features", path), ("graphify.gene_features_sha256", try SHA256.hex(file: path)),
                     ("graphify.gene_features_dim", String(table.width)), ("graphify.gene_features_genes", String(table.found))]
        }
        if c.architecture == .scgrn {
            meta.append(("graphify.graph_dropout", String(dropout)))
            if !noGnn { meta.append(("graphify.mask_edges", masking ? "on" : "off")) }
            meta.append(("graphify.propensity_lr_scale", String(propensityScale)))
        }
        if weightDecay > 0 { meta.append(("graphify.weight_decay", String(weightDecay))) }
        if ensemble > 1 { meta.append(("graphify.ensemble", String(ensemble))) }
        meta += contrastMeta
        for (k, v) in meta { header.setMetadata(k, v) }
        let digest = try priorChoice.path == "-" ? "" : SHA256.hex(file: priorChoice.path)
        TrainingPrior(name: priorChoice.name, sha256: digest, pairs: pairs.priorPairs).record(in: &header)
        header.appendProvenance()
        let tensors = model.tensors
        if let bad = tensors.first(where: { $0.data.contains { !$0.isFinite } }) {
            throw ToolError.runtime("training diverged: tensor '\(bad.name)' holds non-finite values (try a smaller --lr)")
        }
        let out = try OutputFile.open(common.output, binary: true, inputs: [input, priorChoice.path] + [train, valid, tfs, geneFeatures].compactMap { $0 }
                                        + sources.compactMap(\.file))
        let writer = try FrameWriter(out, header: header)
        try writer.write(model: tensors)
        try writer.finish()
        let chosen = ensemble == 1 ? "best epoch \(result.bestEpoch) of \(result.epochsRun)"
            : "\(ensemble) models, best epochs \(bestEpochs) of \(epochs)"
        Diagnostics.note(String(format: "%@ (by " + select.rawValue + "): validation AUROC %.4f AUPRC %.4f, per regulator AUROC %.4f (%d genes, %.1f s)",
                                chosen, result.validAUROC, result.validAUPRC,
                                result.validPerRegulatorAUROC, g,
                                Date().timeIntervalSince(started)))
    }
}

extension Graphify {
    /// --contrast as given, or its default: expression (when the stream has cells), the bundled
    /// knowledge table and the bundled Gene Ontology sets for --arch scgrn with the dot decoder;
    /// nothing for GENELink's model or an MLP decoder.
    func contrastSources(hasCells: Bool) throws -> [ContrastSource] {
        if let contrast { return try ContrastSource.parse(contrast) }
        guard arch == "scgrn" && decoder == .dot else { return [] }
        return (hasCells ? [.expression] : []) + [.knowledge, .go]
    }

    /// One --contrast source's block: the profiles, a table's rows for the dataset genes, or the
    /// gene sets each dataset gene belongs to (for mouse data, also through its human orthologs).
    /// nil when a source not `required` names no dataset gene. `geneTable` is --gene-features'
    /// table, used as it is when the source names the same file.
    func contrastBlock(_ source: ContrastSource, features: NodeFeatures, streamName: String, genes: [GeneName],
                       geneTable: GeneFeatures?, orthologs: () throws -> [(mouse: String, human: String)], required: Bool,
                       train: LabelledPairs) throws -> ContrastBlock? {
        switch source {
        case .expression:
            guard features.cellCount > 0 else {
                throw ToolError.data(streamName, "has no CELL frames: --contrast expression needs the expression profiles")
            }
            return ContrastBlock(name: source.name, features: features.profiles, width: features.profileWidth, genes: genes.count, train: train)
        case .knowledge, .table:
            let (file, label) = try source.locate()
            let table: GeneFeatures
            if let geneTable, let path = geneFeatures, let a = FileIdentity(path: path), a.exists, a == FileIdentity(path: file) {
                table = geneTable
            } else {
                table = try GeneFeatures.read(file, genes: genes.map(\.symbol), label: "contrast table \(label)", required: required)
            }
            guard table.found > 0 else { return nil }
            return ContrastBlock(name: source.name, features: table.values, width: table.width, genes: genes.count, train: train)
        case .go, .geneSets:
            let (file, label) = try source.locate()
            let sets = try GeneSets.read(file, genes: genes.map(\.symbol), orthologs: try orthologs(), label: "contrast gene sets \(label)",
                                         required: required)
            guard sets.found > 0 else { return nil }
            return ContrastBlock(name: source.name, sets: sets, genes: genes.count, train: train)
        }
    }
}

/// `--decoder`: how a regulator's and a target's representations become a logit.
enum DecoderKind: String, CaseIterable, ExpressibleByArgument {
    /// regulator · target
    case dot
    /// a ReLU MLP over the concatenated pair
    case mlp
}

/// An on/off option.
enum Switch: String, CaseIterable, ExpressibleByArgument {
    case on, off
}

/// `--select`: the validation figure that chooses the epoch kept.
enum SelectionMetric: String, CaseIterable, ExpressibleByArgument {
    /// AUROC over all validation pairs.
    case auroc
    /// The mean over regulators of the AUROC within each regulator's validation pairs.
    case perRegulator = "per-regulator"
}
