// CRC-32: the checksum of frames (docs/FRAMES.md §2) and of gzip members, computed by ISA-L.

import CIsal

/// CRC-32 (the zlib / gzip polynomial), continuing from `crc`; ISA-L's, several times faster
/// than zlib's and equal to it.
@inline(__always)
public func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
    return scgrn_isal_crc32(crc, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
}
