// pretrain: trains scBERT's Performer on tokenized cells (CELL frames) with scBERT's masked-token
// objective, or an Exceiver-style masked-value regression, and writes a safetensors model that
// embed loads like scBERT's own checkpoint. docs/PRETRAIN.md describes the objectives, the
// options and reproducibility.

import ArgumentParser
import Engine
import Foundation
import Kernels
import LinearAlgebra
import Models
import ToolKit
import Weights

@main
struct Pretrain: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Train scBERT's transformer on tokenized cells (masked-token pretraining).",
        discussion: """
            Reads one or more CELL streams with tokens (tokenize --vocab GENES), all tokenized with \
            the same vocabulary, and trains a Performer of the given size over sequences of the \
            vocabulary's genes plus scBERT's appended position. A share of the cells is held out; \
            every --eval-every steps and at the end, the held-out loss and masked-token accuracy \
            are logged beside two baselines (the most frequent token; each gene's most frequent \
            token).

            --objective mlm (default, scBERT): 15% of each cell's nonzero tokens are chosen, 90% of \
            them replaced by the mask token, and cross-entropy is taken on the chosen positions. \
            --objective mse (Exceiver-style): the same masking, and a linear head regresses the \
            chosen genes' normalised values (mean squared error).

            --zeros all (default) reads every vocabulary gene, as scBERT does; --zeros N or Rx reads \
            each cell's expressed genes plus N, or R times as many, of its zero genes (a seeded \
            sample), so a step costs what the cells express rather than the vocabulary's size.

            -o MODEL.safetensors holds scBERT's state-dict names and shapes (embed --model loads \
            it); --checkpoint FILE also keeps Adam's state and the step, for --resume FILE. The \
            same inputs, options and --seed give byte-identical files whatever -t.
            """,
        version: "pretrain " + scgrnVersion)

    static let examples = [
        "tokenize counts/ --vocab genes.txt -o cells.sgrf && pretrain cells.sgrf -o model.safetensors",
        "pretrain a.sgrf b.sgrf --checkpoint run.ckpt -o model.safetensors   # later: --resume run.ckpt",
        "tokenize new/ --vocab genes.txt | embed --model model.safetensors | graphify -o grn.sgrf",
    ]

    @Argument(help: "Input CELL streams (- for standard input).") var inputs: [String] = ["-"]

    @Option(help: "Model width D.") var dim = 64
    @Option(help: "Number of Performer layers.") var depth = 2
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Width of each head.") var dimHead = 16
    @Option(help: "Random features per head (default: ⌊dim_head · ln dim_head⌋, performer-pytorch's).") var features: Int?
    @Option(help: "Feed-forward width as a multiple of the model width.") var ffMult = 4

    @Option(help: "Training objective: mlm (masked tokens, scBERT) or mse (masked values, Exceiver-style).") var objective: Objective?
    @Option(help: "Total optimiser steps.") var steps = 1000
    @Option(help: "Cells per step (default 8).") var batchSize: Int?
    @Option(help: "Peak learning rate of Adam (default 1e-3).") var lr: Double?
    @Option(help: "Linear warm-up steps before the cosine decay (default: a tenth of --steps).") var warmup: Int?
    @Option(help: "Seed of every random draw (default 1).") var seed: UInt64?
    @Option(help: "Share of each cell's nonzero tokens masked (default 0.15).") var maskProb: Double?
    @Option(help: "Share of masked tokens replaced by the mask token (default 0.9).") var replaceProb: Double?
    @Option(help: "Share of cells held out for evaluation (default 0.05).") var holdoutFraction: Double?
    @Option(help: ArgumentHelp("Hold out every cell of this CELL stream (a whole dataset) for evaluation, in place of "
                               + "--holdout-fraction; repeat for several.", valueName: "FILE")) var heldout: [String] = []
    @Option(help: "Clip the gradient norm to this (0: off; default 1).") var clipNorm: Double?
    @Option(help: "AdamW decoupled weight decay (default 0: plain Adam).") var weightDecay: Double?
    @Option(help: ArgumentHelp("Zero genes per training sequence: all (scBERT's full sequence), N per cell, or Rx "
                               + "(R × the cell's expressed genes, e.g. 1x); the expressed genes are always kept (default all).",
                               valueName: "all|N|Rx")) var zeros: ZeroSampling?
    @Option(help: ArgumentHelp("Frozen gene2vec position table: lines 'SYMBOL v1 … vD'.", valueName: "FILE")) var gene2vec: String?

    @Option(help: "Evaluate on the held-out cells every N steps (0: only at the end).") var evalEvery = 100
    @Option(help: ArgumentHelp("Also write the training state (for --resume) to FILE.", valueName: "FILE")) var checkpoint: String?
    @Option(help: "Write the checkpoint every N steps as well (0: only at the end).") var checkpointEvery = 0
    @Option(help: ArgumentHelp("Continue from a checkpoint written with --checkpoint.", valueName: "FILE")) var resume: String?
    @Option(help: "Stop after this step (the schedule still spans --steps), writing the model and checkpoint.") var stopAfter: Int?
    @Flag(help: ArgumentHelp("Benchmark: also time SGEMM and report the training rate against it.", visibility: .hidden))
    var reportSgemm = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard common.output != nil, common.output != "-" else {
            throw ValidationError("give the model file with -o MODEL.safetensors")
        }
        guard dim > 0, depth > 0, heads > 0, dimHead > 0, ffMult > 0 else { throw ValidationError("model sizes must be positive") }
        if let f = features, f < 1 { throw ValidationError("--features must be positive") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be positive") }
        if let p = maskProb, !(p > 0 && p <= 1) { throw ValidationError("--mask-prob must be in (0, 1]") }
        if let p = replaceProb, !(p >= 0 && p <= 1) { throw ValidationError("--replace-prob must be in [0, 1]") }
        if let f = holdoutFraction, !(f >= 0 && f < 1) { throw ValidationError("--holdout-fraction must be in [0, 1)") }
        if let w = warmup, w < 0 || w > steps { throw ValidationError("--warmup must be within 0…--steps") }
        if let l = lr, !(l > 0) { throw ValidationError("--lr must be positive") }
        if let s = stopAfter, s < 1 || s > steps { throw ValidationError("--stop-after must be within 1…--steps") }
        if evalEvery < 0 || checkpointEvery < 0 { throw ValidationError("--eval-every and --checkpoint-every must not be negative") }
        if checkpointEvery > 0 && checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint FILE") }
        if !heldout.isEmpty && holdoutFraction != nil {
            throw ValidationError("--heldout and --holdout-fraction both choose the held-out cells: give one")
        }
    }

    func run() throws {
        common.apply()
        BLAS.setThreads(common.threadCount)
        Diagnostics.verbose("OpenBLAS: \(BLAS.coreName) kernels")
        if inputs == ["-"] && isatty(0) != 0 {
            throw ToolError.usage("no input: give CELL streams or pipe one in (tokenize … --vocab GENES | pretrain -o MODEL)\n"
                                  + Pretrain.helpMessage())
        }
        if (inputs + heldout).filter({ $0 == "-" }).count > 1 { throw ToolError.usage("standard input (-) can be read only once") }
        let output = common.output!
        let resumeFile = try resume.map { try Safetensors.read(path: $0) }
        var settings: TrainSettings
        if let file = resumeFile, let path = resume {
            guard file.metadata["optimizer"] != nil, file.metadata["pretrain.step"] != nil else {
                throw ToolError.data(path, "holds no training state (a model file?): resume from a file written with --checkpoint")
            }
            settings = try TrainSettings(metadata: file.metadata, source: path)
            try checkSame(settings, path: path)
            settings.steps = steps
            if settings.warmup > steps { throw ToolError.usage("--steps \(steps) is shorter than the checkpoint's warm-up") }
        } else {
            let s = steps
            settings = TrainSettings(objective: objective ?? .mlm, steps: s, batchSize: batchSize ?? 8,
                                     learningRate: lr ?? 1e-3, warmup: warmup ?? s / 10, seed: seed ?? 1,
                                     maskProb: maskProb ?? 0.15, replaceProb: replaceProb ?? 0.9,
                                     holdoutFraction: holdoutFraction ?? (heldout.isEmpty ? 0.05 : 0), clipNorm: clipNorm ?? 1,
                                     weightDecay: weightDecay ?? 0, learnedPositions: gene2vec == nil, zeros: zeros ?? .all)
        }
        let corpus = try Corpus.read(inputs + heldout, withValues: settings.objective == .mse)
        let name = inputs.joined(separator: ", ")
        guard corpus.count >= 2 else { throw ToolError.data(name, "\(corpus.count) cell(s): pretraining needs at least two") }
        if !heldout.isEmpty {
            let held = corpus.cellsPerInput.suffix(heldout.count).reduce(0, +)
            guard held > 0 else { throw ToolError.data(heldout.joined(separator: ", "), "no cells to hold out") }
            guard held < corpus.count else { throw ToolError.data(name, "no cells to train on: every cell is in --heldout") }
            if resumeFile != nil {
                guard held == settings.heldoutCells else {
                    throw ToolError.usage("--heldout gives \(held) cells, the checkpoint held out \(settings.heldoutCells): give the same --heldout")
                }
            } else {
                settings.heldoutCells = held
            }
        } else if resumeFile != nil && settings.heldoutCells > 0 {
            throw ToolError.usage("the checkpoint held out whole datasets (\(settings.heldoutCells) cells): give the same --heldout FILE")
        }

        let net: PerformerNetwork
        var startStep = 0
        if let file = resumeFile, let path = resume {
            net = try PerformerNetwork(file, name: path, learnPositions: settings.learnedPositions)
            guard net.config.positions == corpus.length else {
                throw ToolError.data(name, "the vocabulary has \(corpus.length - 1) genes but \(path) was trained on "
                                     + "\(net.config.positions - 1): tokenize with the checkpoint's own vocabulary")
            }
            guard file.metadata["vocabulary.crc32"] == String(format: "%08x", corpus.vocabularyCRC) else {
                throw ToolError.data(name, "the vocabulary differs from the one \(path) was trained on (crc32 mismatch)")
            }
            guard net.config.tokens == corpus.bins + 2 else {
                throw ToolError.data(name, "tokenized with \(corpus.bins) bins; \(path) has \(net.config.tokens) tokens (bins + 2)")
            }
            guard (settings.objective == .mse) == (net.toValue != nil) else {
                throw ToolError.data(path, "the checkpoint's value head does not fit objective \(settings.objective.rawValue)")
            }
            guard let s = Int(file.metadata["pretrain.step"] ?? ""), s >= 0, s <= steps else {
                throw ToolError.data(path, "checkpoint step missing, or beyond --steps \(steps)")
            }
            startStep = s
        } else {
            let e = dimHead
            let config = PerformerConfig(dim: dim, depth: depth, heads: heads, dimHead: e,
                                         features: features ?? Int(Double(e) * Foundation.log(Double(e))),
                                         ffHidden: ffMult * dim, tokens: corpus.bins + 2, positions: corpus.length)
            let table = try gene2vec.map { try Gene2Vec.read($0, vocabulary: corpus.vocabulary, dim: dim) }
            net = PerformerNetwork(config: config, seed: Seeds.derive(settings.seed, .initialise, 0), gene2vec: table,
                                   valueHead: settings.objective == .mse)
        }
        let trainer = Trainer(corpus: corpus, settings: settings, net: net, startStep: startStep)
        if let file = resumeFile, let path = resume { try trainer.restoreOptimizer(from: file, source: path) }
        let end = stopAfter ?? settings.steps
        guard startStep < end || startStep == settings.steps else {
            throw ToolError.usage("the checkpoint is already at step \(startStep); --stop-after \(end) leaves nothing to do")
        }
        Diagnostics.note("\(corpus.count) cells (\(trainer.split.train.count) training, \(trainer.split.holdout.count) held out), "
                         + "\(corpus.length - 1) genes + 1 position, \(corpus.bins) bins; model \(net.config), "
                         + "\(net.parameterCount) trained values; objective \(settings.objective.rawValue)"
                         + (settings.zeros == .all ? "" : "; zero genes per sequence \(settings.zeros)")
                         + (startStep > 0 ? "; resuming at step \(startStep)" : ""))
        if settings.objective == .mlm {
            Diagnostics.note("baselines from the training cells: most frequent token \(trainer.baselines.global); each gene's most frequent token")
        }

        let progress = Progress(unit: "cells", total: (end - startStep) * settings.batchSize)
        let clock = Date(), cpuClock = Throughput.processCPUSeconds()
        var lossSum = 0.0, lossSteps = 0
        var last: Evaluation?
        func report(_ ev: Evaluation) {
            let train = lossSteps > 0 ? String(format: "%.4f", lossSum / Double(lossSteps)) : "-"
            let figures: String
            if settings.objective == .mlm {
                figures = String(format: "held-out loss %.4f, masked-token accuracy %.4f (baselines: most frequent %.4f, per gene %.4f)",
                                 ev.loss, ev.model, ev.mostFrequent, ev.perGene)
            } else {
                figures = String(format: "held-out MSE %.4f (baselines: per-gene mean %.4f, zero %.4f)", ev.model, ev.perGene, ev.mostFrequent)
            }
            Diagnostics.note("step \(trainer.step)/\(settings.steps): train loss \(train), \(figures) on \(ev.masked) masked positions of \(ev.cells) cells")
            lossSum = 0; lossSteps = 0
        }
        while trainer.step < end {
            let (loss, masked) = trainer.trainStep()
            if masked > 0 { lossSum += Double(loss); lossSteps += 1 }
            progress.advance(by: settings.batchSize)
            if evalEvery > 0 && trainer.step % evalEvery == 0 && trainer.step < end {
                let ev = trainer.evaluate()
                report(ev)
            }
            if checkpointEvery > 0 && trainer.step % checkpointEvery == 0 && trainer.step < end, let path = checkpoint {
                try trainer.saveCheckpoint(to: path, evaluation: nil)
            }
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(clock), cpuSeconds = Throughput.processCPUSeconds() - cpuClock
        let done = end - startStep
        if done > 0 {
            let cells = Double(done * settings.batchSize), positions = Double(trainer.positionsTrained)
            Diagnostics.note(String(format: "trained %d steps in %.1f s: %.1f cells/s, %.0f positions/s", done, seconds,
                                    cells / seconds, positions / seconds))
            if reportSgemm {
                let flops = Throughput.stepFlops(net.config, length: trainer.positionsTrained, batch: 1)
                let train = flops / seconds, trainCPU = flops / cpuSeconds
                let peak = Throughput.sgemmRates()
                Diagnostics.note(String(format: "benchmark: %.0f positions/s, training %.2f GFLOP/s, SGEMM 1024^3 %.2f GFLOP/s "
                                        + "on %d threads, fraction %.3f; per CPU second: %.0f positions/s, training %.2f GFLOP/s, "
                                        + "SGEMM %.2f GFLOP/s, fraction %.3f", positions / seconds, train / 1e9,
                                        peak.wall / 1e9, BLAS.threads, train / peak.wall, positions / cpuSeconds, trainCPU / 1e9,
                                        peak.cpu / 1e9, trainCPU / peak.cpu))
            }
        }
        let ev = trainer.evaluate()
        report(ev)
        last = ev
        if let path = checkpoint { try trainer.saveCheckpoint(to: path, evaluation: last) }
        try trainer.saveModel(to: output, evaluation: last)
    }

    /// With --resume, explicit training options must agree with the checkpoint's.
    func checkSame(_ s: TrainSettings, path: String) throws {
        var clash = [String]()
        if let o = objective, o != s.objective { clash.append("--objective") }
        if let b = batchSize, b != s.batchSize { clash.append("--batch-size") }
        if let l = lr, l != s.learningRate { clash.append("--lr") }
        if let w = warmup, w != s.warmup { clash.append("--warmup") }
        if let x = seed, x != s.seed { clash.append("--seed") }
        if let p = maskProb, p != s.maskProb { clash.append("--mask-prob") }
        if let p = replaceProb, p != s.replaceProb { clash.append("--replace-prob") }
        if let f = holdoutFraction, f != s.holdoutFraction { clash.append("--holdout-fraction") }
        if let c = clipNorm, c != s.clipNorm { clash.append("--clip-norm") }
        if let w = weightDecay, w != s.weightDecay { clash.append("--weight-decay") }
        if gene2vec != nil { clash.append("--gene2vec") }
        if let z = zeros, z != s.zeros { clash.append("--zeros") }
        if !clash.isEmpty {
            throw ToolError.usage("\(clash.joined(separator: ", ")) cannot change on --resume: \(path) fixes them (drop the option)")
        }
    }
}
