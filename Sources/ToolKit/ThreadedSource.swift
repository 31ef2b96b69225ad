// ThreadedSource: reads another ByteSource ahead on a second thread, so that decompressing an
// input (GzipSource) overlaps with parsing it.
//
// A producer thread fills a small ring of fixed-size blocks from the inner source; `read` hands
// them out in order. An error raised by the inner source (a truncated gzip, a failed read) is
// delivered after every byte read before it, exactly where a direct read would have raised it.
// Memory is `blockCount × blockSize` (4 MiB by default), whatever the input size.

import Foundation

/// A ByteSource that prefetches another source on a background thread.
public final class ThreadedSource: ByteSource {
    /// What the two threads share. The producer keeps its own reference, so a reader that is
    /// released early never frees blocks under a producer still inside `inner.read`.
    final class Ring {
        let condition = NSCondition()
        let blockSize: Int
        let blocks: [UnsafeMutableRawPointer]
        var lengths: [Int]
        /// Blocks filled and not yet consumed.
        var ready = 0
        var readSlot = 0
        var writeSlot = 0
        /// The producer has stopped: end of data, or `error`.
        var done = false
        var error: Error?
        var cancelled = false

        init(blockSize: Int, blockCount: Int) {
            self.blockSize = blockSize
            blocks = (0..<blockCount).map { _ in UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 64) }
            lengths = [Int](repeating: 0, count: blockCount)
        }

        deinit { for b in blocks { b.deallocate() } }

        /// The producer loop: fill free blocks until the data ends, an error, or cancellation.
        func produce(from inner: ByteSource) {
            while true {
                condition.lock()
                while ready == blocks.count && !cancelled { condition.wait() }
                if cancelled { condition.unlock(); return }
                let slot = writeSlot
                condition.unlock()

                var filled = 0
                var atEnd = false
                var failure: Error?
                do {
                    while filled < blockSize {
                        let n = try inner.read(blocks[slot] + filled, blockSize - filled)
                        if n == 0 { atEnd = true; break }
                        filled += n
                    }
                } catch {
                    failure = error
                }

                condition.lock()
                if filled > 0 {
                    lengths[slot] = filled
                    writeSlot = (slot + 1) % blocks.count
                    ready += 1
                }
                if atEnd || failure != nil {
                    error = failure
                    done = true
                }
                condition.broadcast()
                condition.unlock()
                if done { return }
            }
        }
    }

    let ring: Ring
    /// Bytes of the current (front) block already handed out.
    var offset = 0

    /// Starts prefetching `inner` on a new thread.
    /// - Parameters:
    ///   - inner: the source to read ahead; it is read only by the background thread from now on.
    ///   - blockSize: bytes per block (1 MiB by default).
    ///   - blockCount: blocks in the ring (4 by default); at least 2.
    public init(_ inner: ByteSource, blockSize: Int = 1 << 20, blockCount: Int = 4) {
        precondition(blockSize > 0 && blockCount >= 2)
        let ring = Ring(blockSize: blockSize, blockCount: blockCount)
        self.ring = ring
        let thread = Thread { ring.produce(from: inner) }
        thread.name = "scgrn.prefetch"
        thread.start()
    }

    deinit {
        ring.condition.lock()
        ring.cancelled = true
        ring.condition.broadcast()
        ring.condition.unlock()
    }

    public func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        if count == 0 { return 0 }
        ring.condition.lock()
        while ring.ready == 0 && !ring.done { ring.condition.wait() }
        if ring.ready == 0 {
            let error = ring.error
            ring.condition.unlock()
            if let error { throw error }
            return 0
        }
        let slot = ring.readSlot
        let length = ring.lengths[slot]
        ring.condition.unlock()

        // The front block is ours until we release it: the producer never writes a ready block.
        let n = min(count, length - offset)
        buffer.copyMemory(from: ring.blocks[slot] + offset, byteCount: n)
        offset += n
        if offset == length {
            offset = 0
            ring.condition.lock()
            ring.readSlot = (slot + 1) % ring.blocks.count
            ring.ready -= 1
            ring.condition.broadcast()
            ring.condition.unlock()
        }
        return n
    }
}

extension ByteReader {
    /// Opens a path like `open(_:)`, but reads (and for gzip, decompresses) it ahead on a second
    /// thread, so that the caller's parsing overlaps with the decompression.
    ///
    /// Error messages and gzip detection are those of `open(_:)`; `isGzip` is carried over.
    public static func openPrefetching(_ path: String) throws -> ByteReader {
        let inner = try ByteReader.open(path)
        let source = ThreadedSource(ReaderSource(inner))
        return ByteReader(source: source, name: inner.name, isGzip: inner.isGzip)
    }
}
