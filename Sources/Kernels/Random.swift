// Random: the engine's own deterministic generator (xoshiro256**, seeded by SplitMix64) and its
// uniform and normal draws.
//
// Written here rather than taken from the platform so a seed means the same numbers on every
// machine, OS and Swift version: initialisation, dropout masks and sampling are reproducible
// bit for bit. References: Blackman & Vigna, "Scrambled linear pseudorandom number
// generators" (2021) for xoshiro256** and SplitMix64; Box & Muller (1958) for normals.

import Foundation

/// xoshiro256**: a fast 64-bit generator with 256 bits of state, period 2^256 − 1.
///
/// Seeding: the 64-bit seed is expanded into the four state words by SplitMix64, so nearby seeds
/// give unrelated streams and the state is never all zero.
/// Draws:
/// - `nextFloat()`: the top 24 bits / 2^24, uniform on [0, 1) with every value a multiple of 2^-24.
/// - `nextDouble()`: the top 53 bits / 2^53, uniform on [0, 1).
/// - `normal()`: Box–Muller in float64 from two `nextDouble()` draws, u1 shifted to (0, 1]; the
///   pair's second value is kept for the next call (cos first, then sin).
public struct Xoshiro256: RandomNumberGenerator {
    // Visible to inlinable code so `next()` inlines into other modules' loops (dropout draws one
    // number per value).
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double?

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256.rotl(s3, 45)
        return result
    }

    /// Uniform on [0, 1), 24 random bits.
    @inlinable @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform on [0, 1), 53 random bits.
    @inlinable @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform on [low, high), computed in float64 and rounded once.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        Float(Double(low) + (Double(high) - Double(low)) * nextDouble())
    }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        let u1 = 1 - nextDouble()          // (0, 1]: log is finite
        let u2 = nextDouble()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = r * Foundation.sin(theta)
        return r * Foundation.cos(theta)
    }

    /// A uniform integer in 0..<n: Lemire's multiply-and-reject method, written out so the draw
    /// does not depend on the standard library's choice of algorithm.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "Xoshiro256.int(below:): n must be positive")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A uniformly shuffled copy of `values` (Fisher–Yates, last position first).
    public mutating func shuffled<T>(_ values: [T]) -> [T] {
        var a = values
        if a.count < 2 { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            a.swapAt(i, j)
        }
        return a
    }
}
