// What every fuzz target shares (compiled into each).

import Foundation
@testable import ToolKit

/// A reader over an input's bytes, as `ByteReader(detecting:name:)` makes one for the tools
/// (gzip recognised by its first two bytes), but with a 4 KB buffer instead of 1 MB: the fuzzer
/// runs far more inputs per second without a megabyte to map and unmap for each, and lines
/// longer than the buffer take the growing path that megabyte lines take in the tools.
func fuzzReader(_ bytes: [UInt8], name: String) throws -> ByteReader {
    let plain = ByteReader(source: MemorySource(bytes), name: name, isGzip: false, capacity: 1 << 12)
    if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        return ByteReader(source: try GzipSource(ReaderSource(plain), name: name), name: name, isGzip: true,
                          capacity: 1 << 12)
    }
    return plain
}

/// Runs one input through `body`: the errors a tool reports (ToolError) pass, any other error is a
/// crash of `target` (the tool would have reported it as something it is not).
func expectToolError(_ target: String, _ body: () throws -> Void) {
    do { try body() } catch is ToolError {} catch { fatalError("\(target): an error that is not a ToolError: \(error)") }
}
