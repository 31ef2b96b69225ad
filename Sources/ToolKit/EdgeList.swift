// EdgeList: edge and pair files of gene symbols, and TF lists, read and mapped onto a dataset.
//
// Edge files are what graphify (--prior, --train, --valid) and score (--pairs, --truth) take:
//
//     # comment
//     regulator<TAB>target[<TAB>label|score]
//
// `#` starts a comment line; blank lines are ignored; columns after the third are ignored.
// Comma-separated files (BEELINE's `Gene1,Gene2[,Score]`) are accepted too: the separator is
// the first tab or comma of the first data line. A first line whose two first fields are a known
// header pair (regulator/target, Gene1/Gene2, TF/target, source/target, from/to; any case) is a
// header, not an edge. The header's third name says what the third column is: `label` (or
// `labels`, `class`) marks labels; any other name (Score, EdgeWeight, importance) marks a score.
//
// TF lists (score --tfs) are one symbol per line (the first tab-separated field), or a CSV with
// a header, from which the column named `TF` (else the first column) is taken, as in BEELINE's
// `TF,index` and GENELink's `,TF,index` files.
//
// Symbols are matched to the HEAD's genes exactly, then by Ensembl id, then ignoring case when
// that is unambiguous (BEELINE upper-cases mouse symbols). Edges naming genes the dataset does not
// have are skipped with one warning that counts them.

import Foundation

// MARK: - Symbol edges

/// One line of an edge file: two gene symbols and, if the file has one, the third column's value.
public struct SymbolEdge: Equatable {
    public var regulator: String
    public var target: String
    /// The label (0 or 1) or score of the third column, or nil when the file has only two columns.
    public var value: Double?
    /// The 1-based line number in the file, for messages.
    public var line: Int

    public init(regulator: String, target: String, value: Double? = nil, line: Int = 0) {
        self.regulator = regulator; self.target = target; self.value = value; self.line = line
    }
}

/// What the caller expects in the third column of an edge file.
public enum EdgeValueColumn {
    /// Read and dropped (candidate pairs).
    case ignored
    /// Labels: 0 or 1, anything else is an error (training, validation, truth). A header naming the
    /// third column something other than a label (`Score`, `EdgeWeight`) makes it a positive-only
    /// edge list whose third column is dropped.
    case labels
    /// Scores or weights: any finite number (a weighted prior).
    case scores
}

/// What the third column of an edge file turned out to hold.
public enum EdgeValueKind: Equatable {
    case none, label, score
}

/// The edges of one file, as symbols, in file order (duplicates kept).
public struct EdgeTable {
    /// The file's name as given (for messages); "<stdin>" for standard input.
    public let name: String
    public var edges: [SymbolEdge]
    /// What the edges' `value` holds.
    public var valueKind: EdgeValueKind

    public init(name: String, edges: [SymbolEdge], valueKind: EdgeValueKind) {
        self.name = name; self.edges = edges; self.valueKind = valueKind
    }
}

/// An edge between two dataset genes (indices into the HEAD's gene list).
public struct IndexedEdge: Equatable {
    public var regulator: Int
    public var target: Int
    /// The label (0 or 1) or score, or nil when the file had none.
    public var value: Double?
    /// The 1-based line in the file it came from.
    public var line: Int

    public init(regulator: Int, target: Int, value: Double? = nil, line: Int = 0) {
        self.regulator = regulator; self.target = target; self.value = value; self.line = line
    }

    /// The pair as one integer key (regulator · 2³² + target), for sets and dictionaries.
    public var key: Int { regulator << 32 | target }
}

// MARK: - Reading

public enum EdgeList {
    static let regulatorNames: Set<String> = ["regulator", "tf", "gene1", "source", "from", "regulators"]
    static let targetNames: Set<String> = ["target", "gene2", "to", "targets"]
    static let labelNames: Set<String> = ["label", "labels", "class"]

    /// The first three of some symbols for a message, each shortened (see `excerpt`).
    static func examples(_ symbols: [String]) -> String {
        symbols.prefix(3).map { excerpt($0) }.joined(separator: ", ") + (symbols.count > 3 ? ", …" : "")
    }

    /// Reads an edge file (a path, or "-" for standard input; gzip detected).
    /// - Parameter values: what the third column must be.
    /// - Throws: `ToolError.badInput` (exit 65) naming the file and line for a malformed line or a
    ///   label other than 0/1.
    public static func read(_ path: String, values: EdgeValueColumn) throws -> EdgeTable {
        try read(try ByteReader.open(path), values: values)
    }

