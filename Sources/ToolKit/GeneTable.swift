// GeneTable: a per-gene vector table in gene2vec's text format — one gene a line, its symbol then
// D numbers, separated by spaces or tabs; gzip-compressed or not. Lines starting with `#` are
// comments, and a first line of two integers (word2vec's "count width" header) is skipped.
// Read by `pretrain --gene2vec` (the frozen gene-identity table) and `graphify --gene-features`
// (extra node features); models/knowledge/ ships one built from public annotations.

/// The vectors of a gene table, in file order.
public struct GeneTable {
    /// The file, for messages.
    public let path: String
    /// D: numbers after each symbol.
    public let width: Int
    /// Symbols in file order; a symbol that repeats keeps its first vector.
    public private(set) var symbols: [String] = []
    /// [rows, D] row-major.
    public private(set) var values: [Float] = []
    private var index = [String: Int]()

    /// Reads the table.
    /// - Parameters:
    ///   - width: the width every line must have; nil takes the first vector line's.
    ///   - widthName: what fixes the width, for the message when a line disagrees.
    /// - Throws: exit 65 naming the file and line for a line whose numbers are not D finite values,
    ///   and for a file with no vector line.
    public static func read(_ path: String, width: Int? = nil, widthName: String = "the table's width") throws -> GeneTable {
        try read(try ByteReader.open(path), width: width, widthName: widthName)
    }

    /// Reads the table from an open reader (messages name `reader.name`).
    public static func read(_ reader: ByteReader, width: Int? = nil, widthName: String = "the table's width") throws -> GeneTable {
        let path = reader.name
        var d = width
        var rows: [(String, [Float])] = []
        var first = true
        while let line = try reader.nextLine() {
            // Fields split on the bytes (not on Characters: a table holds a million numbers), each
            // read as the String it is.
            let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { String(decoding: $0, as: UTF8.self) }
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            defer { first = false }
            if first && fields.count == 2 && Int(fields[0]) != nil && Int(fields[1]) != nil { continue }
            let n = fields.count - 1
            if d == nil { d = n }
            guard n == d!, n > 0 else {
                let expected = width == nil ? "the first line has \(d!)" : "\(widthName) is \(d!)"
                throw ToolError.badInput(file: path, line: reader.lineNumber, message: "\(n) numbers after the symbol, \(expected)")
            }
            var v = [Float](repeating: 0, count: n)
            for j in 0..<n {
                guard let x = Float(fields[j + 1]), x.isFinite else {
                    throw ToolError.badInput(file: path, line: reader.lineNumber, message: "'\(excerpt(fields[j + 1]))' is not a finite number")
                }
                v[j] = x
            }
            rows.append((fields[0], v))
        }
        guard let w = d, !rows.isEmpty else { throw ToolError.data(path, "holds no gene vector (lines 'SYMBOL v1 … vD')") }
        var t = GeneTable(path: path, width: w)
        t.values.reserveCapacity(rows.count * w)
        for (s, v) in rows where t.index[s] == nil {
            t.index[s] = t.symbols.count
            t.symbols.append(s)
            t.values += v
        }
        return t
    }

    /// Row of a symbol, exact.
    public func row(_ symbol: String) -> Int? { index[symbol] }

    /// The vectors of `genes`, [genes.count, D], zero rows for genes the table lacks.
    /// - Parameter ignoringCase: a gene without an exact match takes the row whose symbol equals it
    ///   ignoring case, when exactly one does (BEELINE upper-cases mouse symbols, for instance).
    /// - Returns: the rows and how many genes were found.
    public func rows(for genes: [String], ignoringCase: Bool = false) -> (values: [Float], found: Int) {
        var folded = [String: Int]()
        if ignoringCase {
            var count = [String: Int]()
            for (i, s) in symbols.enumerated() {
                let k = s.uppercased()
                count[k, default: 0] += 1
                folded[k] = i
            }
            for (k, c) in count where c > 1 { folded[k] = nil }
        }
        var out = [Float](repeating: 0, count: genes.count * width)
        var found = 0
        for (g, s) in genes.enumerated() {
            guard let r = index[s] ?? (ignoringCase ? folded[s.uppercased()] : nil) else { continue }
            found += 1
            for j in 0..<width { out[g * width + j] = values[r * width + j] }
        }
        return (out, found)
    }
}
