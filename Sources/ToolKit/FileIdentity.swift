// FileIdentity, InputFiles, SignalCleanup: what keeps an output from destroying an input.
//
// Paths are compared by what they name (device and inode), not by spelling, so `x.csv`,
// `./x.csv`, a link to it and standard input redirected from it are one file. Every input a tool
// opens is recorded, and an output that names one is refused whichever is opened first. The
// temporary files of outputs are removed when SIGINT, SIGTERM or SIGHUP ends the run.

import Foundation

/// The identity of a path: device and inode when it exists, else its canonical spelling.
public struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64
    let mode: UInt32
    /// For a path that does not exist: its canonical spelling (real parent + name).
    let spelling: String?

    public var exists: Bool { spelling == nil }
    public var isRegular: Bool { exists && (mode & UInt32(S_IFMT)) == UInt32(S_IFREG) }
    public var isDirectory: Bool { exists && (mode & UInt32(S_IFMT)) == UInt32(S_IFDIR) }

    init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), mode: UInt32(st.st_mode), spelling: nil)
    }

    init(device: UInt64, inode: UInt64, mode: UInt32, spelling: String?) {
        self.device = device; self.inode = inode; self.mode = mode; self.spelling = spelling
    }

    /// What `path` names (following links); nil when neither it nor its parent can be resolved.
    public init?(path: String) {
        var st = stat()
        if stat(path, &st) == 0 { self.init(st); return }
        let (parent, base) = splitPath(path)
        guard let real = realpath(parent, nil) else { return nil }
        defer { free(real) }
        self.init(device: 0, inode: 0, mode: 0, spelling: String(cString: real) + "/" + base)
    }

    /// What an open descriptor names.
    public init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        self.init(st)
    }

    public static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        if a.exists != b.exists { return false }
        if a.exists { return a.device == b.device && a.inode == b.inode }
        return a.spelling == b.spelling
    }
}

/// The files a run has opened for reading.
public enum InputFiles {
    public struct Entry {
        public let name: String
        public let identity: FileIdentity
    }
    nonisolated(unsafe) public private(set) static var opened = [Entry]()

    /// Records an input just opened on `fd`; refuses it if an output of this run names it.
    public static func note(fd: Int32, name: String) throws {
        guard let id = FileIdentity(fd: fd) else { return }
        // Standard input from a terminal or a pipe cannot be an output file.
        if fd == 0 && !id.isRegular { return }
        if let out = OutputFile.open.first(where: { $0.target == id && $0.tempPath != nil }) {
            throw ToolError.usage("output \(out.name) is also an input (\(name)); choose another -o")
        }
        opened.append(Entry(name: name, identity: id))
    }
}

/// Removes the temporary files of unfinished outputs when a signal ends the run.
enum SignalCleanup {
    static let slots = 32
    /// Temporary paths as C strings, read by the signal handler (which may not allocate).
    nonisolated(unsafe) static let paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: slots)
        p.initialize(repeating: nil, count: slots)
        return p
    }()
    nonisolated(unsafe) static var installed = false
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func install() {
        if installed { return }
        installed = true
        _ = paths
        for s in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                for i in 0..<SignalCleanup.slots {
                    if let p = SignalCleanup.paths[i] { unlink(p) }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            sigaction(s, nil, &old)
            // A signal the caller ignores (nohup, a background shell job) stays ignored.
            if let h = old.__sigaction_handler.sa_handler, unsafeBitCast(h, to: Int.self) == 1 { continue }  // SIG_IGN
            sigaction(s, &action, nil)
        }
    }

    static func mask(_ how: Int32) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(how, &set, nil)
    }
    static func block() { mask(SIG_BLOCK) }
    static func unblock() { mask(SIG_UNBLOCK) }

    static func add(_ path: String) {
        for i in 0..<slots where paths[i] == nil {
            paths[i] = strdup(path)
            return
        }
    }

    static func remove(_ path: String) {
        block()
        for i in 0..<slots {
            if let p = paths[i], String(cString: p) == path {
                paths[i] = nil
                free(p)
            }
        }
        unblock()
    }
}

extension InputFiles {
    /// Maps a whole input file (a checkpoint) into memory. The path must name a regular file:
    /// a directory or a device is refused with a clear message, a missing file is exit 1.
    public static func map(_ path: String) throws -> Data {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ToolError.runtime("\(path): cannot open: \(errnoText())") }
        defer { Foundation.close(fd) }
        guard let id = FileIdentity(fd: fd) else { throw ToolError.runtime("\(path): cannot stat: \(errnoText())") }
        if id.isDirectory { throw ToolError.data(path, "is a directory, not a file") }
        if !id.isRegular { throw ToolError.data(path, "is not a regular file (a device, FIFO or socket): give the file itself") }
        try note(fd: fd, name: path)
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ToolError.runtime("\(path): cannot read: \(errnoText())")
        }
    }
}

/// A path's directory ("." when it has none) and last component.
func splitPath(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let dir = String(path[..<slash])
    return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
}