    /// Reads an edge file from an open reader (what `read(_:values:)` does after opening the path).
    static func read(_ reader: ByteReader, values: EdgeValueColumn) throws -> EdgeTable {
        try reader.refuseBinary("an edge list")
        let name = reader.name
        var edges = [SymbolEdge]()
        var separator: UInt8 = 0
        var kind: EdgeValueKind? = nil
        var dropThird = values == .ignored
        var seenData = false
        var firstEdgeLine = 0
        while let raw = try reader.nextLine() {
            let line = reader.lineNumber
            if raw.isEmpty || raw[0] == UInt8(ascii: "#") || raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                continue
            }
            if separator == 0 {
                if raw.contains(0x09) { separator = 0x09 } else if raw.contains(UInt8(ascii: ",")) { separator = UInt8(ascii: ",") } else {
                    throw ToolError.badInput(file: name, line: line, message:
                        "expected regulator<TAB>target[<TAB>label|score] (or comma-separated), found one field")
                }
            }
            let fields = raw.split(separator: separator, omittingEmptySubsequences: false).map(trimmedText)
            let sepName = separator == 0x09 ? "tab" : "comma"
            if fields.count < 2 {
                throw ToolError.badInput(file: name, line: line, message:
                    "expected regulator and target separated by a \(sepName), found \(fields.count) field")
            }
            if !seenData {
                seenData = true
                if regulatorNames.contains(fields[0].lowercased()) && targetNames.contains(fields[1].lowercased()) {
                    // A header line: its third name tells what the third column holds.
                    if fields.count >= 3 && values == .labels && !labelNames.contains(fields[2].lowercased()) {
                        dropThird = true
                        Diagnostics.verbose("\(name): third column '\(excerpt(fields[2]))' is not a label: read as a positive edge list")
                    }
                    continue
                }
            }
            if fields[0].isEmpty || fields[1].isEmpty {
                throw ToolError.badInput(file: name, line: line, message: "empty gene symbol")
            }
            var value: Double? = nil
            let hasThird = fields.count >= 3 && !dropThird
            if hasThird {
                let text = fields[2]
                guard let v = Double(text), v.isFinite else {
                    let what = values == .labels ? "label '\(excerpt(text))' is not 0 or 1" : "score '\(excerpt(text))' is not a finite number"
                    throw ToolError.badInput(file: name, line: line, message: what)
                }
                if values == .labels && v != 0 && v != 1 {
                    throw ToolError.badInput(file: name, line: line, message: "label '\(excerpt(text))' is not 0 or 1")
                }
                value = v
            }
            let lineKind: EdgeValueKind = hasThird ? (values == .labels ? .label : .score) : .none
            if let kind, kind != lineKind {
                throw ToolError.badInput(file: name, line: line, message:
                    lineKind == .none
                        ? "has no third column, but line \(firstEdgeLine) has one (every line needs a \(values == .labels ? "label" : "score"), or none does)"
                        : "has a third column, but line \(firstEdgeLine) has none (every line needs a \(values == .labels ? "label" : "score"), or none does)")
            }
            if kind == nil { kind = lineKind; firstEdgeLine = line }
            edges.append(SymbolEdge(regulator: fields[0], target: fields[1], value: value, line: line))
        }
        return EdgeTable(name: name, edges: edges, valueKind: kind ?? .none)
    }

    /// Reads a TF list: one symbol per line, or a CSV with a header (the `TF` column, else the first).
    /// - Returns: the symbols with their line numbers, in file order.
    public static func readTFs(_ path: String) throws -> [(symbol: String, line: Int)] {
        try readTFs(try ByteReader.open(path))
    }

    /// Reads a TF list from an open reader.
    static func readTFs(_ reader: ByteReader) throws -> [(symbol: String, line: Int)] {
        try reader.refuseBinary("a TF list")
        var out = [(symbol: String, line: Int)]()
        var csvColumn: Int? = nil
        var first = true
        let tab: UInt8 = 0x09, comma = UInt8(ascii: ",")
        while let raw = try reader.nextLine() {
            let line = reader.lineNumber
            let trimmed = trimmedText(raw)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if first {
                first = false
                if !raw.contains(tab) && raw.contains(comma) {
                    // A CSV: this line is its header.
                    let names = raw.split(separator: comma, omittingEmptySubsequences: false).map { trimmedText($0).lowercased() }
                    csvColumn = names.firstIndex(of: "tf") ?? 0
                    continue
                }
            }
            let symbol: String
            if let c = csvColumn {
                let fields = raw.split(separator: comma, omittingEmptySubsequences: false)
                guard c < fields.count else {
                    throw ToolError.badInput(file: reader.name, line: line, message: "has \(fields.count) fields; the TF column is field \(c + 1)")
                }
                symbol = trimmedText(fields[c])
            } else {
                symbol = trimmedText(raw[..<(raw.firstIndex(of: tab) ?? raw.endIndex)])
            }
            if symbol.isEmpty { throw ToolError.badInput(file: reader.name, line: line, message: "empty TF symbol") }
            out.append((symbol, line))
        }
        return out
    }
}

