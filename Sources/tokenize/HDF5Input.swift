// HDF5Input: where the counts, genes and barcodes are in an HDF5 file — AnnData `.h5ad`, loom,
// or Cell Ranger's `.h5` (v3 `/matrix`, v2 `/GENOME`) — recognised by the file's contents.
//
//   h5ad   /X (or --layer: /layers/NAME, /raw/X): cells × genes, CSR or CSC (`encoding-type`
//          csr_matrix / csc_matrix, or the older `h5sparse_format`) or a dense 2-D dataset;
//          genes /var/<index> (the `_index` attribute names the column) or --var-column;
//          barcodes /obs/<index>. Columns are string arrays (variable or fixed length) or
//          categoricals (codes + categories).
//   loom   /matrix (or /layers/NAME): genes × cells, dense; /row_attrs/Gene (or --var-column),
//          /row_attrs/Accession as ids when present; /col_attrs/CellID.
//   10x v3 /matrix/{data,indices,indptr,shape,barcodes}, /matrix/features/{id,name,feature_type}:
//          CSC with a column per cell.
//   10x v2 /GENOME/{data,indices,indptr,shape,barcodes,genes,gene_names}.
//
// Nothing here reads a whole matrix: HDF5CountsReader streams it.

import ArgumentParser
import CHDF5
import Foundation
import ToolKit

/// The command line's HDF5 options, grouped so that Tokenize holds them as one value.
struct HDF5Options: ParsableArguments {
    @Option(help: ArgumentHelp("HDF5 input: the matrix to read instead of X (h5ad) or /matrix (loom): a layer name (layers/NAME) or a path such as raw/X.", valueName: "NAME"))
    var layer: String?

    @Option(help: ArgumentHelp("HDF5 input: the var column (h5ad) or row attribute (loom) holding the gene names, e.g. gene_symbols.", valueName: "NAME"))
    var varColumn: String?

    var choices: HDF5Choices { HDF5Choices(layer: layer, varColumn: varColumn) }
}

/// The HDF5 options' values.
struct HDF5Choices {
    var layer: String?
    var varColumn: String?
    var isSet: Bool { layer != nil || varColumn != nil }
}

/// A column of names: a string dataset, or a categorical (integer codes into string categories).
final class HDF5StringColumn {
    let file: HDF5File
    let path: String
    let count: Int
    private let strings: HDF5Dataset?
    private let codes: HDF5Dataset?
    private let categories: [String]

    /// The column at `path`: a 1-D string dataset or an AnnData categorical group.
    init(_ file: HDF5File, _ path: String) throws {
        self.file = file
        self.path = path
        switch file.kind(path) {
        case nil:
            throw file.fail(path, "missing")
        case .dataset?:
            let d = try HDF5Dataset(file, path)
            guard d.typeClass == H5T_STRING else {
                throw d.fail("holds \(d.typeDescription), not names")
            }
            try d.requireVector("a column of names")
            strings = d
            codes = nil
            categories = []
            count = d.shape[0]
        case .group?:
            let encoding = try file.stringAttribute("encoding-type", of: path)
            guard encoding == "categorical" else {
                throw file.fail(path, "a group of encoding '\(excerpt(encoding ?? "none"))', not a column of names")
            }
            let c = try HDF5Dataset(file, path + "/codes")
            guard c.typeClass == H5T_INTEGER else { throw c.fail("categorical codes are \(c.typeDescription), not integers") }
            try c.requireVector("categorical codes")
            let cat = try HDF5Dataset(file, path + "/categories")
            try cat.requireVector("categories")
            guard cat.shape[0] <= HDF5File.maxNames else { throw cat.fail("\(cat.shape[0]) categories: too many") }
            categories = try cat.strings(0, cat.shape[0])
            strings = nil
            codes = c
            count = c.shape[0]
        case .other?:
            throw file.fail(path, "neither a dataset nor a group")
        }
    }

