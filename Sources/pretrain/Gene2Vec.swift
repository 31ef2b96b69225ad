// Gene2Vec: reads a gene2vec text table (the format of the released gene2vec embeddings: one
// gene per line, its symbol then D numbers, separated by spaces or tabs; `GeneTable` in ToolKit)
// into scBERT's position table layout over a vocabulary.
//
// Row i of the result is vocabulary gene i's vector; genes the table lacks get a zero row (a note
// counts them); the last row (the appended position) is zero, as in scBERT.

import Foundation
import ToolKit

enum Gene2Vec {
    /// - Returns: [(V + 1) · D] float32.
    /// - Throws: exit 65 naming the file for a line whose numbers are not D finite values.
    static func read(_ path: String, vocabulary: [String], dim d: Int) throws -> [Float] {
        let table = try GeneTable.read(path, width: d, widthName: "the model width")
        let (rows, found) = table.rows(for: vocabulary)
        guard found > 0 else { throw ToolError.data(path, "no vocabulary gene has a vector in this table") }
        if found < vocabulary.count {
            Diagnostics.note("gene2vec \(path): \(vocabulary.count - found) of \(vocabulary.count) vocabulary genes have no vector (zero rows)")
        }
        return rows + [Float](repeating: 0, count: d)
    }
}
