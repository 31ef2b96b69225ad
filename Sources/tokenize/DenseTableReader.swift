// DenseTableReader: a dense CSV or TSV count table (plain or gzip) → cells in order.
//
// The first line names the columns; each further line is a row name and one value per column.
// The header may have a corner field above the row names (`,cell1,cell2` as pandas and BEELINE
// write) or not (`cell1<TAB>cell2` as R's write.table does). Fields may be double-quoted as
// RFC 4180 has it ("" inside is a quote; a quoted field may hold the delimiter, not a line
// break). The delimiter is a tab if the header has one, else a comma. Orientation: --layout, or
// detected — column names that are mostly vocabulary genes (or row names that look like
// barcodes) mean cells-by-genes; column names that look like barcodes (or row names that are
// vocabulary genes) mean genes-by-cells; otherwise genes-by-cells is assumed (BEELINE's
// ExpressionData.csv, Seurat's tables) and said on stderr. A cells-by-genes table streams row by row; a
// genes-by-cells table is held in memory (about 28 bytes per nonzero value) and written at the end.

import Foundation
import ToolKit

final class DenseTableReader {
    let reader: ByteReader
    let delimiter: UInt8
    /// The column names (without the corner field).
    let columns: [String]
    /// The first data line, read ahead for layout detection (nil if the table has no rows).
    var firstRow: [UInt8]?
    let firstRowLine: Int
    /// The first data line's row name ("" if the table has no rows).
    var firstRowName = ""

    /// Reads the header (already read as `headerLine`) and the first data row.
    init(reader: ByteReader, headerLine: [UInt8]) throws {
        self.reader = reader
        let delimiter: UInt8 = headerLine.contains(0x09) ? 0x09 : 0x2C
        self.delimiter = delimiter
        let file = reader.name
        var names = try headerLine.withUnsafeBufferPointer { line in
            try DenseTableReader.split(line, delimiter, { .badInput(file: file, line: 1, message: $0) }).map { DenseTableReader.name($0) }
        }
        let rowLine = try reader.nextLine().map { Array($0) }
        firstRow = rowLine
        firstRowLine = reader.lineNumber
        if let rowLine {
            let rowNumber = firstRowLine
            let (width, name) = try rowLine.withUnsafeBufferPointer { line in
                let fields = try DenseTableReader.split(line, delimiter, { .badInput(file: file, line: rowNumber, message: $0) })
                return (fields.count, DenseTableReader.name(fields[0]))
            }
            firstRowName = name
            if width == names.count {
                names.removeFirst()  // the corner field above the row names
            } else if width != names.count + 1 {
                throw ToolError.badInput(file: reader.name, line: firstRowLine,
                    message: "ragged row: \(width) fields, the header has \(names.count)")
            }
        }
        columns = names
        if columns.isEmpty { throw ToolError.badInput(file: reader.name, line: 1, message: "the header names no column") }
        if rowLine == nil { throw ToolError.data(reader.name, "empty table: a header and no rows") }
    }

    /// The fields of a line (a quoted field may hold the delimiter: see `fieldEnd`).
    static func split(_ line: UnsafeBufferPointer<UInt8>, _ delimiter: UInt8,
                      _ fail: (String) -> ToolError) throws -> [Slice<UnsafeBufferPointer<UInt8>>] {
        var fields: [Slice<UnsafeBufferPointer<UInt8>>] = []
        var start = 0
        while start <= line.count {
            let end = try fieldEnd(line, from: start, delimiter, fail)
            fields.append(line[start..<end])
            start = end + 1
        }
        return fields
    }

    /// Where the field that starts at `start` ends: the next delimiter, or the end of the line.
    /// A field that opens with a double quote runs to its closing quote first ("" inside is a
    /// quote, as in RFC 4180), so `"ABC,1"` is one field; a quote the line does not close is an
    /// error (a quoted field over two lines is not read).
    @inline(__always)
    static func fieldEnd(_ line: UnsafeBufferPointer<UInt8>, from start: Int, _ delimiter: UInt8,
                         _ fail: (String) -> ToolError) throws -> Int {
        let n = line.count
        var i = start
        if i < n && line[i] == 0x22 {
            i += 1
            while true {
                guard i < n else {
                    throw fail("unclosed quote in field '\(excerpt(bytes: line[start...]))': a quoted field must end on its line")
                }
                if line[i] == 0x22 {
                    if i + 1 < n && line[i + 1] == 0x22 { i += 2; continue }
                    break
                }
                i += 1
            }
        }
        while i < n && line[i] != delimiter { i += 1 }
        return i
    }

