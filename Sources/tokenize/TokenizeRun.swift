// TokenizeRun: one run of tokenize — find the input's files, read genes and vocabulary, write
// the HEAD, then hand the body to the matching reader.
//
// The input is recognised by what it is, not by its name: a directory is a 10x folder; a file
// (or standard input) whose first line starts with `%%MatrixMarket` is a MatrixMarket matrix;
// an HDF5 file (by its signature) is AnnData, loom or 10x .h5 (TokenizeRun+HDF5); anything
// else is a dense table.

import Foundation
import Frames
import ToolKit

struct TokenizeRun {
    let input: String
    let settings: TokenizeSettings
    let output: OutputFile
    var hdf5 = HDF5Choices()

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
        if input != "-" && !isDirectory.boolValue && HDF5Signature.matches(path: input) { return try runHDF5() }
        if hdf5.isSet { throw ToolError.usage("--layer and --var-column apply to HDF5 inputs (.h5ad, .loom, 10x .h5) only") }
        let reader = settings.prefetch ? try ByteReader.openPrefetching(files.matrix) : try ByteReader.open(files.matrix)
        if try reader.peek(8).starts(with: HDF5Signature.bytes.prefix(4)) {
            throw ToolError.data(reader.name, "an HDF5 file: give its path (HDF5 cannot be read from a pipe)")
        }
        try reader.refuseBinary("a MatrixMarket matrix or a CSV/TSV table")
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
        let vocab = try mapVocabulary(table)
        var statistics: GeneStatistics?
        if settings.topVariable != nil {
            // First pass: the genes' statistics, from the same file read again.
            try refuseStandardInput()
            let again = try ByteReader.open(files.matrix)
            let banner = try again.nextLine().map { String(decoding: $0, as: UTF8.self) } ?? ""
            let header2 = try MatrixMarketHeader.read(banner: banner, from: again)
            let (stats, statsWriter) = makeStatisticsWriter(table: table, vocab: vocab)
            try MatrixMarketReader(reader: again, header: header2, transposed: transposed, axisToGene: table.rowToGene,
                                   writer: statsWriter, forceBuffer: settings.forceBuffer).run()
            statistics = stats
        }
        let (selection, writer) = try start(table: table, vocab: vocab, statistics: statistics, format: files.format, layout: layout, cells: cells)
        // With threads, cells are normalised and written on a second thread while this one parses.
        let cellWriter = makeCellWriter(writer: writer, vocab: vocab, selection: selection, barcodes: barcodes, cells: cells,
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
            throw ToolError.usage("\(reader.name) is a dense table, which names its genes and cells itself: --genes and --barcodes "
                + "apply to a MatrixMarket matrix only (to keep some genes, use --keep-genes FILE)")
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
            let vocab = try mapVocabulary(genes)
            var statistics: GeneStatistics?
            if settings.topVariable != nil {
                // First pass: the genes' statistics, from the same file read again.
                try refuseStandardInput()
                let again = try ByteReader.open(input)
                let line = try again.nextLine().map { Array($0) } ?? []
                let (stats, statsWriter) = makeStatisticsWriter(table: genes, vocab: vocab)
                try DenseTableReader(reader: again, headerLine: line).forEachRow { index, _, cols, vals in
                    try statsWriter.write(cell: index, genes: cols, values: vals, ascending: true)
                }
                try statsWriter.finish(cells: statsWriter.nextCell)
                statistics = stats
            }
            let (selection, writer) = try start(table: genes, vocab: vocab, statistics: statistics, format: format, layout: layout,
                                                cells: nil)
            let barcodes = PushedBarcode()
            let cellWriter = makeCellWriter(writer: writer, vocab: vocab, selection: selection, barcodes: barcodes, cells: nil)
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
            let vocab = try mapVocabulary(genes)
            var statistics: GeneStatistics?
            if settings.topVariable != nil {
                // The table is held in memory: its first pass reads the held entries.
                let (stats, statsWriter) = makeStatisticsWriter(table: genes, vocab: vocab, cells: table.columns.count)
                try held.writeByCell(cellCount: table.columns.count, to: statsWriter)
                try statsWriter.finish(cells: table.columns.count)
                statistics = stats
            }
            let (selection, writer) = try start(table: genes, vocab: vocab, statistics: statistics, format: format, layout: layout,
                                                cells: table.columns.count)
            let cellWriter = makeCellWriter(writer: writer, vocab: vocab, selection: selection, barcodes: BarcodeList(table.columns),
                                            cells: table.columns.count)
            try held.writeByCell(cellCount: table.columns.count, to: cellWriter)
            try cellWriter.finish(cells: table.columns.count)
        }
    }

    // MARK: - HEAD

    /// Maps the genes onto the vocabulary (by name, or through the orthologs for --species
    /// mouse) and reports coverage and duplicates.
    func mapVocabulary(_ table: GeneTable) throws -> VocabularyMap {
        let vocab: VocabularyMap
        if let path = settings.vocabPath, let orthologPath = settings.orthologsPath {
            let orthologs = try OrthologTable.read(path: orthologPath)
            let (map, how) = try VocabularyMap.buildMouse(path: path, genes: table, orthologs: orthologs)
            vocab = map
            Diagnostics.note("species mouse: \(how.byOrtholog) of \(table.genes.count) input genes mapped through the orthologs "
                + "(\(orthologPath)), \(how.byName) more by name ignoring case; \(how.notInTable) have no ortholog, "
                + "\(how.orthologsOutside) only orthologs outside the vocabulary, \(how.orthologsTaken) only orthologs taken by another gene")
            vocab.report(path: path, genes: table, matchCase: .insensitive)
            if vocab.mappedGenes == 0 {
                throw ToolError.data(settings.inputName, "no input gene maps onto the vocabulary \(path) through the orthologs "
                    + "or by name: no token would carry information (are these mouse gene symbols? see --gene-key)")
            }
        } else if let path = settings.vocabPath {
            vocab = try VocabularyMap.build(path: path, genes: table, matchCase: settings.matchCase)
            vocab.report(path: path, genes: table, matchCase: settings.matchCase)
        } else {
            vocab = VocabularyMap.none(geneCount: table.genes.count)
        }
        if !table.duplicates.isEmpty {
            let shown = table.duplicates.prefix(3).map { "\(excerpt($0.symbol)) ×\($0.count)" }.joined(separator: ", ")
            Diagnostics.warning("\(table.duplicates.count) gene symbols occur more than once (\(shown)\(table.duplicates.count > 3 ? ", …" : "")): "
                + "later copies renamed SYMBOL-1, SYMBOL-2, …; only the first maps to the vocabulary")
        }
        if table.droppedFeatures > 0 {
            Diagnostics.note("\(table.droppedFeatures) features not of type '\(settings.featureType)' dropped")
        }
        return vocab
    }

    /// A second pass needs the input again: standard input cannot be read twice.
    func refuseStandardInput() throws {
        if input == "-" {
            throw ToolError.usage("--top-variable reads the input twice (statistics, then cells), which standard input "
                + "cannot be: save it to a file first (a genes-by-cells table, held in memory, is the exception)")
        }
    }

    /// A CellWriter for the statistics pass of --top-variable: every cell (no shard) that
    /// --min-genes keeps, into the returned statistics; nothing is written.
    func makeStatisticsWriter(table: GeneTable, vocab: VocabularyMap, cells: Int? = nil) -> (GeneStatistics, CellWriter) {
        let statistics = GeneStatistics(geneCount: table.genes.count, targetSum: settings.targetSum, scale: settings.inputScale)
        let normaliser = CellNormaliser(inTotal: vocab.inTotal, targetSum: settings.targetSum, bins: settings.bins,
                                        scale: settings.inputScale, keepCounts: false)
        let writer = CellWriter(writer: nil, normaliser: normaliser, barcodes: NoBarcodes(), minGenes: settings.minGenes,
                                totalCells: cells)
        writer.statistics = statistics
        return (statistics, writer)
    }

    /// Chooses the dataset genes (--keep-genes, --tfs, --top-variable) and writes the HEAD.
    /// - Parameter cells: the input's cell count when it is known before the cells are read
    ///   (recorded as `input_cells`, this shard's share with --shard, so embed can show a total).
    func start(table: GeneTable, vocab: VocabularyMap, statistics: GeneStatistics?, format: String,
               layout: Layout, cells: Int?) throws -> (GeneSelection?, FrameWriter) {
        var selection: GeneSelection?
        var genes = table.genes
        var vocabularyIndex = vocab.index
        if settings.selects {
            let chosen = try GeneSelection.make(settings: settings, genes: table, statistics: statistics)
            Diagnostics.note("dataset genes: \(chosen.summary)")
            genes = chosen.kept.map { table.genes[$0] }
            if !vocabularyIndex.isEmpty { vocabularyIndex = chosen.kept.map { vocab.index[$0] } }
            selection = chosen
        }
        var head = StreamHeader(content: .cell, genes: genes, vocabulary: vocab.vocabulary, vocabularyIndex: vocabularyIndex)
        head.setMetadata("input", input == "-" ? "-" : input)
        head.setMetadata("input_format", format)
        head.setMetadata("layout", layout.rawValue)
        head.setMetadata("input_scale", settings.inputScale.rawValue)
        switch settings.inputScale {
        case .counts:
            head.setMetadata("normalisation", "log2(1 + count * target_sum / total)")
            head.setMetadata("target_sum", TokenizeRun.number(settings.targetSum))
            head.setMetadata("total_over", settings.vocabPath == nil ? "all genes" : "vocabulary genes")
        case .log2:
            head.setMetadata("normalisation", "none")
        case .ln:
            head.setMetadata("normalisation", "value * log2(e)")
        }
        head.setMetadata("bins", String(settings.bins))
        head.setMetadata("token", "min(floor(value), bins)")
        head.setMetadata("min_genes", String(settings.minGenes))
        head.setMetadata("gene_key", settings.geneKey.rawValue)
        head.setMetadata("species", settings.species.rawValue)
        if let shard = settings.shard { head.setMetadata("shard", shard.description) }
        if let cells { head.setMetadata("input_cells", String(settings.shard?.cells(of: cells) ?? cells)) }
        if let v = settings.vocabPath {
            head.setMetadata("vocab", v)
            if let orthologs = settings.orthologsPath {
                head.setMetadata("match_case", "orthologs")
                head.setMetadata("orthologs", orthologs)
            } else {
                head.setMetadata("match_case", settings.matchCase.rawValue)
            }
            head.setMetadata("vocab_genes_present", String(vocabularyIndex.filter { $0 >= 0 }.count))
        }
        if let selection {
            head.setMetadata("input_genes", String(table.genes.count))
            head.setMetadata("selection", selection.summary)
            if let k = settings.keepGenesPath { head.setMetadata("keep_genes", k) }
            if let t = settings.tfsPath { head.setMetadata("tfs", t) }
            if let n = settings.topVariable {
                head.setMetadata("top_variable", String(n))
                head.setMetadata("top_variable_on", settings.inputScale == .counts
                    ? "ln(1 + count * target_sum / total over all genes), seurat dispersion" : "ln(1 + x), seurat dispersion")
            }
        }
        if format.hasPrefix("10x-v3") { head.setMetadata("feature_type", settings.featureType) }
        head.appendProvenance()
        return (selection, try FrameWriter(output, header: head))
    }

    func makeCellWriter(writer: FrameWriter, vocab: VocabularyMap, selection: GeneSelection?, barcodes: BarcodeSource, cells: Int?,
                        threaded: Bool = false) -> CellWriter {
        let normaliser = CellNormaliser(inTotal: vocab.inTotal, targetSum: settings.targetSum, bins: settings.bins,
                                        scale: settings.inputScale, keepCounts: settings.keepCounts)
        let cellWriter = CellWriter(writer: writer, normaliser: normaliser, barcodes: barcodes, minGenes: settings.minGenes,
                                    totalCells: cells, shard: settings.shard, threaded: threaded)
        cellWriter.inputName = settings.inputName
        cellWriter.outputIndex = selection?.outputIndex
        cellWriter.measureCoverage = settings.vocabPath != nil && settings.inputScale == .counts
        cellWriter.requireCellsWithTotal = settings.orthologsPath != nil && settings.inputScale == .counts
        return cellWriter
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
