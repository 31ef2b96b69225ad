// CommonOptions: the flags every stage shares (-o, -t, -q, -v), used through @OptionGroup.

import ArgumentParser
import Foundation

/// The version every scgrn tool reports with `--version` and records in the stream's provenance.
public let scgrnVersion = "0.1.0"

/// Output, threads and verbosity, shared by all tools.
public struct CommonOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write output to FILE instead of standard output.", valueName: "FILE"))
    public var output: String?

    @Option(name: [.short, .customLong("threads")], help: "Threads to use (default: all cores).")
    public var threads: Int?

    @Flag(name: .shortAndLong, help: "Print errors only.")
    public var quiet = false

    @Flag(name: .shortAndLong, help: "Print progress and a run summary on stderr.")
    public var verbose = false

    public init() {}

    /// The thread count to use: -t, else the number of online cores.
    public var threadCount: Int {
        if let threads, threads > 0 { return threads }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    public mutating func validate() throws {
        if let threads, threads < 1 { throw ValidationError("-t/--threads must be at least 1") }
        if quiet && verbose { throw ValidationError("-q and -v cannot be given together") }
    }

    /// Applies the verbosity to the process. A tool that calls BLAS also sets its thread count
    /// (`BLAS.setThreads(threadCount)`); ToolKit itself links no BLAS.
    public func apply() {
        Diagnostics.verbosity = quiet ? -1 : (verbose ? 1 : 0)
    }
}
