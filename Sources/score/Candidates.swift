// Candidates: the gene pairs score rates — those of a pair file, or every TF × gene pair.

import Foundation
import ToolKit

/// A pair of dataset gene indices: regulator → target.
typealias GenePair = (regulator: Int32, target: Int32)

enum Candidates {
    /// The distinct pairs of a pair file (`--pairs`), in file order; a third column is ignored.
    /// Pairs naming genes the dataset lacks are skipped with a warning; none left is an error (65).
    static func fromPairs(_ path: String, _ lookup: GeneLookup) throws -> [GenePair] {
        let table = try EdgeList.read(path, values: .ignored)
        let edges = try table.resolve(lookup, what: "candidate", required: true)
        var seen = Set<Int>()
        var out = [GenePair]()
        out.reserveCapacity(edges.count)
        for e in edges where seen.insert(e.key).inserted {
            out.append((Int32(e.regulator), Int32(e.target)))
        }
        if out.count < edges.count {
            Diagnostics.verbose("\(table.name): \(edges.count - out.count) duplicate pairs dropped")
        }
        return out
    }

    /// Every pair (TF, gene) over the TFs of a list that are dataset genes and every dataset gene,
    /// self pairs excluded.
    static func fromTFs(_ path: String, _ lookup: GeneLookup) throws -> [GenePair] {
        let tfs = try EdgeList.resolveTFs(path, lookup)
        let g = lookup.genes.count
        var out = [GenePair]()
        out.reserveCapacity(tfs.count * max(g - 1, 0))
        for tf in tfs {
            for j in 0..<g where j != tf { out.append((Int32(tf), Int32(j))) }
        }
        if out.isEmpty { throw ToolError.data(path, "gives no TF × gene pair (the dataset has \(g) genes)") }
        return out
    }
}
