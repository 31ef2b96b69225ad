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
    /// What the output path names, to tell it from the run's inputs and other outputs.
    let target: FileIdentity?
    var buffer: UnsafeMutableRawPointer
    let capacity = 1 << 20
    var used = 0
    var committed = false
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    nonisolated(unsafe) static var open = [OutputFile]()

    /// Opens the output: standard output for nil or "-", else FILE.
    ///
    /// A regular (or not yet existing) FILE is written through a temporary name beside it and
    /// renamed into place by `commit()`; a symbolic link's target is replaced, not the link. A
    /// path that exists and is not a regular file (a device such as /dev/null, a FIFO, a socket)
    /// is written to directly and never replaced; a directory is refused.
    /// - Parameters:
    ///   - path: -o's value.
    ///   - binary: whether the output is a binary frame stream (then a terminal is refused).
    ///   - inputs: the run's input paths ("-" is standard input), which the output must not
    ///     overwrite. Inputs opened through `ByteReader.open` or `InputFiles.map` are checked
    ///     too, whichever is opened first.
    public static func open(_ path: String?, binary: Bool, inputs: [String] = []) throws -> OutputFile {
        if path == nil || path == "-" {
            if binary && isatty(1) != 0 {
                throw ToolError.usage("refusing to write binary frames to a terminal; redirect stdout or use -o FILE")
            }
            enlargePipeBuffer(1)
            let out = OutputFile(name: "<stdout>", fd: 1, finalPath: nil, tempPath: nil, target: nil)
            StandardOutput.current = out
            return out
        }
        let path = path!
        let resolved = try resolveLinks(path)
        let target = FileIdentity(path: resolved)
        // A device, FIFO or socket is written to, never replaced: it cannot collide.
        let replaceable = target.map { !$0.exists || $0.isRegular } ?? true
        if let target, replaceable {
            for input in inputs {
                if input == "-" {
                    if let stdin = FileIdentity(fd: 0), stdin.isRegular, stdin == target {
                        throw ToolError.usage("output \(path) is also the input (standard input is redirected from it); choose another -o")
                    }
                } else if let i = FileIdentity(path: input) {
                    // Files read from inside an input directory are caught as they are opened.
                    if i == target { throw ToolError.usage("output \(path) is also an input; choose another -o") }
                }
            }
            if let input = InputFiles.opened.first(where: { $0.identity == target && ($0.name == "<stdin>" || FileIdentity(path: $0.name) == target) }) {
                throw ToolError.usage("output \(path) is also an input (\(input.name)); choose another -o")
            }
            if let other = open.first(where: { $0.target == target }) {
                throw ToolError.usage("two outputs name the same file: \(path) and \(other.name); choose different paths")
            }
        }
        if let target, target.exists && !target.isRegular {
            if target.isDirectory { throw ToolError.usage("output \(path) is a directory; give a file name") }
            // A device, FIFO or socket: write to it as it is (e.g. -o /dev/null), never replace it.
            let fd = Foundation.open(resolved, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw ToolError.runtime("\(path): cannot open for writing: \(errnoText())") }
            if binary && isatty(fd) != 0 {
                Foundation.close(fd)
                throw ToolError.usage("refusing to write binary frames to a terminal (\(path)); give a file")
            }
            let out = OutputFile(name: path, fd: fd, finalPath: nil, tempPath: nil, target: target)
            open.append(out)
            return out
        }
        let (dir, base) = splitPath(resolved)
        var template = Array((dir + "/." + base + ".tmp-XXXXXX").utf8CString)
        SignalCleanup.install()
        SignalCleanup.block()
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            let e = errnoText()
            SignalCleanup.unblock()
            throw ToolError.runtime("\(path): cannot create: \(e)")
        }
        let temp = String(cString: template)
        SignalCleanup.add(temp)
        SignalCleanup.unblock()
        fchmod(fd, 0o644)
        let out = OutputFile(name: path, fd: fd, finalPath: resolved, tempPath: temp, target: target)
        open.append(out)
        return out
    }

    /// Follows symbolic links (up to 40) to the path a write should replace; the last component
    /// need not exist.
    static func resolveLinks(_ path: String) throws -> String {
        var p = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(p, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return p }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(p, &buf, buf.count - 1)
            if n < 0 { throw ToolError.runtime("\(path): cannot read the link: \(errnoText())") }
            let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            p = link.hasPrefix("/") ? link : splitPath(p).directory + "/" + link
        }
        throw ToolError.runtime("\(path): too many levels of symbolic links")
    }

    init(name: String, fd: Int32, finalPath: String?, tempPath: String?, target: FileIdentity?) {
        self.name = name
        self.target = target
        self.fd = fd
        self.finalPath = finalPath
        self.tempPath = tempPath
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

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
                let e = errnoText()
                OutputFile.discard(tempPath)
                throw ToolError.runtime("\(name): close failed: \(e)")
            }
            if rename(tempPath, finalPath) != 0 {
                let e = errnoText()
                OutputFile.discard(tempPath)
                throw ToolError.runtime("\(name): cannot write: \(e)")
            }
            SignalCleanup.remove(tempPath)
        } else if fd != 1 {
            if Foundation.close(fd) != 0 { throw ToolError.runtime("\(name): close failed: \(errnoText())") }
        }
        OutputFile.open.removeAll { $0 === self }
    }

    static func discard(_ temp: String) {
        unlink(temp)
        SignalCleanup.remove(temp)
    }

    /// Removes the temporary files of every output that was not committed (on error).
    public static func abandonAll() {
        for out in open where !out.committed {
            if let t = out.tempPath { discard(t) }
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
