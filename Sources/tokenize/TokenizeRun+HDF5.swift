// TokenizeRun+HDF5: tokenize an HDF5 input (AnnData .h5ad, loom, 10x .h5) — genes from the
// file's names, then its cells streamed a block at a time into the CellWriter.
//
// Memory: a matrix stored by cell (h5ad CSR, every 10x .h5) is read a block of cells at a time
// (up to 2^16 pointers and 2^20 entries); a dense matrix a block of cells at a time (about 2^22
// values, 32 MiB). Neither grows with the number of cells. A CSC h5ad (one slice per gene) can
// only be turned into cells by seeing all of it: its nonzero entries are held in memory, about
// 28 bytes each, as for a MatrixMarket matrix not grouped by cell.
//
// The cells are written on the reading thread: libhdf5 is not thread-safe, and the barcodes
// come from the file in step with the cells.

import Foundation
import ToolKit

extension TokenizeRun {
    func runHDF5() throws {
        if settings.genesPath != nil || settings.barcodesPath != nil {
            throw ToolError.usage("--genes and --barcodes are for a lone MatrixMarket file; \(input) names its own genes and cells")
        }
        if settings.layout != nil {
            throw ToolError.usage("--layout is for tables and MatrixMarket files; \(input) says how its matrix is laid out")
        }
        let file = try HDF5File(path: input)
        let found = try HDF5Layout.locate(file, choices: hdf5)
        let table = try GeneTable.fromHDF5(found, featureType: settings.featureType, geneKey: settings.geneKey, file: file)
        let layout: Layout
        switch found.storage {
        case .dense(_, let cellsAreRows): layout = cellsAreRows ? .cellsByGenes : .genesByCells
        case .sparseByCell: layout = found.format == "h5ad" ? .cellsByGenes : .genesByCells
        case .sparseByGene: layout = .cellsByGenes
        }
        Diagnostics.verbose("\(input): \(found.format), \(HDF5File.absolute(found.matrixPath)): \(found.cells) cells × \(found.genes) genes")
        let vocab = try mapVocabulary(table)
        var statistics: GeneStatistics?
        if settings.topVariable != nil {
            // First pass: the genes' statistics (--top-variable), from the same matrix read again.
            let (stats, statsWriter) = makeStatisticsWriter(table: table, vocab: vocab, cells: found.cells)
            try stream(found, table: table, into: statsWriter)
            statistics = stats
        }
        let (selection, writer) = try start(table: table, vocab: vocab, statistics: statistics, format: found.format, layout: layout,
                                            cells: found.cells)
        let cellWriter = makeCellWriter(writer: writer, vocab: vocab, selection: selection,
                                        barcodes: HDF5Barcodes(found.barcodes), cells: found.cells)
        try stream(found, table: table, into: cellWriter)
    }

    /// Every cell of the matrix into `cellWriter`, which is then finished.
    private func stream(_ found: HDF5Layout, table: GeneTable, into cellWriter: CellWriter) throws {
        let reader = HDF5CountsReader(genes: found.genes, cells: found.cells, rowToGene: table.rowToGene, writer: cellWriter)
        switch found.storage {
        case .sparseByCell(let data, let indices, let indptr):
            try reader.streamSparseByCell(data: data, indices: indices, indptr: indptr)
        case .sparseByGene(let data, let indices, let indptr):
            try reader.readSparseByGene(data: data, indices: indices, indptr: indptr)
        case .dense(let matrix, let cellsAreRows):
            try reader.streamDense(matrix, cellsAreRows: cellsAreRows)
        }
        try cellWriter.finish(cells: found.cells)
    }
}