    /// Names [start, start + n).
    func names(_ start: Int, _ n: Int) throws -> [String] {
        if let strings { return try strings.strings(start, n) }
        var raw: [Int64] = []
        try codes!.integers(start, n, into: &raw)
        return try raw.enumerated().map { i, code in
            guard code >= 0 && code < categories.count else {
                throw file.fail(path, "entry \(start + i): category code \(code) is missing or outside 0..<\(categories.count)")
            }
            return categories[Int(code)]
        }
    }

    /// Every name (a gene list; bounded by HDF5File.maxNames).
    func all() throws -> [String] {
        guard count <= HDF5File.maxNames else { throw file.fail(path, "\(count) names: too many") }
        return try names(0, count)
    }
}

/// Barcodes read from a column a block at a time, in step with the cells.
final class HDF5Barcodes: BarcodeSource {
    let column: HDF5StringColumn
    private var block: [String] = []
    private var blockStart = 0
    private var position = 0
    private let scratch = BarcodeBytes()
    static let blockSize = 4096

    init(_ column: HDF5StringColumn) { self.column = column }

    func nextBytes() throws -> UnsafeBufferPointer<UInt8>? {
        guard position < column.count else { return nil }
        if position >= blockStart + block.count {
            blockStart = position
            block = try column.names(position, min(HDF5Barcodes.blockSize, column.count - position))
        }
        let barcode = block[position - blockStart]
        if barcode.isEmpty { throw column.file.fail(column.path, "entry \(position): empty barcode") }
        position += 1
        return scratch.bytes(of: barcode)
    }

    func finish(cells: Int) throws {}
}

/// Where a file's counts are and how they are stored.
struct HDF5Layout {
    enum Storage {
        /// Compressed sparse with one major slice per cell (h5ad CSR, 10x): streamed.
        case sparseByCell(data: HDF5Dataset, indices: HDF5Dataset, indptr: HDF5Dataset)
        /// Compressed sparse with one major slice per gene (h5ad CSC): held in memory.
        case sparseByGene(data: HDF5Dataset, indices: HDF5Dataset, indptr: HDF5Dataset)
        /// A dense 2-D dataset, cells × genes (h5ad) or genes × cells (loom): streamed.
        case dense(HDF5Dataset, cellsAreRows: Bool)
    }

    var format: String
    var matrixPath: String
    var storage: Storage
    var genes: Int
    var cells: Int
    var symbols: [String]
    var ids: [String]?
    var featureTypes: [String]?
    var barcodes: HDF5StringColumn

    /// Finds the counts, genes and barcodes of `file`.
    static func locate(_ file: HDF5File, choices: HDF5Choices) throws -> HDF5Layout {
        if file.kind("matrix") == .dataset { return try loom(file, choices) }
        if file.kind("matrix") == .group { return try tenx(file, group: "matrix", v3: true, choices) }
        let rootEncoding = try file.stringAttribute("encoding-type", of: "/")
        if file.exists("X") || rootEncoding == "anndata" {
            return try anndata(file, choices)
        }
        let genomes = try file.members(of: "/").filter { file.kind($0) == .group && file.exists("\($0)/indptr") && file.exists("\($0)/barcodes") }
        if genomes.count == 1 { return try tenx(file, group: genomes[0], v3: false, choices) }
        if genomes.count > 1 {
            throw ToolError.data(file.name, "a 10x v2 file with several genomes (\(genomes.joined(separator: ", "))): not supported")
        }
        throw ToolError.data(file.name, "an HDF5 file, but not one tokenize reads: no AnnData /X, loom /matrix dataset, "
            + "10x v3 /matrix group or 10x v2 /GENOME group")
    }

    // MARK: - AnnData

