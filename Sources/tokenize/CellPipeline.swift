// CellPipeline: carries batches of parsed cells to a second thread, which normalises, encodes
// and writes them (CellWriter's work), so that parsing a matrix and writing its cells overlap.
//
// The reading thread fills a CellBatch (a streamed matrix's parser writes its entries straight
// into it); full batches queue up (at most `maxQueued`, so memory stays bounded) and one worker
// thread takes them in order. The cells are written in exactly the order and with exactly the
// calls of a direct run, so the output is byte-identical whatever the threads. The worker's
// first error stops it and is raised on the reading thread at its next hand-over (or at `finish`).

import Foundation
import ToolKit

/// Cells in the order they came, their entries concatenated: per cell (a Span) its index, gene
/// order flag and end offset into `genes` and `counts` or `values`.
///
/// The values are kept in the narrowest exact type: while every one is an integer below 2^32
/// (a counts matrix's), as UInt32 `counts` (`integral`); from the first other value on, the
/// batch's entries move to float64 `values`. The entry storage is raw memory that grows by
/// doubling and is kept when the batch is reused, so that a parser can append through copies of
/// the pointers (see EntryRouter) without the uniqueness and exclusivity checks of arrays.
final class CellBatch {
    /// One cell of a batch: its index, the end of its entries, whether its genes ascend.
    struct Span {
        var cell: Int
        var end: Int
        var ascending: Bool
    }

    /// The cells, in order (one array, so that ending a cell is one access).
    private(set) var spans: [Span] = []
    /// Entries of the finished cells (a parser may hold more beyond it, for a cell in progress).
    private(set) var count = 0
    /// Dataset gene indices (capacity entries, `count` of them in use).
    private(set) var genes: UnsafeMutablePointer<UInt32>
    /// Per gene its count, while `integral`.
    private(set) var counts: UnsafeMutablePointer<UInt32>
    /// Per gene its raw value, once not `integral`.
    private(set) var values: UnsafeMutablePointer<Double>
    private(set) var capacity: Int
    /// Whether the entries are in `counts` (every value an integer below 2^32) or in `values`.
    private(set) var integral = true

    init(capacity: Int = CellPipeline.batchEntries + (1 << 12)) {
        self.capacity = capacity
        genes = .allocate(capacity: capacity)
        counts = .allocate(capacity: capacity)
        values = .allocate(capacity: capacity)
    }

    deinit {
        genes.deallocate()
        counts.deallocate()
        values.deallocate()
    }

    var isEmpty: Bool { spans.isEmpty }

    /// Whether `value` can be held in `counts`.
    @inline(__always)
    static func isCount(_ value: Double) -> Bool {
        value >= 0 && value < 4_294_967_296 && Double(UInt32(value)) == value
    }

    /// Grows the storage to hold at least `minimum` entries, keeping the first `keeping`.
    func grow(keeping: Int, minimum: Int) {
        var bigger = capacity * 2
        while bigger < minimum { bigger *= 2 }
        let g = UnsafeMutablePointer<UInt32>.allocate(capacity: bigger)
        let c = UnsafeMutablePointer<UInt32>.allocate(capacity: bigger)
        let v = UnsafeMutablePointer<Double>.allocate(capacity: bigger)
        g.moveInitialize(from: genes, count: keeping)
        if integral { c.moveInitialize(from: counts, count: keeping) } else { v.moveInitialize(from: values, count: keeping) }
        genes.deallocate()
        counts.deallocate()
        values.deallocate()
        (genes, counts, values, capacity) = (g, c, v, bigger)
    }

    /// Moves the first `keeping` entries from `counts` to `values`, which hold them from now on.
    func leaveCounts(keeping: Int) {
        guard integral else { return }
        for i in 0..<keeping { values[i] = Double(counts[i]) }
        integral = false
    }

    /// Ends a cell whose entries are `count..<end` (written in place by the caller).
    func endCell(_ cell: Int, ascending isAscending: Bool, end: Int) {
        spans.append(Span(cell: cell, end: end, ascending: isAscending))
        count = end
    }

    /// Adds one cell, copying its entries (as float64 values).
    func append(cell: Int, genes g: UnsafeBufferPointer<UInt32>, values v: UnsafeBufferPointer<Double>, ascending isAscending: Bool) {
        leaveCounts(keeping: count)
        let end = count + g.count
        if end > capacity { grow(keeping: count, minimum: end) }
        if g.count > 0 {
            (genes + count).initialize(from: g.baseAddress!, count: g.count)
            (values + count).initialize(from: v.baseAddress!, count: v.count)
        }
        endCell(cell, ascending: isAscending, end: end)
    }

    /// Empties the batch, keeping its storage.
    func removeAll() {
        spans.removeAll(keepingCapacity: true)
        count = 0
        integral = true
    }
}

final class CellPipeline {
    /// Entries per batch before it is handed over.
    static let batchEntries = 1 << 16
    /// Full batches waiting at most; the reading thread waits beyond that.
    static let maxQueued = 4

    /// Everything the two threads share, guarded by `condition`.
    final class State {
        let condition = NSCondition()
        var queue: [CellBatch] = []
        var spare: [CellBatch] = []
        /// No more batches will come.
        var closed = false
        var cancelled = false
        /// The worker has stopped (queue drained after `closed`, cancelled, or `error`).
        var stopped = false
        var error: Error?
    }

    let shared = State()

    /// Starts the worker, which calls `write` for every batch, in order.
    init(write: @escaping (CellBatch) throws -> Void) {
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

    /// Queues a full batch (waiting while the queue is full); returns an empty one to fill next.
    func submit(_ batch: CellBatch) throws -> CellBatch {
        let s = shared
        s.condition.lock()
        while s.queue.count >= CellPipeline.maxQueued && !s.stopped { s.condition.wait() }
        if s.stopped {
            let error = s.error
            s.condition.unlock()
            throw error ?? ToolError.runtime("internal error: the cell writer stopped early")
        }
        s.queue.append(batch)
        let next = s.spare.popLast() ?? CellBatch()
        s.condition.broadcast()
        s.condition.unlock()
        return next
    }

    /// Waits until every queued cell is written; raises the worker's error.
    func finish() throws {
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
