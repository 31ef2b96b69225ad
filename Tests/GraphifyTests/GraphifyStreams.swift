// GraphifyStreams: the input streams the graphify tests feed the tool — CELL streams made from
// the bundled BEELINE expression matrix (as tokenize --input-scale log2 would carry it), GENE
// streams with embeddings made up for the test, and small malformed or foreign streams — plus a
// reader of graphify's MODEL output.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

/// The bundled BEELINE hHEP TFs+500 Specific sample 1 and streams built from it.
enum HHEP {
    static let folder = Fixtures.path("beeline/hHEP_TFs500_Specific_sample1")
    static func file(_ name: String) -> String { folder + "/" + name }

    /// Genes (row names) and cells (columns) of ExpressionData.csv.gz; values [G][C].
    static func expression() throws -> (genes: [String], barcodes: [String], values: [[Float]]) {
        let lines = try ByteReader.open(file("ExpressionData.csv.gz")).readAllLines()
        let barcodes = lines[0].split(separator: ",", omittingEmptySubsequences: false).dropFirst().map(String.init)
        var genes = [String](), values = [[Float]]()
        for line in lines.dropFirst() where !line.isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            genes.append(String(fields[0]))
            values.append(fields.dropFirst().map { Float(Double($0)!) })
        }
        return (genes, barcodes, values)
    }

    /// The cells as CELL records (nonzero values only, genes ascending), in column order.
    static func cells() throws -> (genes: [String], cells: [CellRecord]) {
        let (genes, barcodes, values) = try expression()
        var cells = [CellRecord]()
        for (j, bc) in barcodes.enumerated() {
            var idx = [UInt32](), vals = [Float]()
            for g in 0..<genes.count where values[g][j] != 0 { idx.append(UInt32(g)); vals.append(values[g][j]) }
            cells.append(CellRecord(barcode: bc, genes: idx, values: vals))
        }
        return (genes, cells)
    }
}

enum Streams {
    /// Writes one stream (HEAD, the records, END) to `path`; `append` adds a further shard to an existing file.
    static func write(_ path: String, content: FrameKind, genes: [String], cells: [CellRecord] = [],
                      geneRecords: [GeneRecord] = [], dim: Int = 0, model: [ModelTensor]? = nil, finish: Bool = true) throws {
        let header = StreamHeader(content: content, genes: genes.map { GeneName(symbol: $0) })
        let w = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
        for c in cells { try w.append(cell: c, flags: []) }
        if !geneRecords.isEmpty { try w.write(genes: geneRecords, dim: dim) }
        if let model { try w.write(model: model) }
        if finish { try w.finish() } else { try w.flushPending(); try w.output.commit() }
    }

    /// Concatenates files (shards) into `path`.
    static func concatenate(_ parts: [String], to path: String) throws {
        var data = Data()
        for p in parts { data += try Data(contentsOf: URL(fileURLWithPath: p)) }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// A pseudo-embedding of width `dim` for every gene: a fixed function of the gene index,
    /// split over `parts` records per gene (sums and weights add up to the same mean).
    static func embeddings(genes: Int, dim: Int, parts: Int = 1, unknown: Set<Int> = []) -> [GeneRecord] {
        var out = [GeneRecord]()
        for _ in 0..<parts {
            for g in 0..<genes {
                let vec = (0..<dim).map { x in Float(sin(Double(g * 31 + x * 7 + 1))) * 2 / Float(parts) }
                out.append(GeneRecord(gene: UInt32(g), known: !unknown.contains(g), weight: 2 / Double(parts), sum: vec))
            }
        }
        return out
    }
}

/// A MODEL stream as graphify wrote it.
struct WrittenModel {
    var header: StreamHeader
    var tensors: [String: ModelTensor]
    /// The raw bytes of the MODEL frames (header and payload).
    var modelFrameBytes: [UInt8]

    init(path: String) throws {
        let reader = try StreamReader(path: path)
        header = reader.header
        tensors = [:]
        modelFrameBytes = []
        while let f = try reader.nextRaw() {
            modelFrameBytes += Array(f.bytes)
            if case .model(let ts) = try reader.decode(f) { for t in ts { tensors[t.name] = t } }
        }
    }

    func meta(_ key: String) -> String? { header.metadata(key) }
}

/// Runs graphify and checks that it succeeded.
@discardableResult
func graphify(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ToolRun {
    let run = try Tools.run("graphify", args)
    XCTAssertEqual(run.status, 0, "graphify \(args.joined(separator: " ")): \(run.stderr)", file: file, line: line)
    return run
}
