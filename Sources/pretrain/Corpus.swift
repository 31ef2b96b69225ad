// Corpus: the training cells of pretrain, read from one or more CELL streams into dense token
// rows over the model's vocabulary, with the held-out split and the two baselines.
//
// Each cell becomes one sequence of L = V + 1 tokens: vocabulary gene i at position i (0 when the
// cell does not express it or the dataset lacks it), then scBERT's appended token 0. Several
// input streams may come from different datasets (different gene lists) as long as they were
// tokenized with the same vocabulary and bins. The corpus is held in memory: L bytes per cell
// (plus 4·L for the values with --objective mse).

import Foundation
import Frames
import Kernels
import ToolKit

struct Corpus {
    let vocabulary: [String]
    let bins: Int
    /// V + 1 positions per cell.
    let length: Int
    /// [cells, L] tokens, 0…bins.
    var tokens: [UInt8] = []
    /// [cells, L] normalised values (only with `values`), 0 where the token row has no entry.
    var values: [Float] = []
    var barcodes: [String] = []
    /// The number of cells each input gave, in input order.
    var cellsPerInput: [Int] = []
    var count: Int { barcodes.count }

    /// Reads every input (each "-" or a file) in order.
    /// - Throws: exit 65 for a stream without tokens or vocabulary, or inputs that disagree.
    static func read(_ inputs: [String], withValues: Bool) throws -> Corpus {
        var corpus: Corpus?
        for input in inputs {
            let stream = try StreamReader(path: input)
            let head = stream.header
            guard head.content == .cell else {
                throw ToolError.data(stream.name, "not a CELL stream (it holds \(head.content) frames): pretrain reads tokenize's output")
            }
            guard !head.vocabulary.isEmpty else {
                throw ToolError.data(stream.name, "the stream carries no model vocabulary: tokenize it with --vocab GENES (the model's gene list)")
            }
            let bins = Int(head.metadata("bins") ?? "5") ?? 5
            guard bins >= 1 && bins <= 253 else { throw ToolError.data(stream.name, "bins \(bins) outside 1…253") }
            if corpus == nil {
                corpus = Corpus(vocabulary: head.vocabulary, bins: bins, length: head.vocabulary.count + 1)
            }
            guard head.vocabulary == corpus!.vocabulary else {
                throw ToolError.data(stream.name, "its vocabulary (\(head.vocabulary.count) genes) differs from the first input's "
                                     + "(\(corpus!.vocabulary.count)): tokenize every input with the same --vocab")
            }
            guard bins == corpus!.bins else {
                throw ToolError.data(stream.name, "tokenized with \(bins) bins, the first input with \(corpus!.bins)")
            }
            let index = head.vocabularyIndex
            let l = corpus!.length
            let before = corpus!.count
            while let frame = try stream.next() {
                guard case .cells(let flags, let cells) = frame else {
                    throw ToolError.data(stream.name, "expected CELL frames (from tokenize), found another kind of data frame")
                }
                guard flags.contains(.tokens) else {
                    throw ToolError.data(stream.name, "CELL frames without tokens: pretrain needs tokenize's binned tokens")
                }
                for cell in cells {
                    var row = [UInt8](repeating: 0, count: l)
                    var vals = withValues ? [Float](repeating: 0, count: l) : []
                    for (i, g) in cell.genes.enumerated() {
                        let v = index[Int(g)]
                        if v < 0 { continue }
                        let t = cell.tokens[i]
                        guard Int(t) <= bins else {
                            throw ToolError.data(stream.name, "cell \(excerpt(cell.barcode)): token \(t) exceeds the stream's \(bins) bins")
                        }
                        row[Int(v)] = t
                        if withValues { vals[Int(v)] = cell.values[i] }
                    }
                    corpus!.tokens += row
                    if withValues { corpus!.values += vals }
                    corpus!.barcodes.append(cell.barcode)
                }
            }
            corpus!.cellsPerInput.append(corpus!.count - before)
        }
        return corpus!
    }

    /// The token row of cell c.
    @inline(__always)
    func row(_ c: Int) -> ArraySlice<UInt8> { tokens[(c * length)..<((c + 1) * length)] }

    /// The crc32 of the vocabulary written one symbol per line (the crc32 of its genes.txt).
    var vocabularyCRC: UInt32 {
        let text = Array(vocabulary.map { $0 + "\n" }.joined().utf8)
        return text.withUnsafeBytes { crc32($0) }
    }
}

/// The held-out split: a seeded shuffle of all cells, the first ⌈f·n⌉ held out (or whole datasets).
struct Split {
    let train: [Int], holdout: [Int]

    init(cells n: Int, fraction f: Double, seed: UInt64) {
        var rng = Xoshiro256(seed: Seeds.derive(seed, .split, 0))
        let order = rng.shuffled(Array(0..<n))
        let held = f > 0 ? min(n - 1, max(1, Int((Double(n) * f).rounded(.up)))) : 0
        holdout = order[0..<max(held, 0)].sorted()
        train = order[max(held, 0)...].sorted()
    }

    /// Whole datasets held out (--heldout): the first n cells train, the m after them are held out.
    init(trainingCells n: Int, heldOut m: Int) {
        train = Array(0..<n)
        holdout = Array(n..<(n + m))
    }
}

/// The two baselines a masked-token predictor must beat, from the training cells' nonzero tokens.
struct Baselines {
    /// The most frequent nonzero token overall.
    let global: UInt8
    /// Per position, its most frequent nonzero token (the global one where a gene never occurs).
    let perGene: [UInt8]
    /// Per position, the mean nonzero value (mse objective), 0 where none.
    let meanValue: [Float]

    init(_ corpus: Corpus, cells: [Int]) {
        let l = corpus.length, k = corpus.bins + 1
        var counts = [Int](repeating: 0, count: l * k)
        var total = [Int](repeating: 0, count: k)
        var sums = [Double](repeating: 0, count: corpus.values.isEmpty ? 0 : l)
        var ns = [Int](repeating: 0, count: l)
        for c in cells {
            let base = c * l
            for p in 0..<l {
                let t = Int(corpus.tokens[base + p])
                if t == 0 { continue }
                counts[p * k + t] += 1
                total[t] += 1
                ns[p] += 1
                if !sums.isEmpty { sums[p] += Double(corpus.values[base + p]) }
            }
        }
        func argmax(_ xs: ArraySlice<Int>) -> UInt8? {   // ties → the smaller token
            var best = -1, arg = 0
            for (i, x) in xs.enumerated() where i > 0 && x > best { best = x; arg = i }
            return best > 0 ? UInt8(arg) : nil
        }
        let g = argmax(total[...]) ?? 1
        global = g
        perGene = (0..<l).map { p in argmax(counts[(p * k)..<((p + 1) * k)]) ?? g }
        meanValue = sums.isEmpty ? [] : (0..<l).map { ns[$0] > 0 ? Float(sums[$0] / Double(ns[$0])) : 0 }
    }
}

/// Named streams of random numbers, each a pure function of (seed, purpose, index), so a resumed
/// run draws exactly what an uninterrupted one would: the RNG state of step s is (seed, s).
enum Seeds {
    enum Purpose: UInt64 { case initialise = 1, split, epoch, mask, evaluation, zeros, evaluationZeros }

    static func derive(_ seed: UInt64, _ purpose: Purpose, _ i: Int) -> UInt64 {
        var z = seed ^ (purpose.rawValue &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(i) &* 0xD1B5_4A32_D192_ED03)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
