// --contrast: the per-regulator likeness term (of feature rows and of gene sets) against its
// definition computed pair by pair, its folding into the dot decoder, the choice of its weights on
// validation pairs, the gene-set file reader and the option's list syntax.

import Foundation
import Frames
import ToolKit
import XCTest
@testable import graphify

final class ContrastTests: XCTestCase {
    /// A reproducible stream of uniform numbers.
    struct Numbers {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// Training pairs over g genes: regulators 0..<r, each with a random subset of targets; the
    /// last regulator has positives only (so no term).
    func pairs(genes g: Int, regulators r: Int, _ rng: inout Numbers) -> LabelledPairs {
        var p = LabelledPairs()
        for i in 0..<r {
            for t in 0..<g where t != i && rng.next() < 0.5 {
                p.append(i, t, i == r - 1 ? 1 : (rng.next() < 0.4 ? 1 : 0))
            }
        }
        return p
    }

    /// z_r(t) from its definition: mean cosine with r's positive training targets minus with its
    /// negatives, standardised over all genes (Double, pair by pair).
    func reference(_ x: [Float], width k: Int, genes g: Int, train: LabelledPairs, regulator r: Int) -> [Double]? {
        func cosine(_ a: Int, _ b: Int) -> Double {
            var ab = 0.0, aa = 0.0, bb = 0.0
            for j in 0..<k {
                let u = Double(x[a * k + j]), v = Double(x[b * k + j])
                ab += u * v; aa += u * u; bb += v * v
            }
            return aa > 0 && bb > 0 ? ab / (aa.squareRoot() * bb.squareRoot()) : 0
        }
        let mine = (0..<train.count).filter { Int(train.regulators[$0]) == r }
        let pos = mine.filter { train.labels[$0] == 1 }.map { Int(train.targets[$0]) }
        let neg = mine.filter { train.labels[$0] == 0 }.map { Int(train.targets[$0]) }
        guard !pos.isEmpty && !neg.isEmpty else { return nil }
        let c = (0..<g).map { t in
            pos.reduce(0.0) { $0 + cosine(t, $1) } / Double(pos.count) - neg.reduce(0.0) { $0 + cosine(t, $1) } / Double(neg.count)
        }
        let m = c.reduce(0, +) / Double(g)
        let sd = (c.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(g)).squareRoot()
        return c.map { ($0 - m) / sd }
    }

    func testBlockMatchesTheDefinitionOverManyShapes() {
        var rng = Numbers(state: 7)
        for (g, k, r) in [(5, 1, 2), (9, 3, 4), (17, 8, 6), (40, 5, 12), (64, 33, 20), (150, 16, 140)] {
            var x = (0..<(g * k)).map { _ in Float(rng.next() * 2 - 1) }
            for j in 0..<k { x[(g - 1) * k + j] = 0 }          // a gene without features
            let train = pairs(genes: g, regulators: r, &rng)
            let block = ContrastBlock(name: "test", features: x, width: k, genes: g, train: train)
            var withTerm = 0
            for reg in 0..<r {
                guard let z = reference(x, width: k, genes: g, train: train, regulator: reg), k > 1 else {
                    if k > 1 { XCTAssertNil(block.rows[reg], "regulator \(reg) has no term (g \(g), k \(k))") }
                    continue
                }
                withTerm += 1
                XCTAssertNotNil(block.rows[reg])
                for t in 0..<g {
                    XCTAssertEqual(Double(block.value(regulator: reg, target: t)), z[t], accuracy: 2e-4 * max(1, abs(z[t])),
                                   "g \(g) k \(k) regulator \(reg) target \(t)")
                }
            }
            if k > 1 { XCTAssertEqual(block.regulators, withTerm) }
            XCTAssertEqual(block.value(regulator: r - 1, target: 0), 0, "positives only: no term")
            XCTAssertEqual(block.value(regulator: g - 1, target: 0), 0, "not a regulator: no term")
        }
    }

