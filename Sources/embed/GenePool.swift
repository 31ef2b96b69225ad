// GenePool: the running, additive sums behind GENE records.
//
// Per sequence slot: Σ_cells w·encoding (float64) and Σ_cells w. Mean pooling uses w = 1 per
// cell; attention pooling uses scTransNet's per-cell attention weight of the slot. Dataset genes
// the model does not know get known = false, a zero sum and weight 0.

import Foundation
import Frames
import Kernels

final class GenePool {
    let slots: Int, dim: Int
    let sums: DoubleBuffer      // [slots, D]
    var weights: [Double]       // [slots]

    init(slots: Int, dim: Int) {
        self.slots = slots; self.dim = dim
        sums = DoubleBuffer(count: slots * dim)
        weights = [Double](repeating: 0, count: slots)
    }

    /// Adds one cell: encodings [slots, D], and per-slot weights (nil: weight 1 everywhere).
    func add(_ encodings: UnsafePointer<Float>, weights w: UnsafePointer<Float>?) {
        for s in 0..<slots {
            let ws = w.map { Double($0[s]) } ?? 1
            weights[s] += ws
            let e = encodings + s * dim, o = sums.pointer + s * dim
            for j in 0..<dim { o[j] += ws * Double(e[j]) }
        }
    }

    /// One record per dataset gene, in gene order; `slot(g)` is the slot of dataset gene g, or -1
    /// when the model does not read it (its record: known = false, weight 0, a zero sum).
    func records(genes count: Int, slot: (Int) -> Int) -> [GeneRecord] {
        (0..<count).map { g in
            let s = slot(g)
            guard s >= 0 else { return GeneRecord(gene: UInt32(g), known: false, weight: 0, sum: [Float](repeating: 0, count: dim)) }
            let o = sums.pointer + s * dim
            return GeneRecord(gene: UInt32(g), known: true, weight: weights[s], sum: (0..<dim).map { Float(o[$0]) })
        }
    }
}
