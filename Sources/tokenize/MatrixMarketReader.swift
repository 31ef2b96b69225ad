// MatrixMarketReader: a coordinate MatrixMarket matrix (10x matrix.mtx[.gz]) → cells in order.
//
// The header (`%%MatrixMarket matrix coordinate integer|real|pattern general`, comments, then
// `rows cols entries`) is checked first. The body is scanned over the reader's buffer (one
// `row col value` per line): runs of plain lines by a vector kernel (CKernels/mtx_lines.c, when
// the CPU has SSE4.1), every other line by a hand-written parser, which also names the errors.
// Where the entries go depends on their order:
// the first `windowSize` entries are held back; if their cells never decrease and some cell has
// two of them (the mark of a matrix grouped by cell, as Cell Ranger writes it), the matrix is
// streamed — each cell is written when the next one begins, in memory independent of the number
// of cells. Otherwise (e.g. sorted by gene) every entry is held and the cells are written at the
// end, after a counting sort by cell (about 28 bytes per entry). A streamed matrix whose order
// breaks after the window is an error that names --buffer.

import CKernels
import Foundation
import ToolKit

/// The parsed first lines of a MatrixMarket file.
struct MatrixMarketHeader {
    enum Field { case integer, real, pattern }
    var field: Field
    var rows: Int
    var columns: Int
    var entries: Int

    /// Reads the banner, comments and size line. `banner` is the first line, already read.
    static func read(banner: String, from reader: ByteReader) throws -> MatrixMarketHeader {
        let file = reader.name
        let words = banner.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        guard words.count >= 5, words[0] == "%%matrixmarket", words[1] == "matrix" else {
            throw ToolError.badInput(file: file, line: 1, message: "malformed MatrixMarket header (expected '%%MatrixMarket matrix coordinate <field> general')")
        }
        guard words[2] == "coordinate" else {
            throw ToolError.badInput(file: file, line: 1, message: "MatrixMarket format '\(excerpt(words[2]))' is not supported (only coordinate)")
        }
        let field: Field
        switch words[3] {
        case "integer": field = .integer
        case "real", "double": field = .real
        case "pattern": field = .pattern
        default:
            throw ToolError.badInput(file: file, line: 1, message: "MatrixMarket field '\(excerpt(words[3]))' is not supported (integer, real or pattern)")
        }
        guard words[4] == "general" else {
            throw ToolError.badInput(file: file, line: 1, message: "MatrixMarket symmetry '\(excerpt(words[4]))' is not supported (only general)")
        }
        while let line = try reader.nextLineString() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("%") { continue }
            let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 3, let r = Int(parts[0]), let c = Int(parts[1]), let n = Int(parts[2]),
                  r >= 0, c >= 0, n >= 0 else {
                throw ToolError.badInput(file: file, line: reader.lineNumber,
                                         message: "malformed MatrixMarket size line '\(excerpt(trimmed))' (expected: rows columns entries)")
            }
            guard r < Int(UInt32.max), c < Int(UInt32.max) else {
                throw ToolError.badInput(file: file, line: reader.lineNumber, message: "matrix dimensions \(r) × \(c) are too large")
            }
            if r == 0 || c == 0 || n == 0 {
                throw ToolError.badInput(file: file, line: reader.lineNumber, message: "empty matrix (\(r) × \(c), \(n) entries)")
            }
            let (cells, overflow) = r.multipliedReportingOverflow(by: c)
            if !overflow && n > cells {
                throw ToolError.badInput(file: file, line: reader.lineNumber, message: "\(n) entries cannot fit a matrix of \(r) × \(c)")
            }
            return MatrixMarketHeader(field: field, rows: r, columns: c, entries: n)
        }
        throw ToolError.data(file, "MatrixMarket header without a size line (the file ends after the comments)")
    }
}

/// Parses the body and hands the cells to a CellWriter.
final class MatrixMarketReader {
    let reader: ByteReader
    let header: MatrixMarketHeader
    /// Whether rows are cells and columns genes (the transpose of 10x's layout).
    let transposed: Bool
    /// Per gene-axis index (0-based), its dataset gene or -1 (dropped feature).
    let axisToGene: [Int32]
    let cellCount: Int
    let writer: CellWriter

    /// Where the entries go: held back, streamed or buffered (a value type, so that the hot
    /// loop works on a local copy without dynamic exclusivity checks).
    var router: EntryRouter

