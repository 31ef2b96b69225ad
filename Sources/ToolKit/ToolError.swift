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
