// Masking: scBERT's masked-token corruption of one cell (pretrain.py's data_mask).
//
// Over the cell's nonzero tokens (token 0 and the mask token are never chosen), ⌈p·n⌉ positions
// are chosen uniformly without replacement (p = --mask-prob, 0.15); each chosen position becomes
// the mask token with probability --replace-prob (0.9) and otherwise keeps its token (scBERT's
// random-token probability is 0, so no random replacement). The loss and the accuracy are taken on
// every chosen position, replaced or not.

import Kernels

struct MaskedCell {
    /// The model input: the cell's tokens with the mask applied, [L].
    var input: [Int32]
    /// Chosen positions, ascending, and their original tokens.
    var positions: [Int]
    var labels: [UInt8]
}

struct Masker {
    let maskProb: Double, replaceProb: Double
    let maskToken: Int32

    /// Corrupts one token row with draws from `rng` (in this order: the choice, by a partial
    /// Fisher–Yates over the nonzero positions; then one uniform per chosen position, ascending).
    func mask(_ row: ArraySlice<UInt8>, rng: inout Xoshiro256) -> MaskedCell {
        var input = row.map { Int32($0) }
        var candidates = [Int]()
        for (p, t) in row.enumerated() where t != 0 && Int32(t) != maskToken { candidates.append(p) }
        let k = Int((Double(candidates.count) * maskProb).rounded(.up))
        for i in 0..<k {
            let j = i + rng.int(below: candidates.count - i)
            candidates.swapAt(i, j)
        }
        let chosen = candidates[0..<k].sorted()
        var labels = [UInt8]()
        labels.reserveCapacity(k)
        for p in chosen {
            labels.append(UInt8(input[p]))
            if rng.nextDouble() < replaceProb { input[p] = maskToken }
        }
        return MaskedCell(input: input, positions: chosen, labels: labels)
    }
}
