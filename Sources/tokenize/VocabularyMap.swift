// VocabularyMap: which dataset gene feeds which entry of the model vocabulary.
//
// A vocabulary file holds one symbol per line; its 0-based line number is the model's gene
// index. Matching is exact by default (as scanpy's column selection); with --match-case
// insensitive a gene also matches an entry that differs only in ASCII case (mouse `Xkr4`
// against human `XKR4`). A vocabulary entry is fed by at most one dataset gene: its exact
// match if there is one, else the first gene (in input order) that matches ignoring case.

import Foundation
import ToolKit

struct VocabularyMap {
    /// The vocabulary symbols (V), in file order; empty without --vocab.
    var vocabulary: [String] = []
    /// Per dataset gene (G), its vocabulary index or -1; empty without --vocab.
    var index: [Int32] = []
    /// Per dataset gene, whether its counts enter the cell total (all genes without --vocab).
    var inTotal: [Bool] = []
    /// Dataset genes matched only by ignoring case.
    var caseInsensitiveMatches = 0

    /// Dataset genes that map to a vocabulary entry.
    var mappedGenes: Int { index.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// No vocabulary: every gene counts towards the total.
    static func none(geneCount: Int) -> VocabularyMap {
        VocabularyMap(inTotal: [Bool](repeating: true, count: geneCount))
    }

    /// Reads a vocabulary file and maps the dataset genes onto it.
    static func build(path: String, genes: GeneTable, matchCase: MatchCase) throws -> VocabularyMap {
        let reader = try ByteReader.open(path)
        var vocab: [String] = []
        while let line = try reader.nextLine() {
            let symbol = trimmedText(line)
            if symbol.isEmpty {
                throw ToolError.badInput(file: path, line: reader.lineNumber, message: "empty vocabulary symbol")
            }
            vocab.append(symbol)
        }
        if vocab.isEmpty { throw ToolError.data(path, "the vocabulary is empty") }
        if vocab.count > Int(Int32.max) { throw ToolError.data(path, "the vocabulary is too large") }

        // Each symbol's first line: assigned from the last line up, so that the first one
        // assigned last (one hash per symbol rather than a lookup and an insertion).
        var exact: [String: Int32] = [:]
        exact.reserveCapacity(vocab.count)
        for i in vocab.indices.reversed() { exact[vocab[i]] = Int32(i) }
        if exact.count < vocab.count {
            // Each line is one model gene: a symbol on two lines would leave one of them unreachable.
            let dup = vocab.indices.first { exact[vocab[$0]] != Int32($0) }!
            throw ToolError.badInput(file: path, line: dup + 1, message: "gene '\(excerpt(vocab[dup]))' is also on line "
                + "\(exact[vocab[dup]]! + 1): a vocabulary names each gene once")
        }
        var folded: [String: Int32] = [:]
        if matchCase == .insensitive {
            folded.reserveCapacity(vocab.count)
            for i in vocab.indices.reversed() { folded[asciiUppercased(vocab[i])] = Int32(i) }
        }

        var map = VocabularyMap(vocabulary: vocab)
        map.index = [Int32](repeating: -1, count: genes.genes.count)
        var taken = [Bool](repeating: false, count: vocab.count)
        for g in 0..<genes.genes.count where genes.firstWithKey[g] {
            if let v = exact[genes.keys[g]], !taken[Int(v)] {
                map.index[g] = v
                taken[Int(v)] = true
            }
        }
        if matchCase == .insensitive {
            for g in 0..<genes.genes.count where genes.firstWithKey[g] && map.index[g] < 0 {
                if let v = folded[asciiUppercased(genes.keys[g])], !taken[Int(v)] {
                    map.index[g] = v
                    taken[Int(v)] = true
                    map.caseInsensitiveMatches += 1
                }
            }
        }
        map.inTotal = map.index.map { $0 >= 0 }
        return map
    }

    /// Upper-cases ASCII letters only, so matching never depends on the locale or Unicode rules.
    static func asciiUppercased(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) { return s }
        var bytes = Array(s.utf8)
        for i in 0..<bytes.count where bytes[i] >= 0x61 && bytes[i] <= 0x7A { bytes[i] -= 0x20 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The coverage lines for stderr.
    func report(path: String, genes: GeneTable, matchCase: MatchCase) {
        let mapped = mappedGenes
        let g = genes.genes.count
        let v = vocabulary.count
        let pct = { (a: Int, b: Int) in String(format: "%.1f%%", b == 0 ? 0 : 100 * Double(a) / Double(b)) }
        var line = "vocabulary \(path): \(mapped) of \(v) vocabulary genes present (\(pct(mapped, v))); "
            + "\(g - mapped) of \(g) input genes not in it (kept, normalised with the same total)"
        if caseInsensitiveMatches > 0 { line += "; \(caseInsensitiveMatches) matched ignoring case" }
        Diagnostics.note(line)
        if mapped == 0 {
            let hint = matchCase == .exact ? " (mouse symbols against a human vocabulary? try --match-case insensitive)" : ""
            Diagnostics.warning("no input gene is in the vocabulary \(path)\(hint); every cell total will be 0")
        } else if matchCase == .exact {
            var folded = Set<String>()
            for s in vocabulary { folded.insert(VocabularyMap.asciiUppercased(s)) }
            let nearMisses = (0..<g).filter { index[$0] < 0 && genes.firstWithKey[$0] && folded.contains(VocabularyMap.asciiUppercased(genes.keys[$0])) }.count
            if nearMisses > 0 {
                Diagnostics.note("\(nearMisses) more input genes would match ignoring case (--match-case insensitive)")
            }
        }
    }
}