extension GeneTable {
    /// The dataset genes of an HDF5 input: its names, ids where it has them, and for a 10x v3
    /// file the feature-type filter.
    static func fromHDF5(_ found: HDF5Layout, featureType: String, geneKey: GeneKey, file: HDF5File) throws -> GeneTable {
        if geneKey == .id && found.ids == nil {
            throw ToolError.usage("--gene-key id needs gene ids; \(file.name) has names only (h5ad: --var-column NAME takes the names from a column, the index then gives the ids)")
        }
        var table = GeneTable()
        var kept: [(id: String, symbol: String)] = []
        for g in 0..<found.symbols.count {
            let id = found.ids?[g] ?? ""
            let symbol = found.symbols[g].isEmpty ? id : found.symbols[g]
            if symbol.isEmpty { throw file.fail(found.matrixPath, "gene \(g) has an empty name") }
            if featureType != "all", let type = found.featureTypes?[g], type != featureType {
                table.rowToGene.append(-1)
                table.droppedFeatures += 1
            } else {
                table.rowToGene.append(Int32(kept.count))
                kept.append((id, symbol))
            }
        }
        if kept.isEmpty {
            throw ToolError.data(file.name, "no feature of type '\(featureType)' (use --feature-type all to keep every feature)")
        }
        table.setGenes(kept, geneKey: geneKey)
        return table
    }
}

/// Reads the cells of an HDF5 matrix and hands them to a CellWriter in order.
struct HDF5CountsReader {
    let genes: Int
    let cells: Int
    /// Per input gene, its dataset gene index, or -1 when the feature-type filter dropped it.
    let rowToGene: [Int32]
    let writer: CellWriter

    /// Pointers read per block.
    static let pointerBlock = 1 << 16
    /// Entries read per block (more when one cell has more).
    static let entryBlock = 1 << 20
    /// Values of a dense block at most (float64: 32 MiB).
    static let denseBlock = 1 << 22

    /// A value as a count: finite and not negative.
    @inline(__always)
    private func check(_ v: Double, _ dataset: HDF5Dataset, _ position: @autoclosure () -> String) throws {
        if !(v >= 0) || v == .infinity {
            throw dataset.fail("\(position()): \(v.isNaN ? "NaN" : v < 0 ? "negative value \(TokenizeRun.number(v))" : "infinite value")")
        }
    }

    /// A matrix with one compressed slice per cell (h5ad CSR, 10x .h5): streamed.
    func streamSparseByCell(data: HDF5Dataset, indices: HDF5Dataset, indptr: HDF5Dataset) throws {
        let entries = data.shape[0]
        var pointers: [Int64] = []
        var windowStart = 0
        var windowIndices: [Int64] = []
        var windowValues: [Double] = []
        var cellGenes: [UInt32] = []
        var cellValues: [Double] = []
        var previousEnd: Int64 = 0
        var cell = 0
        while cell < cells {
            let n = min(HDF5CountsReader.pointerBlock, cells - cell)
            try indptr.integers(cell, n + 1, into: &pointers)
            if cell == 0 && pointers[0] != 0 { throw indptr.fail("starts at \(pointers[0]), not 0") }
            for j in 0..<n {
                let a = pointers[j], b = pointers[j + 1]
                if a != previousEnd || b < a || b > Int64(entries) {
                    throw indptr.fail("entry \(cell + j + 1): pointer \(b) after \(a) (pointers must ascend within 0...\(entries))")
                }
                previousEnd = b
                let (start, end) = (Int(a), Int(b))
                if end > windowStart + windowIndices.count {
                    windowStart = start
                    let length = min(max(end - start, HDF5CountsReader.entryBlock), entries - start)
                    try indices.integers(start, length, into: &windowIndices)
                    try data.doubles(start, length, into: &windowValues)
                }
                cellGenes.removeAll(keepingCapacity: true)
                cellValues.removeAll(keepingCapacity: true)
                var ascending = true
                for k in (start - windowStart)..<(end - windowStart) {
                    let row = windowIndices[k], v = windowValues[k]
                    guard row >= 0 && row < Int64(genes) else {
                        throw indices.fail("entry \(windowStart + k): gene index \(row) outside 0..<\(genes)")
                    }
                    try check(v, data, "entry \(windowStart + k)")
                    let gene = rowToGene[Int(row)]
                    if gene < 0 || v == 0 { continue }
                    if let last = cellGenes.last, last >= UInt32(gene) { ascending = false }
                    cellGenes.append(UInt32(gene))
                    cellValues.append(v)
                }
                if !cellGenes.isEmpty { try writer.write(cell: cell + j, genes: cellGenes, values: cellValues, ascending: ascending) }
            }
            cell += n
        }
        if previousEnd != Int64(entries) {
            throw indptr.fail("the last pointer is \(previousEnd), but there are \(entries) values")
        }
    }

