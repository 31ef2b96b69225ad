// GzipSource: inflates a gzip stream with ISA-L's igzip (about three times zlib's speed).
//
// Concatenated members are read as one stream, as gunzip does. Each member's CRC-32 and length
// are checked against its trailer; a stream that ends inside a member is reported as truncated,
// and bytes after a member that are not another gzip member are reported as corrupt data.
// Member headers are parsed here; ISA-L decodes the raw deflate data and checks the trailer.

import CIsal
import Foundation
import Kernels

/// Inflates a gzip stream read from another source; concatenated members are joined.
public final class GzipSource: ByteSource {
    let inner: ByteSource
    let name: String
    /// The decoder's state (about 100 KB, so it lives on the heap and is never copied).
    let state: UnsafeMutablePointer<inflate_state>
    let inBuffer: UnsafeMutablePointer<UInt8>
    /// Compressed bytes read at a time: half a ByteReader's buffer or more, so that they are
    /// read straight into `inBuffer` rather than copied from the reader's buffer.
    let inCapacity = 1 << 19
    var innerAtEnd = false
    /// A member's header has been read and its trailer not yet checked.
    var memberOpen = false
    var finished = false

    public init(_ inner: ByteSource, name: String) throws {
        self.inner = inner
        self.name = name
        inBuffer = .allocate(capacity: inCapacity)
        state = .allocate(capacity: 1)
        isal_inflate_init(state)
        // Raw deflate, with each member's CRC-32 and length checked against its trailer.
        state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR_VER)
    }

    deinit {
        state.deallocate()
        inBuffer.deallocate()
    }

    /// Reads more compressed bytes when the decoder has used up what it had.
    private func refill() throws {
        if state.pointee.avail_in == 0 && !innerAtEnd {
            let n = try inner.read(inBuffer, inCapacity)
            if n == 0 { innerAtEnd = true }
            state.pointee.next_in = inBuffer
            state.pointee.avail_in = UInt32(n)
        }
    }

    private func truncated() -> ToolError {
        ToolError.data(name, "truncated gzip stream (unexpected end of file)")
    }

    public func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        if finished || count == 0 { return 0 }
        let s = state
        s.pointee.next_out = buffer.assumingMemoryBound(to: UInt8.self)
        s.pointee.avail_out = UInt32(min(count, Int(UInt32.max)))
        let want = Int(s.pointee.avail_out)
        while s.pointee.avail_out > 0 {
            if !memberOpen {
                // At the start, or after a member whose trailer was checked: another member may
                // follow (as gunzip reads concatenated .gz files). The decoder has handed back
                // any bytes it read ahead.
                try refill()
                if s.pointee.avail_in == 0 && innerAtEnd {
                    finished = true
                    break
                }
                memberOpen = true
                try readHeader()
                isal_inflate_reset(s)  // keeps crc_flag and the pending input
                continue
            }
            try refill()
            let outBefore = s.pointee.avail_out, inBefore = s.pointee.avail_in
            let blockBefore = s.pointee.block_state
            let rc = scgrn_isal_inflate(s)
            if rc < 0 { throw corrupt(rc) }
            if s.pointee.block_state == ISAL_BLOCK_FINISH {
                memberOpen = false
                continue
            }
            let progressed = s.pointee.avail_out != outBefore || s.pointee.avail_in != inBefore
                || s.pointee.block_state != blockBefore
            if !progressed {
                // Nothing more to decode and nothing left to read, yet the member is not done.
                if s.pointee.avail_in == 0 && innerAtEnd { throw truncated() }
                if s.pointee.avail_in > 0 {
                    throw ToolError.data(name, "corrupt gzip data: the decoder made no progress")
                }
            }
        }
        return want - Int(s.pointee.avail_out)
    }

    // MARK: - Member header

    /// The next compressed byte, or nil at the end of the input.
    private func nextByte() throws -> UInt8? {
        if state.pointee.avail_in == 0 {
            try refill()
            if state.pointee.avail_in == 0 { return nil }
        }
        let b = state.pointee.next_in.pointee
        state.pointee.next_in += 1
        state.pointee.avail_in -= 1
        return b
    }

    /// Reads a member's header (RFC 1952: magic, method, flags, then the optional extra field,
    /// name, comment and header CRC), leaving the input at its deflate data.
    ///
    /// Parsed here rather than by ISA-L, whose stateful parser rejects a valid header CRC when
    /// the header is split between two reads.
    private func readHeader() throws {
        var header = [UInt8]()
        func byte() throws -> UInt8 {
            guard let b = try nextByte() else { throw truncated() }
            header.append(b)
            return b
        }
        // The magic first, so that junk after the last member is named as such even when short.
        _ = try byte()
        _ = try byte()
        guard header[0] == 0x1f && header[1] == 0x8b else {
            throw ToolError.data(name, "corrupt gzip data: a member does not start with the gzip magic (trailing data after the last member?)")
        }
        for _ in 2..<10 { _ = try byte() }
        guard header[2] == 8 else { throw ToolError.data(name, "corrupt gzip data: unknown compression method \(header[2])") }
        let flags = header[3]
        guard flags & 0xe0 == 0 else { throw ToolError.data(name, "corrupt gzip data: unknown header flags set") }
        if flags & 4 != 0 {  // FEXTRA
            let length = Int(try byte()) | Int(try byte()) << 8
            for _ in 0..<length { _ = try byte() }
        }
        if flags & 8 != 0 { while try byte() != 0 {} }  // FNAME
        if flags & 16 != 0 { while try byte() != 0 {} }  // FCOMMENT
        if flags & 2 != 0 {  // FHCRC: the low 16 bits of the CRC-32 of the header before it
            let expected = header.withUnsafeBytes { crc32($0) & 0xffff }
            let stored = UInt32(try byte()) | UInt32(try byte()) << 8
            if stored != expected { throw ToolError.data(name, "corrupt gzip data: header CRC mismatch") }
        }
    }

    /// The message for an ISA-L error code.
    private func corrupt(_ rc: Int32) -> ToolError {
        let what: String
        switch rc {
        case ISAL_INVALID_BLOCK: what = "invalid deflate block"
        case ISAL_INVALID_SYMBOL: what = "invalid deflate code"
        case ISAL_INVALID_LOOKBACK: what = "invalid distance too far back"
        case ISAL_INCORRECT_CHECKSUM: what = "incorrect data check (CRC-32 or length mismatch)"
        default: what = "code \(rc)"
        }
        return ToolError.data(name, "corrupt gzip data: \(what)")
    }
}