    /// With one feature every unit row is ±1 or 0: c_r takes at most three values and is still
    /// standardised; a regulator whose c_r is constant over the genes has no term.
    func testConstantTermsAreDropped() {
        let g = 6
        let x: [Float] = [1, 1, 1, 1, 1, 1]
        var train = LabelledPairs()
        train.append(0, 1, 1); train.append(0, 2, 0)
        let block = ContrastBlock(name: "flat", features: x, width: 1, genes: g, train: train)
        XCTAssertEqual(block.regulators, 0)
        XCTAssertEqual(block.value(regulator: 0, target: 3), 0)
    }

    func randomModel(genes g: Int, width d: Int, biases: Bool, _ rng: inout Numbers) -> RegulationModel {
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.next() * 2 - 1) } }
        return RegulationModel(geneCount: g, width: d, regulator: values(g * d), target: values(g * d), decoder: .dot,
                               regulatorBias: biases ? values(g) : nil, targetBias: biases ? values(g) : nil)
    }

    func testFoldingAddsTheWeightedTermToEveryPair() {
        var rng = Numbers(state: 11)
        let g = 30, d = 4
        let train = pairs(genes: g, regulators: 8, &rng)
        let a = ContrastBlock(name: "a", features: (0..<(g * 5)).map { _ in Float(rng.next() - 0.5) }, width: 5, genes: g, train: train)
        // b is wider than its regulators with a term: it folds as one column per regulator.
        let b = ContrastBlock(name: "b", features: (0..<(g * 12)).map { _ in Float(rng.next() - 0.5) }, width: 12, genes: g, train: train)
        XCTAssertEqual(a.foldedWidth, 5)
        XCTAssertEqual(b.foldedWidth, b.regulators)
        XCTAssertLessThan(b.regulators, 12)
        var all = LabelledPairs()
        for i in 0..<g { for j in 0..<g { all.append(i, j, 0) } }
        for biases in [true, false] {
            let model = randomModel(genes: g, width: d, biases: biases, &rng)
            let base = ContrastChoice.logits(model, pairs: all)
            for weights: [Float] in [[0.5, 0], [0, 2], [1.5, 0.3]] {
                let choice = ContrastChoice(weights: weights, logitScale: 1.7, base: (0, 0, 0), chosen: (0, 0, 0))
                let folded = choice.fold(model, blocks: [a, b])
                XCTAssertEqual(folded.width, d + (weights[0] != 0 ? 5 : 0) + (weights[1] != 0 ? b.regulators : 0), "only used blocks widen it")
                let got = ContrastChoice.logits(folded, pairs: all)
                for p in 0..<all.count {
                    let i = Int(all.regulators[p]), j = Int(all.targets[p])
                    let want = base[p] + 1.7 * (weights[0] * a.value(regulator: i, target: j) + weights[1] * b.value(regulator: i, target: j))
                    XCTAssertEqual(got[p], want, accuracy: 1e-4 * max(1, abs(want)), "pair \(i) \(j), weights \(weights)")
                }
            }
            let none = ContrastChoice(weights: [0, 0], logitScale: 1, base: (0, 0, 0), chosen: (0, 0, 0)).fold(model, blocks: [a, b])
            XCTAssertEqual(none.regulator, model.regulator)
            XCTAssertEqual(none.width, d)
        }
    }

    /// Labels that follow the features within each regulator, and logits that know only the
    /// regulators' positive rates: the term is chosen and lifts per-regulator AUROC without
    /// giving up pooled AUROC. Logits that already rank perfectly keep every weight at 0.
    func testWeightsAreChosenOnValidationPairs() {
        var rng = Numbers(state: 5)
        let g = 80, k = 6, regulators = 10
        let x = (0..<(g * k)).map { _ in Float(rng.next() * 2 - 1) }
        let direction = (0..<regulators).map { _ in (0..<k).map { _ in Float(rng.next() * 2 - 1) } }
        func label(_ r: Int, _ t: Int) -> Float {
            let v = (0..<k).reduce(Float(0)) { $0 + x[t * k + $1] * direction[r][$1] }
            return v + Float(rng.next() - 0.5) > Float(r % 3) * 0.3 ? 1 : 0
        }
        var train = LabelledPairs(), valid = LabelledPairs()
        for r in 0..<regulators {
            for t in regulators..<g {
                if t % 4 == 0 { valid.append(r, t, label(r, t)) } else { train.append(r, t, label(r, t)) }
            }
        }
        let block = ContrastBlock(name: "x", features: x, width: k, genes: g, train: train)
        var rate = [Float](repeating: 0, count: regulators)
        for p in 0..<train.count { rate[Int(train.regulators[p])] += train.labels[p] }
        let propensity = (0..<valid.count).map { rate[Int(valid.regulators[$0])] / 50 + Float(rng.next()) * 0.01 }
        let choice = ContrastChoice.choose(blocks: [block], logits: propensity, valid: valid)
        XCTAssertGreaterThan(choice.weights[0], 0)
        XCTAssertGreaterThan(choice.chosen.perRegulator, choice.base.perRegulator + 0.1)
        XCTAssertGreaterThanOrEqual(choice.chosen.auroc, choice.base.auroc - ContrastChoice.pooledTolerance)

        let perfect = (0..<valid.count).map { valid.labels[$0] * 10 + Float(rng.next()) }
        let none = ContrastChoice.choose(blocks: [block], logits: perfect, valid: valid)
        XCTAssertEqual(none.weights, [0])
        XCTAssertEqual(none.chosen.perRegulator, 1)
    }

    /// z_r(t) of gene sets from its definition: the Jaccard index of t's sets with each of r's
    /// positive and negative training targets' sets, as Swift sets, standardised over all genes.
    func setReference(_ members: [[Int32]], train: LabelledPairs, regulator r: Int) -> [Double]? {
        func jaccard(_ a: Int, _ b: Int) -> Double {
            let x = Set(members[a]), y = Set(members[b])
            return x.union(y).isEmpty ? 0 : Double(x.intersection(y).count) / Double(x.union(y).count)
        }
        let mine = (0..<train.count).filter { Int(train.regulators[$0]) == r }
        let pos = mine.filter { train.labels[$0] == 1 }.map { Int(train.targets[$0]) }
        let neg = mine.filter { train.labels[$0] == 0 }.map { Int(train.targets[$0]) }
        guard !pos.isEmpty && !neg.isEmpty else { return nil }
        let c = (0..<members.count).map { t in
            pos.reduce(0.0) { $0 + jaccard(t, $1) } / Double(pos.count) - neg.reduce(0.0) { $0 + jaccard(t, $1) } / Double(neg.count)
        }
        let m = c.reduce(0, +) / Double(c.count)
        let sd = (c.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(c.count)).squareRoot()
        return sd * sd > 1e-12 ? c.map { ($0 - m) / sd } : nil
    }

    func testGeneSetBlockMatchesTheDefinitionOverManyShapes() {
        var rng = Numbers(state: 13)
        for (g, sets, r, density) in [(6, 2, 3, 0.6), (9, 3, 4, 0.5), (25, 40, 6, 0.1), (60, 12, 15, 0.3), (120, 300, 30, 0.05)] {
            // Each gene in each set with probability `density`; the last gene in none.
            let members = (0..<g).map { t in (0..<sets).filter { _ in t < g - 1 && rng.next() < density }.map(Int32.init) }
            let train = pairs(genes: g, regulators: r, &rng)
            let block = ContrastBlock(name: "sets", sets: GeneSets(members: members, count: sets), genes: g, train: train)
            XCTAssertNil(block.linear)
            XCTAssertEqual(block.foldedWidth, block.regulators)
            var withTerm = 0
            for reg in 0..<r {
                guard let z = setReference(members, train: train, regulator: reg) else {
                    XCTAssertNil(block.rows[reg], "regulator \(reg) has no term (g \(g), \(sets) sets)")
                    continue
                }
                withTerm += 1
                for t in 0..<g {
                    XCTAssertEqual(Double(block.value(regulator: reg, target: t)), z[t], accuracy: 2e-4 * max(1, abs(z[t])),
                                   "g \(g) sets \(sets) regulator \(reg) target \(t)")
                }
            }
            XCTAssertEqual(block.regulators, withTerm)
            XCTAssertGreaterThan(withTerm, 0, "g \(g): some regulator has a term")
        }
    }

    func testGeneSetBlockFoldsAsOneColumnPerRegulator() {
        var rng = Numbers(state: 17)
        let g = 24, d = 3
        let members = (0..<g).map { _ in (0..<10).filter { _ in rng.next() < 0.3 }.map(Int32.init) }
        let train = pairs(genes: g, regulators: 6, &rng)
        let block = ContrastBlock(name: "sets", sets: GeneSets(members: members, count: 10), genes: g, train: train)
        var all = LabelledPairs()
        for i in 0..<g { for j in 0..<g { all.append(i, j, 0) } }
        let model = randomModel(genes: g, width: d, biases: true, &rng)
        let base = ContrastChoice.logits(model, pairs: all)
        let folded = ContrastChoice(weights: [0.7], logitScale: 1.3, base: (0, 0, 0), chosen: (0, 0, 0)).fold(model, blocks: [block])
        XCTAssertEqual(folded.width, d + block.regulators)
        let got = ContrastChoice.logits(folded, pairs: all)
        for p in 0..<all.count {
            let want = base[p] + 1.3 * 0.7 * block.value(regulator: Int(all.regulators[p]), target: Int(all.targets[p]))
            XCTAssertEqual(got[p], want, accuracy: 1e-4 * max(1, abs(want)), "pair \(p)")
        }
    }

    /// GMT lines: sets matched ignoring case, repeated symbols once, mouse genes through their human
    /// orthologs; a line without a description field and a file naming no dataset gene are errors.
    func testGeneSetFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scgrn-genesets-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.gmt").path
        try "# comment\nA\tfirst\tGATA1\tSPI1\tgata1\n\nB\t\tCEBPA\nC\tthird\tHUMANONLY\tSPI1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let genes = ["Gata1", "Spi1", "Cebpa", "Mouseonly", "Other"]
        let direct = try GeneSets.read(path, genes: genes)
        XCTAssertEqual(direct.count, 3)
        XCTAssertEqual(direct.members, [[0], [0, 2], [1], [], []])
        XCTAssertEqual(direct.found, 3)
        let viaOrthologs = try GeneSets.read(path, genes: genes, orthologs: [("MOUSEONLY", "HUMANONLY"), ("GATA1", "GATA1")])
        XCTAssertEqual(viaOrthologs.members, [[0], [0, 2], [1], [2], []])

        try "A\tfirst\tGATA1\nno description here\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GeneSets.read(path, genes: genes)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 65)
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
        try "A\tfirst\tTP53\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GeneSets.read(path, genes: genes)) { error in
            XCTAssertTrue("\(error)".contains("name none of the 5 dataset genes"), "\(error)")
        }
        // The default's bundled sources are not required: no match is no term, not an error.
        XCTAssertEqual(try GeneSets.read(path, genes: genes, required: false).found, 0)
        let table = dir.appendingPathComponent("t.txt").path
        try "TP53 0.5 1\n".write(toFile: table, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GeneFeatures.read(table, genes: genes))
        XCTAssertEqual(try GeneFeatures.read(table, genes: genes, required: false).found, 0)
    }

    func testListSyntax() throws {
        XCTAssertEqual(try ContrastSource.parse("none"), [])
        XCTAssertEqual(try ContrastSource.parse("expression,knowledge"), [.expression, .knowledge])
        XCTAssertEqual(try ContrastSource.parse("t.txt"), [.table(path: "t.txt")])
        XCTAssertEqual(try ContrastSource.parse("go,h.all.GMT,s.gmt.gz"), [.go, .geneSets(path: "h.all.GMT"), .geneSets(path: "s.gmt.gz")])
        for bad in ["", "expression,", "expression,expression", "none,expression", "-"] {
            XCTAssertThrowsError(try ContrastSource.parse(bad), "'\(bad)'")
        }
    }
}
