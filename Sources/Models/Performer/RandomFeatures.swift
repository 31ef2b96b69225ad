// RandomFeatures: FAVOR+'s Gaussian orthogonal random projection, drawn from the engine's seeded
// generator.
//
// The construction of performer-pytorch's gaussian_orthogonal_random_matrix (scaling 0), written
// from its description: the M rows come in blocks of E orthonormal rows, each block the
// orthonormalised rows of an E×E standard normal matrix (the last block truncated to the rows
// still needed); row i is then scaled by the norm of an independent standard normal E-vector, so
// row norms follow the chi distribution of Gaussian vectors while rows within a block stay
// orthogonal. Orthonormalisation is modified Gram–Schmidt in float64 (the Q of a QR with a
// positive R diagonal; torch's Householder QR may flip signs, which leaves the distribution
// unchanged). Draw order: the blocks' normals row-major, block after block, then the M×E
// normals of the multipliers row-major.

import Foundation
import Kernels

public enum RandomFeatures {
    /// A Gaussian orthogonal random matrix.
    ///
    /// - Parameters:
    ///   - rows: M, the number of random features.
    ///   - columns: E, the head width.
    /// - Returns: [M, E] row-major float32.
    public static func gaussianOrthogonal(rows m: Int, columns e: Int, rng: inout Xoshiro256) -> [Float] {
        precondition(m > 0 && e > 0, "gaussianOrthogonal: sizes must be positive")
        var out = [Double]()
        out.reserveCapacity(m * e)
        while out.count < m * e {
            var block = (0..<(e * e)).map { _ in rng.normal() }
            orthonormalizeRows(&block, e)
            let need = min(e, m - out.count / e)
            out.append(contentsOf: block[0..<(need * e)])
        }
        for i in 0..<m {
            var s = 0.0
            for _ in 0..<e { let z = rng.normal(); s += z * z }
            let norm = s.squareRoot()
            for j in 0..<e { out[i * e + j] *= norm }
        }
        return out.map { Float($0) }
    }

    /// Modified Gram–Schmidt on the rows of a square [e, e] matrix (in place).
    static func orthonormalizeRows(_ a: inout [Double], _ e: Int) {
        for i in 0..<e {
            for j in 0..<i {
                var d = 0.0
                for t in 0..<e { d += a[i * e + t] * a[j * e + t] }
                for t in 0..<e { a[i * e + t] -= d * a[j * e + t] }
            }
            var s = 0.0
            for t in 0..<e { s += a[i * e + t] * a[i * e + t] }
            let inv = 1 / s.squareRoot()
            for t in 0..<e { a[i * e + t] *= inv }
        }
    }
}
