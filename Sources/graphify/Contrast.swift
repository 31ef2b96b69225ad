// Contrast: `--contrast`, a term added to graphify's logit that rates a target by how much more it
// resembles the regulator's training targets than the regulator's training non-targets — in
// expression, in a gene table such as the bundled Gene Ontology + PROGENy one, or in the gene sets
// it shares with them (the bundled Gene Ontology sets, GeneSets.swift). It is what the
// expression-kNN and GO baselines of bench/baselines.py measure, and it reaches the genes the
// network rates alike: a gene outside the prior, or with no labelled pair.
//
// For one source (a [G, K] feature block, each gene's row scaled to unit length u_g, so that
// u_a · u_b is a cosine similarity — on z-scored profiles, the Pearson correlation):
//     π_r = mean_{p ∈ P_r} u_p − mean_{n ∈ N_r} u_n        (P_r, N_r: r's positive and negative training targets)
//     c_r(t) = u_t · π_r,   z_r(t) = (c_r(t) − m_r) / s_r   (m_r, s_r: mean and std of c_r over all G genes)
// A regulator without both a positive and a negative training pair, or whose c_r is constant, has
// no term. The pair's logit becomes
//     logit(r, t) + σ Σ_b w_b z_{b,r}(t)        (σ: the std of the model's validation logits)
// z_r is centred within each regulator, so the term reorders a regulator's targets and leaves the
// regulators' standing against one another (their propensities) alone. The weights w_b come from
// `grid` on the validation pairs: the best per-regulator AUROC among the weights that keep pooled
// validation AUROC within `pooledTolerance` of the model's own (all 0 when none does better). Test
// pairs are never read.
//
// The term is linear in u_t, so it is folded into the dot decoder the MODEL contract already has:
// each used block appends K columns, w σ π_r / s_r to the regulator representation and u_t to the
// target's, and −w σ m_r / s_r joins the regulator's propensity. When fewer than K regulators have
// a term (K is the number of cells for exact profiles), it appends R columns instead: c_{r'}(t) for
// each of them to the target's, and w σ / s_r at r's own column to the regulator's. score needs
// nothing new.
//
// Gene sets have no per-gene rows: c_r(t) is the mean Jaccard index of t's sets with those of r's
// positive training targets minus that with its negatives', standardised and weighted as above,
// and folded as R columns.

import ArgumentParser
import Foundation
import Frames
import Metrics
import ToolKit

/// One source of `--contrast`, as named on the command line.
enum ContrastSource: Equatable {
    /// The expression profiles graphify builds from the CELL frames.
    case expression
    /// The bundled Gene Ontology + PROGENy table, `knowledgeTable`.
    case knowledge
    /// The bundled Gene Ontology biological-process sets, `goSets`.
    case go
    /// A gene table file (gene2vec's text format).
    case table(path: String)
    /// A gene-set file (GMT: a name ending in .gmt or .gmt.gz).
    case geneSets(path: String)

    /// The bundled table `knowledge` names (models/knowledge/README.md).
    static let knowledgeTable = "models/knowledge/gene_table_64.txt.gz"
    /// The bundled sets `go` names (models/knowledge/README.md).
    static let goSets = "models/knowledge/go_bp.gmt.gz"

    /// What messages and the MODEL metadata call it: expression, knowledge, go, or the path as given.
    var name: String {
        switch self {
        case .expression: return "expression"
        case .knowledge: return "knowledge"
        case .go: return "go"
        case .table(let path), .geneSets(let path): return path
        }
    }

    /// The file a table or gene-set source names (nil for the profiles and the bundled files).
    var file: String? {
        switch self {
        case .table(let path), .geneSets(let path): return path
        default: return nil
        }
    }

    /// The file a table or gene-set source reads — the one named, or the bundled one found — and
    /// how notes name it.
    func locate() throws -> (path: String, label: String) {
        switch self {
        case .table(let path), .geneSets(let path): return (path, path)
        case .knowledge: return (try BundledData.require(Self.knowledgeTable, what: "the bundled knowledge table"), "knowledge (\(Self.knowledgeTable))")
        case .go: return (try BundledData.require(Self.goSets, what: "the bundled Gene Ontology sets"), "go (\(Self.goSets))")
        case .expression: preconditionFailure("ContrastSource: the expression profiles are no file")
        }
    }

