// CellNormaliser: one cell's raw entries → its CELL record (scBERT's normalisation and binning),
// written straight into the frame being built (`total` + `write`), or as a CellRecord (`fill`,
// the plain reference the tests compare them with).
//
// For counts: T = Σ c over the genes in the total (the vocabulary genes, or all genes without a
// vocabulary); every entry, in the vocabulary or not, becomes x = c · target / T,
// v = log2(1 + x) and token = min(floor(v), bins), all in float64, so that tokens equal
// scanpy's normalize_total + log1p(base=2) + binning (for integer counts, exactly the integer
// rule token ≥ k ⇔ c · target ≥ (2^k − 1) · T). The value is stored as float32.
// For log2 input: v is the given value, token = min(floor(v), bins), T = 0. For ln input (scanpy's
// log1p, ln(1 + x)): v = value · log2(e), the same quantity on scBERT's log2 scale.

import Foundation
import Frames

struct CellNormaliser {
    /// Per dataset gene (G), whether its counts enter the total.
    let inTotal: [Bool]
    let targetSum: Double
    let bins: Int
    let scale: InputScale
    let keepCounts: Bool
    /// `inTotal` as 1 and 0 (G).
    let weights: [Double]
    /// `inTotal` as all ones and 0 (G), for integer sums.
    let masks: [UInt64]

    init(inTotal: [Bool], targetSum: Double, bins: Int, scale: InputScale, keepCounts: Bool) {
        self.inTotal = inTotal
        self.targetSum = targetSum
        self.bins = bins
        self.scale = scale
        self.keepCounts = keepCounts
        weights = inTotal.map { $0 ? 1 : 0 }
        masks = inTotal.map { $0 ? ~0 : 0 }
    }

    /// Small integer counts whose v is cached per cell (most counts are small).
    static let memoSize = 64

    // MARK: - Reference

    /// Fills `record` (barcode aside) from a cell's entries: the plain reference of `total` and
    /// `write`, which tokenize uses (tests compare the two).
    /// - Parameters:
    ///   - genes: N dataset gene indices, strictly ascending.
    ///   - values: N raw values (counts, or log2 values), all > 0.
    ///   - memo: scratch of `memoSize` doubles reused across cells.
    /// - Returns: the cell's nonzero genes that enter the total (for --min-genes).
    func fill(_ record: inout CellRecord, genes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>,
              memo: UnsafeMutablePointer<Double>) -> Int {
        let n = genes.count
        var total = 0.0
        var inVocab = 0
        weights.withUnsafeBufferPointer { w in
            // Without a branch per entry (vocabulary genes come in no predictable pattern):
            // adding c · 0 = 0 leaves the sum bit-identical to skipping the entry.
            for i in 0..<n {
                let weight = w[Int(genes[i])]
                total += values[i] * weight
                inVocab &+= Int(weight)
            }
        }
        // A cell without counts over the total's genes cannot be normalised: it keeps no
        // entries (scanpy keeps such a cell with every vocabulary token 0).
        let kept = scale == .counts && !(total > 0) ? 0 : n
        CellNormaliser.resize(&record.genes, kept)
        CellNormaliser.resize(&record.values, kept)
        CellNormaliser.resize(&record.tokens, kept)
        CellNormaliser.resize(&record.counts, keepCounts ? kept : 0)
        record.total = scale == .counts ? total : 0
        if kept == 0 { return inVocab }
        let maxToken = Double(bins)
        let memoSize = CellNormaliser.memoSize
        record.genes.withUnsafeMutableBufferPointer { g in _ = g.initialize(from: genes) }
        if keepCounts {
            record.counts.withUnsafeMutableBufferPointer { c in for i in 0..<n { c[i] = Float(values[i]) } }
        }
        let factor = targetSum
        let isCounts = scale == .counts
        for k in 0..<memoSize { memo[k] = -1 }
        record.values.withUnsafeMutableBufferPointer { out in
            record.tokens.withUnsafeMutableBufferPointer { tok in
                for i in 0..<n {
                    let c = values[i]
                    var v: Double
                    if !isCounts {
                        v = c * scale.toLog2
                    } else if c >= 0 && c < Double(memoSize), case let k = Int(c), Double(k) == c {
                        // Small integer counts repeat within a cell: compute each v once.
                        v = memo[k]
                        if v < 0 {
                            v = log2(1 + c * factor / total)
                            memo[k] = v
                        }
                    } else {
                        v = log2(1 + c * factor / total)
                    }
                    out[i] = Float(v)
                    tok[i] = UInt8(min(v, maxToken))
                }
            }
        }
        return inVocab
    }

