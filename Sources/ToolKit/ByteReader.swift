// ByteReader: buffered input from a file, standard input or a gzip stream, with line access.
//
// `ByteReader.open(path)` takes a path or "-" (standard input) and detects gzip by its magic
// bytes (1f 8b), so `x.tsv` and `x.tsv.gz` (or a gzip piped in) read alike; concatenated gzip
// members are read as one stream, as gunzip does (GzipSource, with ISA-L). Lines may end in
// "\n" or "\r\n".

import Foundation

/// Something that yields raw bytes: a file descriptor, or a decompressor over another source.
public protocol ByteSource: AnyObject {
    /// Reads up to `count` bytes into `buffer`; returns 0 at the end of the data.
    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int
}

/// Reads a file descriptor with read(2), retrying on EINTR.
public final class FileDescriptorSource: ByteSource {
    public let fd: Int32
    let name: String
    let ownsDescriptor: Bool

    public init(fd: Int32, name: String, ownsDescriptor: Bool) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = ownsDescriptor
    }

    deinit { if ownsDescriptor { Foundation.close(fd) } }

    public func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        while true {
            let n = Foundation.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ToolError.runtime("\(name): read failed: \(errnoText())")
        }
    }
}

/// Buffered reading with exact reads and line access over any ByteSource.
public final class ByteReader {
    /// The input's name as the user gave it ("<stdin>" for "-"), for messages.
    public let name: String
    /// Whether the data was gzip-compressed.
    public let isGzip: Bool
    let source: ByteSource
    var buffer: UnsafeMutableRawPointer
    var capacity: Int
    var start = 0
    var end = 0
    var atEOF = false
    /// The 1-based number of the line last returned by `nextLine()`.
    public private(set) var lineNumber = 0

    /// The longest line accepted, in bytes: 64 MiB unless a tool raises it (tokenize's
    /// --max-line-bytes). It bounds the memory an endless line (or a small gzip that inflates to
    /// one) can take, and so the number of fields a line can hold.
    nonisolated(unsafe) public static var maxLineBytes = defaultMaxLineBytes
    public static let defaultMaxLineBytes = 64 << 20
    /// The option of the running tool that raises `maxLineBytes`, named in the error (tokenize's
    /// --max-line-bytes); nil in the tools that have none.
    nonisolated(unsafe) public static var maxLineBytesOption: String?

    /// The error for a line over `maxLineBytes` that starts at `start`.
    func lineTooLong(line: Int?) -> ToolError {
        let shown = excerpt(bytes: UnsafeRawBufferPointer(start: buffer + start, count: min(end - start, 200)))
        let hint = ByteReader.maxLineBytesOption.map { " (\($0) raises it)" } ?? ""
        return .badInput(file: name, line: line, message: "line longer than \(ByteReader.maxLineBytes) bytes, the limit\(hint): '\(shown)'")
    }

    /// Refuses binary data: a NUL byte in the first 4 KiB, which no text file holds. Without this
    /// a binary file (or /dev/zero) would be read as one line up to the line limit.
    /// - Parameter what: what the input should have been, for the message ("an edge list").
    public func refuseBinary(_ what: String) throws {
        if let nul = try peek(4096).firstIndex(of: 0) {
            throw ToolError.data(name, "byte \(nul) is NUL: binary data (or UTF-16 text), not \(what)")
        }
    }

