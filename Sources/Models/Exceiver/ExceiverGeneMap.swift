// ExceiverGeneMap: which gene each Exceiver gene index stands for, as the user supplies it.
//
// Exceiver's own index-to-gene order was never published (it came from a Python set's iteration
// order), so the mapping is a side file. Format: tab-separated text, one gene per line,
//
//   index<TAB>gene[<TAB>anything else, ignored]
//
// index is the 0-based row of the model's gene table (0 ..< seq_len); gene is a symbol or an
// Ensembl id, matched against the stream's gene symbols first and ids second, exactly (case
// matters). Empty lines and lines starting with `#` are skipped; a first line whose index field
// is not an integer is a header (the fixture's `exceiver_index  pbmc_symbol  pbmc_feature_row`).
// An index or a gene listed twice is an error; indices not listed count as zero in every cell.

import Foundation
import ToolKit

public struct ExceiverGeneMap {
    /// One line of the map: the Exceiver index, the gene named, and the line it came from.
    public struct Entry: Equatable {
        public var index: Int
        public var gene: String
        public var line: Int
    }

    /// Entries in file order.
    public let entries: [Entry]
    public let path: String

    /// Reads and checks a gene map for a model of `genes` indices.
    /// - Throws: `ToolError.badInput` (exit 65) with the line for malformed lines, out-of-range or repeated indices and genes.
    public init(path: String, genes: Int) throws {
        self.path = path
        let reader = try ByteReader.open(path)
        var entries = [Entry]()
        var seenIndex = [Int: Int](), seenGene = [String: Int]()
        var first = true
        while let raw = try reader.nextLineString() {
            let n = reader.lineNumber
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2 else {
                throw ToolError.badInput(file: path, line: n, message: "expected index<TAB>gene, found \(fields.count) field")
            }
            let indexField = fields[0].trimmingCharacters(in: .whitespaces)
            guard let index = Int(indexField) else {
                if first { first = false; continue }   // a header line
                throw ToolError.badInput(file: path, line: n, message: "index \"\(excerpt(indexField))\" is not an integer")
            }
            first = false
            guard index >= 0 && index < genes else {
                throw ToolError.badInput(file: path, line: n, message: "index \(index) is outside the model's \(genes) genes (0..<\(genes))")
            }
            let gene = fields[1].trimmingCharacters(in: .whitespaces)
            guard !gene.isEmpty else { throw ToolError.badInput(file: path, line: n, message: "empty gene name") }
            if let prev = seenIndex[index] {
                throw ToolError.badInput(file: path, line: n, message: "index \(index) is already given to \(excerpt(entries[prev].gene)) on line \(entries[prev].line)")
            }
            if let prev = seenGene[gene] {
                throw ToolError.badInput(file: path, line: n, message: "gene \(excerpt(gene)) is already mapped to index \(entries[prev].index) on line \(entries[prev].line)")
            }
            seenIndex[index] = entries.count
            seenGene[gene] = entries.count
            entries.append(Entry(index: index, gene: gene, line: n))
        }
        guard !entries.isEmpty else { throw ToolError.data(path, "the gene map lists no genes (expected index<TAB>gene lines)") }
        self.entries = entries
    }

    /// How the map meets a stream's genes.
    public struct Resolution {
        /// Per dataset gene: its Exceiver index, or -1 when the map does not name it.
        public var indexOfGene: [Int32]
        /// Map entries that match no dataset gene (their indices are zero in every cell).
        public var unmatched: [Entry]
        /// Map entries whose dataset gene was already taken by an earlier entry (by symbol and by id).
        public var duplicates: [Entry]
        public var matched: Int { indexOfGene.lazy.filter { $0 >= 0 }.count }
    }

    /// Matches the map against a stream's genes: by symbol first, then by Ensembl id.
    /// A dataset gene feeds at most one index (the first map line that names it wins).
    public func resolve(_ genes: [GeneName]) -> Resolution {
        var bySymbol = [String: Int](), byID = [String: Int]()
        for (g, name) in genes.enumerated() {
            if bySymbol[name.symbol] == nil { bySymbol[name.symbol] = g }
            if !name.id.isEmpty && byID[name.id] == nil { byID[name.id] = g }
        }
        var index = [Int32](repeating: -1, count: genes.count)
        var unmatched = [Entry](), duplicates = [Entry]()
        for e in entries {
            guard let g = bySymbol[e.gene] ?? byID[e.gene] else { unmatched.append(e); continue }
            if index[g] >= 0 { duplicates.append(e); continue }
            index[g] = Int32(e.index)
        }
        return Resolution(indexOfGene: index, unmatched: unmatched, duplicates: duplicates)
    }
}
