// ToolError: the one error type every scgrn tool throws, and the exit codes it maps to.
//
// Exit codes follow BSD sysexits, as DESIGN.md fixes them:
//   0  success
//   1  runtime failure (I/O error, a failed write or close of stdout, out of memory)
//   64 usage error (EX_USAGE)
//   65 malformed, truncated or inconsistent input (EX_DATAERR)

import Foundation

/// An error that ends a tool, with the context for a one-line message.
public enum ToolError: Error, CustomStringConvertible, Equatable {
    /// The command line is wrong: exit 64.
    case usage(String)
    /// Input data is malformed, truncated or inconsistent: exit 65.
    /// `file` names the input ("-" or "<stdin>" for standard input), `line` the 1-based line where that helps.
    case badInput(file: String, line: Int? = nil, message: String)
    /// Something failed at run time (I/O, resources): exit 1.
    case runtime(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .badInput: return 65
        case .runtime: return 1
        }
    }

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .badInput(let file, let line, let m):
            if let line { return "\(file): line \(line): \(m)" }
            return "\(file): \(m)"
        case .runtime(let m): return m
        }
    }

    /// A shorthand for bad input with no line number.
    public static func data(_ file: String, _ message: String) -> ToolError {
        .badInput(file: file, line: nil, message: message)
    }
}

/// The POSIX error text for `errno`, e.g. "No such file or directory".
public func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Text from an input, shortened for a message: at most `limit` bytes shown (cut on a character
/// boundary) followed by "…" and the full length, so an endless line never floods stderr.
/// Control characters are shown escaped (`\t`, `\n`, `\r`, `\x00`, counted as shown), so a
/// message stays one visible line.
public func excerpt(_ text: String, limit: Int = 80) -> String {
    let (shown, cut) = shortened(text, limit: limit)
    return cut ? shown + "… (\(text.utf8.count) bytes)" : shown
}

/// Bytes from an input, shortened for a message as `excerpt` does (without the length).
public func excerpt<C: Collection>(bytes: C, limit: Int = 80) -> String where C.Element == UInt8 {
    let (shown, cut) = shortened(String(decoding: bytes.prefix(limit + 4), as: UTF8.self), limit: limit)
    return cut || bytes.count > limit + 4 ? shown + "…" : shown
}

/// The characters of `text` that fit in `limit` bytes once control characters are escaped, and
/// whether some were left out.
func shortened(_ text: String, limit: Int) -> (String, cut: Bool) {
    var shown = ""
    for c in text {
        var visible = ""
        for u in c.unicodeScalars {
            switch u {
            case "\t": visible += "\\t"
            case "\n": visible += "\\n"
            case "\r": visible += "\\r"
            case _ where u.value < 0x20 || u.value == 0x7F: visible += String(format: "\\x%02X", u.value)
            default: visible.unicodeScalars.append(u)
            }
        }
        if shown.utf8.count + visible.utf8.count > limit { return (shown, true) }
        shown += visible
    }
    return (shown, false)
}

/// A word with its indefinite article for a message: "a CELL", "an END", "an int".
public func withArticle(_ word: String) -> String {
    guard let c = word.first else { return word }
    return ("AEIOUaeiou".contains(c) ? "an " : "a ") + word
}
