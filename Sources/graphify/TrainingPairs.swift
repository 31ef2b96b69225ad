// TrainingPairs: the prior graph and the labelled training and validation pairs graphify learns from.
//
// Three ways in:
//   --train T --valid V   the labelled pairs as given (BEELINE / GENELink splits).
//   --train T             a --valid-fraction share of T (per label) is held out for validation.
//   neither               positives are the prior's edges; negatives are sampled, K per positive,
//                         uniformly from regulator × gene pairs that are not prior edges (either
//                         direction) and not self pairs, where the regulators are the genes with an
//                         outgoing prior edge (or --tfs); a --valid-fraction share of positives and
//                         of negatives is held out.
// The graph is the prior's edges made symmetric (GENELink's adjacency), without self loops
// unless asked. Validation positives that graphify held out itself are removed from the graph, so
// validation never sees its answers; when --valid is given and its positives are prior edges, a
// warning says the validation figures will be optimistic.
// All random choices come from one generator seeded with --seed, in a fixed order.

import Engine
import Foundation
import Kernels
import ToolKit

/// Labelled gene pairs (indices into the dataset genes).
struct LabelledPairs {
    var regulators: [Int32] = []
    var targets: [Int32] = []
    var labels: [Float] = []

    var count: Int { labels.count }
    var positives: Int { labels.reduce(0) { $0 + ($1 == 1 ? 1 : 0) } }

    mutating func append(_ r: Int, _ t: Int, _ label: Float) {
        regulators.append(Int32(r)); targets.append(Int32(t)); labels.append(label)
    }

    /// Pairs picked by `indices`, in that order.
    func subset(_ indices: [Int]) -> LabelledPairs {
        var out = LabelledPairs()
        for i in indices { out.append(Int(regulators[i]), Int(targets[i]), labels[i]) }
        return out
    }
}

/// The graph and the pairs to train and validate on.
struct TrainingPairs {
    var graph: NeighbourGraph
    var train: LabelledPairs
    var valid: LabelledPairs
    /// Undirected prior edges in the graph (after removing self pairs and held-out positives).
    var graphEdges: Int
    /// How the pairs were made, for messages and metadata.
    var source: String
    /// Whether the negatives were sampled (no --train) rather than labelled.
    var negativesSampled: Bool
    /// The prior's distinct directed edges between two different dataset genes (before holding
    /// out validation positives): what the MODEL records as its training prior.
    var priorPairs: [(regulator: Int, target: Int)]

    /// How the written model's propensities come from the learned ones, as a regulator and as a target.
    func propensityRules(count g: Int) -> (regulator: PropensityRule, target: PropensityRule) {
        var seenR = [Bool](repeating: false, count: g), seenT = seenR, posR = seenR, posT = seenR
        for i in 0..<train.count {
            let r = Int(train.regulators[i]), t = Int(train.targets[i])
            seenR[r] = true; seenT[t] = true
            if train.labels[i] == 1 { posR[r] = true; posT[t] = true }
        }
        func rule(seen: [Bool], positive: [Bool]) -> PropensityRule {
            PropensityRule(own: negativesSampled ? positive : seen, seen: seen, othersShare: negativesSampled)
        }
        return (rule(seen: seenR, positive: posR), rule(seen: seenT, positive: posT))
    }

    struct Options {
        var prior: String
        /// How the prior is named in messages (the path as given, or a bundled prior's name).
        var priorName: String
        var train: String?
        var valid: String?
        var tfs: String?
        var validFraction: Double
        var negativesPerPositive: Int
        var selfLoops: Bool
        var seed: UInt64
    }

