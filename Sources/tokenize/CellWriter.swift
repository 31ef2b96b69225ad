// CellWriter: takes the input's cells in order, applies the cell policies, and writes CELL
// frames; pairs each cell with its barcode.
//
// Cells arrive by index (0-based, ascending, possibly with gaps for cells that have no entry
// at all); every cell in a gap is an empty cell. Entries of a cell may come unsorted or with a
// gene given twice: they are sorted and summed here. Barcodes come from a BarcodeSource, read
// in step with the cells, so a streamed input never holds all barcodes in memory.

import Foundation
import Frames
import ToolKit

/// Where the barcodes come from: a file read in step with the cells, or a list.
protocol BarcodeSource: AnyObject {
    /// The next barcode's UTF-8 bytes, valid until the next call, or nil when there is none left.
    func nextBytes() throws -> UnsafeBufferPointer<UInt8>?
    /// Checks that no barcode is left once `cells` cells were written.
    func finish(cells: Int) throws
}

/// A barcode held as bytes, for the sources whose barcodes are Strings.
final class BarcodeBytes {
    private var storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    private var capacity = 64

    deinit { storage.deallocate() }

    /// The bytes of `barcode`, valid until the next call.
    func bytes(of barcode: String) -> UnsafeBufferPointer<UInt8> {
        var text = barcode
        return text.withUTF8 { u in
            if u.count > capacity {
                storage.deallocate()
                capacity = u.count
                storage = .allocate(capacity: capacity)
            }
            if u.count > 0 { storage.initialize(from: u.baseAddress!, count: u.count) }
            return UnsafeBufferPointer(start: storage, count: u.count)
        }
    }
}

/// Barcodes in memory (a dense table's header or first column).
final class BarcodeList: BarcodeSource {
    let barcodes: [String]
    var position = 0
    let scratch = BarcodeBytes()
    init(_ barcodes: [String]) { self.barcodes = barcodes }
    func nextBytes() throws -> UnsafeBufferPointer<UInt8>? {
        guard position < barcodes.count else { return nil }
        position += 1
        return scratch.bytes(of: barcodes[position - 1])
    }
    func finish(cells: Int) throws {}
}

/// A barcodes.tsv[.gz], one barcode per line (the first tab-separated field), read lazily.
final class BarcodeFile: BarcodeSource {
    let path: String
    let reader: ByteReader
    let expected: Int
    let scratch = BarcodeBytes()

    /// Opens the file and checks, by counting its lines once, that it holds `expected` barcodes.
    init(path: String, expected: Int) throws {
        self.path = path
        self.expected = expected
        let counter = try ByteReader.open(path)
        var lines = 0
        while let line = try counter.nextLine() {
            lines += 1
            if line.isEmpty || line.first == 0x09 {
                throw ToolError.badInput(file: path, line: lines, message: "empty barcode")
            }
        }
        if lines != expected {
            throw ToolError.data(path, "\(lines) barcodes, but the matrix has \(expected) cells")
        }
        reader = try ByteReader.open(path)
    }

    func nextBytes() throws -> UnsafeBufferPointer<UInt8>? {
        guard let line = try reader.nextLine() else { return nil }
        let field = line.firstIndex(of: 0x09).map { UnsafeBufferPointer(rebasing: line[..<$0]) } ?? line
        var ascii: UInt8 = 0
        for b in field { ascii |= b }
        if ascii < 0x80 { return field }
        // Not ASCII: as its String (invalid UTF-8 repaired, as for any text the stream carries).
        return scratch.bytes(of: String(decoding: field, as: UTF8.self))
    }

    func finish(cells: Int) throws {
        if try reader.nextLine() != nil {
            throw ToolError.data(path, "more barcodes than the \(cells) cells of the matrix (the file changed while read?)")
        }
    }
}

