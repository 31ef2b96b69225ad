// MappedFile: a whole input file mapped read-only for a decoder, or the tool's one message for a
// file it cannot read.

import Foundation

/// Maps the file at `path` read-only and passes its bytes to `body` (valid only during the call).
/// - Throws: `ToolError.badInput` (exit 65) "cannot read: …" naming the file when it cannot be opened.
public func withMappedFile<T>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        throw ToolError.data(path, "cannot read: \(error.localizedDescription)")
    }
    return try data.withUnsafeBytes(body)
}
