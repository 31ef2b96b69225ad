// trimmedText: a field of an input line as a String without surrounding blanks, read from its bytes.

import Foundation

/// The UTF-8 text of `bytes` (invalid sequences repaired) without leading or trailing blanks:
/// what `String(decoding:as:).trimmingCharacters(in: .whitespaces)` gives (tabs and Unicode
/// space separators), but trimmed on the bytes when both ends are ASCII, as nearly every field
/// of a gene list or an edge file is. Foundation's trimming bridges every string to NSString;
/// it took longer than the rest of reading a vocabulary or an edge file.
public func trimmedText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    var lo = 0, hi = bytes.count
    while lo < hi && (bytes[lo] == 0x20 || bytes[lo] == 0x09) { lo += 1 }
    while hi > lo && (bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09) { hi -= 1 }
    let core = UnsafeBufferPointer(rebasing: bytes[lo..<hi])
    // A non-ASCII byte at an end may belong to a Unicode space separator (U+00A0, U+3000, …).
    // Repairing invalid UTF-8 never swallows an ASCII byte, so ASCII ends stay the ends.
    if lo < hi && (bytes[lo] >= 0x80 || bytes[hi - 1] >= 0x80) {
        return String(decoding: core, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
    return String(decoding: core, as: UTF8.self)
}

/// `trimmedText` of a slice of a buffer (a field of a line).
public func trimmedText(_ slice: Slice<UnsafeBufferPointer<UInt8>>) -> String {
    trimmedText(UnsafeBufferPointer(rebasing: slice))
}
