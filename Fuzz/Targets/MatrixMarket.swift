// Fuzz target `mtx`: a byte string read as tokenize reads a MatrixMarket matrix (plain or
// gzip): the header, then the body through MatrixMarketReader into a CellWriter whose frames go
// to /dev/null. The gene list and barcodes that tokenize reads from their own files are made up
// to fit the header's dimensions (capped, as real side files would bound them); a matrix with
// fewer rows than columns is read as 10x writes it (genes × cells), else transposed, so both
// orientations are reached.

import Foundation
import Frames
@testable import ToolKit
@testable import tokenize

/// The largest gene or cell axis the made-up side files get.
let axisLimit = 4096

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    expectToolError("mtx") { try readMatrix(bytes) }
    return 0
}

func readMatrix(_ bytes: [UInt8]) throws {
    let reader = try fuzzReader(bytes, name: "fuzz.mtx")
    guard let first = try reader.nextLine().map({ Array($0) }) else { return }
    let header = try MatrixMarketHeader.read(banner: String(decoding: first, as: UTF8.self), from: reader)
    guard header.rows <= axisLimit, header.columns <= axisLimit else { return }
    let transposed = header.rows >= header.columns
    let geneAxis = transposed ? header.columns : header.rows
    let cells = transposed ? header.rows : header.columns
    let table = try GeneTable.fromNames((0..<geneAxis).map { "G\($0)" }, geneKey: .symbol, source: "fuzz.genes")
    let run = TokenizeRun(input: "fuzz.mtx", settings: fuzzSettings(forceBuffer: bytes.count % 2 == 1), output: nullOutput())
    let vocab = try run.mapVocabulary(table)
    let (selection, writer) = try run.start(table: table, vocab: vocab, statistics: nil, format: "mtx",
                                            layout: transposed ? .cellsByGenes : .genesByCells, cells: cells)
    let cellWriter = run.makeCellWriter(writer: writer, vocab: vocab, selection: selection,
                                        barcodes: BarcodeList((0..<cells).map { "C\($0)" }), cells: cells)
    let body = MatrixMarketReader(reader: reader, header: header, transposed: transposed, axisToGene: table.rowToGene,
                                  writer: cellWriter, forceBuffer: run.settings.forceBuffer)
    do {
        try body.run()
    } catch {
        cellWriter.cancel()
        throw error
    }
}
