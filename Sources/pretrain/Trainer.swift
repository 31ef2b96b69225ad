// Trainer: pretrain's training loop — batches, the two objectives, held-out evaluation against
// the baselines, and the model and checkpoint files.
//
// Step s (0-based) trains on positions s·B ..< (s+1)·B of an endless stream of training cells
// made of seeded per-epoch permutations, with masks drawn from a generator seeded by (seed, s).
// Every random draw is therefore a function of (seed, step), which is what makes a resumed run
// identical to an uninterrupted one: the checkpoint stores parameters, Adam's moments and the
// step; the "RNG state" is the step itself.

import ArgumentParser
import Engine
import Foundation
import Kernels
import Models
import ToolKit
import Weights

enum Objective: String, CaseIterable, ExpressibleByArgument {
    /// scBERT: cross-entropy of the masked tokens.
    case mlm
    /// Exceiver-style: mean squared error of the masked genes' normalised values.
    case mse
}

/// The settings a run is defined by (recorded in every checkpoint).
struct TrainSettings: Equatable {
    var objective: Objective
    var steps: Int
    var batchSize: Int
    var learningRate: Double
    var warmup: Int
    var seed: UInt64
    var maskProb: Double
    var replaceProb: Double
    var holdoutFraction: Double
    var clipNorm: Double
    var weightDecay: Double
    var learnedPositions: Bool
    /// The zero genes a sequence holds (--zeros); `.all` is scBERT's full sequence.
    var zeros: ZeroSampling = .all
    /// Cells of whole held-out datasets (--heldout), the last ones of the corpus; 0: a seeded
    /// share of all cells (holdoutFraction) is held out instead.
    var heldoutCells = 0

    /// The settings as checkpoint metadata.
    var metadata: [String: String] {
        var m = [
         "pretrain.objective": objective.rawValue, "pretrain.steps": String(steps), "pretrain.batch_size": String(batchSize),
         "pretrain.lr": String(learningRate), "pretrain.warmup": String(warmup), "pretrain.seed": String(seed),
         "pretrain.mask_prob": String(maskProb), "pretrain.replace_prob": String(replaceProb),
         "pretrain.holdout_fraction": String(holdoutFraction), "pretrain.clip_norm": String(clipNorm),
         "pretrain.weight_decay": String(weightDecay),
         "pretrain.positions": learnedPositions ? "learned" : "gene2vec (frozen)"]
        // Recorded only when sampling, so a full-sequence run writes the bytes it always has.
        if zeros != .all { m["pretrain.zeros"] = zeros.description }
        if heldoutCells > 0 { m["pretrain.heldout_cells"] = String(heldoutCells) }
        return m
    }

    /// Reads the settings back from checkpoint metadata.
    init(metadata m: [String: String], source: String) throws {
        func get(_ k: String) throws -> String {
            guard let v = m["pretrain." + k] else { throw ToolError.data(source, "not a pretrain checkpoint: metadata lacks 'pretrain.\(k)'") }
            return v
        }
        func num<T: LosslessStringConvertible>(_ k: String) throws -> T {
            guard let v = T(try get(k)) else { throw ToolError.data(source, "checkpoint metadata 'pretrain.\(k)' is not a number") }
            return v
        }
        guard let o = Objective(rawValue: try get("objective")) else { throw ToolError.data(source, "unknown objective in checkpoint") }
        objective = o
        steps = try num("steps"); batchSize = try num("batch_size"); learningRate = try num("lr"); warmup = try num("warmup")
        seed = try num("seed"); maskProb = try num("mask_prob"); replaceProb = try num("replace_prob")
        holdoutFraction = try num("holdout_fraction"); clipNorm = try num("clip_norm"); weightDecay = try num("weight_decay")
        learnedPositions = try get("positions") == "learned"
        // A checkpoint is untrusted input: every setting must be one the options could have given.
        let sane = batchSize >= 1 && batchSize <= 1 << 20 && steps >= 1 && warmup >= 0 && warmup <= steps
            && learningRate > 0 && learningRate.isFinite && maskProb > 0 && maskProb <= 1 && replaceProb >= 0 && replaceProb <= 1
            && holdoutFraction >= 0 && holdoutFraction < 1 && clipNorm >= 0 && clipNorm.isFinite
            && weightDecay >= 0 && weightDecay.isFinite
        guard sane else { throw ToolError.data(source, "checkpoint metadata holds training settings out of range") }
        if let z = m["pretrain.zeros"] {
            guard let parsed = ZeroSampling(argument: z) else { throw ToolError.data(source, "checkpoint metadata 'pretrain.zeros' is not all, N or Rx") }
            zeros = parsed
        } else {
            zeros = .all
        }
        if let h = m["pretrain.heldout_cells"] {
            guard let n = Int(h), n >= 1 else { throw ToolError.data(source, "checkpoint metadata 'pretrain.heldout_cells' is not a positive count") }
            heldoutCells = n
        }
    }