    init(source: ByteSource, name: String, isGzip: Bool, capacity: Int = 1 << 20) {
        self.source = source
        self.name = name
        self.isGzip = isGzip
        self.capacity = capacity
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Opens a path, or standard input for "-", detecting gzip by its magic bytes.
    public static func open(_ path: String) throws -> ByteReader {
        let raw: FileDescriptorSource
        let name: String
        if path == "-" {
            enlargePipeBuffer(0)
            try InputFiles.note(fd: 0, name: "<stdin>")
            raw = FileDescriptorSource(fd: 0, name: "<stdin>", ownsDescriptor: false)
            name = "<stdin>"
        } else {
            var st = stat()
            if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                throw ToolError.data(path, "is a directory, not a file")
            }
            let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw ToolError.runtime("\(path): cannot open: \(errnoText())") }
            raw = FileDescriptorSource(fd: fd, name: path, ownsDescriptor: true)
            try InputFiles.note(fd: fd, name: path)
            name = path
        }
        return try ByteReader(detecting: raw, name: name)
    }

    /// Wraps a source, detecting gzip from its first two bytes.
    public convenience init(detecting raw: ByteSource, name: String) throws {
        // Peek at the first bytes through a plain reader, then hand what was read to the decoder.
        let plain = ByteReader(source: raw, name: name, isGzip: false)
        try plain.fill(minimum: 2)
        let b = plain.buffer.advanced(by: plain.start).assumingMemoryBound(to: UInt8.self)
        if plain.end - plain.start >= 2 && b[0] == 0x1f && b[1] == 0x8b {
            self.init(source: try GzipSource(ReaderSource(plain), name: name), name: name, isGzip: true)
        } else {
            self.init(source: ReaderSource(plain), name: name, isGzip: false)
        }
    }

    /// Makes at least `minimum` bytes available unless the data ends first.
    func fill(minimum: Int) throws {
        if end - start >= minimum || atEOF { return }
        if start > 0 {
            if end > start { memmove(buffer, buffer + start, end - start) }
            end -= start
            start = 0
        }
        if minimum > capacity {
            let newCap = max(minimum, capacity * 2)
            let nb = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 64)
            nb.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = nb
            capacity = newCap
        }
        while end < minimum {
            let n = try source.read(buffer + end, capacity - end)
            if n == 0 { atEOF = true; break }
            end += n
        }
    }

    /// The next `count` bytes without consuming them (fewer only where the data ends first),
    /// valid until the next call on this reader.
    public func peek(_ count: Int) throws -> UnsafeBufferPointer<UInt8> {
        try fill(minimum: count)
        return UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self) + start, count: min(count, end - start))
    }

    /// Reads up to `count` bytes; returns how many were read (0 only at the end).
    public func read(into dest: UnsafeMutableRawPointer, count: Int) throws -> Int {
        if end > start {
            let n = min(count, end - start)
            dest.copyMemory(from: buffer + start, byteCount: n)
            start += n
            return n
        }
        if atEOF { return 0 }
        if count >= capacity / 2 {
            let n = try source.read(dest, count)
            if n == 0 { atEOF = true }
            return n
        }
        try fill(minimum: 1)
        return try read(into: dest, count: count)
    }

    /// Reads exactly `count` bytes. Returns the number read, which is less than `count` only
    /// when the data ends first.
    public func readFully(into dest: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var got = 0
        while got < count {
            let n = try read(into: dest + got, count: count - got)
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// The next line without its terminator ("\n" or "\r\n"), or nil at the end of the data.
    /// The bytes are valid until the next call on this reader.
    public func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
        var scanFrom = start
        while true {
            let base = buffer.assumingMemoryBound(to: UInt8.self)
            if scanFrom < end, let hit = memchr(base + scanFrom, 0x0A, end - scanFrom) {
                let nl = hit.assumingMemoryBound(to: UInt8.self) - base
                if nl - start > ByteReader.maxLineBytes { throw lineTooLong(line: lineNumber + 1) }
                var lineEnd = nl
                if lineEnd > start && base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
                start = nl + 1
                lineNumber += 1
                return line
            }
            if atEOF {
                if end == start { return nil }
                if end - start > ByteReader.maxLineBytes { throw lineTooLong(line: lineNumber + 1) }
                var lineEnd = end
                if base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
                start = end
                lineNumber += 1
                return line
            }
            let scanned = end - start
            if scanned > ByteReader.maxLineBytes { throw lineTooLong(line: lineNumber + 1) }
            try fill(minimum: end - start + 1)
            scanFrom = start + scanned
        }
    }

    /// The next line as a String (for small header files), or nil at the end.
    public func nextLineString() throws -> String? {
        guard let line = try nextLine() else { return nil }
        return String(decoding: line, as: UTF8.self)
    }

    /// Reads the whole remaining input as lines (for small side files such as gene lists).
    public func readAllLines() throws -> [String] {
        var lines: [String] = []
        while let l = try nextLineString() { lines.append(l) }
        return lines
    }
}

/// Exposes a ByteReader (with what it has already buffered) as a ByteSource.
final class ReaderSource: ByteSource {
    let reader: ByteReader
    init(_ reader: ByteReader) { self.reader = reader }
    func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        try reader.read(into: buffer, count: count)
    }
}

/// Bytes held in memory as a ByteSource (for tests and small in-memory streams).
public final class MemorySource: ByteSource {
    let bytes: [UInt8]
    var position = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Int {
        let n = min(count, bytes.count - position)
        if n > 0 {
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
            position += n
        }
        return n
    }
}

/// Asks for a 1 MiB kernel buffer when `fd` is a pipe: fewer, larger transfers between the
/// tools of a pipeline (the default 64 KiB costs a context switch every 64 KiB). Harmless when
/// refused or when `fd` is not a pipe.
public func enlargePipeBuffer(_ fd: Int32) {
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else { return }
    let F_SETPIPE_SZ: Int32 = 1031  // Linux
    _ = fcntl(fd, F_SETPIPE_SZ, Int32(1 << 20))
}