    /// A name field: blanks trimmed and surrounding double quotes removed ("" inside is a quote).
    static func name<C: Collection>(_ field: C) -> String where C.Element == UInt8 {
        var s = String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") {
            s = String(s.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        return s
    }

    // MARK: - Layout

    /// Chooses the orientation and says why.
    func detectLayout(vocabulary: [String]) -> (Layout, String) {
        let folded = Set(vocabulary.map(VocabularyMap.asciiUppercased))
        func inVocab(_ s: String) -> Bool { folded.contains(VocabularyMap.asciiUppercased(s)) }
        let share = { (f: (String) -> Bool) in Double(self.columns.filter(f).count) / Double(self.columns.count) }
        if !folded.isEmpty && share(inVocab) >= 0.5 {
            return (.cellsByGenes, "most column names are vocabulary genes")
        }
        if share(DenseTableReader.looksLikeBarcode) >= 0.5 {
            return (.genesByCells, "the column names look like cell barcodes")
        }
        if DenseTableReader.looksLikeBarcode(firstRowName) {
            return (.cellsByGenes, "the row names look like cell barcodes")
        }
        if !folded.isEmpty && inVocab(firstRowName) {
            return (.genesByCells, "the row names are vocabulary genes")
        }
        return (.genesByCells, "assumed, as BEELINE and Seurat write tables")
    }

    /// A 10x-style barcode: at least 8 of A, C, G, T, N, then optionally a suffix after - or _.
    static func looksLikeBarcode(_ s: String) -> Bool {
        let core = s.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." }).first ?? ""
        return core.count >= 8 && core.allSatisfy { "ACGTN".contains($0) }
    }

    // MARK: - Rows

    /// Calls `body(rowIndex, name, nonzero column indices, their values)` for every data row.
    func forEachRow(_ body: (Int, String, [UInt32], [Double]) throws -> Void) throws {
        let file = reader.name
        let width = columns.count
        var index = 0
        var cols: [UInt32] = []
        var vals: [Double] = []
        func process(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws {
            func fail(_ m: String) -> ToolError { .badInput(file: file, line: lineNumber, message: m) }
            cols.removeAll(keepingCapacity: true)
            vals.removeAll(keepingCapacity: true)
            var fieldStart = 0
            var field = -1
            var rowName = ""
            while fieldStart <= line.count {
                let end = try DenseTableReader.fieldEnd(line, from: fieldStart, delimiter, fail)
                let slice = UnsafeBufferPointer(rebasing: line[fieldStart..<end])
                if field == -1 {
                    rowName = DenseTableReader.name(slice)
                    if rowName.isEmpty { throw fail("empty row name") }
                } else {
                    if field >= width { throw fail("ragged row: more than the \(width + 1) fields of the header") }
                    let v = try DenseTableReader.value(slice, fail)
                    if v != 0 {
                        cols.append(UInt32(field))
                        vals.append(v)
                    }
                }
                field += 1
                fieldStart = end + 1
            }
            if field != width { throw fail("ragged row: \(field + 1) fields, expected \(width + 1)") }
            try body(index, rowName, cols, vals)
            index += 1
        }
        if let first = firstRow {
            try first.withUnsafeBufferPointer { try process($0, lineNumber: firstRowLine) }
            firstRow = nil
        }
        while let line = try reader.nextLine() {
            if line.isEmpty { continue }
            try process(line, lineNumber: reader.lineNumber)
        }
    }

    /// A value field: a plain integer fast, anything else through Double(String); blanks
    /// trimmed; empty, negative, NaN, infinite or non-numeric values are errors.
    @inline(__always)
    static func value(_ field: UnsafeBufferPointer<UInt8>, _ fail: (String) -> ToolError) throws -> Double {
        var integer = 0
        // At most 15 digits take the fast path (they cannot overflow); longer ones are parsed below.
        var ok = field.count > 0 && field.count <= 15
        if ok {
            for b in field {
                let d = b &- 0x30
                if d > 9 { ok = false; break }
                integer = integer * 10 + Int(d)
            }
        }
        if ok { return Double(integer) }
        var text = String(decoding: field.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if field.count > 1024 { throw fail("value field of \(field.count) bytes: '\(excerpt(bytes: field))' is not a number") }
        // A quoted number ("1", as some spreadsheets write every field) is the number.
        if text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") {
            text = String(text.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        }
        return try MatrixMarketReader.parseValue(text, fail)
    }
}