    /// "none", or a comma-separated list of expression, knowledge, go, table files and gene-set files.
    /// - Throws: ValidationError for an empty item or one named twice.
    static func parse(_ list: String) throws -> [ContrastSource] {
        if list == "none" { return [] }
        var out = [ContrastSource]()
        for item in list.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let source: ContrastSource
            switch item {
            case "": throw ValidationError("--contrast: an empty item in '\(list)'")
            case "none": throw ValidationError("--contrast: 'none' cannot be combined with other sources")
            case "expression": source = .expression
            case "knowledge": source = .knowledge
            case "go": source = .go
            case "-": throw ValidationError("--contrast: a table must be a file (standard input is the stream's)")
            default:
                let lower = item.lowercased()
                source = lower.hasSuffix(".gmt") || lower.hasSuffix(".gmt.gz") ? .geneSets(path: item) : .table(path: item)
            }
            guard !out.contains(source) else { throw ValidationError("--contrast: '\(item)' is named twice") }
            out.append(source)
        }
        return out
    }
}

/// One source's term, for the genes of a run and its training pairs.
struct ContrastBlock {
    var name: String
    /// G.
    var genes: Int
    /// A feature source's linear form: K, the unit rows u_g [G, K] (zero rows for genes without
    /// features) and π_r [R, K] of each regulator with a term. nil for gene sets.
    var linear: (width: Int, unit: [Float], prototype: [Float])?
    /// c_r(t) [R, G] of each regulator with a term, and its row, m_r and 1 / s_r.
    var raw: [Float] = []
    var rows: [Int: Int] = [:]
    var mean: [Float] = []
    var inverseScale: [Float] = []

    var regulators: Int { rows.count }

    /// The columns the block adds to the dot decoder: K (u_t beside π_r) when a feature source has
    /// fewer columns than regulators with a term, else R (c_r(t) for each of them beside a scaled
    /// one-hot): the same logits.
    var foldedWidth: Int { linear.map { min($0.width, regulators) } ?? regulators }

    /// A feature source. - Parameters: features [G, K] row-major; the training pairs.
    init(name: String, features: [Float], width k: Int, genes g: Int, train: LabelledPairs) {
        precondition(features.count == g * k, "ContrastBlock: features are not [\(g), \(k)]")
        self.name = name
        genes = g
        let unit = Self.unitRows(features, width: k)
        // π_r and c_r over all genes (plain loops: the same bits for any thread count).
        var prototype = [Float]()
        for (r, positive, negative) in Self.trainingTargets(train) {
            var sums = [Double](repeating: 0, count: 2 * k)
            for t in positive { for x in 0..<k { sums[x] += Double(unit[t * k + x]) } }
            for t in negative { for x in 0..<k { sums[k + x] += Double(unit[t * k + x]) } }
            let p = (0..<k).map { Float(sums[$0] / Double(positive.count) - sums[k + $0] / Double(negative.count)) }
            if keep(r, (0..<g).map { Self.dot(unit, $0 * k, p, 0, width: k) }) { prototype += p }
        }
        linear = (k, unit, prototype)
    }

    /// Gene sets: c_r(t) = mean_{p ∈ P_r} J(t, p) − mean_{n ∈ N_r} J(t, n), J the Jaccard index of
    /// two genes' sets (0 when neither is in a set). Not linear in any per-gene vector, so it folds
    /// as R columns.
    init(name: String, sets: GeneSets, genes g: Int, train: LabelledPairs) {
        precondition(sets.members.count == g, "ContrastBlock: gene sets for \(sets.members.count) genes, not \(g)")
        self.name = name
        genes = g
        let targets = Self.trainingTargets(train)
        // The training targets J is needed for, numbered as slots, and the slots holding each set.
        var slot = [Int](repeating: -1, count: g), slotGene = [Int]()
        let lists = targets.map { entry -> (positive: [Int], negative: [Int]) in
            func slots(_ genes: [Int]) -> [Int] {
                genes.map { t in
                    if slot[t] < 0 { slot[t] = slotGene.count; slotGene.append(t) }
                    return slot[t]
                }
            }
            return (slots(entry.positive), slots(entry.negative))
        }
        var holders = [[Int32]](repeating: [], count: sets.count)
        for (s, t) in slotGene.enumerated() { for set in sets.members[t] { holders[Int(set)].append(Int32(s)) } }
        let sizes = slotGene.map { sets.members[$0].count }
        var c = [Float](repeating: 0, count: targets.count * g)
        var shared = [Int32](repeating: 0, count: slotGene.count), jaccard = [Double](repeating: 0, count: slotGene.count)
        for t in 0..<g {
            for s in shared.indices { shared[s] = 0 }
            for set in sets.members[t] { for s in holders[Int(set)] { shared[Int(s)] += 1 } }
            let a = sets.members[t].count
            for s in shared.indices {
                let both = Int(shared[s]), union = a + sizes[s] - both
                jaccard[s] = union > 0 ? Double(both) / Double(union) : 0
            }
            for (j, list) in lists.enumerated() {
                var p = 0.0, n = 0.0
                for s in list.positive { p += jaccard[s] }
                for s in list.negative { n += jaccard[s] }
                c[j * g + t] = Float(p / Double(list.positive.count) - n / Double(list.negative.count))
            }
        }
        for (j, entry) in targets.enumerated() { _ = keep(entry.regulator, Array(c[(j * g)..<((j + 1) * g)])) }
    }

