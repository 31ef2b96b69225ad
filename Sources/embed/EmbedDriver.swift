// EmbedDriver: the loop every embed model shares — read CELL frames, run the cells in batches of
// one per worker, and write what --emit asks for, in input order.
//
// A model takes part through `EmbedModel`: what a stream must carry, how a cell becomes its input
// and is run on a worker, and what one run leaves behind: per-position vectors [S, K] (written
// as ENCODING records, or pooled into GENE records) and a per-cell vector (CELLVEC). Cells are
// independent, so a batch of W cells runs as W parallel single-cell passes, each on its own
// worker; the output does not depend on the number of workers.

import Foundation
import Frames
import Kernels
import ToolKit

/// A model `embed` runs over cells.
protocol EmbedModel {
    /// A worker's model state and output buffers; one thread uses a worker at a time.
    associatedtype Worker

    /// The CELL field the model reads (`.tokens` or `.counts`).
    var requiredFlag: CellFrameFlags { get }
    /// Why a stream without `requiredFlag` cannot be run, and how to make one.
    var missingFlagMessage: String { get }
    /// S, the per-position vectors one cell gives (sequence slots, or decoder queries).
    var slots: Int { get }
    /// K, the width of a per-position vector.
    var slotWidth: Int { get }
    /// Model index of each slot (the ENCODING record's positions).
    var slotPositions: [UInt32] { get }
    /// The width of a cell vector.
    var cellVectorWidth: Int { get }
    /// The number of dataset genes (GENE records).
    var datasetGenes: Int { get }

    func makeWorker() -> Worker
    /// Checks a cell as it is read, before it is run.
    func check(_ cell: CellRecord, input: String) throws
    /// Runs one cell on a worker (called from several threads, each with its own worker).
    func run(_ cell: CellRecord, on worker: Worker) throws
    /// The last run's per-position vectors [S, K].
    func encodings(_ worker: Worker) -> UnsafePointer<Float>
    /// The last run's pooling weight of each slot [S], or nil for weight 1 (mean pooling).
    func poolWeights(_ worker: Worker) -> UnsafePointer<Float>?
    /// The last run's cell vector.
    func cellVector(_ worker: Worker) -> [Float]
    /// The slot holding dataset gene `g`, or -1 when the model does not read it.
    func slot(ofGene g: Int) -> Int
    /// Called once after the last cell (for summary warnings).
    func finish(_ workers: [Worker])
}

extension EmbedModel {
    func check(_ cell: CellRecord, input: String) throws {}
    func poolWeights(_ worker: Worker) -> UnsafePointer<Float>? { nil }
    func finish(_ workers: [Worker]) {}
}

/// A worker's failure, kept until its cell's turn to be written (a pass cannot throw across threads).
private final class Failure {
    var error: Error?
}

/// Runs a model over every cell of a stream and writes the output stream.
struct EmbedDriver<Model: EmbedModel> {
    let model: Model
    let output: Embed.Emit
    let workers: Int

    /// Reads `stream` to its end and writes to `writer` (whose header is already written).
    func run(_ stream: StreamReader, to writer: FrameWriter) throws {
        let pool = (0..<workers).map { _ in model.makeWorker() }
        let k = model.slotWidth, positions = model.slotPositions
        let sums = output == .genes ? GenePool(slots: model.slots, dim: k) : nil
        // The total is the cells tokenize counted before writing them (`input_cells`), shard by
        // shard: a concatenated stream's total grows as each shard's HEAD arrives; a shard
        // without the key (cells-by-genes tables) leaves the total unknown.
        let progress = Progress(unit: "cells", total: Self.inputCells(stream.header))
        var shardsSeen = 1
        var batch = [CellRecord]()
        let failures = (0..<workers).map { _ in Failure() }

        func flush() throws {
            if batch.isEmpty { return }
            let cells = batch
            let work = { (i: Int) in
                do { try model.run(cells[i], on: pool[i]) } catch { failures[i].error = error }
            }
            if cells.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: cells.count, execute: work) }
            for (i, cell) in cells.enumerated() {
                if let e = failures[i].error { throw e }
                let w = pool[i]
                switch output {
                case .genes:
                    sums!.add(model.encodings(w), weights: model.poolWeights(w))
                    try writer.append(cell: CellRecord(barcode: cell.barcode, total: cell.total, genes: cell.genes, values: cell.values),
                                      flags: [])
                case .cells:
                    try writer.append(cellVector: CellVectorRecord(barcode: cell.barcode, vector: model.cellVector(w)),
                                      dim: model.cellVectorWidth)
                case .encodings:
                    let values = Array(UnsafeBufferPointer(start: model.encodings(w), count: model.slots * k))
                    try writer.append(encoding: EncodingRecord(barcode: cell.barcode, positions: positions, values: values),
                                      dim: k)
                }
            }
            progress.advance(by: cells.count)
            batch.removeAll(keepingCapacity: true)
        }

        while let frame = try stream.next() {
            if stream.shardHeaders.count > shardsSeen {
                for h in stream.shardHeaders[shardsSeen...] {
                    progress.total = progress.total.flatMap { t in Self.inputCells(h).map { t + $0 } }
                }
                shardsSeen = stream.shardHeaders.count
            }
            guard case .cells(let flags, let cells) = frame else {
                throw ToolError.data(stream.name, "expected CELL frames (from tokenize), found another kind of data frame")
            }
            guard flags.contains(model.requiredFlag) else { throw ToolError.data(stream.name, model.missingFlagMessage) }
            for cell in cells {
                try model.check(cell, input: stream.name)
                batch.append(cell)
                if batch.count == workers { try flush() }
            }
        }
        try flush()
        if let sums {
            try writer.write(genes: sums.records(genes: model.datasetGenes, slot: model.slot(ofGene:)), dim: k)
        }
        model.finish(pool)
        progress.finish()
        try writer.finish()
    }

    /// The HEAD's `input_cells` (the cells tokenize read for this stream, some of which
    /// --min-genes may have dropped), or nil when tokenize did not know it.
    static func inputCells(_ header: StreamHeader) -> Int? {
        header.metadata("input_cells").flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }
}
