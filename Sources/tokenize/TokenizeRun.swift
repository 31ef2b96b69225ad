// TokenizeRun: one run of tokenize — find the input's files, read genes and vocabulary, write
// the HEAD, then hand the body to the matching reader.
//
// The input is recognised by what it is, not by its name: a directory is a 10x folder; a file
// (or standard input) whose first line starts with `%%MatrixMarket` is a MatrixMarket matrix;
// anything else is a dense table.

import Foundation
import Frames
import ToolKit

struct TokenizeRun {
    let input: String
    let settings: TokenizeSettings
    let output: OutputFile

    /// The files of a 10x directory, or the explicit --genes / --barcodes.
    struct TenxFiles {
        var matrix: String
        var genes: String?
        var barcodes: String?
        var format: String
    }

    func run() throws {
        var files = TenxFiles(matrix: input, genes: settings.genesPath, barcodes: settings.barcodesPath, format: "mtx")
        var isDirectory: ObjCBool = false
        if input != "-" && FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) && isDirectory.boolValue {
            files = try TokenizeRun.locate10x(directory: input, genes: settings.genesPath, barcodes: settings.barcodesPath)
        } else if input != "-" && !FileManager.default.fileExists(atPath: input) {
            throw ToolError.runtime("\(input): cannot open: No such file or directory")
        }
        let reader = settings.prefetch ? try ByteReader.openPrefetching(files.matrix) : try ByteReader.open(files.matrix)
        guard let first = try reader.nextLine().map({ Array($0) }) else {
            throw ToolError.data(reader.name, "empty file")
        }
        if first.starts(with: Array("%%".utf8)) || files.format.hasPrefix("10x") {
            try runMatrixMarket(reader: reader, banner: String(decoding: first, as: UTF8.self), files: files)
        } else {
            try runDense(reader: reader, header: first)
        }
    }

    /// Finds matrix, genes/features and barcodes in a 10x directory (v3 gzipped names first).
    static func locate10x(directory: String, genes: String?, barcodes: String?) throws -> TenxFiles {
        func find(_ names: [String]) -> String? {
            for n in names {
                let p = (directory as NSString).appendingPathComponent(n)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            return nil
        }
        guard let matrix = find(["matrix.mtx.gz", "matrix.mtx"]) else {
            throw ToolError.data(directory, "no matrix.mtx or matrix.mtx.gz in this 10x directory")
        }
        let geneFile = genes ?? find(["features.tsv.gz", "features.tsv", "genes.tsv", "genes.tsv.gz"])
        guard let geneFile else {
            throw ToolError.data(directory, "no features.tsv.gz or genes.tsv in this 10x directory (the gene list is missing)")
        }
        guard let barcodeFile = barcodes ?? find(["barcodes.tsv.gz", "barcodes.tsv"]) else {
            throw ToolError.data(directory, "no barcodes.tsv.gz or barcodes.tsv in this 10x directory (the cell barcodes are missing)")
        }
        let v3 = (geneFile as NSString).lastPathComponent.hasPrefix("features")
        return TenxFiles(matrix: matrix, genes: geneFile, barcodes: barcodeFile, format: v3 ? "10x-v3" : "10x-v2")
    }

    // MARK: - MatrixMarket

    func runMatrixMarket(reader: ByteReader, banner: String, files: TenxFiles) throws {
        let header = try MatrixMarketHeader.read(banner: banner, from: reader)
        guard let genesPath = files.genes else {
            throw ToolError.usage("a lone MatrixMarket matrix needs --genes FILE (and --barcodes FILE)")
        }
        guard let barcodesPath = files.barcodes else {
            throw ToolError.usage("a lone MatrixMarket matrix needs --barcodes FILE (and --genes FILE)")
        }
        guard FileManager.default.fileExists(atPath: genesPath) else { throw ToolError.runtime("\(genesPath): cannot open: No such file or directory") }
        guard FileManager.default.fileExists(atPath: barcodesPath) else { throw ToolError.runtime("\(barcodesPath): cannot open: No such file or directory") }
        let table = try GeneTable.read(path: genesPath, featureType: settings.featureType, geneKey: settings.geneKey)
        let geneRows = table.rowToGene.count

        let transposed: Bool
        switch settings.layout {
        case .genesByCells?: transposed = false
        case .cellsByGenes?: transposed = true
        case nil:
            if geneRows == header.rows || files.format.hasPrefix("10x") {
                transposed = false
            } else if geneRows == header.columns {
                transposed = true
                Diagnostics.note("\(reader.name): rows are cells and columns genes (the gene list matches the columns)")
            } else {
                transposed = false
            }
        }
        let geneAxis = transposed ? header.columns : header.rows
        if geneRows != geneAxis {
            throw ToolError.data(genesPath, "\(geneRows) genes, but the matrix \(reader.name) has \(geneAxis) \(transposed ? "columns" : "rows") of genes")
        }
        let cells = transposed ? header.rows : header.columns
        let barcodes = try BarcodeFile(path: barcodesPath, expected: cells)
        let layout: Layout = transposed ? .cellsByGenes : .genesByCells
        let (vocab, writer) = try start(table: table, format: files.format, layout: layout)
        // With threads, cells are normalised and written on a second thread while this one parses.
        let cellWriter = makeCellWriter(writer: writer, vocab: vocab, barcodes: barcodes, cells: cells,
                                        threaded: settings.prefetch)
        let body = MatrixMarketReader(reader: reader, header: header, transposed: transposed, axisToGene: table.rowToGene,
                                      writer: cellWriter, forceBuffer: settings.forceBuffer)
        do {
            try body.run()
        } catch {
            cellWriter.cancel()
            throw error
        }
    }

    // MARK: - Dense tables

    func runDense(reader: ByteReader, header: [UInt8]) throws {
        if settings.genesPath != nil || settings.barcodesPath != nil {
            throw ToolError.usage("--genes and --barcodes apply to a MatrixMarket matrix; the table \(reader.name) names its genes and cells itself")
        }
        let table = try DenseTableReader(reader: reader, headerLine: header)
        let format = table.delimiter == 0x09 ? "tsv" : "csv"
        let layout: Layout
        if let chosen = settings.layout {
            layout = chosen
        } else {
            let vocabulary = try settings.vocabPath.map { try ByteReader.open($0).readAllLines() } ?? []
            let (detected, why) = table.detectLayout(vocabulary: vocabulary)
            layout = detected
            Diagnostics.note("\(reader.name): \(detected.rawValue) (\(why)); --layout overrides")
        }
        switch layout {
        case .cellsByGenes:
            let genes = try GeneTable.fromNames(table.columns, geneKey: settings.geneKey, source: reader.name)
            let (vocab, writer) = try start(table: genes, format: format, layout: layout)
            let barcodes = PushedBarcode()
            let cellWriter = makeCellWriter(writer: writer, vocab: vocab, barcodes: barcodes, cells: nil)
            try table.forEachRow { index, name, cols, vals in
                barcodes.pending = name
                try cellWriter.write(cell: index, genes: cols, values: vals, ascending: true)
            }
            try cellWriter.finish(cells: cellWriter.nextCell)
        case .genesByCells:
            var names: [String] = []
            var held = EntryBuffer()
            try table.forEachRow { index, name, cols, vals in
                names.append(name)
                for (c, v) in zip(cols, vals) { held.append(gene: UInt32(index), cell: c, value: v) }
            }
            let genes = try GeneTable.fromNames(names, geneKey: settings.geneKey, source: reader.name)
            let (vocab, writer) = try start(table: genes, format: format, layout: layout)
            let cellWriter = makeCellWriter(writer: writer, vocab: vocab, barcodes: BarcodeList(table.columns), cells: table.columns.count)
            try held.writeByCell(cellCount: table.columns.count, to: cellWriter)
            try cellWriter.finish(cells: table.columns.count)
        }
    }

    // MARK: - HEAD

    /// Maps the genes onto the vocabulary, reports coverage and duplicates, and writes the HEAD.
    func start(table: GeneTable, format: String, layout: Layout) throws -> (VocabularyMap, FrameWriter) {
        let vocab: VocabularyMap
        if let path = settings.vocabPath {
            vocab = try VocabularyMap.build(path: path, genes: table, matchCase: settings.matchCase)
            vocab.report(path: path, genes: table, matchCase: settings.matchCase)
        } else {
            vocab = VocabularyMap.none(geneCount: table.genes.count)
        }
        if !table.duplicates.isEmpty {
            let shown = table.duplicates.prefix(3).map { "\($0.symbol) ×\($0.count)" }.joined(separator: ", ")
            Diagnostics.warning("\(table.duplicates.count) gene symbols occur more than once (\(shown)\(table.duplicates.count > 3 ? ", …" : "")): "
                + "later copies renamed SYMBOL-1, SYMBOL-2, …; only the first maps to the vocabulary")
        }
        if table.droppedFeatures > 0 {
            Diagnostics.note("\(table.droppedFeatures) features not of type '\(settings.featureType)' dropped")
        }
        var head = StreamHeader(content: .cell, genes: table.genes, vocabulary: vocab.vocabulary, vocabularyIndex: vocab.index)
        head.setMetadata("input", input == "-" ? "-" : input)
        head.setMetadata("input_format", format)
        head.setMetadata("layout", layout.rawValue)
        head.setMetadata("input_scale", settings.inputScale.rawValue)
        if settings.inputScale == .counts {
            head.setMetadata("normalisation", "log2(1 + count * target_sum / total)")
            head.setMetadata("target_sum", TokenizeRun.number(settings.targetSum))
            head.setMetadata("total_over", settings.vocabPath == nil ? "all genes" : "vocabulary genes")
        } else {
            head.setMetadata("normalisation", "none")
        }
        head.setMetadata("bins", String(settings.bins))
        head.setMetadata("token", "min(floor(value), bins)")
        head.setMetadata("min_genes", String(settings.minGenes))
        head.setMetadata("gene_key", settings.geneKey.rawValue)
        if let shard = settings.shard { head.setMetadata("shard", shard.description) }
        if let v = settings.vocabPath {
            head.setMetadata("vocab", v)
            head.setMetadata("match_case", settings.matchCase.rawValue)
            head.setMetadata("vocab_genes_present", String(vocab.mappedGenes))
        }
        if format == "10x-v3" { head.setMetadata("feature_type", settings.featureType) }
        head.appendProvenance()
        return (vocab, try FrameWriter(output, header: head))
    }

    func makeCellWriter(writer: FrameWriter, vocab: VocabularyMap, barcodes: BarcodeSource, cells: Int?,
                        threaded: Bool = false) -> CellWriter {
        let normaliser = CellNormaliser(inTotal: vocab.inTotal, targetSum: settings.targetSum, bins: settings.bins,
                                        scale: settings.inputScale, keepCounts: settings.keepCounts)
        return CellWriter(writer: writer, normaliser: normaliser, barcodes: barcodes, minGenes: settings.minGenes,
                          totalCells: cells, shard: settings.shard, threaded: threaded)
    }

    /// A number for metadata: integers without a fraction ("10000"), others as Swift prints them.
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}

/// The barcode of the row being written (a cells-by-genes table names each cell in its row).
final class PushedBarcode: BarcodeSource {
    var pending: String?
    let scratch = BarcodeBytes()
    func nextBytes() throws -> UnsafeBufferPointer<UInt8>? {
        defer { pending = nil }
        return pending.map { scratch.bytes(of: $0) }
    }
    func finish(cells: Int) throws {}
}
