// RankedEdges: candidate pairs in rank order, and the edge-list layouts score writes.
//
// Order: logit descending, then regulator symbol, then target symbol (byte order of the UTF-8
// symbols; the gene index breaks ties between equal symbols), so the output is a total order that
// does not depend on the input order or the thread count. The score printed is sigmoid(logit) in
// double precision with the shortest digits that read back to the same double, so distinct
// logits print as distinct scores (unless the sigmoid rounds to exactly 0 or 1).

import Foundation
import Shared

/// The edge-list layouts score writes.
enum EdgeFormat: String, CaseIterable {
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
    /// - Parameters:
    ///   - pairs: distinct gene pairs.
    ///   - logits: one finite or infinite logit per pair (no NaN).
    static func order(_ pairs: [GenePair], logits: [Float], genes: [GeneName]) -> [Int] {
        struct Key { var score: UInt32; var regulator: UInt32; var target: UInt32; var index: UInt32 }
        let rank = symbolRanks(genes)
        var keys = [Key]()
        keys.reserveCapacity(pairs.count)
        for (i, p) in pairs.enumerated() {
            keys.append(Key(score: descendingKey(logits[i]), regulator: rank[Int(p.regulator)],
                            target: rank[Int(p.target)], index: UInt32(i)))
        }
        keys.sort { a, b in
            if a.score != b.score { return a.score < b.score }
            if a.regulator != b.regulator { return a.regulator < b.regulator }
            if a.target != b.target { return a.target < b.target }
            return a.index < b.index
        }
        return keys.map { Int($0.index) }
    }

    /// sigmoid(logit) in double precision.
    @inline(__always)
    static func probability(_ logit: Float) -> Double {
        1 / (1 + exp(-Double(logit)))
    }

    /// Writes the header and the first `top` ranked pairs (all when nil).
    static func write(_ out: OutputFile, format: EdgeFormat, pairs: [GenePair], logits: [Float],
                      order: [Int], genes: [GeneName], top: Int?) throws {
        try out.write(format.header)
        let symbols = genes.map { Array($0.symbol.utf8) }
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 16)
        let n = min(order.count, top ?? order.count)
        for r in 0..<n {
            let p = order[r]
            buffer.append(contentsOf: symbols[Int(pairs[p].regulator)])
            buffer.append(0x09)
            buffer.append(contentsOf: symbols[Int(pairs[p].target)])
            buffer.append(0x09)
            buffer.append(contentsOf: probability(logits[p]).description.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 {
                try out.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try out.write(buffer)
    }
}
