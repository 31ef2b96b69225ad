// StoredTensor: a tensor as a weights file holds it — element type, shape, raw little-endian bytes.
//
// Both weight formats scgrn reads (PyTorch zip checkpoints and safetensors) decode into these,
// and the training engine saves its parameters and optimiser state through them.

import Foundation
import ToolKit

/// Element types of stored tensors, named as safetensors names them.
public enum DType: String, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { self == .f64 || self == .f32 || self == .f16 || self == .bf16 }
}

/// A tensor read from (or to be written to) a weights file.
public struct StoredTensor: Equatable {
    public var dtype: DType
    public var shape: [Int]
    /// Row-major (C order) element bytes, little-endian.
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "StoredTensor: shape \(shape) does not match \(bytes.count) bytes of \(dtype)")
        self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    public init(_ values: [Float], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "StoredTensor: shape \(shape) does not match \(values.count) values")
        dtype = .f32
        self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    public init(_ values: [Double], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "StoredTensor: shape \(shape) does not match \(values.count) values")
        dtype = .f64
        self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    public init(_ values: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "StoredTensor: shape \(shape) does not match \(values.count) values")
        dtype = .i64
        self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// The index of the first NaN or infinite element of a floating-point tensor, if any.
    public var firstNonFinite: Int? {
        bytes.withUnsafeBytes { raw -> Int? in
            let n = count
            switch dtype {
            case .f32: return (0..<n).first { !raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self).isFinite }
            case .f64: return (0..<n).first { !raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self).isFinite }
            // Half and bfloat16: all exponent bits set is infinity or NaN.
            case .f16: return (0..<n).first { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) & 0x7C00 == 0x7C00 }
            case .bf16: return (0..<n).first { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) & 0x7F80 == 0x7F80 }
            default: return nil
            }
        }
    }

    /// The values converted to Float (float64 rounds once; integers convert exactly where they can).
    public var floats: [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            let n = count
            switch dtype {
            case .f32: return (0..<n).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
            case .f64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
            case .f16: return (0..<n).map { halfToFloat(raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
            case .bf16: return (0..<n).map { Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
            case .i64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            case .i32: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            case .i16: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
            case .i8: return (0..<n).map { Float(raw.load(fromByteOffset: $0, as: Int8.self)) }
            case .u8, .bool: return (0..<n).map { Float(raw.load(fromByteOffset: $0, as: UInt8.self)) }
            }
        }
    }

    /// The values converted to Double (exact for every float type).
    public var doubles: [Double] {
        if dtype == .f64 {
            return bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) } }
        }
        if dtype == .i64 {
            return bytes.withUnsafeBytes { raw in (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) } }
        }
        return floats.map(Double.init)
    }

    /// The values as Int64 (integer types only; floats are truncated toward zero).
    public var int64s: [Int64] {
        if dtype == .i64 {
            return bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
        }
        return floats.map { Int64($0) }
    }
}

/// IEEE 754 half precision to single precision, bit-exact (subnormals, infinities and NaN included).
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // Subnormal: value = mant · 2^-24.
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

/// A set of named tensors with string metadata, in a stable order.
public struct TensorFile: Equatable {
    /// Tensor names in file order.
    public private(set) var names: [String] = []
    public private(set) var tensors: [String: StoredTensor] = [:]
    public var metadata: [String: String] = [:]

    public init() {}

    /// Refuses a NaN or an infinity in any floating-point tensor: no stage computes with one, so
    /// the first that loads the weights stops (and a NaN never reaches graphify's ranking).
    /// - Throws: `ToolError.badInput` (exit 65) naming `source`, the tensor and the element.
    public func requireFinite(source: String) throws {
        for name in names {
            if let bad = tensors[name]!.firstNonFinite {
                throw ToolError.data(source, "tensor \(excerpt(name)) holds a non-finite value (NaN or infinity) at element "
                                     + "\(bad): the weights are corrupt")
            }
        }
    }

    /// Adds or replaces a tensor (a new name goes last).
    public mutating func set(_ name: String, _ t: StoredTensor) {
        if tensors[name] == nil { names.append(name) }
        tensors[name] = t
    }

    public subscript(_ name: String) -> StoredTensor? { tensors[name] }
}