    /// Each regulator with both positive and negative training pairs, in increasing order, with its
    /// positive and negative targets in the pairs' order.
    static func trainingTargets(_ train: LabelledPairs) -> [(regulator: Int, positive: [Int], negative: [Int])] {
        var targets = [Int: (positive: [Int], negative: [Int])]()
        for p in 0..<train.count {
            let r = Int(train.regulators[p]), t = Int(train.targets[p])
            if train.labels[p] == 1 { targets[r, default: ([], [])].positive.append(t) } else { targets[r, default: ([], [])].negative.append(t) }
        }
        return targets.keys.sorted().compactMap { r in
            let (positive, negative) = targets[r]!
            return positive.isEmpty || negative.isEmpty ? nil : (r, positive, negative)
        }
    }

    /// Records c_r over all genes as r's term, with its mean m_r and 1 / s_r; false (no term) when
    /// it is constant.
    private mutating func keep(_ r: Int, _ c: [Float]) -> Bool {
        var s = 0.0, s2 = 0.0
        for v in c { s += Double(v); s2 += Double(v) * Double(v) }
        let m = s / Double(genes), variance = max(s2 / Double(genes) - m * m, 0)
        guard variance > 1e-12 else { return false }
        rows[r] = mean.count
        raw += c
        mean.append(Float(m))
        inverseScale.append(Float(1 / variance.squareRoot()))
        return true
    }

    /// Σ_x a[i + x] · b[j + x] over k elements, in four interleaved partial sums: a fixed order, so
    /// the same bits on every run, and 2.4× faster than one running sum (BENCHMARKS.md, PBMC).
    @inline(__always)
    static func dot(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int, width k: Int) -> Float {
        precondition(i >= 0 && j >= 0 && i + k <= a.count && j + k <= b.count, "dot: out of range")
        if k == 0 { return 0 }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let x = pa.baseAddress! + i, y = pb.baseAddress! + j
                var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                var n = 0
                while n + 4 <= k {
                    s0 += x[n] * y[n]; s1 += x[n + 1] * y[n + 1]; s2 += x[n + 2] * y[n + 2]; s3 += x[n + 3] * y[n + 3]
                    n += 4
                }
                while n < k { s0 += x[n] * y[n]; n += 1 }
                return (s0 + s1) + (s2 + s3)
            }
        }
    }

    /// z_r(t), or 0 when r has no term.
    func value(regulator r: Int, target t: Int) -> Float {
        guard let row = rows[r] else { return 0 }
        return (raw[row * genes + t] - mean[row]) * inverseScale[row]
    }

    /// Each row of `x` [_, k] divided by its Euclidean length; zero rows stay zero.
    static func unitRows(_ x: [Float], width k: Int) -> [Float] {
        var out = x
        for i in 0..<(k == 0 ? 0 : x.count / k) {
            var s = 0.0
            for j in 0..<k { s += Double(x[i * k + j]) * Double(x[i * k + j]) }
            guard s > 0 else { continue }
            let inv = Float(1 / s.squareRoot())
            for j in 0..<k { out[i * k + j] *= inv }
        }
        return out
    }
}