// MARK: - Mapping to the dataset

/// Finds dataset genes by symbol: exactly, then by Ensembl id, then ignoring case when unambiguous.
public struct GeneLookup {
    public let genes: [GeneName]
    var exact: [String: Int] = [:]
    var byID: [String: Int] = [:]
    var folded: [String: Int] = [:]  // -1 marks an ambiguous folded symbol

    public init(_ genes: [GeneName]) {
        self.genes = genes
        for (i, g) in genes.enumerated() {
            if exact[g.symbol] == nil { exact[g.symbol] = i }
            if !g.id.isEmpty && byID[g.id] == nil { byID[g.id] = i }
            let f = g.symbol.uppercased()
            if let j = folded[f], j != i { folded[f] = -1 } else { folded[f] = i }
        }
    }

    /// The index of the dataset gene a symbol (or Ensembl id) names, or nil.
    public func index(of symbol: String) -> Int? {
        if let i = exact[symbol] { return i }
        if let i = byID[symbol] { return i }
        if let i = folded[symbol.uppercased()], i >= 0 { return i }
        return nil
    }
}

extension EdgeTable {
    /// Maps the edges onto dataset genes; edges naming genes the dataset lacks are skipped with one
    /// warning counting them.
    /// - Parameters:
    ///   - lookup: the dataset's genes.
    ///   - what: what the file is, for messages ("prior", "--truth").
    ///   - required: when true, a file with no edge between dataset genes is an error.
    /// - Returns: the edges in file order (duplicates kept).
    /// - Throws: `ToolError.badInput` (exit 65) when `required` and nothing is left.
    public func resolve(_ lookup: GeneLookup, what: String, required: Bool = true) throws -> [IndexedEdge] {
        var out = [IndexedEdge]()
        out.reserveCapacity(edges.count)
        var missing = [String]()
        var missingSet = Set<String>()
        var skipped = 0
        for e in edges {
            let r = lookup.index(of: e.regulator), t = lookup.index(of: e.target)
            if let r, let t {
                out.append(IndexedEdge(regulator: r, target: t, value: e.value, line: e.line))
                continue
            }
            skipped += 1
            for (s, i) in [(e.regulator, r), (e.target, t)] where i == nil && !missingSet.contains(s) {
                missingSet.insert(s)
                missing.append(s)
            }
        }
        if skipped > 0 {
            Diagnostics.warning("\(name): \(skipped) of \(edges.count) \(what) edges name genes absent from the dataset "
                                + "(\(missing.count) genes: \(EdgeList.examples(missing))); skipped")
        }
        if required && out.isEmpty {
            if edges.isEmpty { throw ToolError.data(name, "has no edges (\(what))") }
            throw ToolError.data(name, "no \(what) edge names two genes of the dataset (\(lookup.genes.count) genes, e.g. "
                                 + "\(lookup.genes.prefix(3).map(\.symbol).joined(separator: ", "))): is it for another dataset?")
        }
        return out
    }
}

extension EdgeList {
    /// Reads a TF list and maps it onto dataset genes, dropping duplicates; symbols the dataset
    /// lacks are skipped with one warning counting them.
    /// - Throws: `ToolError.badInput` (exit 65) when no TF is a dataset gene.
    public static func resolveTFs(_ path: String, _ lookup: GeneLookup) throws -> [Int] {
        let reader = try ByteReader.open(path)
        return try resolveTFs(try readTFs(reader), name: reader.name, lookup)
    }

    /// Maps the symbols of a TF list read from `name` onto dataset genes, as `resolveTFs(_:_:)` does.
    static func resolveTFs(_ symbols: [(symbol: String, line: Int)], name: String, _ lookup: GeneLookup) throws -> [Int] {
        var seen = Set<Int>()
        var out = [Int]()
        var missing = [String]()
        for (s, _) in symbols {
            guard let i = lookup.index(of: s) else { missing.append(s); continue }
            if seen.insert(i).inserted { out.append(i) }
        }
        if !missing.isEmpty {
            Diagnostics.warning("\(name): \(missing.count) of \(symbols.count) TFs are not dataset genes (\(examples(missing))); skipped")
        }
        if out.isEmpty {
            if symbols.isEmpty { throw ToolError.data(name, "lists no TFs") }
            throw ToolError.data(name, "none of its \(symbols.count) TFs is a gene of the dataset: is it for another dataset?")
        }
        return out
    }
}
