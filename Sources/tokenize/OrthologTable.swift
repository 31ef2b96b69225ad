// OrthologTable: the mouse → human ortholog pairs that put mouse genes on a human vocabulary
// (`tokenize --species mouse`), and the mapping that uses them.
//
// The table (data/orthologs/mouse_human.tsv, or --orthologs FILE) has `#` comment lines, then the
// header `mouse<TAB>human<TAB>type`, then one pair per line. Mouse symbols are matched ignoring
// ASCII case (BEELINE upper-cases them); where two table symbols differ only by case, the one
// spelled exactly as the input's wins, else the first in file order.
//
// Mapping, deterministic and in three rounds (a vocabulary entry is fed by at most one gene):
//   1. a gene whose ortholog has its own name (ignoring case) takes it;
//   2. every other gene with orthologs takes the first of them (in table order: human symbols
//      in code-point order) that is in the vocabulary and not yet taken, genes in input order —
//      so one2many takes the first free partner and many2one gives the human gene to the first
//      mouse gene (input order);
//   3. genes absent from the table fall back to their own name, ignoring case.
// A gene whose orthologs are all outside the vocabulary or taken stays outside it (index −1):
// its name is not tried, as the table says its human counterpart is another gene.

import Foundation
import ToolKit

struct OrthologTable {
    /// Per upper-cased mouse symbol, the table's pairs for it, in file order.
    var pairs: [String: [(mouse: String, human: String)]] = [:]
    var count = 0

    /// Reads the table.
    /// - Throws: ToolError.badInput naming the file and line for a missing or wrong header,
    ///   a line without two symbols, or a table without pairs.
    static func read(path: String) throws -> OrthologTable {
        let reader = try ByteReader.open(path)
        var table = OrthologTable()
        var sawHeader = false
        while let line = try reader.nextLine() {
            if line.first == 0x23 || line.isEmpty { continue }  // '#'
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
                .map { f in f.withUnsafeBufferPointer(trimmedText) }
            if !sawHeader {
                guard fields.count >= 2, fields[0].lowercased() == "mouse", fields[1].lowercased() == "human" else {
                    throw ToolError.badInput(file: path, line: reader.lineNumber,
                                             message: "expected the header 'mouse<TAB>human<TAB>type' of an ortholog table")
                }
                sawHeader = true
                continue
            }
            guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw ToolError.badInput(file: path, line: reader.lineNumber, message: "expected 'mouse<TAB>human<TAB>type'")
            }
            table.pairs[VocabularyMap.asciiUppercased(fields[0]), default: []].append((fields[0], fields[1]))
            table.count += 1
        }
        if table.count == 0 { throw ToolError.data(path, "no ortholog pairs in the table") }
        return table
    }

    /// The human orthologs of a mouse symbol, in table order: those of the table symbol spelled
    /// exactly as `symbol`, else of the first that matches it ignoring case; nil if none does.
    func humanOrthologs(of symbol: String) -> [String]? {
        guard let rows = pairs[VocabularyMap.asciiUppercased(symbol)] else { return nil }
        let chosen = rows.contains { $0.mouse == symbol } ? symbol : rows[0].mouse
        return rows.filter { $0.mouse == chosen }.map(\.human)
    }
}

extension VocabularyMap {
    /// How mouse genes reached the vocabulary (for the report).
    struct SpeciesMapping {
        var byOrtholog = 0
        var byName = 0
        /// Genes in the table whose orthologs are all outside the vocabulary.
        var orthologsOutside = 0
        /// Genes in the table whose orthologs in the vocabulary were all taken by other genes.
        var orthologsTaken = 0
        /// Genes absent from the table (and not matched by name).
        var notInTable = 0
    }

    /// Maps mouse genes onto a human vocabulary through the ortholog table (see the file header).
    static func buildMouse(path: String, genes: GeneTable, orthologs: OrthologTable) throws -> (VocabularyMap, SpeciesMapping) {
        var map = try build(path: path, genes: GeneTable.unmapped(like: genes), matchCase: .exact)
        let vocab = map.vocabulary
        var exact: [String: Int32] = [:]
        var folded: [String: Int32] = [:]
        for i in vocab.indices.reversed() {
            exact[vocab[i]] = Int32(i)
            folded[asciiUppercased(vocab[i])] = Int32(i)
        }
        func lookup(_ s: String) -> Int32? { exact[s] ?? folded[asciiUppercased(s)] }

        let g = genes.genes.count
        map.index = [Int32](repeating: -1, count: g)
        var taken = [Bool](repeating: false, count: vocab.count)
        var stats = SpeciesMapping()
        let candidates: [[String]?] = (0..<g).map { genes.firstWithKey[$0] ? orthologs.humanOrthologs(of: genes.keys[$0]) : nil }
        // 1. An ortholog with the gene's own name.
        for i in 0..<g {
            guard let humans = candidates[i] else { continue }
            let name = asciiUppercased(genes.keys[i])
            for h in humans where asciiUppercased(h) == name {
                if let v = lookup(h), !taken[Int(v)] {
                    map.index[i] = v
                    taken[Int(v)] = true
                    stats.byOrtholog += 1
                    break
                }
            }
        }
        // 2. The first free ortholog in the vocabulary.
        for i in 0..<g where map.index[i] < 0 {
            guard let humans = candidates[i] else { continue }
            let inVocab = humans.compactMap(lookup)
            if let v = inVocab.first(where: { !taken[Int($0)] }) {
                map.index[i] = v
                taken[Int(v)] = true
                stats.byOrtholog += 1
            } else if inVocab.isEmpty {
                stats.orthologsOutside += 1
            } else {
                stats.orthologsTaken += 1
            }
        }
        // 3. Genes the table does not know: their own name, ignoring case.
        for i in 0..<g where map.index[i] < 0 && genes.firstWithKey[i] && candidates[i] == nil {
            if let v = lookup(genes.keys[i]), !taken[Int(v)] {
                map.index[i] = v
                taken[Int(v)] = true
                stats.byName += 1
            } else {
                stats.notInTable += 1
            }
        }
        map.caseInsensitiveMatches = 0
        map.inTotal = map.index.map { $0 >= 0 }
        return (map, stats)
    }
}

extension GeneTable {
    /// A table with the same number of genes and no key that can match (to read a vocabulary
    /// file without mapping anything).
    static func unmapped(like table: GeneTable) -> GeneTable {
        var t = GeneTable()
        t.genes = table.genes
        t.keys = table.keys
        t.firstWithKey = [Bool](repeating: false, count: table.genes.count)
        t.rowToGene = table.rowToGene
        return t
    }
}
