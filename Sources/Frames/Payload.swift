// Payload encoding: little-endian fields appended to a byte array, and a bounds-checked reader.
//
// Every multi-byte number in a frame is little-endian. A string is a u32 byte length followed
// by that many UTF-8 bytes. docs/FRAMES.md is the specification; this file is its grammar.

import Foundation

/// Builds a frame payload.
public struct PayloadWriter {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { append(v.littleEndian) }
    public mutating func u32(_ v: UInt32) { append(v.littleEndian) }
    public mutating func i32(_ v: Int32) { append(v.littleEndian) }
    public mutating func u64(_ v: UInt64) { append(v.littleEndian) }
    public mutating func f32(_ v: Float) { append(v.bitPattern.littleEndian) }
    public mutating func f64(_ v: Double) { append(v.bitPattern.littleEndian) }
    public mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    public mutating func u32(_ v: Int) { u32(UInt32(v)) }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { u in
            u32(UInt32(u.count))
            bytes.append(contentsOf: u)
        }
    }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) }
    }

    /// Appends an array of trivially-copyable little-endian values (this platform is little-endian).
    public mutating func array<T>(_ a: [T]) {
        a.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    public mutating func array<T>(_ a: UnsafeBufferPointer<T>) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(a))
    }
}

/// Reads a frame payload; every read is checked against what is left, so a corrupt length can
/// never make it allocate or read beyond the payload.
public struct PayloadReader {
    let base: UnsafeRawPointer
    public let count: Int
    public private(set) var offset = 0
    let context: String

    /// - Parameter context: names the frame in errors, e.g. "CELL frame 3".
    public init(_ buffer: UnsafeRawBufferPointer, context: String) {
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        count = buffer.count
        self.context = context
    }

    public var remaining: Int { count - offset }

    func fail(_ what: String) -> FrameError {
        .malformed("\(context): \(what) at payload byte \(offset)")
    }

    mutating func need(_ n: Int, _ what: String) throws {
        if n < 0 || n > count - offset { throw fail("\(what) runs past the end of the frame") }
    }

    public mutating func u8(_ what: String = "u8") throws -> UInt8 {
        try need(1, what)
        let v = base.load(fromByteOffset: offset, as: UInt8.self)
        offset += 1
        return v
    }

    public mutating func u16(_ what: String = "u16") throws -> UInt16 { try scalar(what) }
    public mutating func u32(_ what: String = "u32") throws -> UInt32 { try scalar(what) }
    public mutating func i32(_ what: String = "i32") throws -> Int32 { try scalar(what) }
    public mutating func u64(_ what: String = "u64") throws -> UInt64 { try scalar(what) }
    public mutating func f32(_ what: String = "f32") throws -> Float { Float(bitPattern: try scalar(what)) }
    public mutating func f64(_ what: String = "f64") throws -> Double { Double(bitPattern: try scalar(what)) }

    private mutating func scalar<T: FixedWidthInteger>(_ what: String) throws -> T {
        try need(MemoryLayout<T>.size, what)
        let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// Reads a count and checks that `count * minimumItemSize` bytes can still follow.
    public mutating func count(_ what: String, minimumItemSize: Int) throws -> Int {
        let n = Int(try u32(what))
        if minimumItemSize > 0 && n > remaining / minimumItemSize {
            throw fail("\(what) \(n) does not fit in the frame")
        }
        return n
    }

    /// Skips reserved bytes; they must be zero.
    public mutating func reserved(_ n: Int) throws {
        try need(n, "reserved bytes")
        for i in 0..<n where base.load(fromByteOffset: offset + i, as: UInt8.self) != 0 {
            throw fail("reserved byte is not zero")
        }
        offset += n
    }

    public mutating func string(_ what: String = "string") throws -> String {
        let n = Int(try u32("\(what) length"))
        try need(n, what)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: n), as: UTF8.self)
        offset += n
        return s
    }

    /// Reads `n` values of a trivially-copyable type (little-endian on this platform).
    public mutating func array<T>(_ n: Int, of: T.Type, _ what: String) throws -> [T] {
        let size = MemoryLayout<T>.stride
        guard n <= remaining / max(size, 1) else { throw fail("\(what) (\(n) values) runs past the end of the frame") }
        let a = [T](unsafeUninitializedCapacity: n) { buf, initialized in
            UnsafeMutableRawBufferPointer(buf).copyMemory(
                from: UnsafeRawBufferPointer(start: base + offset, count: n * size))
            initialized = n
        }
        offset += n * size
        return a
    }

    /// Fails unless the whole payload was consumed.
    public func finish() throws {
        if offset != count { throw fail("\(count - offset) unexpected trailing bytes") }
    }
}