final class CellWriter {
    /// The output; nil for the statistics pass of --top-variable, which writes nothing.
    let writer: FrameWriter?
    let normaliser: CellNormaliser
    let barcodes: BarcodeSource
    let minGenes: Int
    let flags: CellFrameFlags
    let progress: ToolKit.Progress
    let shard: CellShard?
    let totalCells: Int?

    /// Input cells consumed so far (written or dropped); the next cell's index.
    private(set) var nextCell = 0
    private(set) var written = 0
    private(set) var droppedByMinGenes = 0
    private(set) var withoutTotal = 0
    private(set) var summedDuplicates = 0
    private(set) var outsideShard = 0
    /// Barcodes seen, as 64-bit FNV-1a hashes (the one thing kept per cell: about 16 bytes with
    /// the set's slack), and how many cells repeat an earlier barcode, the first with its index.
    private var barcodeHashes = Set<UInt64>()
    private(set) var repeatedBarcodes = 0
    private var firstRepeat: (barcode: String, cell: Int)?

    /// The input as given, for warnings.
    var inputName = "-"
    /// When set, cells are only added to these statistics (the first pass of --top-variable).
    var statistics: GeneStatistics?
    /// With a gene selection: per input gene, its dataset gene index or −1 (not written).
    var outputIndex: [Int32]?
    /// Whether to measure the share of the counts that fall on the total's genes (warned
    /// about below 50%).
    var measureCoverage = false
    /// Whether a run in which no cell has counts on the total's genes fails (--species mouse).
    var requireCellsWithTotal = false
    /// Counts over the total's genes and over all genes, and cells with a total > 0.
    private(set) var countsInTotal = 0.0
    private(set) var countsAll = 0.0
    private(set) var cellsWithTotal = 0
    /// Values read as counts that are not integers, and the largest of them.
    private(set) var nonIntegerValues = 0
    private(set) var largestValue = 0.0
    private var selectedGenes: [UInt32] = []
    private var selectedCounts: [UInt32] = []
    private var selectedValues: [Double] = []

    /// Per small count, its normalised value and token within the cell being written.
    let memo = CellNormaliser.Memo()
    var order: [Int] = []
    var sortedGenes: [UInt32] = []
    var sortedValues: [Double] = []
    var countValues: [Double] = []

    /// The cells given but not yet written, in order. A streamed matrix's parser fills it in
    /// place (see EntryRouter); `submitBatch()` writes it, or hands it to the pipeline.
    private(set) var batch = CellBatch()

    /// When set, cells are written on the pipeline's thread (see CellPipeline).
    private var pipeline: CellPipeline?

    /// - Parameter threaded: write the cells on a second thread, overlapping the caller's
    ///   parsing; the caller must then end with `finish(cells:)`, or `cancel()` on failure.
    init(writer: FrameWriter?, normaliser: CellNormaliser, barcodes: BarcodeSource, minGenes: Int, totalCells: Int?,
         shard: CellShard? = nil, threaded: Bool = false) {
        self.writer = writer
        self.shard = shard
        self.totalCells = totalCells
        self.normaliser = normaliser
        self.barcodes = barcodes
        self.minGenes = minGenes
        var f: CellFrameFlags = [.tokens]
        if normaliser.keepCounts { f.insert(.counts) }
        flags = f
        progress = ToolKit.Progress(unit: "cells", total: totalCells)
        if threaded {
            // The worker holds this writer until it stops (after finish or cancel).
            pipeline = CellPipeline { batch in try self.write(batch: batch) }
        }
    }

    /// Writes the cells before `index` that had no entries.
    func writeEmpty(upTo index: Int) throws {
        while nextCell < index {
            try writeCell(genes: UnsafeBufferPointer(start: nil, count: 0), values: .counts(UnsafeBufferPointer(start: nil, count: 0)))
        }
    }

