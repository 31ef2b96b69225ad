// FloatBuffer: an owned, 64-byte-aligned block of Float (or Double) values for the model kernels.
//
// The hot loops work on raw pointers; this class owns the memory behind them, so that weights
// and scratch space have one owner, no copy-on-write and no exclusivity checks in the loops.

import Foundation

/// A fixed-size, zero-initialised, aligned buffer of `T` (Float or Double).
public final class AlignedBuffer<T: BinaryFloatingPoint> {
    public let count: Int
    public let pointer: UnsafeMutablePointer<T>

    /// A zero-filled buffer of `count` values.
    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        pointer = raw.bindMemory(to: T.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [T]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { pointer.update(from: b, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    /// The values as an array (for tests and output).
    public var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Sets every value to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }
}

public typealias FloatBuffer = AlignedBuffer<Float>
public typealias DoubleBuffer = AlignedBuffer<Double>
