// GeneTable: the dataset genes — read from a 10x genes.tsv / features.tsv (or a plain list, or
// a dense table's names), filtered by feature type and made unique.
//
// Every kept input gene is a dataset gene: a node of the final network, in input order. A 10x
// v2 genes.tsv has `id<TAB>symbol`; a v3 features.tsv adds a feature type (`Gene Expression`,
// `Antibody Capture`, ...); a one-column file holds a name per line. Duplicate symbols are made
// unique as scanpy's make_unique does (`SYM`, `SYM-1`, `SYM-2`, ...), and only the first gene
// with a given matching key may map onto the vocabulary.

import Foundation
import ToolKit

struct GeneTable {
    /// The dataset genes (G), after the feature-type filter, with unique symbols.
    var genes: [GeneName] = []
    /// Per dataset gene, the name matched against the vocabulary (the original symbol or id).
    var keys: [String] = []
    /// Per dataset gene, whether it is the first with its key (later copies never map).
    var firstWithKey: [Bool] = []
    /// Per input row of the gene file (the matrix's gene axis), its dataset gene index or -1
    /// when the feature type filter dropped it.
    var rowToGene: [Int32] = []
    /// Input rows dropped by the feature-type filter.
    var droppedFeatures = 0
    /// Symbols that occurred more than once, with how many times.
    var duplicates: [(symbol: String, count: Int)] = []

    /// Reads a gene or feature file.
    /// - Parameters:
    ///   - path: the file (plain or gzip).
    ///   - featureType: the feature type to keep, or "all".
    ///   - geneKey: which name is matched against the vocabulary.
    /// - Throws: ToolError.badInput naming the file and line for a missing file, an empty line
    ///   or a file without any kept gene.
    static func read(path: String, featureType: String, geneKey: GeneKey) throws -> GeneTable {
        let reader = try ByteReader.open(path)
        var rows: [(id: String, symbol: String, type: String?)] = []
        while let line = try reader.nextLine() {
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
                .map { field in field.withUnsafeBufferPointer(trimmedText) }
            guard let first = fields.first, !first.isEmpty else {
                throw ToolError.badInput(file: path, line: reader.lineNumber, message: "empty gene name")
            }
            switch fields.count {
            case 1: rows.append((id: "", symbol: first, type: nil))
            case 2: rows.append((id: first, symbol: fields[1].isEmpty ? first : fields[1], type: nil))
            default: rows.append((id: first, symbol: fields[1].isEmpty ? first : fields[1], type: fields[2]))
            }
        }
        if rows.isEmpty { throw ToolError.data(path, "no genes in the file") }
        if geneKey == .id && rows.contains(where: { $0.id.isEmpty }) {
            throw ToolError.badInput(file: path, line: (rows.firstIndex { $0.id.isEmpty } ?? 0) + 1,
                                     message: "--gene-key id: this gene has no id column")
        }
        var table = GeneTable()
        var kept: [(id: String, symbol: String)] = []
        table.rowToGene.reserveCapacity(rows.count)
        for r in rows {
            if featureType != "all", let type = r.type, type != featureType {
                table.rowToGene.append(-1)
                table.droppedFeatures += 1
            } else {
                table.rowToGene.append(Int32(kept.count))
                kept.append((r.id, r.symbol))
            }
        }
        if kept.isEmpty {
            throw ToolError.data(path, "no feature of type '\(featureType)' (use --feature-type all to keep every feature)")
        }
        table.setGenes(kept, geneKey: geneKey)
        return table
    }

    /// A table from plain names (a dense table's gene names): symbol = name, no id.
    static func fromNames(_ names: [String], geneKey: GeneKey, source: String) throws -> GeneTable {
        if geneKey == .id { throw ToolError.usage("--gene-key id needs a gene list with ids; \(source) has names only") }
        var table = GeneTable()
        table.rowToGene = (0..<names.count).map { Int32($0) }
        table.setGenes(names.map { (id: "", symbol: $0) }, geneKey: geneKey)
        return table
    }

    /// Fills genes, keys and firstWithKey; makes symbols unique.
    mutating func setGenes(_ kept: [(id: String, symbol: String)], geneKey: GeneKey) {
        let symbols = kept.map { $0.symbol }
        let unique = GeneTable.makeUnique(symbols)
        genes = zip(unique, kept).map { GeneName(symbol: $0.0, id: $0.1.id) }
        keys = kept.map { geneKey == .id ? $0.id : $0.symbol }
        var seen = Set<String>()
        firstWithKey = keys.map { seen.insert($0).inserted }
        var counts: [String: Int] = [:]
        for s in symbols { counts[s, default: 0] += 1 }
        var reported = Set<String>()
        for s in symbols where counts[s]! > 1 && reported.insert(s).inserted {
            duplicates.append((s, counts[s]!))
        }
    }

    /// scanpy's (anndata's) make_index_unique with "-": the second `SYM` becomes `SYM-1`, the
    /// third `SYM-2`, skipping any name already present.
    static func makeUnique(_ names: [String]) -> [String] {
        var taken = Set(names)
        var seenOnce = Set<String>()
        var next: [String: Int] = [:]
        var out = names
        for (i, name) in names.enumerated() {
            if seenOnce.insert(name).inserted { continue }
            var k = next[name] ?? 1
            var candidate = "\(name)-\(k)"
            while taken.contains(candidate) { k += 1; candidate = "\(name)-\(k)" }
            next[name] = k + 1
            taken.insert(candidate)
            out[i] = candidate
        }
        return out
    }
}
