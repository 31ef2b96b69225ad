// ZipArchive: the members of a stored (uncompressed) zip file, as PyTorch's `torch.save` writes them.
//
// Only what a checkpoint needs: the central directory (classic or zip64), member names, and the
// byte range of each member's data. Compressed or encrypted members are refused: torch writes
// every member stored. The file is untrusted, so every offset and size is checked against the
// file's size before it is used; nothing is allocated from a size the file declares.
// All multi-byte numbers in a zip file are little-endian.

import Foundation
import Kernels
import ToolKit

/// A read-only view of a stored zip archive held in memory (usually memory-mapped).
public struct ZipArchive {
    /// One member: its name and where its bytes lie in the archive.
    public struct Member {
        public var name: String
        /// Byte offset of the member's data in the archive.
        public var dataOffset: Int
        /// Size of the member's data in bytes.
        public var size: Int
        /// The CRC-32 the central directory records for the data.
        public var crc32: UInt32
    }

    /// Members in central-directory order.
    public private(set) var members: [Member] = []
    /// Members by name.
    public private(set) var byName: [String: Int] = [:]

    /// The largest number of members accepted (a checkpoint has one per tensor storage).
    public static let maxMembers = 10_000_000

    // MARK: - Reading

    /// Parses the central directory of `raw`; `name` names the file in errors.
    /// - Throws: `ToolError.badInput` (exit 65) for anything malformed, compressed or out of bounds.
    public init(_ raw: UnsafeRawBufferPointer, name: String) throws {
        func bad(_ m: String) -> ToolError { .data(name, "not a valid PyTorch zip checkpoint: \(m)") }
        let size = raw.count
        func u16(_ o: Int) -> Int { Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self))) }
        func u32(_ o: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))) }
        func u64(_ o: Int) throws -> Int {
            let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
            guard v <= UInt64(Int.max) else { throw bad("a 64-bit size or offset is out of range") }
            return Int(v)
        }

        // End of central directory: 22 fixed bytes, then a comment of up to 65,535 bytes.
        guard size >= 22 else { throw bad("\(size) bytes is too short for a zip file") }
        var eocd = -1
        var p = size - 22
        let lowest = max(0, size - 22 - 65_535)
        while p >= lowest {
            if raw[p] == 0x50 && raw[p + 1] == 0x4B && raw[p + 2] == 0x05 && raw[p + 3] == 0x06
                && p + 22 + u16(p + 20) == size {
                eocd = p
                break
            }
            p -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (truncated file?)") }
        var entries = u16(eocd + 10)
        var cdSize = u32(eocd + 12)
        var cdOffset = u32(eocd + 16)
        if u16(eocd + 4) != 0 || u16(eocd + 6) != 0 { throw bad("multi-disk archives are not supported") }

        // Zip64: a locator 20 bytes before the classic record points to the zip64 record.
        if eocd >= 20 && u32(eocd - 20) == 0x0706_4B50 {
            let z = try u64(eocd - 12)
            guard z <= size - 56, u32(z) == 0x0606_4B50 else { throw bad("zip64 end record lies outside the file") }
            entries = try u64(z + 32)
            cdSize = try u64(z + 40)
            cdOffset = try u64(z + 48)
        }
        guard cdOffset <= size, cdSize <= size - cdOffset else {
            throw bad("central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the file (\(size) bytes)")
        }
        // Each central-directory entry takes at least 46 bytes: this bounds the count.
        guard entries <= cdSize / 46, entries <= Self.maxMembers else {
            throw bad("\(entries) members cannot fit in a central directory of \(cdSize) bytes")
        }
        members.reserveCapacity(entries)

        var q = cdOffset
        let cdEnd = cdOffset + cdSize
        for i in 0..<entries {
            guard q <= cdEnd - 46, u32(q) == 0x0201_4B50 else { throw bad("central directory entry \(i) is malformed") }
            let flags = u16(q + 8)
            let method = u16(q + 10)
            let crc = UInt32(u32(q + 16))
            var compressed = u32(q + 20)
            var uncompressed = u32(q + 24)
            let nameLength = u16(q + 28), extraLength = u16(q + 30), commentLength = u16(q + 32)
            var local = u32(q + 42)
            let variable = nameLength + extraLength + commentLength
            guard variable <= cdEnd - q - 46 else { throw bad("central directory entry \(i) overruns the directory") }
            let nameBytes = UnsafeRawBufferPointer(rebasing: raw[(q + 46)..<(q + 46 + nameLength)])
            let memberName = String(decoding: nameBytes, as: UTF8.self)
            // Zip64 extended information (id 1): the 64-bit values for fields stored as 0xFFFFFFFF, in order.
            var e = q + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), len = u16(e + 2)
                guard len <= extraEnd - e - 4 else { throw bad("member \(excerpt(memberName)): extra field overruns its entry") }
                if id == 1 {
                    var f = e + 4
                    func next() throws -> Int {
                        guard f + 8 <= e + 4 + len else { throw bad("member \(excerpt(memberName)): zip64 field is too short") }
                        defer { f += 8 }
                        return try u64(f)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if local == 0xFFFF_FFFF { local = try next() }
                }
                e += 4 + len
            }
            if flags & 1 != 0 { throw bad("member \(excerpt(memberName)) is encrypted") }
            if method != 0 {
                throw bad("member \(excerpt(memberName)) is compressed (method \(method)); PyTorch writes members stored")
            }
            guard compressed == uncompressed else { throw bad("member \(excerpt(memberName)): stored sizes disagree") }
            // The local header: 30 fixed bytes, its own name and extra lengths (torch pads the extra field).
            guard local <= size - 30, u32(local) == 0x0403_4B50 else {
                throw bad("member \(excerpt(memberName)): local header at \(local) is missing or outside the file")
            }
            let dataOffset = local + 30 + u16(local + 26) + u16(local + 28)
            guard dataOffset <= size, uncompressed <= size - dataOffset else {
                throw bad("member \(excerpt(memberName)): its \(uncompressed) bytes at \(dataOffset) lie outside the file (\(size) bytes)")
            }
            if byName[memberName] != nil { throw bad("member \(excerpt(memberName)) appears twice") }
            byName[memberName] = members.count
            members.append(Member(name: memberName, dataOffset: dataOffset, size: uncompressed, crc32: crc))
            q += 46 + variable
        }
    }

    /// The member with this name, if present.
    public func member(_ name: String) -> Member? {
        byName[name].map { members[$0] }
    }
}