    static func make(_ o: Options, genes: [GeneName]) throws -> TrainingPairs {
        let lookup = GeneLookup(genes)
        let g = genes.count
        var rng = Xoshiro256(seed: o.seed ^ 0x5052_494F_5253_504C)   // "PRIORSPL": apart from the model's stream

        // The prior: labelled files give their label-1 rows, edge lists all rows.
        let priorTable = try EdgeList.read(o.prior, values: .labels)
        let priorEdges = try priorTable.resolve(lookup, what: "prior")
        var priorPairs = [(Int, Int)]()
        var seen = Set<Int>()
        var selfPairs = 0
        for e in priorEdges where e.value == nil || e.value == 1 {
            if e.regulator == e.target { selfPairs += 1; continue }
            if seen.insert(e.key).inserted { priorPairs.append((e.regulator, e.target)) }
        }
        if selfPairs > 0 { Diagnostics.verbose("\(priorTable.name): \(selfPairs) self edges dropped from the graph") }
        if priorPairs.isEmpty {
            throw ToolError.data(priorTable.name, "the prior has no edge between two different dataset genes"
                                 + (priorTable.valueKind == .label ? " labelled 1" : "") + ": the graph would be empty")
        }
        let priorRegulators = Set(priorPairs.map(\.0)).count
        let priorGenes = Set(priorPairs.flatMap { [$0.0, $0.1] }).count
        Diagnostics.note("prior \(o.priorName): \(priorPairs.count) of its \(priorTable.edges.count) edges join two dataset genes "
                         + "(\(priorRegulators) regulators, \(priorGenes) of the \(g) genes)")

        var train = LabelledPairs(), valid = LabelledPairs()
        var heldOut = Set<Int>()   // undirected keys of validation positives removed from the graph
        var source: String
        if let trainPath = o.train {
            train = try labelled(trainPath, lookup, what: "--train")
            if let validPath = o.valid {
                valid = try labelled(validPath, lookup, what: "--valid")
                let overlap = (0..<valid.count).filter { i in
                    valid.labels[i] == 1 && (seen.contains(key(valid.regulators[i], valid.targets[i]))
                                             || seen.contains(key(valid.targets[i], valid.regulators[i])))
                }.count
                if overlap > 0 {
                    Diagnostics.warning("\(o.valid!): \(overlap) validation positives are prior edges: "
                                        + "validation figures will be optimistic")
                }
                source = "labelled pairs (--train, --valid)"
            } else {
                (train, valid) = split(train, fraction: o.validFraction, rng: &rng)
                for i in 0..<valid.count where valid.labels[i] == 1 {
                    heldOut.insert(key(valid.regulators[i], valid.targets[i]))
                }
                source = "labelled pairs (--train), \(valid.count) held out for validation"
            }
        } else {
            let regulators: [Int]
            if let tfs = o.tfs {
                regulators = try EdgeList.resolveTFs(tfs, lookup)
            } else {
                var isRegulator = [Bool](repeating: false, count: g)
                for (r, _) in priorPairs { isRegulator[r] = true }
                regulators = (0..<g).filter { isRegulator[$0] }
            }
            var all = LabelledPairs()
            for (r, t) in priorPairs { all.append(r, t, 1) }
            let negatives = sampleNegatives(count: o.negativesPerPositive * priorPairs.count, regulators: regulators,
                                            genes: g, prior: seen, rng: &rng)
            if negatives.count < o.negativesPerPositive * priorPairs.count {
                Diagnostics.warning("only \(negatives.count) regulator × gene pairs are not prior edges; "
                                    + "sampled all of them as negatives")
            }
            if negatives.isEmpty {
                throw ToolError.data(priorTable.name, "every regulator × gene pair is a prior edge: no negatives to sample")
            }
            for (r, t) in negatives { all.append(r, t, 0) }
            (train, valid) = split(all, fraction: o.validFraction, rng: &rng)
            for i in 0..<valid.count where valid.labels[i] == 1 {
                heldOut.insert(key(valid.regulators[i], valid.targets[i]))
            }
            source = "prior edges with \(negatives.count) sampled negatives, \(valid.count) pairs held out for validation"
        }
        if train.positives == 0 || train.positives == train.count {
            throw ToolError.data(o.train ?? o.prior, "the training pairs need both labels (\(train.positives) of \(train.count) are 1)")
        }
        if valid.positives == 0 || valid.positives == valid.count {
            throw ToolError.data(o.valid ?? o.train ?? o.prior,
                                 "the validation pairs need both labels (\(valid.positives) of \(valid.count) are 1)")
        }

        var graphPairs = [(Int, Int)]()
        for (r, t) in priorPairs where !heldOut.contains(key(Int32(r), Int32(t))) && !heldOut.contains(key(Int32(t), Int32(r))) {
            graphPairs.append((r, t))
        }
        if graphPairs.isEmpty {
            throw ToolError.data(priorTable.name, "no prior edge is left in the graph after holding out the validation positives")
        }
        let graph = NeighbourGraph.undirected(nodeCount: g, pairs: graphPairs, selfLoops: o.selfLoops)
        warnIfSmall(valid, what: o.valid ?? "the held-out validation pairs")
        return TrainingPairs(graph: graph, train: train, valid: valid, graphEdges: graphPairs.count, source: source,
                             negativesSampled: o.train == nil,
                             priorPairs: priorPairs.map { (regulator: $0.0, target: $0.1) })
    }