    /// Writes cell `index` (after any empty cells before it).
    /// - Parameters:
    ///   - genes, values: the cell's N entries (values > 0); `ascending` says whether the gene
    ///     indices are already strictly ascending (else they are sorted and duplicates summed).
    func write(cell index: Int, genes: [UInt32], values: [Double], ascending: Bool) throws {
        try genes.withUnsafeBufferPointer { g in
            try values.withUnsafeBufferPointer { v in try write(cell: index, genes: g, values: v, ascending: ascending) }
        }
    }

    /// Writes cell `index` from entries in memory the caller owns (see the array version).
    func write(cell index: Int, genes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>,
               ascending: Bool) throws {
        precondition(genes.count == values.count)
        guard pipeline != nil else {
            // Written at once, as a dense table's cell must be (its barcode is pushed just before).
            if !batch.isEmpty { try submitBatch() }
            try writeNow(cell: index, genes: genes, values: values, ascending: ascending)
            return
        }
        batch.append(cell: index, genes: genes, values: values, ascending: ascending)
        if batch.count >= CellPipeline.batchEntries { try submitBatch() }
    }

    /// Writes the batch's cells (threaded: hands the batch to the pipeline); `batch` is then
    /// an empty batch to fill next.
    func submitBatch() throws {
        if let pipeline {
            batch = try pipeline.submit(batch)
        } else {
            try write(batch: batch)
            batch.removeAll()
        }
    }

    /// Writes a batch of cells, in order (on the pipeline's thread when threaded).
    private func write(batch: CellBatch) throws {
        var start = 0
        for span in batch.spans {
            let end = span.end
            let genes = UnsafeBufferPointer(start: batch.genes + start, count: end - start)
            if batch.integral {
                try writeNow(cell: span.cell, genes: genes, counts: UnsafeBufferPointer(start: batch.counts + start, count: end - start),
                             ascending: span.ascending)
            } else {
                try writeNow(cell: span.cell, genes: genes, values: UnsafeBufferPointer(start: batch.values + start, count: end - start),
                             ascending: span.ascending)
            }
            start = end
        }
    }

    /// Stops writing after a failure elsewhere (threaded only): no more cells reach the output.
    func cancel() {
        pipeline?.cancel()
    }

    /// Writes a cell whose values are integer counts (see CellBatch).
    private func writeNow(cell index: Int, genes: UnsafeBufferPointer<UInt32>, counts: UnsafeBufferPointer<UInt32>,
                          ascending: Bool) throws {
        guard ascending else {
            // Sorted (and duplicates summed) as float64 values, which hold any sum exactly.
            countValues.removeAll(keepingCapacity: true)
            countValues.append(contentsOf: counts.lazy.map { Double($0) })
            try countValues.withUnsafeBufferPointer { v in try writeNow(cell: index, genes: genes, values: v, ascending: false) }
            return
        }
        try writeEmpty(upTo: index)
        try writeCell(genes: genes, values: .counts(counts))
    }