    static func anndata(_ file: HDF5File, _ choices: HDF5Choices) throws -> HDF5Layout {
        var matrixPath = "X"
        if let layer = choices.layer {
            matrixPath = layer.contains("/") ? String(layer.drop { $0 == "/" }) : "layers/\(layer)"
        }
        guard file.exists(matrixPath) else {
            var available = file.exists("X") ? ["X"] : []
            if file.kind("layers") == .group { available += try file.members(of: "layers").map { "layers/\($0)" } }
            if file.exists("raw/X") { available.append("raw/X") }
            let what = choices.layer == nil ? "missing (no count matrix)" : "missing (--layer)"
            throw file.fail(matrixPath, "\(what); the file has \(available.isEmpty ? "none" : available.joined(separator: ", "))")
        }
        let varGroup = matrixPath.hasPrefix("raw/") ? "raw/var" : "var"
        let symbols: [String], ids: [String]?
        let varIndex = try indexColumn(file, varGroup)
        if let column = choices.varColumn {
            guard file.exists("\(varGroup)/\(column)") else {
                let columns = file.kind(varGroup) == .group ? try file.members(of: varGroup).filter { !$0.hasPrefix("__") } : []
                throw file.fail("\(varGroup)/\(column)", "missing (--var-column); \(varGroup) has \(columns.joined(separator: ", "))")
            }
            symbols = try HDF5StringColumn(file, "\(varGroup)/\(column)").all()
            ids = try HDF5StringColumn(file, "\(varGroup)/\(varIndex)").all()
        } else {
            symbols = try HDF5StringColumn(file, "\(varGroup)/\(varIndex)").all()
            ids = file.exists("\(varGroup)/gene_ids") && varIndex != "gene_ids"
                ? try HDF5StringColumn(file, "\(varGroup)/gene_ids").all() : nil
        }
        let barcodes = try HDF5StringColumn(file, "obs/\(try indexColumn(file, "obs"))")

        let storage: Storage
        let shape: [Int]
        switch file.kind(matrixPath) {
        case .dataset?:
            let d = try HDF5Dataset(file, matrixPath)
            try requireCounts(d, file: file)
            guard d.shape.count == 2 else { throw d.fail("a dense matrix of \(d.shape.count) dimensions, expected 2 (cells × genes)") }
            storage = .dense(d, cellsAreRows: true)
            shape = d.shape
        case .group?:
            let encoding = try file.stringAttribute("encoding-type", of: matrixPath)
                ?? (try file.stringAttribute("h5sparse_format", of: matrixPath)).map { $0 + "_matrix" }
            guard let raw = try file.integerAttribute("shape", of: matrixPath) ?? file.integerAttribute("h5sparse_shape", of: matrixPath),
                  raw.count == 2, raw.allSatisfy({ $0 >= 0 && $0 < Int64(Int32.max) }) else {
                if encoding != "csr_matrix" && encoding != "csc_matrix" { throw unsupported(file, matrixPath, encoding) }
                throw file.fail(matrixPath, "no valid 'shape' attribute (two dimensions)")
            }
            shape = raw.map { Int($0) }
            let (data, indices, indptr) = try sparseParts(file, matrixPath)
            switch encoding {
            case "csr_matrix":
                try checkSparse(data: data, indices: indices, indptr: indptr, major: shape[0])
                storage = .sparseByCell(data: data, indices: indices, indptr: indptr)
            case "csc_matrix":
                try checkSparse(data: data, indices: indices, indptr: indptr, major: shape[1])
                storage = .sparseByGene(data: data, indices: indices, indptr: indptr)
            default:
                throw unsupported(file, matrixPath, encoding)
            }
        default:
            throw file.fail(matrixPath, "neither a dataset nor a group")
        }
        if shape[1] != symbols.count {
            throw file.fail(matrixPath, "\(shape[1]) genes (columns), but \(varGroup) has \(symbols.count)")
        }
        if shape[0] != barcodes.count {
            throw file.fail(matrixPath, "\(shape[0]) cells (rows), but obs has \(barcodes.count)")
        }
        return HDF5Layout(format: "h5ad", matrixPath: matrixPath, storage: storage, genes: shape[1], cells: shape[0],
                          symbols: symbols, ids: ids, featureTypes: nil, barcodes: barcodes)
    }

