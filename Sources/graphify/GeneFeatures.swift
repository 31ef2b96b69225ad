// GeneFeatures: `--gene-features FILE`, a per-gene vector table (gene2vec's text format,
// `GeneTable`) as extra node features. Each dataset gene takes its row — matched by symbol, or
// ignoring case when exactly one symbol of the table matches so (BEELINE upper-cases mouse
// symbols) — and a gene the table lacks takes zeros. The rows join the channels' input where a
// transformer embedding joins it (after the embedding when both are given), so the table is what
// a transformer would contribute, without one.
//
// Dimensions (docs/ARCHITECTURE.md): G dataset genes, D embedding width; T the table's width.

import ToolKit

struct GeneFeatures {
    /// [G, T]
    var values: [Float]
    /// T
    var width: Int
    /// Dataset genes with a row in the table.
    var found: Int

    /// - Throws: exit 65 for a malformed table, or one that names no dataset gene when `required`
    ///   (else a note says so, and `found` is 0).
    /// - Parameter label: how the note names the table (default: its path).
    static func read(_ path: String, genes: [String], label: String? = nil, required: Bool = true) throws -> GeneFeatures {
        let table = try GeneTable.read(path)
        let (values, found) = table.rows(for: genes, ignoringCase: true)
        guard found > 0 else {
            let problem = "names none of the \(genes.count) dataset genes (is it for another species or symbol set?)"
            if required { throw ToolError.data(path, problem) }
            Diagnostics.note("\(label ?? path) \(problem): not used")
            return GeneFeatures(values: values, width: table.width, found: 0)
        }
        Diagnostics.note("\(label ?? "gene features \(path)"): \(found) of \(genes.count) dataset genes have a \(table.width)-wide vector"
                         + (found < genes.count ? "; the other \(genes.count - found) get zeros" : ""))
        return GeneFeatures(values: values, width: table.width, found: found)
    }

    /// concat(embedding [G, D], table [G, T]) per gene: [G, D + T], and D + T.
    static func join(_ embedding: [Float], width d: Int, _ table: GeneFeatures?, genes g: Int) -> (values: [Float], width: Int) {
        guard let table else { return (embedding, d) }
        if d == 0 { return (table.values, table.width) }
        let w = d + table.width
        var out = [Float](repeating: 0, count: g * w)
        for i in 0..<g {
            for j in 0..<d { out[i * w + j] = embedding[i * d + j] }
            for j in 0..<table.width { out[i * w + d + j] = table.values[i * table.width + j] }
        }
        return (out, w)
    }
}
