// MappedFile: a whole input file mapped read-only for a decoder, or the tool's one message for a
// file it cannot read.

import Foundation

/// Maps the file at `path` read-only and passes its bytes to `body` (valid only during the call).
/// The file is recorded as an input (`InputFiles`), so no output of the run may replace it.
/// - Throws: exit 1 when it cannot be opened or read; exit 65 when it is a directory or a device.
public func withMappedFile<T>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
    try InputFiles.map(path).withUnsafeBytes(body)
}