    /// Below these counts a validation AUROC is too noisy to select a model by (its standard error
    /// is about 0.05 or more), so graphify says so.
    static let smallSet = (pairs: 100, perClass: 20)

    /// Warns when a validation set is too small to select a model by.
    static func warnIfSmall(_ pairs: LabelledPairs, what: String) {
        let p = pairs.positives, n = pairs.count - pairs.positives
        if pairs.count < smallSet.pairs || p < smallSet.perClass || n < smallSet.perClass {
            Diagnostics.warning("\(what): only \(pairs.count) validation pairs (\(p) positive, \(n) negative): "
                                + "the best epoch is chosen on a noisy AUROC; a larger --valid (or --valid-fraction) is steadier")
        }
    }

    static func key(_ a: Int32, _ b: Int32) -> Int { Int(a) << 32 | Int(b) }

    /// Reads a labelled pair file; an unlabelled file is an error (its negatives are unknown).
    static func labelled(_ path: String, _ lookup: GeneLookup, what: String) throws -> LabelledPairs {
        let table = try EdgeList.read(path, values: .labels)
        guard table.valueKind == .label else {
            throw ToolError.data(table.name, "\(what) needs labelled pairs: regulator<TAB>target<TAB>0|1")
        }
        var out = LabelledPairs()
        for e in try table.resolve(lookup, what: what) { out.append(e.regulator, e.target, Float(e.value!)) }
        return out
    }

    /// Holds out `fraction` of the positives and of the negatives (at least one of each when there
    /// are two or more), chosen by a seeded shuffle; both parts keep the input order.
    static func split(_ pairs: LabelledPairs, fraction: Double, rng: inout Xoshiro256) -> (LabelledPairs, LabelledPairs) {
        var trainIdx = [Int](), validIdx = [Int]()
        for label: Float in [1, 0] {
            let idx = (0..<pairs.count).filter { pairs.labels[$0] == label }
            let shuffled = rng.shuffled(idx)
            var n = Int((Double(idx.count) * fraction).rounded())
            if idx.count >= 2 { n = min(max(n, 1), idx.count - 1) } else { n = 0 }
            validIdx += shuffled[0..<n]
            trainIdx += shuffled[n...]
        }
        return (pairs.subset(trainIdx.sorted()), pairs.subset(validIdx.sorted()))
    }

    /// Up to `count` distinct pairs (regulator, gene), gene ≠ regulator, neither direction a prior edge.
    static func sampleNegatives(count: Int, regulators: [Int], genes: Int, prior: Set<Int>,
                                rng: inout Xoshiro256) -> [(Int, Int)] {
        guard !regulators.isEmpty, genes > 1 else { return [] }
        func allowed(_ r: Int, _ t: Int) -> Bool {
            r != t && !prior.contains(r << 32 | t) && !prior.contains(t << 32 | r)
        }
        let space = regulators.count * genes
        var out = [(Int, Int)]()
        if count * 2 >= space {
            // Dense: enumerate the allowed pairs and take a shuffled prefix.
            var candidates = [(Int, Int)]()
            for r in regulators { for t in 0..<genes where allowed(r, t) { candidates.append((r, t)) } }
            return Array(rng.shuffled(candidates).prefix(count))
        }
        var chosen = Set<Int>()
        var attempts = 0
        while out.count < count && attempts < 64 * count {
            attempts += 1
            let r = regulators[rng.int(below: regulators.count)], t = rng.int(below: genes)
            guard allowed(r, t), chosen.insert(r << 32 | t).inserted else { continue }
            out.append((r, t))
        }
        return out
    }
}

/// Which learned propensities a gene keeps in one role. A gene with a training pair in the role
/// keeps its own — with sampled negatives only one with a positive pair: how often a gene was
/// drawn as a negative is chance, so the genes that never were a positive share one value, the
/// mean of the learned values of those that were drawn (being outside the prior is what they have
/// in common). The others get 0.
struct PropensityRule {
    /// Genes that keep their own learned value.
    var own: [Bool]
    /// Genes with a training pair in the role (whose learned value means something).
    var seen: [Bool]
    /// Whether the genes without their own value share one (with sampled negatives) or get 0.
    var othersShare: Bool

    func apply(_ learned: [Float]) -> [Float] {
        var sum = 0.0, n = 0
        if othersShare {
            for i in learned.indices where !own[i] && seen[i] { sum += Double(learned[i]); n += 1 }
        }
        let shared = n > 0 ? Float(sum / Double(n)) : 0
        return learned.indices.map { own[$0] ? learned[$0] : shared }
    }
}