    private func writeNow(cell index: Int, genes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>,
                          ascending: Bool) throws {
        try writeEmpty(upTo: index)
        if ascending {
            try writeCell(genes: genes, values: .values(values))
            return
        }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<genes.count)
        order.sort { genes[$0] < genes[$1] || (genes[$0] == genes[$1] && $0 < $1) }
        sortedGenes.removeAll(keepingCapacity: true)
        sortedValues.removeAll(keepingCapacity: true)
        for i in order {
            if let last = sortedGenes.last, last == genes[i] {
                sortedValues[sortedValues.count - 1] += values[i]
                summedDuplicates += 1
            } else {
                sortedGenes.append(genes[i])
                sortedValues.append(values[i])
            }
        }
        try sortedGenes.withUnsafeBufferPointer { g in
            try sortedValues.withUnsafeBufferPointer { v in try writeCell(genes: g, values: .values(v)) }
        }
    }

    private func writeCell(genes: UnsafeBufferPointer<UInt32>, values: CellNormaliser.Values) throws {
        guard let barcode = try barcodes.nextBytes() else {
            throw ToolError.runtime("internal error: more cells than barcodes")
        }
        defer { progress.advance() }
        if writer != nil { noteBarcode(barcode) }
        if let shard, !shard.contains(cell: nextCell, of: totalCells) {
            nextCell += 1
            outsideShard += 1
            return
        }
        nextCell += 1
        let (total, counted) = normaliser.total(genes: genes, values: values)
        let isCounts = normaliser.scale == .counts
        if isCounts && !(total > 0) { withoutTotal += 1 } else { cellsWithTotal += 1 }
        if isCounts, case .values(let v) = values { checkCounts(v) }
        if measureCoverage {
            countsInTotal += total
            switch values {
            case .counts(let c): var s: UInt64 = 0; for x in c { s &+= UInt64(x) }; countsAll += Double(s)
            case .values(let v): for x in v { countsAll += x }
            }
        }
        if counted < minGenes {
            droppedByMinGenes += 1
        } else if let statistics {
            statistics.add(genes: genes, values: values)
        } else if let outputIndex {
            try writeSelected(genes: genes, values: values, total: total, barcode: barcode, outputIndex: outputIndex)
        } else {
            try normaliser.write(genes: genes, values: values, total: total, barcode: barcode, flags: flags,
                                 to: writer!, memo: memo)
            written += 1
        }
    }

    /// Counts a barcode that an earlier cell (in this shard or another) already had.
    private func noteBarcode(_ barcode: UnsafeBufferPointer<UInt8>) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in barcode { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        if barcodeHashes.insert(h).inserted { return }
        repeatedBarcodes += 1
        if firstRepeat == nil { firstRepeat = (String(decoding: barcode, as: UTF8.self), nextCell) }
    }

    /// Notes values read as counts that are not integers (the input may be normalised already).
    private func checkCounts(_ values: UnsafeBufferPointer<Double>) {
        for x in values {
            if x != x.rounded(.towardZero) { nonIntegerValues += 1 }
            if x > largestValue { largestValue = x }
        }
    }

    /// Writes a cell's selected genes (renumbered), normalised with the total over all its genes.
    private func writeSelected(genes: UnsafeBufferPointer<UInt32>, values: CellNormaliser.Values, total: Double,
                               barcode: UnsafeBufferPointer<UInt8>, outputIndex: [Int32]) throws {
        func emit(_ kept: CellNormaliser.Values) throws {
            try selectedGenes.withUnsafeBufferPointer { g in
                try normaliser.write(genes: g, values: kept, total: total, barcode: barcode, flags: flags, to: writer!, memo: memo)
            }
        }
        switch values {
        case .counts(let c):
            keepSelected(c, genes: genes, outputIndex: outputIndex, into: &selectedCounts)
            try selectedCounts.withUnsafeBufferPointer { try emit(.counts($0)) }
        case .values(let x):
            keepSelected(x, genes: genes, outputIndex: outputIndex, into: &selectedValues)
            try selectedValues.withUnsafeBufferPointer { try emit(.values($0)) }
        }
        written += 1
    }

    /// The entries of the selected genes: their new indices into `selectedGenes`, their values
    /// (counts or values alike) into `kept`.
    private func keepSelected<T>(_ source: UnsafeBufferPointer<T>, genes: UnsafeBufferPointer<UInt32>,
                                 outputIndex: [Int32], into kept: inout [T]) {
        selectedGenes.removeAll(keepingCapacity: true)
        kept.removeAll(keepingCapacity: true)
        for i in 0..<genes.count where outputIndex[Int(genes[i])] >= 0 {
            selectedGenes.append(UInt32(outputIndex[Int(genes[i])]))
            kept.append(source[i])
        }
    }

    /// Writes the empty cells up to `cells`, checks the barcodes, notes the policies applied,
    /// and ends the stream (END frame, output committed).
    func finish(cells: Int) throws {
        if !batch.isEmpty { try submitBatch() }
        if let pipeline {
            try pipeline.finish()
            self.pipeline = nil
        }
        try writeEmpty(upTo: cells)
        try barcodes.finish(cells: cells)
        progress.finish()
        if statistics != nil { return }
        if nonIntegerValues > 0 {
            let largest = String(format: "%.4g", largestValue)
            let looks = largestValue <= 30
                ? "they look log-transformed (--input-scale log2, or ln for scanpy's log1p)"
                : "they look normalised already, not raw counts"
            Diagnostics.warning("\(inputName): \(nonIntegerValues) values read as counts are not integers (the largest is \(largest)): \(looks)")
        }
        if withoutTotal > 0 {
            let what = normaliser.inTotal.allSatisfy { $0 } ? "no counts" : "no counts over the vocabulary genes"
            let fate = minGenes > 0 ? "dropped (--min-genes)" : "written with total 0 and no entries (--min-genes 1 drops them)"
            Diagnostics.warning("\(withoutTotal) of \(cells) cells have \(what): \(fate)")
        }
        if droppedByMinGenes > 0 {
            Diagnostics.note("\(droppedByMinGenes) of \(cells) cells have fewer than \(minGenes) nonzero genes in the total: dropped")
        }
        if measureCoverage && countsAll > 0 {
            let share = String(format: "%.1f%%", 100 * countsInTotal / countsAll)
            if countsInTotal < 0.5 * countsAll {
                Diagnostics.warning("\(inputName): only \(share) of the input's counts fall on vocabulary genes; the cell totals, "
                    + "taken over those genes, mean little (check --species, --gene-key and the vocabulary)")
            } else if requireCellsWithTotal {
                Diagnostics.note("\(share) of the input's counts fall on vocabulary genes")
            } else {
                Diagnostics.verbose("\(share) of the input's counts fall on vocabulary genes")
            }
        }
        if requireCellsWithTotal && cellsWithTotal == 0 && cells - outsideShard > 0 {
            throw ToolError.data(inputName, "no cell has counts on a vocabulary gene: no token would carry information "
                + "(check --species, --orthologs and the vocabulary)")
        }
        if let firstRepeat {
            // As scanpy, which warns that obs names are not unique and keeps them (obs_names_make_unique renames).
            let repeats = repeatedBarcodes == 1 ? "1 cell repeats" : "\(repeatedBarcodes) cells repeat"
            Diagnostics.warning("\(inputName): \(repeats) the barcode of an earlier cell (first: "
                + "'\(excerpt(firstRepeat.barcode))', cell \(firstRepeat.cell + 1)); kept as they are")
        }
        if summedDuplicates > 0 {
            Diagnostics.warning("\(summedDuplicates) entries repeat a gene of their cell: summed")
        }
        if let shard {
            Diagnostics.verbose("shard \(shard): \(cells - outsideShard) of \(cells) cells")
        }
        Diagnostics.verbose("\(written) cells written")
        try writer?.finish()
    }
}

/// Which cells a `--shard i/n` run keeps.
///
/// With the number of cells C known (10x, MatrixMarket, genes-by-cells tables), shard i of n
/// is the contiguous block of cells [⌊(i−1)·C/n⌋, ⌊i·C/n⌋), so concatenating the shards' outputs
/// in order gives the cells in input order. Where C is not known in advance (a cells-by-genes
/// table, which streams), cell k goes to shard (k mod n) + 1.
struct CellShard: CustomStringConvertible {
    /// 1-based shard number.
    let index: Int
    let count: Int

    /// Parses "i/n" with 1 ≤ i ≤ n.
    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i
        count = n
    }

    func contains(cell k: Int, of total: Int?) -> Bool {
        guard let total else { return k % count == index - 1 }
        return k >= (index - 1) * total / count && k < index * total / count
    }

    /// The number of the `total` input cells this shard holds (its block, as `contains` deals them).
    func cells(of total: Int) -> Int {
        index * total / count - (index - 1) * total / count
    }

    var description: String { "\(index)/\(count)" }
}