    /// The column of a dataframe group that holds its index (the `_index` attribute).
    static func indexColumn(_ file: HDF5File, _ group: String) throws -> String {
        switch file.kind(group) {
        case .group?: return try file.stringAttribute("_index", of: group) ?? "_index"
        case .dataset?:
            throw file.fail(group, "a compound dataset (the layout of anndata before 0.7): not supported; write the file again with a newer anndata")
        default:
            throw file.fail(group, "missing")
        }
    }

    static func unsupported(_ file: HDF5File, _ path: String, _ encoding: String?) -> ToolError {
        switch encoding {
        case "categorical"?: return file.fail(path, "categorical data, not a count matrix")
        case "string-array"?: return file.fail(path, "an array of strings, not a count matrix")
        case let e?: return file.fail(path, "encoding '\(excerpt(e))' is not supported (expected csr_matrix, csc_matrix or a dense array)")
        case nil: return file.fail(path, "a group without an encoding-type (expected a csr_matrix or csc_matrix)")
        }
    }

    // MARK: - loom

    static func loom(_ file: HDF5File, _ choices: HDF5Choices) throws -> HDF5Layout {
        var matrixPath = "matrix"
        if let layer = choices.layer {
            matrixPath = layer.contains("/") ? String(layer.drop { $0 == "/" }) : "layers/\(layer)"
            guard file.kind(matrixPath) == .dataset else {
                let layers = file.kind("layers") == .group ? try file.members(of: "layers") : []
                throw file.fail(matrixPath, "missing (--layer); the file's layers: \(layers.isEmpty ? "none" : layers.joined(separator: ", "))")
            }
        }
        let d = try HDF5Dataset(file, matrixPath)
        try requireCounts(d, file: file)
        guard d.shape.count == 2 else { throw d.fail("\(d.shape.count) dimensions, expected 2 (genes × cells)") }
        let geneColumn = "row_attrs/" + (choices.varColumn ?? "Gene")
        guard file.exists(geneColumn) else {
            let attrs = file.kind("row_attrs") == .group ? try file.members(of: "row_attrs") : []
            throw file.fail(geneColumn, "missing (the gene names\(choices.varColumn == nil ? "; --var-column names another row attribute" : "")); row_attrs has \(attrs.joined(separator: ", "))")
        }
        let symbols = try HDF5StringColumn(file, geneColumn).all()
        let ids = file.exists("row_attrs/Accession") && geneColumn != "row_attrs/Accession"
            ? try HDF5StringColumn(file, "row_attrs/Accession").all() : nil
        guard file.exists("col_attrs/CellID") else { throw file.fail("col_attrs/CellID", "missing (the cell barcodes)") }
        let barcodes = try HDF5StringColumn(file, "col_attrs/CellID")
        if d.shape[0] != symbols.count { throw d.fail("\(d.shape[0]) genes (rows), but \(geneColumn) has \(symbols.count)") }
        if d.shape[1] != barcodes.count { throw d.fail("\(d.shape[1]) cells (columns), but col_attrs/CellID has \(barcodes.count)") }
        if let ids, ids.count != symbols.count { throw file.fail("row_attrs/Accession", "\(ids.count) values, but \(geneColumn) has \(symbols.count)") }
        return HDF5Layout(format: "loom", matrixPath: matrixPath, storage: .dense(d, cellsAreRows: false), genes: d.shape[0],
                          cells: d.shape[1], symbols: symbols, ids: ids, featureTypes: nil, barcodes: barcodes)
    }

    // MARK: - 10x