    init(reader: ByteReader, header: MatrixMarketHeader, transposed: Bool, axisToGene: [Int32], writer: CellWriter,
         forceBuffer: Bool) {
        self.reader = reader
        self.header = header
        self.transposed = transposed
        self.axisToGene = axisToGene
        self.cellCount = transposed ? header.rows : header.columns
        self.writer = writer
        router = EntryRouter(mode: forceBuffer ? .buffered : .window, file: reader.name, batch: writer.batch)
    }

    // MARK: - Body

    /// Reads every entry and writes every cell; throws on the first malformed line.
    func run() throws {
        let file = reader.name
        var line = reader.lineNumber
        var count = 0
        let expected = header.entries
        let rows = header.rows, columns = header.columns
        let pattern = header.field == .pattern
        let transposed = self.transposed
        let geneLimit = axisToGene.count
        var router = self.router
        let writer = self.writer

        func fail(_ message: String) -> ToolError { .badInput(file: file, line: line, message: message) }

        // Plain lines go through the vector parser (when this CPU has one) in runs of up to
        // `bulkLines`; the lines it stops at, and those of a pattern matrix, through the code below.
        let bulk = !pattern && ck_mtx_lines_accelerated() != 0
        let bulkLines = 1024
        let bulkRows = UnsafeMutablePointer<UInt32>.allocate(capacity: bulkLines)
        let bulkColumns = UnsafeMutablePointer<UInt32>.allocate(capacity: bulkLines)
        let bulkValues = UnsafeMutablePointer<UInt32>.allocate(capacity: bulkLines)
        defer {
            bulkRows.deallocate()
            bulkColumns.deallocate()
            bulkValues.deallocate()
        }
        // Lines left to parse here before trying the vector parser again.
        var generalLines = 0

        try axisToGene.withUnsafeBufferPointer { geneOf in
            while true {
                let chunk: UnsafeBufferPointer<UInt8>?
                do {
                    chunk = try reader.nextLines()
                } catch let ToolError.badInput(f, nil, m) {
                    throw ToolError.badInput(file: f, line: line + 1, message: m)
                }
                guard let run = chunk, let start = run.baseAddress else { break }
                var p = start
                let end = start + run.count
                while p < end {
                    if bulk && generalLines == 0 {
                        var consumed = 0
                        let k = ck_mtx_lines(p, end - p, bulkRows, bulkColumns, bulkValues, bulkLines, &consumed)
                        if router.mode == .streaming && count + k <= expected {
                            try router.streamBulk(rows: bulkRows, columns: bulkColumns, values: bulkValues, count: k,
                                                  geneOf: geneOf, transposed: transposed, rowLimit: rows,
                                                  columnLimit: columns, firstLine: line + 1, writer: writer)
                            line += k
                            count += k
                        } else {
                          for i in 0..<k {
                            line += 1
                            count += 1
                            if count > expected { throw fail("more entries than the \(expected) the header declares") }
                            let row = Int(bulkRows[i]), col = Int(bulkColumns[i])
                            if row < 1 || row > rows { throw fail("row index \(row) outside 1..\(rows)") }
                            if col < 1 || col > columns { throw fail("column index \(col) outside 1..\(columns)") }
                            let value = bulkValues[i]
                            if value == 0 { continue }
                            let axisGene = (transposed ? col : row) - 1
                            let cell = (transposed ? row : col) - 1
                            precondition(axisGene < geneLimit)
                            let gene = geneOf[axisGene]
                            if gene < 0 { continue }
                            try router.entry(gene: UInt32(gene), cell: cell, value: Double(value), line: line, writer: writer)
                          }
                        }
                        p += consumed
                        if k == bulkLines { continue }
                        // Stopped before a line it does not take: that one (or, when it took none,
                        // a few) here.
                        generalLines = k == 0 ? 16 : 1
                        if p == end { break }
                    }
                    if generalLines > 0 { generalLines -= 1 }
                    line += 1
                    var row = 0, col = 0, value = 1.0
                    if end - p >= 32, let fast = MatrixMarketReader.plainEntry(p, pattern: pattern) {
                        // The common line, `row col value\n` with single spaces and short integers.
                        (row, col, value) = (fast.row, fast.column, fast.value)
                        p = fast.next
                    } else {
                        // Leading blanks; an empty line is skipped.
                        while p < end && (p.pointee == 0x20 || p.pointee == 0x09) { p += 1 }
                        if p == end { break }
                        if p.pointee == 0x0A || p.pointee == 0x0D {
                            while p < end && p.pointee != 0x0A { p += 1 }
                            p += 1
                            continue
                        }
                        // Row and column: 1-based decimal integers.
                        row = 0
                        var digits = 0
                        while p < end {
                            let d = p.pointee &- 0x30
                            if d > 9 { break }
                            row = row &* 10 &+ Int(d)
                            p += 1
                            digits += 1
                        }
                        if digits == 0 || digits > 18 { throw fail("expected a row index, found \(MatrixMarketReader.token(p, end))") }
                        var blanks = 0
                        while p < end && (p.pointee == 0x20 || p.pointee == 0x09) { p += 1; blanks += 1 }
                        if blanks == 0 { throw fail("expected 'row column value', found \(MatrixMarketReader.token(p, end))") }
                        col = 0
                        digits = 0
                        while p < end {
                            let d = p.pointee &- 0x30
                            if d > 9 { break }
                            col = col &* 10 &+ Int(d)
                            p += 1
                            digits += 1
                        }
                        if digits == 0 || digits > 18 { throw fail("expected a column index, found \(MatrixMarketReader.token(p, end))") }
                        // Value.
                        value = 1.0
                        if !pattern {
                            blanks = 0
                            while p < end && (p.pointee == 0x20 || p.pointee == 0x09) { p += 1; blanks += 1 }
                            if blanks == 0 { throw fail("missing value after the indices") }
                            var integer = 0
                            digits = 0
                            let valueStart = p
                            while p < end {
                                let d = p.pointee &- 0x30
                                if d > 9 { break }
                                integer = integer &* 10 &+ Int(d)
                                p += 1
                                digits += 1
                            }
                            let next: UInt8 = p < end ? p.pointee : 0x0A
                            if digits > 0 && digits <= 15 && (next == 0x0A || next == 0x20 || next == 0x09 || next == 0x0D) {
                                value = Double(integer)
                            } else {
                                p = valueStart
                                value = try MatrixMarketReader.slowValue(&p, end, fail)
                            }
                        }
                        // End of line.
                        while p < end && (p.pointee == 0x20 || p.pointee == 0x09 || p.pointee == 0x0D) { p += 1 }
                        if p < end {
                            if p.pointee != 0x0A { throw fail("unexpected text after the entry: \(MatrixMarketReader.token(p, end))") }
                            p += 1
                        }
                    }

                    count += 1
                    if count > expected { throw fail("more entries than the \(expected) the header declares") }
                    if row < 1 || row > rows { throw fail("row index \(row) outside 1..\(rows)") }
                    if col < 1 || col > columns { throw fail("column index \(col) outside 1..\(columns)") }
                    if value == 0 { continue }
                    let axisGene = (transposed ? col : row) - 1
                    let cell = (transposed ? row : col) - 1
                    precondition(axisGene < geneLimit)
                    let gene = geneOf[axisGene]
                    if gene < 0 { continue }
                    try router.entry(gene: UInt32(gene), cell: cell, value: value, line: line, writer: writer)
                }
            }
        }
        if count < expected {
            throw ToolError.badInput(file: file, line: line, message: "the file ends after \(count) of the \(expected) entries the header declares (truncated?)")
        }
        try router.finish(cellCount: cellCount, writer: writer)
    }

