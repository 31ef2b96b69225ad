// CellPipeline: carries parsed cells to a second thread, which normalises, encodes and writes
// them (CellWriter's work), so that parsing a matrix and writing its cells overlap.
//
// The reading thread copies each cell's entries into a batch; full batches queue up (at most
// `maxQueued`, so memory stays bounded) and one worker thread takes them in order. The cells are
// written in exactly the order and with exactly the calls of a direct run, so the output is
// byte-identical whatever the threads. The worker's first error stops it and is raised on the
// reading thread at its next hand-over (or at `finish`).

import Foundation
import Shared

final class CellPipeline {
    /// Cells in the order they came: per cell its index, gene order flag and end offset into
    /// the concatenated `genes` / `values` (N entries in all).
    final class Batch {
        var cells: [Int] = []
        var ascending: [Bool] = []
        var ends: [Int] = []
        var genes: [UInt32] = []
        var values: [Double] = []

        func removeAll() {
            cells.removeAll(keepingCapacity: true)
            ascending.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            genes.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
        }
    }

    /// Entries per batch before it is handed over.
    static let batchEntries = 1 << 16
    /// Full batches waiting at most; the reading thread waits beyond that.
    static let maxQueued = 4

    /// Everything the two threads share, guarded by `condition`.
    final class State {
        let condition = NSCondition()
        var queue: [Batch] = []
        var spare: [Batch] = []
        /// No more batches will come.
        var closed = false
        var cancelled = false
        /// The worker has stopped (queue drained after `closed`, cancelled, or `error`).
        var stopped = false
        var error: Error?
    }

    let shared = State()
    var current = Batch()

    /// Starts the worker, which calls `write` for every batch, in order.
    init(write: @escaping (Batch) throws -> Void) {
        let shared = self.shared
        let thread = Thread {
            while true {
                shared.condition.lock()
                while shared.queue.isEmpty && !shared.closed && !shared.cancelled { shared.condition.wait() }
                if shared.cancelled || shared.queue.isEmpty {
                    shared.stopped = true
                    shared.condition.broadcast()
                    shared.condition.unlock()
                    return
                }
                let batch = shared.queue.removeFirst()
                shared.condition.unlock()
                do {
                    try write(batch)
                } catch {
                    shared.condition.lock()
                    shared.error = error
                    shared.stopped = true
                    shared.condition.broadcast()
                    shared.condition.unlock()
                    return
                }
                batch.removeAll()
                shared.condition.lock()
                shared.spare.append(batch)
                shared.condition.broadcast()
                shared.condition.unlock()
            }
        }
        thread.name = "scgrn.cells"
        thread.start()
    }

    /// Adds one cell (its entries are copied); hands the batch over when it is full.
    func append(cell: Int, genes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>, ascending: Bool) throws {
        let b = current
        b.cells.append(cell)
        b.ascending.append(ascending)
        b.genes.append(contentsOf: genes)
        b.values.append(contentsOf: values)
        b.ends.append(b.genes.count)
        if b.genes.count >= CellPipeline.batchEntries { try handOver() }
    }

    /// Queues the current batch (waiting while the queue is full) and starts a new one.
    private func handOver() throws {
        let s = shared
        s.condition.lock()
        while s.queue.count >= CellPipeline.maxQueued && !s.stopped { s.condition.wait() }
        if s.stopped {
            let error = s.error
            s.condition.unlock()
            throw error ?? ToolError.runtime("internal error: the cell writer stopped early")
        }
        s.queue.append(current)
        current = s.spare.popLast() ?? Batch()
        s.condition.broadcast()
        s.condition.unlock()
    }

    /// Hands over the last cells and waits until every one is written; raises the worker's error.
    func finish() throws {
        if !current.cells.isEmpty { try handOver() }
        let s = shared
        s.condition.lock()
        s.closed = true
        s.condition.broadcast()
        while !s.stopped { s.condition.wait() }
        let error = s.error
        s.condition.unlock()
        if let error { throw error }
    }

    /// Stops the worker after the batch it is writing (the run failed); waits until it has.
    func cancel() {
        let s = shared
        s.condition.lock()
        s.cancelled = true
        s.condition.broadcast()
        while !s.stopped { s.condition.wait() }
        s.condition.unlock()
    }
}
