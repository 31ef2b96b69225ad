// RankedEdges: candidate pairs in rank order, and the edge-list layouts score writes.
//
// Order: logit descending, then regulator symbol, then target symbol (byte order of the UTF-8
// symbols; the gene index breaks ties between equal symbols), so the output is a total order that
// does not depend on the input order or the thread count. The score printed is sigmoid(logit) in
// double precision with the shortest digits that read back to the same double, so distinct
// logits print as distinct scores (unless the sigmoid rounds to exactly 0 or 1).

import ArgumentParser
import Foundation
import ToolKit

/// The edge-list layouts score writes.
enum EdgeFormat: String, CaseIterable, ExpressibleByArgument {
    /// `regulator<TAB>target<TAB>score`.
    case tsv
    /// BEELINE's rankedEdges.csv: `Gene1<TAB>Gene2<TAB>EdgeWeight`.
    case beeline
    /// GRNBoost2 / arboreto / pySCENIC adjacencies: `TF<TAB>target<TAB>importance`.
    case grnboost

    var header: String {
        switch self {
        case .tsv: return "regulator\ttarget\tscore\n"
        case .beeline: return "Gene1\tGene2\tEdgeWeight\n"
        case .grnboost: return "TF\ttarget\timportance\n"
        }
    }
}

enum RankedEdges {
    /// Each gene's position in the genes sorted by symbol bytes (then index): a total order.
    static func symbolRanks(_ genes: [GeneName]) -> [UInt32] {
        let bytes = genes.map { Array($0.symbol.utf8) }
        let sorted = genes.indices.sorted { a, b in
            bytes[a].lexicographicallyPrecedes(bytes[b]) || (bytes[a] == bytes[b] && a < b)
        }
        var rank = [UInt32](repeating: 0, count: genes.count)
        for (r, g) in sorted.enumerated() { rank[g] = UInt32(r) }
        return rank
    }

    /// A key whose ascending unsigned order is the descending order of the float (−0 equals +0).
    @inline(__always)
    static func descendingKey(_ x: Float) -> UInt32 {
        let bits = (x + 0).bitPattern  // -0 + 0 = +0
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return ~ascending
    }

    /// The pairs' indices in rank order (best first).
    ///
    /// One integer sort on (score key, pair index) packed in 64 bits, then each run of equal scores
    /// (rare) re-sorted by (regulator symbol, target symbol).
    /// - Parameters:
    ///   - pairs: distinct gene pairs (fewer than 2³²).
    ///   - logits: one finite or infinite logit per pair (no NaN).
    static func order(_ pairs: [GenePair], logits: [Float], genes: [GeneName]) -> [Int] {
        precondition(pairs.count < 1 << 32)
        var keys = [UInt64](repeating: 0, count: pairs.count)
        for i in 0..<pairs.count { keys[i] = UInt64(descendingKey(logits[i])) << 32 | UInt64(i) }
        keys.sort()
        var order = keys.map { Int($0 & 0xFFFF_FFFF) }
        let rank = symbolRanks(genes)
        var start = 0
        while start < keys.count {
            var end = start + 1
            while end < keys.count && keys[end] >> 32 == keys[start] >> 32 { end += 1 }
            if end - start > 1 {
                order[start..<end].sort { a, b in
                    let ra = rank[Int(pairs[a].regulator)], rb = rank[Int(pairs[b].regulator)]
                    if ra != rb { return ra < rb }
                    return rank[Int(pairs[a].target)] < rank[Int(pairs[b].target)]
                }
            }
            start = end
        }
        return order
    }

    /// sigmoid(logit) in double precision.
    @inline(__always)
    static func probability(_ logit: Float) -> Double {
        1 / (1 + exp(-Double(logit)))
    }

    /// The ranked pairs kept when each regulator keeps only its `k` best targets (rank order kept).
    static func perRegulator(_ order: [Int], pairs: [GenePair], k: Int, genes: Int) -> [Int] {
        var kept = [Int32](repeating: 0, count: genes)
        var out = [Int]()
        for p in order {
            let r = Int(pairs[p].regulator)
            if kept[r] < k { kept[r] += 1; out.append(p) }
        }
        return out
    }

    /// Writes the header and the first `top` ranked pairs (all when nil).
    ///
    /// Lines are formatted in chunks on `threads` threads and written in rank order, so the bytes
    /// do not depend on the thread count. With `prior` (the keys of the model's training prior
    /// edges) the tsv layout gains a fourth column `in_prior`: 1 for a prior edge, else 0.
    static func write(_ out: OutputFile, format: EdgeFormat, pairs: [GenePair], logits: [Float],
                      order: [Int], genes: [GeneName], top: Int?, prior: Set<Int>? = nil, threads: Int = 1) throws {
        let marks = format == .tsv ? prior : nil
        var header = format.header
        if marks != nil { header.removeLast(); header += "\tin_prior\n" }
        try out.write(header)
        // All symbols in one byte array: gene g is bytes[offsets[g]..<offsets[g + 1]].
        var bytes = [UInt8](), offsets = [0]
        for g in genes { bytes.append(contentsOf: g.symbol.utf8); offsets.append(bytes.count) }
        let n = min(order.count, top ?? order.count)
        let chunk = 8192
        let chunks = (n + chunk - 1) / chunk
        let wave = max(1, threads) * 4
        var first = 0
        while first < chunks {
            let count = min(wave, chunks - first)
            var texts = [[UInt8]](repeating: [], count: count)
            texts.withUnsafeMutableBufferPointer { slots in
                DispatchQueue.concurrentPerform(iterations: count) { c in
                    let lo = (first + c) * chunk, hi = min(n, lo + chunk)
                    var buffer = [UInt8]()
                    buffer.reserveCapacity((hi - lo) * 40)
                    bytes.withUnsafeBufferPointer { sym in
                        offsets.withUnsafeBufferPointer { off in
                            for r in lo..<hi {
                                let p = order[r]
                                let i = Int(pairs[p].regulator), j = Int(pairs[p].target)
                                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: sym[off[i]..<off[i + 1]]))
                                buffer.append(0x09)
                                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: sym[off[j]..<off[j + 1]]))
                                buffer.append(0x09)
                                var text = probability(logits[p]).description
                                text.withUTF8 { buffer.append(contentsOf: $0) }
                                if let marks {
                                    buffer.append(0x09)
                                    buffer.append(marks.contains(i << 32 | j) ? UInt8(ascii: "1") : UInt8(ascii: "0"))
                                }
                                buffer.append(0x0A)
                            }
                        }
                    }
                    slots[c] = buffer
                }
            }
            for t in texts { try out.write(t) }
            first += count
        }
    }
}
