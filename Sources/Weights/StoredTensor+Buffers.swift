// StoredTensor+Buffers: a stored tensor's values converted straight into the aligned buffers the
// model kernels read, without an intermediate array.

import Kernels

extension StoredTensor {
    /// Writes elements `range` (all by default) converted to Float at `destination`, the same
    /// conversion as `floats` (float64 rounds once; integers convert exactly where they can).
    public func copyFloats(_ range: Range<Int>? = nil, to destination: UnsafeMutablePointer<Float>) {
        let r = range ?? 0..<count
        precondition(r.lowerBound >= 0 && r.upperBound <= count, "copyFloats: \(r) outside \(count) elements")
        bytes.withUnsafeBytes { raw in
            let o = r.lowerBound
            switch dtype {
            case .f32:
                if !r.isEmpty { UnsafeMutableRawPointer(destination).copyMemory(from: raw.baseAddress! + 4 * o, byteCount: 4 * r.count) }
            case .f64: for i in 0..<r.count { destination[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * (o + i), as: Double.self)) }
            case .f16: for i in 0..<r.count { destination[i] = halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * (o + i), as: UInt16.self)) }
            case .bf16:
                for i in 0..<r.count {
                    destination[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * (o + i), as: UInt16.self)) << 16)
                }
            case .i64: for i in 0..<r.count { destination[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * (o + i), as: Int64.self)) }
            case .i32: for i in 0..<r.count { destination[i] = Float(raw.loadUnaligned(fromByteOffset: 4 * (o + i), as: Int32.self)) }
            case .i16: for i in 0..<r.count { destination[i] = Float(raw.loadUnaligned(fromByteOffset: 2 * (o + i), as: Int16.self)) }
            case .i8: for i in 0..<r.count { destination[i] = Float(raw.load(fromByteOffset: o + i, as: Int8.self)) }
            case .u8, .bool: for i in 0..<r.count { destination[i] = Float(raw.load(fromByteOffset: o + i, as: UInt8.self)) }
            }
        }
    }
}

extension AlignedBuffer where T == Float {
    /// A buffer holding elements `range` (all by default) of a stored tensor, as Float.
    public convenience init(_ tensor: StoredTensor, _ range: Range<Int>? = nil) {
        self.init(count: (range ?? 0..<tensor.count).count)
        tensor.copyFloats(range, to: pointer)
    }
}

extension AlignedBuffer where T == Double {
    /// A buffer holding a stored tensor's values as Double (exact for every float type).
    public convenience init(_ tensor: StoredTensor) {
        self.init(count: tensor.count)
        if tensor.dtype == .f64 {
            tensor.bytes.withUnsafeBytes { raw in
                if tensor.count > 0 { UnsafeMutableRawPointer(pointer).copyMemory(from: raw.baseAddress!, byteCount: 8 * tensor.count) }
            }
        } else {
            let d = tensor.doubles
            for i in 0..<d.count { pointer[i] = d[i] }
        }
    }
}