    init(objective: Objective, steps: Int, batchSize: Int, learningRate: Double, warmup: Int, seed: UInt64, maskProb: Double,
         replaceProb: Double, holdoutFraction: Double, clipNorm: Double, weightDecay: Double, learnedPositions: Bool,
         zeros: ZeroSampling = .all) {
        self.objective = objective; self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate
        self.warmup = warmup; self.seed = seed; self.maskProb = maskProb; self.replaceProb = replaceProb
        self.holdoutFraction = holdoutFraction; self.clipNorm = clipNorm; self.weightDecay = weightDecay
        self.learnedPositions = learnedPositions
        self.zeros = zeros
    }
}

/// Held-out figures at one step.
struct Evaluation {
    var cells = 0, masked = 0
    var loss = 0.0
    /// Masked-token accuracy of the model and of the two baselines (mlm), or their MSE (mse).
    var model = 0.0, mostFrequent = 0.0, perGene = 0.0
}

final class Trainer {
    let corpus: Corpus
    let settings: TrainSettings
    let net: PerformerNetwork
    let optimizer: Adam
    let schedule: CosineWithWarmup
    let split: Split
    let baselines: Baselines
    let masker: Masker
    private(set) var step: Int
    /// Sequence positions trained on since the start of this process (the throughput's count).
    private(set) var positionsTrained = 0
    private var epochCache: (Int, [Int])?

    init(corpus: Corpus, settings: TrainSettings, net: PerformerNetwork, startStep: Int) {
        self.corpus = corpus
        self.settings = settings
        self.net = net
        optimizer = Adam(net.parameters, learningRate: 0, weightDecay: Float(settings.weightDecay), decoupled: settings.weightDecay > 0)
        schedule = CosineWithWarmup(base: settings.learningRate, warmupSteps: settings.warmup, totalSteps: settings.steps)
        split = settings.heldoutCells > 0
            ? Split(trainingCells: corpus.count - settings.heldoutCells, heldOut: settings.heldoutCells)
            : Split(cells: corpus.count, fraction: settings.holdoutFraction, seed: settings.seed)
        baselines = Baselines(corpus, cells: split.train)
        masker = Masker(maskProb: settings.maskProb, replaceProb: settings.replaceProb, maskToken: Int32(corpus.bins + 1))
        step = startStep
    }

    // MARK: - Batches

    /// The training cells of step s.
    func cells(ofStep s: Int) -> [Int] {
        let n = split.train.count, b = settings.batchSize
        return (0..<b).map { i in
            let pos = s * b + i, epoch = pos / n
            if epochCache?.0 != epoch {
                var rng = Xoshiro256(seed: Seeds.derive(settings.seed, .epoch, epoch))
                epochCache = (epoch, rng.shuffled(split.train))
            }
            return epochCache!.1[pos % n]
        }
    }

    /// The masked inputs of a batch, flattened cell after cell.
    struct Batch {
        /// Input tokens of every row, [R] (R = B·L with the full sequence).
        var tokens = [Int32]()
        /// With zero sampling: each row's vocabulary position [R] and each cell's row count.
        var positions = [Int32](), lengths = [Int]()
        /// The masked rows (indices into the R rows), their vocabulary positions, labels (tokens) and values.
        var rows = [Int32](), genes = [Int32](), labels = [Int32](), values = [Float]()
        var rowCount: Int { tokens.count }
    }