    static func tenx(_ file: HDF5File, group: String, v3: Bool, _ choices: HDF5Choices) throws -> HDF5Layout {
        if choices.isSet {
            throw ToolError.usage("--layer and --var-column apply to AnnData and loom files; \(file.name) is a 10x .h5 (--gene-key chooses symbol or id)")
        }
        let shapeSet = try HDF5Dataset(file, "\(group)/shape")
        guard shapeSet.isNumeric, shapeSet.shape == [2] else { throw shapeSet.fail("expected two integers (genes, cells)") }
        var raw: [Int64] = []
        try shapeSet.integers(0, 2, into: &raw)
        guard raw.allSatisfy({ $0 >= 0 && $0 < Int64(Int32.max) }) else { throw shapeSet.fail("invalid shape \(raw)") }
        let (genes, cells) = (Int(raw[0]), Int(raw[1]))
        let (data, indices, indptr) = try sparseParts(file, group)
        try checkSparse(data: data, indices: indices, indptr: indptr, major: cells)
        let symbols: [String], ids: [String], types: [String]?
        if v3 {
            ids = try HDF5StringColumn(file, "\(group)/features/id").all()
            symbols = try HDF5StringColumn(file, "\(group)/features/name").all()
            types = try HDF5StringColumn(file, "\(group)/features/feature_type").all()
        } else {
            ids = try HDF5StringColumn(file, "\(group)/genes").all()
            symbols = try HDF5StringColumn(file, "\(group)/gene_names").all()
            types = nil
        }
        let barcodes = try HDF5StringColumn(file, "\(group)/barcodes")
        for (what, n) in [("ids", ids.count), ("names", symbols.count), ("feature types", types?.count ?? genes)] where n != genes {
            throw file.fail(group, "\(n) gene \(what), but the matrix has \(genes) genes")
        }
        if barcodes.count != cells { throw file.fail("\(group)/barcodes", "\(barcodes.count) barcodes, but the matrix has \(cells) cells") }
        return HDF5Layout(format: v3 ? "10x-v3-h5" : "10x-v2-h5", matrixPath: group, storage: .sparseByCell(data: data, indices: indices, indptr: indptr),
                          genes: genes, cells: cells, symbols: symbols, ids: ids, featureTypes: types, barcodes: barcodes)
    }

    // MARK: - Checks

    static func requireCounts(_ d: HDF5Dataset, file: HDF5File) throws {
        if let encoding = try file.stringAttribute("encoding-type", of: d.path), encoding == "string-array" || encoding == "categorical" {
            throw unsupported(file, d.path, encoding)
        }
        guard d.isNumeric else { throw d.fail("holds \(d.typeDescription), not counts") }
    }

    static func sparseParts(_ file: HDF5File, _ group: String) throws -> (HDF5Dataset, HDF5Dataset, HDF5Dataset) {
        for part in ["data", "indices", "indptr"] where !file.exists("\(group)/\(part)") {
            throw file.fail("\(group)/\(part)", "missing (a sparse matrix needs data, indices and indptr)")
        }
        return (try HDF5Dataset(file, "\(group)/data"), try HDF5Dataset(file, "\(group)/indices"), try HDF5Dataset(file, "\(group)/indptr"))
    }

    /// Checks the parts' types and lengths: `major` + 1 pointers, as many indices as values.
    static func checkSparse(data: HDF5Dataset, indices: HDF5Dataset, indptr: HDF5Dataset, major: Int) throws {
        try data.requireVector("values")
        guard data.isNumeric else { throw data.fail("holds \(data.typeDescription), not counts") }
        try indices.requireVector(length: data.shape[0], "as many indices as values")
        guard indices.typeClass == H5T_INTEGER else { throw indices.fail("holds \(indices.typeDescription), not integers") }
        try indptr.requireVector(length: major + 1, "one pointer per row or column and one more")
        guard indptr.typeClass == H5T_INTEGER else { throw indptr.fail("holds \(indptr.typeDescription), not integers") }
    }
}