/// The weights chosen for the blocks, and the validation figures before and after.
struct ContrastChoice {
    /// The weight grid each block's w comes from.
    static let grid: [Float] = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 8]
    /// How much pooled validation AUROC the term may cost.
    static let pooledTolerance = 0.005

    var weights: [Float]
    /// σ: the std of the model's validation logits.
    var logitScale: Float
    var base: (auroc: Double, auprc: Double, perRegulator: Double)
    var chosen: (auroc: Double, auprc: Double, perRegulator: Double)

    /// Chooses w on the validation pairs, given the model's logits of them.
    static func choose(blocks: [ContrastBlock], logits: [Float], valid: LabelledPairs) -> ContrastChoice {
        let n = logits.count
        let mean = logits.reduce(0.0) { $0 + Double($1) } / Double(max(n, 1))
        let variance = logits.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(n, 1))
        let sigma = Float(variance.squareRoot())
        let terms = blocks.map { b in (0..<n).map { b.value(regulator: Int(valid.regulators[$0]), target: Int(valid.targets[$0])) } }
        func scores(_ w: [Float]) -> [Float] {
            var s = logits
            for (b, wb) in w.enumerated() where wb != 0 {
                for i in 0..<n { s[i] += sigma * wb * terms[b][i] }
            }
            return s
        }
        func figures(_ w: [Float]) -> (auroc: Double, auprc: Double, perRegulator: Double) {
            let (ranking, grouped) = Trainer.rank(scores(w), pairs: valid)
            return (ranking.auroc ?? 0.5, ranking.averagePrecision ?? 0, grouped.auroc ?? 0.5)
        }
        let zero = [Float](repeating: 0, count: blocks.count)
        let base = figures(zero)
        var best = (weights: zero, figures: base)
        // The grid's figures equal `figures`' to the bit (RepeatedRanking); the pooled AUROC is
        // only needed when the per-regulator one would win, and AUPRC only for the winner.
        var ranking = RepeatedRanking(labels: valid.labels.map { $0 == 1 }, groups: valid.regulators)
        // Every combination of grid values, the first block's weight varying slowest.
        var w = zero, digits = [Int](repeating: 0, count: blocks.count)
        while sigma > 0 && !blocks.isEmpty {
            var k = blocks.count - 1
            while k >= 0 && digits[k] == grid.count - 1 { digits[k] = 0; k -= 1 }
            if k < 0 { break }
            digits[k] += 1
            for b in blocks.indices { w[b] = grid[digits[b]] }
            let s = scores(w).map(Double.init)
            guard (ranking.groupedAUROC(s) ?? 0.5) > best.figures.perRegulator + 1e-9,
                  (ranking.auroc(s) ?? 0.5) >= base.auroc - pooledTolerance else { continue }
            best = (w, figures(w))
        }
        return ContrastChoice(weights: best.weights, logitScale: sigma, base: base, chosen: best.figures)
    }

    /// `model` with the chosen terms folded into its dot decoder (see the file header).
    func fold(_ model: RegulationModel, blocks: [ContrastBlock]) -> RegulationModel {
        precondition(model.decoder == .dot, "ContrastChoice: the contrast folds into a dot decoder")
        let used = blocks.indices.filter { weights[$0] != 0 }
        guard !used.isEmpty else { return model }
        let g = model.geneCount, d = model.width
        let width = d + used.reduce(0) { $0 + blocks[$1].foldedWidth }
        var regulator = [Float](), target = [Float]()
        regulator.reserveCapacity(g * width); target.reserveCapacity(g * width)
        var bias = model.regulatorBias ?? [Float](repeating: 0, count: g)
        for i in 0..<g {
            regulator += model.regulator[(i * d)..<((i + 1) * d)]
            target += model.target[(i * d)..<((i + 1) * d)]
            for b in used {
                let block = blocks[b], n = block.foldedWidth
                let linear = block.linear.flatMap { $0.width == n ? $0 : nil }
                var columns = [Float](repeating: 0, count: n)
                if let linear {
                    target += linear.unit[(i * n)..<((i + 1) * n)]
                } else {
                    target += (0..<n).map { block.raw[$0 * g + i] }
                }
                if let row = block.rows[i] {
                    let scale = weights[b] * logitScale * block.inverseScale[row]
                    if let linear {
                        for x in 0..<n { columns[x] = linear.prototype[row * n + x] * scale }
                    } else {
                        columns[row] = scale
                    }
                    bias[i] -= scale * block.mean[row]
                }
                regulator += columns
            }
        }
        return RegulationModel(geneCount: g, width: width, regulator: regulator, target: target, decoder: .dot,
                               regulatorBias: bias, targetBias: model.targetBias)
    }

    /// The MODEL's logit of each pair (dot decoder): regulator · target plus the propensities.
    static func logits(_ model: RegulationModel, pairs: LabelledPairs) -> [Float] {
        let d = model.width
        return (0..<pairs.count).map { p in
            let i = Int(pairs.regulators[p]), j = Int(pairs.targets[p])
            return ContrastBlock.dot(model.regulator, i * d, model.target, j * d, width: d)
                + (model.regulatorBias?[i] ?? 0) + (model.targetBias?[j] ?? 0)
        }
    }
}
