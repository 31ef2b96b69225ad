// ToolCommand: the entry point every tool uses, so all of them end the same way.
//
// It turns a thrown ToolError into `tool: message` and its exit code, leaves argument errors
// (exit 64), --help and --version to swift-argument-parser (appending the tool's EXAMPLES to --help), and with -v prints one closing line
// of version, command line, real time, CPU time and peak memory (as minimap2 does).

import ArgumentParser
import Foundation

/// A ParsableCommand whose errors end the process in scgrn's one voice.
public protocol ToolCommand: ParsableCommand {
    /// Command lines that end `--help`, under EXAMPLES (after the option list).
    static var examples: [String] { get }
}

extension ToolCommand {
    public static var examples: [String] { [] }

    /// The help text of a help request with the EXAMPLES section appended, or nil for any other error.
    static func helpWithExamples(_ error: Error) -> String? {
        guard !examples.isEmpty, exitCode(for: error) == .success else { return nil }
        let message = fullMessage(for: error)
        guard message.hasPrefix("OVERVIEW:") || message.hasPrefix("USAGE:") else { return nil }  // not --version
        return message + "\n\nEXAMPLES:\n" + examples.map { "  " + $0 }.joined(separator: "\n")
    }

    public static func main() {
        let start = Date()
        Diagnostics.tool = URL(fileURLWithPath: CommandLine.arguments.first ?? "scgrn").lastPathComponent
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if let help = helpWithExamples(error) {
                print(help)
                Foundation.exit(0)
            }
            exit(withError: error)
        }
        do {
            try command.run()
            try StandardOutput.close()
        } catch let e as ToolError {
            Diagnostics.error(e.description)
            OutputFile.abandonAll()
            Foundation.exit(e.exitCode)
        } catch let e as ValidationError {
            Diagnostics.error(e.message)
            OutputFile.abandonAll()
            Foundation.exit(64)
        } catch {
            OutputFile.abandonAll()
            // --help arrives here too: parsing returns a help command whose run() throws the request.
            if let help = helpWithExamples(error) {
                print(help)
                Foundation.exit(0)
            }
            exit(withError: error)
        }
        if Diagnostics.verbosity >= 1 { RunSummary.print(since: start) }
    }
}

/// The closing `-v` line: version, command line, real time, CPU time, peak memory.
enum RunSummary {
    static func print(since start: Date) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let real = Date().timeIntervalSince(start)
        let peakMB = Double(usage.ru_maxrss) / 1024  // Linux reports KiB
        let cmd = CommandLine.arguments.joined(separator: " ")
        Diagnostics.writeLine(String(
            format: "[%@] Version: %@; CMD: %@; Real time: %.3f sec; CPU: %.3f sec; Peak RSS: %.1f MB",
            Diagnostics.tool, scgrnVersion, cmd, real, cpu, peakMB))
    }
}

/// Refuses to read standard input from a terminal: a tool run with no input prints its usage
/// (exit 64) instead of waiting for the user to type binary data, as samtools does.
/// - Parameters:
///   - path: the input argument ("-" is standard input).
///   - command: the command whose help is shown.
public func requireInput(_ path: String, _ command: ParsableCommand.Type) throws {
    if path == "-" && isatty(0) != 0 {
        throw ToolError.usage("no input: give a file or pipe one in\n\n" + command.helpMessage())
    }
}