    // MARK: - Fast path

    /// Per byte of `x` (the text XOR 0x30, so that digits are the bytes 0...9), 0x80 where the
    /// byte is not a digit, else 0.
    @inline(__always)
    static func notDigits(_ x: UInt64) -> UInt64 {
        (((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
    }

    /// The `n` (1...7) decimal digits at `q`, read as one 64-bit word (no loop over the digits).
    /// Reads the 8 bytes at `q`, which must be readable.
    @inline(__always)
    static func digits(_ q: UnsafePointer<UInt8>, _ n: Int) -> Int {
        let x = UnsafeRawPointer(q).loadUnaligned(as: UInt64.self).littleEndian ^ 0x3030_3030_3030_3030
        // The n digits moved to the top bytes (zeros before them), then combined pairwise.
        var v = x << UInt64(64 - 8 * n)
        v = ((v & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        v = ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        return Int(v)
    }

    /// Parses the line at `p` when it is `row col value\n` (`row col\n` for a pattern matrix)
    /// with single spaces, integers of at most 7 digits, and at most 16 bytes; nil for anything
    /// else, which the general parser then reads (and reports, if it is wrong).
    ///
    /// The first 16 bytes are classified at once (digit or not) so that the three separators,
    /// and with them the next line, are found without waiting for the numbers' conversion.
    /// Reads up to 24 bytes from `p`.
    @inline(__always)
    static func plainEntry(_ p: UnsafePointer<UInt8>, pattern: Bool)
        -> (row: Int, column: Int, value: Double, next: UnsafePointer<UInt8>)? {
        let raw = UnsafeRawPointer(p)
        let x0 = raw.loadUnaligned(as: UInt64.self).littleEndian ^ 0x3030_3030_3030_3030
        let x1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian ^ 0x3030_3030_3030_3030
        // One bit per byte (set where it is not a digit), bytes 0...15, and a stop bit at 16.
        let g0 = ((notDigits(x0) >> 7) &* 0x0102_0408_1020_4080) >> 56
        let g1 = ((notDigits(x1) >> 7) &* 0x0102_0408_1020_4080) >> 56
        let m1 = g0 | g1 << 8 | 0x1_0000
        let a = m1.trailingZeroBitCount  // end of the row; 16 when no separator at all
        let m2 = m1 & (m1 &- 1)
        let b = m2.trailingZeroBitCount  // end of the column
        guard a >= 1 && a <= 7 && b - a >= 2 && b - a <= 8 && p[a] == 0x20 else { return nil }
        if pattern {
            guard p[b] == 0x0A else { return nil }
            return (digits(p, a), digits(p + a + 1, b - a - 1), 1.0, p + b + 1)
        }
        let m3 = m2 & (m2 &- 1)
        let c = m3.trailingZeroBitCount  // end of the value
        guard c - b >= 2 && c - b <= 8 && c < 16 && p[b] == 0x20 && p[c] == 0x0A else { return nil }
        // Most counts have one digit: no word arithmetic for them.
        let value = c - b == 2 ? Double(p[b + 1] &- 0x30) : Double(digits(p + b + 1, c - b - 1))
        return (digits(p, a), digits(p + a + 1, b - a - 1), value, p + c + 1)
    }

    /// The text at `p` for an error message (up to the next blank, at most 20 characters).
    static func token(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> String {
        var q = p
        while q < end && q - p < 20 && q.pointee != 0x20 && q.pointee != 0x09 && q.pointee != 0x0A && q.pointee != 0x0D { q += 1 }
        if q == p { return p < end && p.pointee != 0x0A ? "'\(Character(UnicodeScalar(p.pointee)))'" : "the end of the line" }
        return "'" + String(decoding: UnsafeBufferPointer(start: p, count: q - p), as: UTF8.self) + "'"
    }

    /// Parses a value that is not a plain integer: a decimal or exponent form, or an error
    /// (negative, NaN, infinite, not a number).
    static func slowValue(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>,
                          _ fail: (String) -> ToolError) throws -> Double {
        var q = p
        while q < end && q.pointee != 0x20 && q.pointee != 0x09 && q.pointee != 0x0A && q.pointee != 0x0D { q += 1 }
        let text = String(decoding: UnsafeBufferPointer(start: p, count: q - p), as: UTF8.self)
        p = q
        return try parseValue(text, fail)
    }

    /// A finite, non-negative number from text, as the tables and matrices allow.
    static func parseValue(_ text: String, _ fail: (String) -> ToolError) throws -> Double {
        if text.isEmpty { throw fail("missing value") }
        let shown = excerpt(text)
        guard let v = Double(text) else { throw fail("non-numeric value '\(shown)'") }
        if v.isNaN { throw fail("NaN value '\(shown)'") }
        if v.isInfinite { throw fail("infinite value '\(shown)'") }
        if v < 0 { throw fail("negative value \(shown)") }
        return v == 0 ? 0 : v
    }
}

/// Routes entries: the first `windowSize` are held back to see their order; then they are
/// streamed cell by cell (a matrix grouped by cell) or all held (any other order).
struct EntryRouter {
    /// Entries held back to decide the order.
    static let windowSize = 1 << 16

    enum Mode { case window, streaming, buffered }
    var mode: Mode
    let file: String
    var held = EntryBuffer()
    var lastHeldCell = -1
    var heldOrdered = true
    var heldCellRepeats = false

    // The cell being streamed: its entries go straight into the writer's batch (after the
    // batch's finished cells), through copies of the batch's pointers so that appending needs
    // no uniqueness or exclusivity checks.
    var currentCell = -1
    var batch: CellBatch
    var genes: UnsafeMutablePointer<UInt32>
    var counts: UnsafeMutablePointer<UInt32>
    var values: UnsafeMutablePointer<Double>
    /// Entries in the batch, the current cell's included.
    var entries: Int
    var capacity: Int
    var ascending = true

    init(mode: Mode, file: String, batch: CellBatch) {
        self.mode = mode
        self.file = file
        self.batch = batch
        (genes, counts, values, capacity, entries) = (batch.genes, batch.counts, batch.values, batch.capacity, batch.count)
    }

    /// Takes the batch's pointers again (after it grew or was replaced).
    @inline(__always)
    mutating func reload() {
        (genes, counts, values, capacity) = (batch.genes, batch.counts, batch.values, batch.capacity)
    }

    @inline(__always)
    mutating func entry(gene: UInt32, cell: Int, value: Double, line: Int, writer: CellWriter) throws {
        if mode == .streaming {
            try stream(gene: gene, cell: cell, value: value, line: line, writer: writer)
            return
        }
        held.append(gene: gene, cell: UInt32(cell), value: value)
        if mode == .window {
            if cell < lastHeldCell { heldOrdered = false }
            if cell == lastHeldCell { heldCellRepeats = true }
            lastHeldCell = cell
            if held.count >= EntryRouter.windowSize { try decide(atEnd: false, writer: writer) }
        }
    }

    /// Chooses streaming or buffering from the held entries.
    mutating func decide(atEnd: Bool, writer: CellWriter) throws {
        if heldOrdered && (heldCellRepeats || atEnd) {
            mode = .streaming
            let window = held
            held = EntryBuffer()
            for i in 0..<window.count {
                try stream(gene: window.genes[i], cell: Int(window.cells[i]), value: window.values[i], line: 0, writer: writer)
            }
        } else {
            mode = .buffered
            Diagnostics.verbose("\(file): entries are not grouped by cell: holding the matrix in memory")
        }
    }

    @inline(__always)
    mutating func stream(gene: UInt32, cell: Int, value: Double, line: Int, writer: CellWriter) throws {
        if cell == currentCell {
            if gene <= genes[entries - 1] { ascending = false }
        } else {
            if cell < currentCell {
                throw ToolError.badInput(file: file, line: line,
                    message: "entries are not grouped by cell (cell \(cell + 1) after cell \(currentCell + 1)); run with --buffer to hold the matrix in memory")
            }
            try flush(writer: writer)
            currentCell = cell
        }
        if entries == capacity {
            batch.grow(keeping: entries, minimum: entries + 1)
            reload()
        }
        genes[entries] = gene
        if batch.integral && CellBatch.isCount(value) {
            counts[entries] = UInt32(value)
        } else {
            batch.leaveCounts(keeping: entries)
            values[entries] = value
        }
        entries += 1
    }

    /// Routes the entries of `count` plain lines (from the vector parser) while streaming:
    /// `stream` for each after the range checks of `run`, with the state held in locals.
    /// The caller has checked that they do not exceed the declared entries.
    /// - Parameters:
    ///   - rows, columns, values: the lines' numbers as written (`count` each).
    ///   - geneOf: per gene-axis index, its dataset gene or -1.
    ///   - firstLine: the line number of the first of them.
    mutating func streamBulk(rows: UnsafePointer<UInt32>, columns: UnsafePointer<UInt32>, values lineValues: UnsafePointer<UInt32>,
                             count: Int, geneOf: UnsafeBufferPointer<Int32>, transposed: Bool, rowLimit: Int,
                             columnLimit: Int, firstLine: Int, writer: CellWriter) throws {
        precondition(mode == .streaming)
        var cell0 = currentCell, n = entries, isAscending = ascending
        var g = genes, c = counts, cap = capacity
        var last: UInt32 = cell0 >= 0 ? g[n - 1] : 0
        // Usually every index is in range and no value is zero: checked once for all lines
        // (a loop the compiler vectorises), the loop after it then needs no check.
        var highRow: UInt32 = 0, highColumn: UInt32 = 0, lowValue = UInt32.max
        for i in 0..<count {
            highRow = max(highRow, rows[i] &- 1)
            highColumn = max(highColumn, columns[i] &- 1)
            lowValue = min(lowValue, lineValues[i])
        }
        if Int(highRow) < rowLimit && Int(highColumn) < columnLimit && lowValue > 0 && batch.integral {
            precondition(geneOf.count == (transposed ? columnLimit : rowLimit))
            let axis = transposed ? columns : rows, cells = transposed ? rows : columns
            for i in 0..<count {
                let mapped = geneOf[Int(axis[i] &- 1)]
                if mapped < 0 { continue }
                let gene = UInt32(truncatingIfNeeded: mapped)
                let cell = Int(cells[i] &- 1)
                if cell == cell0 {
                    if gene <= last { isAscending = false }
                } else {
                    // A new cell: the general path (flush, order check), then the state again.
                    (currentCell, entries, ascending) = (cell0, n, isAscending)
                    try stream(gene: gene, cell: cell, value: Double(lineValues[i]), line: firstLine + i, writer: writer)
                    (cell0, n, isAscending) = (currentCell, entries, ascending)
                    (g, c, cap) = (genes, counts, capacity)
                    last = gene
                    continue
                }
                if n == cap {
                    batch.grow(keeping: n, minimum: n + 1)
                    reload()
                    (g, c, cap) = (genes, counts, capacity)
                }
                g[n] = gene
                c[n] = lineValues[i]
                n &+= 1
                last = gene
            }
            (currentCell, entries, ascending) = (cell0, n, isAscending)
            return
        }
        for i in 0..<count {
            let row = Int(rows[i]), col = Int(columns[i])
            if row < 1 || row > rowLimit {
                throw ToolError.badInput(file: file, line: firstLine + i, message: "row index \(row) outside 1..\(rowLimit)")
            }
            if col < 1 || col > columnLimit {
                throw ToolError.badInput(file: file, line: firstLine + i, message: "column index \(col) outside 1..\(columnLimit)")
            }
            let value = lineValues[i]
            if value == 0 { continue }
            let axisGene = (transposed ? col : row) &- 1
            let cell = (transposed ? row : col) &- 1
            let mapped = geneOf[axisGene]
            if mapped < 0 { continue }
            try stream(gene: UInt32(truncatingIfNeeded: mapped), cell: cell, value: Double(value), line: firstLine + i, writer: writer)
        }
    }

    /// Ends the current cell in the batch; hands the batch to the writer once it is full.
    mutating func flush(writer: CellWriter) throws {
        if currentCell >= 0 {
            batch.endCell(currentCell, ascending: ascending, end: entries)
            if entries >= CellPipeline.batchEntries {
                try writer.submitBatch()
                batch = writer.batch
                reload()
                entries = batch.count
            }
        }
        ascending = true
    }

    /// After the last entry: writes what is pending and ends the stream.
    mutating func finish(cellCount: Int, writer: CellWriter) throws {
        if mode == .window { try decide(atEnd: true, writer: writer) }
        if mode == .buffered {
            let all = held
            held = EntryBuffer()
            try all.writeByCell(cellCount: cellCount, to: writer)
        } else {
            try flush(writer: writer)
        }
        try writer.finish(cells: cellCount)
    }
}

/// Entries held in memory: gene, cell and value in three arrays (16 bytes per entry).
struct EntryBuffer {
    var genes: [UInt32] = []
    var cells: [UInt32] = []
    var values: [Double] = []
    var count: Int { genes.count }

    @inline(__always)
    mutating func append(gene: UInt32, cell: UInt32, value: Double) {
        genes.append(gene)
        cells.append(cell)
        values.append(value)
    }
}

extension EntryBuffer {
    /// Writes the entries cell by cell through a counting sort by cell. The sort is stable, so
    /// genes that were added in ascending order (a gene-sorted matrix, a genes-by-cells table)
    /// come out ascending. Takes 12 more bytes per entry while it runs.
    func writeByCell(cellCount: Int, to writer: CellWriter) throws {
        var starts = [Int](repeating: 0, count: cellCount + 1)
        for c in cells { starts[Int(c) + 1] += 1 }
        for c in 0..<cellCount { starts[c + 1] += starts[c] }
        var fill = starts
        var sortedGenes = [UInt32](repeating: 0, count: count)
        var sortedValues = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let c = Int(cells[i])
            sortedGenes[fill[c]] = genes[i]
            sortedValues[fill[c]] = values[i]
            fill[c] += 1
        }
        fill = []
        for c in 0..<cellCount where starts[c + 1] > starts[c] {
            let g = Array(sortedGenes[starts[c]..<starts[c + 1]])
            var ascending = true
            for i in 1..<max(g.count, 1) where g[i] <= g[i - 1] { ascending = false; break }
            try writer.write(cell: c, genes: g, values: Array(sortedValues[starts[c]..<starts[c + 1]]), ascending: ascending)
        }
    }
}