    // MARK: - Straight into the frame

    /// Per cell total, per small integer count (below `memoSize`), its value and token: a
    /// direct-mapped cache of `slots` tables, each filled as its counts occur.
    ///
    /// Within a run (one normaliser, so one target sum and one number of bins) a value depends
    /// on the count and the cell's total alone, and totals repeat across cells (the 9,999 cells
    /// of the mouse-brain counts have 560 distinct totals), so a cell whose total an earlier
    /// cell had finds most of its values computed. A Memo serves one normaliser only.
    final class Memo {
        static let slots = 1024
        /// Per slot, the total its table is for (NaN: none yet).
        let totals = UnsafeMutablePointer<Double>.allocate(capacity: Memo.slots)
        /// Per slot, `memoSize` values as float32 (-1: not yet computed).
        let values = UnsafeMutablePointer<Float>.allocate(capacity: Memo.slots * CellNormaliser.memoSize)
        let tokens = UnsafeMutablePointer<UInt8>.allocate(capacity: Memo.slots * CellNormaliser.memoSize)

        init() { totals.initialize(repeating: .nan, count: Memo.slots) }

        deinit {
            totals.deallocate()
            values.deallocate()
            tokens.deallocate()
        }

        /// The table for `total`, emptied first if its slot held another total's.
        @inline(__always)
        func table(for total: Double) -> (values: UnsafeMutablePointer<Float>, tokens: UnsafeMutablePointer<UInt8>) {
            let slot = Int(truncatingIfNeeded: (total.bitPattern &* 0x9E37_79B9_7F4A_7C15) >> 54)  // top 10 bits
            let offset = slot * CellNormaliser.memoSize
            if totals[slot].bitPattern != total.bitPattern {
                totals[slot] = total
                (values + offset).update(repeating: -1, count: CellNormaliser.memoSize)
            }
            return (values + offset, tokens + offset)
        }
    }

    /// A cell's raw values: integer counts (a counts matrix's, see CellBatch) or float64.
    enum Values {
        case counts(UnsafeBufferPointer<UInt32>)
        case values(UnsafeBufferPointer<Double>)
    }

    /// A cell's total T and the number of its entries whose genes enter it (for --min-genes),
    /// the same as `fill` gives for the values as float64.
    ///
    /// `fill` adds the values in order in float64. For integer counts that is exact while the
    /// sum stays below 2^53, so then their integer sum, free of the chain of dependent float
    /// additions, is the same number.
    /// - Parameter genes: N dataset gene indices (and N values).
    func total(genes: UnsafeBufferPointer<UInt32>, values: Values) -> (total: Double, counted: Int) {
        switch values {
        case .values(let v):
            return total(genes: genes, values: v)
        case .counts(let c):
            var sum: UInt64 = 0
            var inVocab = 0
            masks.withUnsafeBufferPointer { m in
                for i in 0..<genes.count {
                    let mask = m[Int(genes[i])]
                    sum &+= UInt64(c[i]) & mask
                    inVocab &+= Int(truncatingIfNeeded: mask & 1)
                }
            }
            if sum < 1 << 53 { return (scale == .counts ? Double(sum) : 0, inVocab) }
            // Beyond 2^53 the ordered float64 sum rounds: that one.
            var total = 0.0
            weights.withUnsafeBufferPointer { w in
                for i in 0..<genes.count { total += Double(c[i]) * w[Int(genes[i])] }
            }
            return (scale == .counts ? total : 0, inVocab)
        }
    }

    /// `total` for float64 values: summed in order, as `fill` does.
    func total(genes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>) -> (total: Double, counted: Int) {
        var total = 0.0
        var inVocab = 0
        weights.withUnsafeBufferPointer { w in
            for i in 0..<genes.count {
                let weight = w[Int(genes[i])]
                total += values[i] * weight
                inVocab &+= CellNormaliser.one(weight)
            }
        }
        return (scale == .counts ? total : 0, inVocab)
    }

    /// A weight (0 or 1) as an Int, from its bits (the exponent's lowest bit is set for 1.0
    /// alone), without the range checks of `Int(_:)`.
    @inline(__always)
    static func one(_ weight: Double) -> Int { Int(truncatingIfNeeded: (weight.bitPattern >> 52) & 1) }

