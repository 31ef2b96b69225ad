// OutputFile: buffered output to standard output or to a file that appears only when complete.
//
// A file output (-o FILE) is written to a temporary name beside FILE and renamed into place by
// `commit()`, so a failed run never leaves a partial file that looks complete, and an existing
// FILE is only replaced by a finished one. An output path that is one of the run's inputs is
// refused. Binary streams are refused on a terminal, as samtools does.

import Foundation

/// Where a tool writes its result.
public final class OutputFile {
    /// The name for messages ("<stdout>" or the path).
    public let name: String
    let fd: Int32
    let finalPath: String?
    let tempPath: String?
    var buffer: UnsafeMutableRawPointer
    let capacity = 1 << 20
    var used = 0
    var committed = false
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    nonisolated(unsafe) static var open = [OutputFile]()

    /// Opens the output: standard output for nil or "-", else FILE through a temporary name.
    /// - Parameters:
    ///   - path: -o's value.
    ///   - binary: whether the output is a binary frame stream (then a terminal is refused).
    ///   - inputs: the run's input paths, which the output must not overwrite.
    public static func open(_ path: String?, binary: Bool, inputs: [String] = []) throws -> OutputFile {
        if path == nil || path == "-" {
            if binary && isatty(1) != 0 {
                throw ToolError.usage("refusing to write binary frames to a terminal; redirect stdout or use -o FILE")
            }
            enlargePipeBuffer(1)
            let out = OutputFile(name: "<stdout>", fd: 1, finalPath: nil, tempPath: nil)
            StandardOutput.current = out
            return out
        }
        let path = path!
        for input in inputs where input != "-" && sameFile(input, path) {
            throw ToolError.usage("output \(path) is also an input; choose another -o")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((dir.isEmpty ? "." : dir) + "/." + base + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw ToolError.runtime("\(path): cannot create: \(errnoText())") }
        fchmod(fd, 0o644)
        let temp = String(cString: template)
        let out = OutputFile(name: path, fd: fd, finalPath: path, tempPath: temp)
        open.append(out)
        return out
    }

    init(name: String, fd: Int32, finalPath: String?, tempPath: String?) {
        self.name = name
        self.fd = fd
        self.finalPath = finalPath
        self.tempPath = tempPath
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Writes raw bytes (large writes bypass the buffer).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if used + bytes.count <= capacity {
            (buffer + used).copyMemory(from: base, byteCount: bytes.count)
            used += bytes.count
            if used == capacity { try flush() }
            return
        }
        try flush()
        if bytes.count >= capacity / 2 {
            try writeAll(base, bytes.count)
        } else {
            buffer.copyMemory(from: base, byteCount: bytes.count)
            used = bytes.count
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ text: String) throws {
        var t = text
        try t.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes the buffered bytes to the descriptor.
    public func flush() throws {
        if used > 0 {
            try writeAll(buffer, used)
            used = 0
        }
    }

    private func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws {
        var off = 0
        while off < n {
            let w = Foundation.write(fd, p + off, n - off)
            if w < 0 {
                if errno == EINTR { continue }
                throw ToolError.runtime("\(name): write failed: \(errnoText())")
            }
            off += w
        }
        bytesWritten += n
    }

    /// Finishes the output: flushes, and for a file closes it and renames it into place.
    public func commit() throws {
        if committed { return }
        try flush()
        committed = true
        if let tempPath, let finalPath {
            if Foundation.close(fd) != 0 {
                unlink(tempPath)
                throw ToolError.runtime("\(finalPath): close failed: \(errnoText())")
            }
            if rename(tempPath, finalPath) != 0 {
                let e = errnoText()
                unlink(tempPath)
                throw ToolError.runtime("\(finalPath): cannot write: \(e)")
            }
            OutputFile.open.removeAll { $0 === self }
        }
    }

    /// Removes the temporary files of every output that was not committed (on error).
    public static func abandonAll() {
        for out in open where !out.committed {
            if let t = out.tempPath { unlink(t) }
        }
        open.removeAll()
    }
}

/// Standard output's end of life: a late write or close error becomes exit 1.
public enum StandardOutput {
    nonisolated(unsafe) static var current: OutputFile?

    /// Flushes what a tool wrote to stdout and closes the descriptor, reporting failure.
    public static func close() throws {
        if let out = current { try out.flush() }
        current = nil
        fflush(stdout)
        if Foundation.close(1) != 0 && errno != EBADF {
            throw ToolError.runtime("<stdout>: close failed: \(errnoText())")
        }
    }
}