    /// A matrix with one compressed slice per gene (h5ad CSC): every entry is held, then written by cell.
    func readSparseByGene(data: HDF5Dataset, indices: HDF5Dataset, indptr: HDF5Dataset) throws {
        guard cells < Int(UInt32.max) else { throw indptr.fail("\(cells) cells: too many") }
        let entries = data.shape[0]
        var pointers: [Int64] = []
        try indptr.integers(0, genes + 1, into: &pointers)
        if pointers[0] != 0 { throw indptr.fail("starts at \(pointers[0]), not 0") }
        for g in 0..<genes where pointers[g + 1] < pointers[g] || pointers[g + 1] > Int64(entries) {
            throw indptr.fail("entry \(g + 1): pointer \(pointers[g + 1]) after \(pointers[g]) (pointers must ascend within 0...\(entries))")
        }
        if pointers[genes] != Int64(entries) {
            throw indptr.fail("the last pointer is \(pointers[genes]), but there are \(entries) values")
        }
        var held = EntryBuffer()
        var blockIndices: [Int64] = []
        var blockValues: [Double] = []
        var gene = 0
        var start = 0
        while start < entries {
            let n = min(HDF5CountsReader.entryBlock, entries - start)
            try indices.integers(start, n, into: &blockIndices)
            try data.doubles(start, n, into: &blockValues)
            for k in 0..<n {
                let e = start + k
                while pointers[gene + 1] <= Int64(e) { gene += 1 }
                let c = blockIndices[k], v = blockValues[k]
                guard c >= 0 && c < Int64(cells) else { throw indices.fail("entry \(e): cell index \(c) outside 0..<\(cells)") }
                try check(v, data, "entry \(e)")
                let mapped = rowToGene[gene]
                if mapped < 0 || v == 0 { continue }
                held.append(gene: UInt32(mapped), cell: UInt32(c), value: v)
            }
            start += n
        }
        try held.writeByCell(cellCount: cells, to: writer)
    }

    /// A dense matrix, cells × genes (h5ad) or genes × cells (loom): streamed a block of cells at a time.
    func streamDense(_ matrix: HDF5Dataset, cellsAreRows: Bool) throws {
        let block = max(1, min(4096, HDF5CountsReader.denseBlock / max(genes, 1)))
        var values: [Double] = []
        var cellGenes: [UInt32] = []
        var cellValues: [Double] = []
        var cell = 0
        while cell < cells {
            let n = min(block, cells - cell)
            if cellsAreRows {
                try matrix.block(row: cell, rows: n, column: 0, columns: genes, into: &values)
            } else {
                try matrix.block(row: 0, rows: genes, column: cell, columns: n, into: &values)
            }
            for j in 0..<n {
                cellGenes.removeAll(keepingCapacity: true)
                cellValues.removeAll(keepingCapacity: true)
                for g in 0..<genes {
                    let v = cellsAreRows ? values[j * genes + g] : values[g * n + j]
                    if v == 0 { continue }
                    try check(v, matrix, "cell \(cell + j), gene \(g)")
                    let mapped = rowToGene[g]
                    if mapped < 0 { continue }
                    cellGenes.append(UInt32(mapped))
                    cellValues.append(v)
                }
                if !cellGenes.isEmpty { try writer.write(cell: cell + j, genes: cellGenes, values: cellValues, ascending: true) }
            }
            cell += n
        }
    }
}
