// CellNormaliser: one cell's raw entries → its CellRecord (scBERT's normalisation and binning).
//
// For counts: T = Σ c over the genes in the total (the vocabulary genes, or all genes without a
// vocabulary); every entry, in the vocabulary or not, becomes x = c · target / T,
// v = log2(1 + x) and token = min(floor(v), bins), all in float64, so that tokens equal
// scanpy's normalize_total + log1p(base=2) + binning (for integer counts, exactly the integer
// rule token ≥ k ⇔ c · target ≥ (2^k − 1) · T). The value is stored as float32.
// For log2 input: v is the given value, token = min(floor(v), bins), T = 0.

import Foundation
import Shared

struct CellNormaliser {
    /// Per dataset gene (G), whether its counts enter the total.
    let inTotal: [Bool]
    let targetSum: Double
    let bins: Int
    let scale: InputScale
    let keepCounts: Bool

    /// Small integer counts whose v is cached per cell (most counts are small).
    static let memoSize = 64

    /// Fills `record` (barcode aside) from a cell's entries.
    /// - Parameters:
    ///   - genes: N dataset gene indices, strictly ascending.
    ///   - values: N raw values (counts, or log2 values), all > 0.
    ///   - memo: scratch of `memoSize` doubles reused across cells.
    /// - Returns: the cell's nonzero genes that enter the total (for --min-genes).
    func fill(_ record: inout CellRecord, genes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>,
              memo: UnsafeMutablePointer<Double>) -> Int {
        record.genes.removeAll(keepingCapacity: true)
        record.values.removeAll(keepingCapacity: true)
        record.tokens.removeAll(keepingCapacity: true)
        record.counts.removeAll(keepingCapacity: true)
        let n = genes.count
        var total = 0.0
        var inVocab = 0
        inTotal.withUnsafeBufferPointer { mask in
            for i in 0..<n where mask[Int(genes[i])] {
                total += values[i]
                inVocab += 1
            }
        }
        let maxToken = Double(bins)
        switch scale {
        case .log2:
            record.total = 0
            for i in 0..<n {
                let v = values[i]
                record.genes.append(genes[i])
                record.values.append(Float(v))
                record.tokens.append(UInt8(min(v, maxToken)))
            }
        case .counts:
            record.total = total
            // A cell without counts over the total's genes cannot be normalised: it keeps no
            // entries (scanpy keeps such a cell with every vocabulary token 0).
            if !(total > 0) { return inVocab }
            let factor = targetSum
            for k in 0..<CellNormaliser.memoSize { memo[k] = -1 }
            for i in 0..<n {
                let c = values[i]
                var v: Double
                let small = Int(exactly: c) ?? CellNormaliser.memoSize
                if small < CellNormaliser.memoSize {
                    v = memo[small]
                    if v < 0 {
                        v = log2(1 + c * factor / total)
                        memo[small] = v
                    }
                } else {
                    v = log2(1 + c * factor / total)
                }
                record.genes.append(genes[i])
                record.values.append(Float(v))
                record.tokens.append(UInt8(min(v, maxToken)))
            }
        }
        if keepCounts {
            for i in 0..<n { record.counts.append(Float(values[i])) }
        }
        return inVocab
    }
}