    /// Masked inputs of a batch. `masks(i, c)` seeds the mask of the i-th cell c, `zeros(i, c)` its
    /// sample of zero genes (a separate stream, so sampling leaves the masks unchanged).
    func batch(_ cells: [Int], masks: (Int, Int) -> Xoshiro256, zeros: (Int, Int) -> Xoshiro256) -> Batch {
        let l = corpus.length
        var b = Batch()
        if settings.zeros == .all { b.tokens.reserveCapacity(cells.count * l) }
        for (i, c) in cells.enumerated() {
            var rng = masks(i, c)
            let m = masker.mask(corpus.row(c), rng: &rng)
            let start = b.tokens.count
            var rowOf: (Int) -> Int = { start + $0 }
            if settings.zeros == .all {
                b.tokens += m.input
            } else {
                var zrng = zeros(i, c)
                let positions = settings.zeros.positions(corpus.row(c), rng: &zrng)
                var index = [Int32](repeating: -1, count: l)
                for (r, p) in positions.enumerated() {
                    index[Int(p)] = Int32(r)
                    b.tokens.append(m.input[Int(p)])
                }
                b.positions += positions
                b.lengths.append(positions.count)
                rowOf = { start + Int(index[$0]) }
            }
            for (p, t) in zip(m.positions, m.labels) {
                b.rows.append(Int32(rowOf(p)))
                b.genes.append(Int32(p))
                b.labels.append(Int32(t))
                if settings.objective == .mse { b.values.append(corpus.values[c * l + p]) }
            }
        }
        return b
    }

    /// The final encodings of a batch's rows.
    func encode(_ tape: Tape, _ b: Batch, cells: Int) -> Tensor {
        if settings.zeros == .all { return net.encode(tape, tokens: b.tokens, batch: cells) }
        return net.encode(tape, tokens: b.tokens, positions: b.positions, lengths: b.lengths)
    }

    /// The loss of masked rows of the encodings.
    func loss(_ tape: Tape, _ encodings: Tensor, rows: [Int32], labels: [Int32], values: [Float]) -> (Tensor, Tensor) {
        let d = net.config.dim
        let flat = tape.reshape(encodings, [encodings.count / d, d])
        let selected = tape.gatherRows(flat, rows)
        switch settings.objective {
        case .mlm:
            let logits = net.logits(tape, selected)
            return (tape.crossEntropy(logits, labels), logits)
        case .mse:
            let pred = tape.reshape(net.values(tape, selected), [rows.count])
            return (tape.meanSquaredError(pred, Tensor(values, shape: [values.count])), pred)
        }
    }

    // MARK: - Training

    /// One optimiser step; returns the batch loss and the number of masked positions.
    func trainStep() -> (loss: Float, masked: Int) {
        let s = step
        let cells = cells(ofStep: s)
        let bs = settings.batchSize, seed = settings.seed
        let b = batch(cells, masks: { i, _ in Xoshiro256(seed: Seeds.derive(seed, .mask, s * bs + i)) },
                      zeros: { i, _ in Xoshiro256(seed: Seeds.derive(seed, .zeros, s * bs + i)) })
        step += 1
        positionsTrained += b.rowCount
        guard !b.rows.isEmpty else { return (0, 0) }
        let tape = Tape(training: true, seed: Seeds.derive(settings.seed, .mask, s))
        let enc = encode(tape, b, cells: cells.count)
        let (loss, _) = loss(tape, enc, rows: b.rows, labels: b.labels, values: b.values)
        optimizer.zeroGrad()
        tape.backward(loss)
        net.freezeFinalPosition()
        if settings.clipNorm > 0 { clipGradientNorm(optimizer.parameters, maxNorm: Float(settings.clipNorm)) }
        optimizer.learningRate = schedule.rate(at: s + 1)
        optimizer.step()
        return (loss.item, b.rows.count)
    }

    // MARK: - Evaluation

