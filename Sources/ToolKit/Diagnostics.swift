// Diagnostics: the one stderr voice of every tool.
//
// Errors read `tool: message`; progress and verbose notes read `[tool] message`.
// stdout carries only frames or the final table, never messages.

import Foundation

/// Where a tool's messages go and how much of them is wanted.
public enum Diagnostics {
    /// The running tool's name, used as the message prefix.
    nonisolated(unsafe) public static var tool = "scgrn"
    /// -1 quiet (errors only), 0 normal (warnings), 1 verbose (progress and notes).
    nonisolated(unsafe) public static var verbosity = 0

    /// Whether standard error is a terminal (progress is shown there even without -v).
    public static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// Writes one line to stderr, unbuffered, so it interleaves correctly with other tools in a pipe.
    /// Every byte is written, a NUL too (a C string would end there, and the newline with it).
    public static func writeLine(_ s: String) {
        var line = s
        line.append("\n")
        line.withUTF8 { bytes in
            var off = 0
            while off < bytes.count {
                let w = Foundation.write(2, bytes.baseAddress! + off, bytes.count - off)
                if w <= 0 { if w < 0 && errno == EINTR { continue }; return }
                off += w
            }
        }
    }

    /// An error line: `tool: message`.
    public static func error(_ message: String) { writeLine("\(tool): \(message)") }

    /// A warning: `tool: warning: message`, unless -q.
    public static func warning(_ message: String) {
        if verbosity >= 0 { writeLine("\(tool): warning: \(message)") }
    }

    /// A note for the user (coverage reports and the like): `[tool] message`, unless -q.
    public static func note(_ message: String) {
        if verbosity >= 0 { writeLine("[\(tool)] \(message)") }
    }

    /// A verbose note: `[tool] message`, only with -v.
    public static func verbose(_ message: String) {
        if verbosity >= 1 { writeLine("[\(tool)] \(message)") }
    }
}
