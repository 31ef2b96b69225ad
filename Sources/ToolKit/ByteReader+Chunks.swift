// ByteReader+Chunks: whole lines in bulk, for parsers that scan the buffer themselves.
//
// `nextLine()` returns one line per call; a parser of tens of millions of short lines (a
// MatrixMarket body) is faster scanning a large run of complete lines in one go. The run ends
// just after a "\n" (or at the end of the data), so no line is ever split between two calls.

import Foundation

extension ByteReader {
    /// The next run of complete lines, each still ending in its "\n" (the last line of the data
    /// may lack one), or nil at the end of the data.
    ///
    /// The bytes are valid until the next call on this reader. A run holds at least one whole
    /// line; the buffer grows when a single line is longer than it. This does not advance
    /// `lineNumber`: callers count the lines they scan.
    public func nextLines() throws -> UnsafeBufferPointer<UInt8>? {
        if end - start < capacity / 2 { try fill(minimum: capacity) }
        while true {
            if end == start { return nil }
            let base = buffer.assumingMemoryBound(to: UInt8.self)
            var last = end - 1
            while last >= start && base[last] != 0x0A { last -= 1 }
            if last >= start {
                let run = UnsafeBufferPointer(start: base + start, count: last + 1 - start)
                start = last + 1
                return run
            }
            if atEOF {
                let run = UnsafeBufferPointer(start: base + start, count: end - start)
                start = end
                return run
            }
            // One line longer than what is buffered: read more (growing the buffer if full), up
            // to the line limit.
            if end - start > ByteReader.maxLineBytes { throw lineTooLong(line: nil) }
            try fill(minimum: end - start + 1)
        }
    }
}
