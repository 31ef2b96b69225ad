// Trainer: GENELink's training loop with model selection on the validation pairs.
//
// Per epoch: the training pairs are shuffled (seeded) and cut into batches of --batch-size (the
// last one may be short); for each batch the whole network runs forward over every gene (the
// graph encoder needs all of them), the batch's logits go through binary cross-entropy (mean over
// the batch), and Adam steps; the learning rate follows StepLR(step 1, γ 0.99) stepped after every
// BATCH, as GENELink's code does (--arch genelink). With --arch scgrn the rate follows a half
// cosine from --lr to 0 over the whole run (epochs × batches per epoch), so every epoch trains
// whatever the number of batches, in each batch a --graph-dropout share of the genes is drawn
// (seeded) whose graph encoding is dropped, and (--mask-edges, on by default) the batch's own pairs
// are taken out of the graph for that batch's pass, as the test pairs are absent from it; the
// per-gene propensities learn at --propensity-lr-scale (10) times the rate of the rest. After
// each epoch the network runs in evaluation mode (no dropout) and the validation pairs' AUROC
// (scikit-learn's definition) is computed. The parameters of the epoch with the best validation
// AUROC are kept (the earliest on ties); with --patience N, training stops after N epochs without
// improvement. Test pairs are never seen.
// Progress (batches done of all epochs', rate, ETA) goes to stderr when it is a terminal or with -v.

import Engine
import Foundation
import Kernels
import Metrics
import Models
import ToolKit

/// Hyper-parameters of a run.
struct TrainingOptions {
    var epochs: Int
    var learningRate: Double
    var batchSize: Int
    var seed: UInt64
    var patience: Int?
    var architecture = JointGRNConfiguration.Architecture.genelink
    /// scgrn: the share of genes whose graph encoding is dropped in each training batch.
    var graphDropout = 0.0
    /// scgrn with the graph encoder: remove each batch's own pairs from the graph the batch's pass runs over.
    var maskEdges = false
    /// scgrn: the propensities' learning rate as a multiple of `learningRate` (same schedule).
    var propensityRateScale = 1.0
    /// Adam's (coupled, L2) weight decay.
    var weightDecay = 0.0
    /// The validation figure the best epoch is chosen by.
    var selection = SelectionMetric.auroc
}

/// What training produced: the selected network and its validation figures.
struct TrainingResult {
    var bestEpoch: Int
    var epochsRun: Int
    var validAUROC: Double
    var validAUPRC: Double
    /// The selected epoch's per-regulator validation AUROC (0.5 when no regulator has both classes).
    var validPerRegulatorAUROC: Double
    var finalLoss: Double
}

/// The model's inputs as tensors (constants).
struct ModelInputs {
    var profiles: Tensor?
    var embedding: Tensor?
    var graph: NeighbourGraph
    var isolated: IsolatedNodes
}

