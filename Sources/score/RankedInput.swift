// RankedInput: another tool's ranked edge list (score --ranked FILE), evaluated against --truth
// with the same metrics, JSON and plot as a scgrn model — BEELINE's BLEval for any method.
//
// Accepted: GRNBoost2 / arboreto / pySCENIC adjacencies (`TF target importance`), BEELINE's
// rankedEdges.csv (`Gene1 Gene2 EdgeWeight`, tab- or comma-separated), score's own output, or any
// edge file (docs/SCORE.md "Edge files"). A third column is the score (higher is better); without
// one, the file's order is the ranking (first line best). Self edges are dropped (BEELINE's BLEval
// drops them too) and a pair listed twice keeps its first line. The genes are those the file names.

import Foundation
import ToolKit

struct RankedInput {
    let name: String
    let genes: [GeneName]
    let pairs: [GenePair]
    let scores: [Double]

    static func read(_ path: String) throws -> RankedInput {
        let table = try EdgeList.read(path, values: .scores)
        if table.edges.isEmpty { throw ToolError.data(table.name, "has no edges (--ranked)") }
        var index = [String: Int32]()
        var genes = [GeneName]()
        func gene(_ s: String) -> Int32 {
            if let i = index[s] { return i }
            let i = Int32(genes.count)
            index[s] = i
            genes.append(GeneName(symbol: s))
            return i
        }
        var seen = Set<Int>()
        var pairs = [GenePair](), scores = [Double]()
        var selfEdges = 0, duplicates = 0
        for (n, e) in table.edges.enumerated() {
            if e.regulator == e.target { selfEdges += 1; continue }
            let r = gene(e.regulator), t = gene(e.target)
            guard seen.insert(Int(r) << 32 | Int(t)).inserted else { duplicates += 1; continue }
            pairs.append((r, t))
            scores.append(e.value ?? -Double(n))
        }
        if pairs.isEmpty { throw ToolError.data(table.name, "has only self edges (--ranked)") }
        if selfEdges > 0 || duplicates > 0 {
            Diagnostics.note("\(table.name): \(selfEdges) self edges and \(duplicates) repeated pairs dropped")
        }
        if table.valueKind == .none {
            Diagnostics.note("\(table.name): no score column; the file's order is the ranking (first line best)")
        }
        return RankedInput(name: table.name, genes: genes, pairs: pairs, scores: scores)
    }
}