    /// Loss and masked-token accuracy on the held-out cells (masks fixed per cell by the seed),
    /// with the two baselines on the same masked positions.
    func evaluate() -> Evaluation {
        var ev = Evaluation()
        let cells = split.holdout
        ev.cells = cells.count
        guard !cells.isEmpty else { return ev }
        let bins = corpus.bins, t = net.config.tokens, seed = settings.seed
        var lossSum = 0.0, hits = 0.0, hitsGlobal = 0.0, hitsGene = 0.0
        var start = 0
        while start < cells.count {
            let chunk = Array(cells[start..<min(cells.count, start + settings.batchSize)])
            start += chunk.count
            let b = batch(chunk, masks: { _, c in Xoshiro256(seed: Seeds.derive(seed, .evaluation, c)) },
                          zeros: { _, c in Xoshiro256(seed: Seeds.derive(seed, .evaluationZeros, c)) })
            if b.rows.isEmpty { continue }
            let tape = Tape(training: false, recording: false)
            let enc = encode(tape, b, cells: chunk.count)
            let (loss, out) = loss(tape, enc, rows: b.rows, labels: b.labels, values: b.values)
            lossSum += Double(loss.item) * Double(b.rows.count)
            for r in b.rows.indices {
                let p = Int(b.genes[r])
                switch settings.objective {
                case .mlm:
                    // scBERT's accuracy: the arg-max over the nonzero bins 1…bins.
                    var best = 1
                    for k in 2...bins where out.data[r * t + k] > out.data[r * t + best] { best = k }
                    let label = Int(b.labels[r])
                    if best == label { hits += 1 }
                    if Int(baselines.global) == label { hitsGlobal += 1 }
                    if Int(baselines.perGene[p]) == label { hitsGene += 1 }
                case .mse:
                    let v = Double(b.values[r])
                    let g = Double(baselines.meanValue[p]), pred = Double(out.data[r])
                    hits += (pred - v) * (pred - v)
                    hitsGene += (g - v) * (g - v)
                    hitsGlobal += v * v
                }
            }
            ev.masked += b.rows.count
        }
        let n = Double(max(ev.masked, 1))
        ev.loss = lossSum / n
        ev.model = hits / n; ev.mostFrequent = hitsGlobal / n; ev.perGene = hitsGene / n
        return ev
    }

    // MARK: - Files

    /// Metadata common to the model and the checkpoint.
    func metadata(_ ev: Evaluation?) -> [String: String] {
        let c = net.config
        var m = settings.metadata
        m["format"] = "pt"
        m["scgrn.tool"] = "pretrain"
        m["scgrn.version"] = scgrnVersion
        m["pretrain.step"] = String(step)
        m["model.config"] = c.description
        m["model.dim"] = String(c.dim); m["model.depth"] = String(c.depth); m["model.heads"] = String(c.heads)
        m["model.dim_head"] = String(c.dimHead); m["model.features"] = String(c.features); m["model.ff_hidden"] = String(c.ffHidden)
        m["model.tokens"] = String(c.tokens); m["model.positions"] = String(c.positions)
        m["vocabulary.genes"] = String(corpus.vocabulary.count)
        m["vocabulary.crc32"] = String(format: "%08x", corpus.vocabularyCRC)
        m["vocabulary.first"] = corpus.vocabulary.first ?? ""
        m["vocabulary.last"] = corpus.vocabulary.last ?? ""
        m["vocabulary.note"] = "tokenize with the model's gene list (one symbol per line, position i = line i)"
        m["bins"] = String(corpus.bins)
        m["corpus.cells"] = String(corpus.count)
        m["corpus.train_cells"] = String(split.train.count)
        if let ev {
            let what = settings.objective == .mlm ? "accuracy" : "mse"
            m["heldout.cells"] = String(ev.cells); m["heldout.masked"] = String(ev.masked)
            m["heldout.loss"] = String(format: "%.6f", ev.loss)
            m["heldout.\(what)"] = String(format: "%.6f", ev.model)
            m["heldout.baseline.\(settings.objective == .mlm ? "most_frequent_token" : "zero")"] = String(format: "%.6f", ev.mostFrequent)
            m["heldout.baseline.\(settings.objective == .mlm ? "per_gene_most_frequent_token" : "per_gene_mean")"] = String(format: "%.6f", ev.perGene)
        }
        return m
    }

    /// The model file: scBERT's state-dict names only, loadable by embed.
    func saveModel(to path: String, evaluation: Evaluation?) throws {
        var file = net.stateDict()
        file.metadata = metadata(evaluation)
        try Safetensors.write(file, to: path)
    }

    /// The checkpoint: the model (with the value head), Adam's state, the step and the settings.
    func saveCheckpoint(to path: String, evaluation: Evaluation?) throws {
        var file = net.stateDict(includeValueHead: true)
        let (tensors, meta) = optimizer.state()
        for (name, t) in tensors { file.set(name, t) }
        file.metadata = metadata(evaluation)
        for (k, v) in meta { file.metadata[k] = v }
        try Safetensors.write(file, to: path)
    }

    /// Restores Adam's state from a checkpoint file already read.
    func restoreOptimizer(from file: TensorFile, source: String) throws {
        try optimizer.load(tensors: file, metadata: file.metadata, source: source)
    }
}