enum Trainer {
    /// Trains `network` in place and leaves it holding the best epoch's parameters.
    static func train(_ network: JointGRNNetwork, inputs: ModelInputs, pairs: TrainingPairs,
                      options o: TrainingOptions) -> TrainingResult {
        let parameters = network.parameters
        let batchesPerEpoch = (pairs.train.count + o.batchSize - 1) / o.batchSize
        let propensityRules = pairs.propensityRules(count: inputs.graph.nodeCount)
        func schedule(_ base: Double) -> LearningRateSchedule {
            o.architecture == .genelink ? StepDecay(base: base, stepSize: 1, gamma: 0.99)
                : CosineWithWarmup(base: base, warmupSteps: 0, totalSteps: o.epochs * batchesPerEpoch)
        }
        // Two parameter groups (as torch.optim's param groups): the per-gene propensities, one
        // value a gene, learn at their own rate; everything else at --lr.
        func isPropensity(_ p: NamedParameter) -> Bool { p.tensor === network.regulatorBias || p.tensor === network.targetBias }
        let groups = [(parameters.filter { !isPropensity($0) }, o.learningRate),
                      (parameters.filter(isPropensity), o.learningRate * o.propensityRateScale)]
            .filter { !$0.0.isEmpty }
            .map { members, rate in
                (optimizer: Adam(members, learningRate: Float(rate), weightDecay: Float(o.weightDecay)), schedule: schedule(rate))
            }
        var graphDrop = Xoshiro256(seed: o.seed ^ 0x4752_4150_4844_5250)                        // graph dropout
        let genes = inputs.graph.nodeCount
        let tape = Tape(training: true, recording: true, seed: o.seed ^ 0x4452_4F50_4F55_5421)  // dropout stream
        var order = Xoshiro256(seed: o.seed ^ 0x5348_5546_464C_4521)                           // batch order
        let train = pairs.train
        var best: (epoch: Int, auroc: Double, auprc: Double, perRegulator: Double, values: [[Float]])? = nil
        var steps = 0
        var lastLoss = 0.0
        var epochsRun = 0
        // Per batch, with an ETA over every epoch (a --patience stop ends it early).
        let progress = ToolKit.Progress(unit: "batches", total: o.epochs * batchesPerEpoch)
        for epoch in 1...o.epochs {
            epochsRun = epoch
            let permutation = order.shuffled(Array(0..<train.count))
            var lossSum = 0.0, batches = 0
            var start = 0
            while start < permutation.count {
                let idx = permutation[start..<min(start + o.batchSize, permutation.count)]
                start += o.batchSize
                let regs = idx.map { train.regulators[$0] }, tgts = idx.map { train.targets[$0] }
                let labels = Tensor(idx.map { train.labels[$0] }, shape: [idx.count, 1])
                for g in groups { g.optimizer.zeroGrad() }
                var dropped: [Bool]? = nil
                if o.architecture == .scgrn && o.graphDropout > 0 {
                    dropped = (0..<genes).map { _ in graphDrop.nextDouble() < o.graphDropout }
                }
                var graph = inputs.graph, isolated = inputs.isolated
                if o.maskEdges {
                    graph = graph.removing(undirected: Array(zip(regs, tgts)))
                    isolated = IsolatedNodes(graph)
                }
                let (r, t) = network.embed(tape, profiles: inputs.profiles, embedding: inputs.embedding,
                                           graph: graph, isolated: isolated, graphDropped: dropped)
                let logits = network.score(tape, regulator: r, target: t, regulators: regs, targets: tgts)
                let loss = tape.binaryCrossEntropyWithLogits(logits, labels)
                tape.backward(loss)
                steps += 1
                for g in groups {
                    g.optimizer.step()
                    g.schedule.apply(to: g.optimizer, step: steps)
                }
                lossSum += Double(loss.item)
                batches += 1
                progress.advance()
            }
            lastLoss = lossSum / Double(max(batches, 1))
            let (ranking, grouped) = validate(network, inputs: inputs, pairs: pairs.valid, propensityRules: propensityRules)
            let auroc = ranking.auroc ?? 0.5, auprc = ranking.averagePrecision ?? 0, perRegulator = grouped.auroc ?? 0.5
            func figure(_ b: (auroc: Double, perRegulator: Double)) -> Double { o.selection == .auroc ? b.auroc : b.perRegulator }
            let improved = best == nil || figure((auroc, perRegulator)) > figure((best!.auroc, best!.perRegulator))
            if improved { best = (epoch, auroc, auprc, perRegulator, parameters.map { $0.tensor.data }) }
            Diagnostics.verbose(String(format: "epoch %d/%d: loss %.4f, validation AUROC %.4f AUPRC %.4f, per regulator AUROC %.4f%@",
                                       epoch, o.epochs, lastLoss, auroc, auprc, perRegulator, improved ? " (best)" : ""))
            if let p = o.patience, epoch - best!.epoch >= p {
                Diagnostics.verbose("no improvement for \(p) epochs: stopping after epoch \(epoch)")
                break
            }
        }
        progress.finish()
        for (p, v) in zip(parameters, best!.values) { p.tensor.data = v }
        return TrainingResult(bestEpoch: best!.epoch, epochsRun: epochsRun, validAUROC: best!.auroc,
                              validAUPRC: best!.auprc, validPerRegulatorAUROC: best!.perRegulator, finalLoss: lastLoss)
    }

    /// The validation pairs ranked by the network in evaluation mode: pooled, and per regulator —
    /// as the MODEL will hold it, with the propensities `propensityRules` make of the learned ones.
    static func validate(_ network: JointGRNNetwork, inputs: ModelInputs, pairs: LabelledPairs,
                         propensityRules: (regulator: PropensityRule, target: PropensityRule)) -> (BinaryRanking, GroupedRanking) {
        rank(logits(network, inputs: inputs, pairs: pairs, propensityRules: propensityRules), pairs: pairs)
    }

    /// `logits` (one a pair of `pairs`) ranked against the pairs' labels: pooled, and per regulator.
    static func rank(_ logits: [Float], pairs: LabelledPairs) -> (BinaryRanking, GroupedRanking) {
        let labels = pairs.labels.map { $0 == 1 }, scores = logits.map(Double.init)
        return (BinaryRanking(scores: scores, labels: labels), GroupedRanking(scores: scores, labels: labels, groups: pairs.regulators))
    }

    /// The network's logit of each of `pairs` in evaluation mode, with the propensities the MODEL will hold.
    static func logits(_ network: JointGRNNetwork, inputs: ModelInputs, pairs: LabelledPairs,
                       propensityRules: (regulator: PropensityRule, target: PropensityRule)) -> [Float] {
        let tape = Tape(training: false, recording: false)
        let (r, t) = represent(network, inputs: inputs, tape: tape)
        var logit = network.score(tape, regulator: r, target: t, regulators: pairs.regulators, targets: pairs.targets).data
        if let rb = network.regulatorBias, let tb = network.targetBias {
            let written = (propensityRules.regulator.apply(rb.data), propensityRules.target.apply(tb.data))
            for k in logit.indices {
                let i = Int(pairs.regulators[k]), j = Int(pairs.targets[k])
                if written.0[i] != rb.data[i] { logit[k] += written.0[i] - rb.data[i] }
                if written.1[j] != tb.data[j] { logit[k] += written.1[j] - tb.data[j] }
            }
        }
        return logit
    }

    /// Every gene's regulator and target representation, in evaluation mode.
    static func represent(_ network: JointGRNNetwork, inputs: ModelInputs, tape: Tape? = nil) -> (Tensor, Tensor) {
        let tape = tape ?? Tape(training: false, recording: false)
        return network.embed(tape, profiles: inputs.profiles, embedding: inputs.embedding,
                             graph: inputs.graph, isolated: inputs.isolated)
    }
}