    /// Writes a cell's CELL record straight into the writer's frame: the bytes `fill` and
    /// `FrameWriter.append(cell:flags:)` give for it (its reference), without the record.
    /// - Parameters:
    ///   - genes: N dataset gene indices, strictly ascending.
    ///   - values: N raw values (counts, or log2 values), all > 0.
    ///   - total: the cell's total from `total(genes:values:)`.
    ///   - memo: scratch reused across cells.
    func write(genes: UnsafeBufferPointer<UInt32>, values: Values, total: Double,
               barcode: UnsafeBufferPointer<UInt8>, flags: CellFrameFlags, to writer: FrameWriter, memo: Memo) throws {
        let isCounts = scale == .counts
        // A cell without counts over the total's genes keeps no entries (see `fill`).
        let n = isCounts && !(total > 0) ? 0 : genes.count
        let maxToken = Double(bins)
        let factor = targetSum
        let memoSize = CellNormaliser.memoSize
        // Tables are only used for counts (a total > 0 when there are entries).
        let table = isCounts && n > 0 ? memo.table(for: total) : (memo.values, memo.tokens)
        try writer.appendCell(barcode: barcode, total: total, count: n, flags: flags) { slots in
            guard n > 0 else { return }
            slots.genes.copyMemory(from: genes.baseAddress!, byteCount: 4 * n)
            let out = slots.values
            let tok = slots.tokens!
            let (memoValues, memoTokens) = table
            // v = log2(1 + c · target / T) as float32, and its token.
            @inline(__always) func normalise(_ c: Double) -> (Float, UInt8) {
                let v = log2(1 + c * factor / total)
                return (Float(v), UInt8(min(v, maxToken)))
            }
            // The same for a small integer count, computed once per total (see Memo).
            @inline(__always) func memoised(_ k: Int) -> (Float, UInt8) {
                if memoValues[k] < 0 { (memoValues[k], memoTokens[k]) = normalise(Double(k)) }
                return (memoValues[k], memoTokens[k])
            }
            switch values {
            case .counts(let counts) where isCounts:
                for i in 0..<n {
                    let c = counts[i]
                    let (f, t) = c < UInt32(memoSize) ? memoised(Int(c)) : normalise(Double(c))
                    out.storeBytes(of: f.bitPattern, toByteOffset: 4 * i, as: UInt32.self)
                    tok[i] = t
                }
                if let slot = slots.counts {
                    for i in 0..<n { slot.storeBytes(of: Float(counts[i]).bitPattern, toByteOffset: 4 * i, as: UInt32.self) }
                }
            case .counts(let counts):
                // Log values that happen to be integers: taken as they are (ln: converted).
                let toLog2 = scale.toLog2
                for i in 0..<n {
                    let c = Double(counts[i]) * toLog2
                    out.storeBytes(of: Float(c).bitPattern, toByteOffset: 4 * i, as: UInt32.self)
                    tok[i] = UInt8(min(c, maxToken))
                }
                if let slot = slots.counts {
                    for i in 0..<n { slot.storeBytes(of: Float(counts[i]).bitPattern, toByteOffset: 4 * i, as: UInt32.self) }
                }
            case .values(let values):
                let toLog2 = scale.toLog2
                for i in 0..<n {
                    let c = values[i]
                    let f: Float
                    let t: UInt8
                    if !isCounts {
                        let v = c * toLog2
                        f = Float(v)
                        t = UInt8(min(v, maxToken))
                    } else if c >= 0 && c < Double(memoSize), case let k = Int(c), Double(k) == c {
                        (f, t) = memoised(k)
                    } else {
                        (f, t) = normalise(c)
                    }
                    out.storeBytes(of: f.bitPattern, toByteOffset: 4 * i, as: UInt32.self)
                    tok[i] = t
                }
                if let slot = slots.counts {
                    for i in 0..<n { slot.storeBytes(of: Float(values[i]).bitPattern, toByteOffset: 4 * i, as: UInt32.self) }
                }
            }
        }
    }

    // MARK: - Helpers

    /// Sets an array's length to `n` (contents to be overwritten), keeping its storage.
    @inline(__always)
    static func resize<T: FixedWidthInteger>(_ a: inout [T], _ n: Int) {
        if a.count > n { a.removeLast(a.count - n) } else if a.count < n { a.append(contentsOf: repeatElement(0, count: n - a.count)) }
    }

    @inline(__always)
    static func resize(_ a: inout [Float], _ n: Int) {
        if a.count > n { a.removeLast(a.count - n) } else if a.count < n { a.append(contentsOf: repeatElement(0, count: n - a.count)) }
    }
}
