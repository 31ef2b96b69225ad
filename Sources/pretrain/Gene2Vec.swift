// Gene2Vec: reads a gene2vec text table (the format of the released gene2vec embeddings: one
// gene per line, its symbol then D numbers, separated by spaces or tabs) into scBERT's position
// table layout over a vocabulary.
//
// Row i of the result is vocabulary gene i's vector; genes the table lacks get a zero row (a note
// counts them); the last row (the appended position) is zero, as in scBERT.

import Foundation
import ToolKit

enum Gene2Vec {
    /// - Returns: [(V + 1) · D] float32.
    /// - Throws: exit 65 naming the file for a line whose numbers are not D finite values.
    static func read(_ path: String, vocabulary: [String], dim d: Int) throws -> [Float] {
        let reader = try ByteReader.open(path)
        var slot = [String: Int]()
        for (i, g) in vocabulary.enumerated() where slot[g] == nil { slot[g] = i }
        var table = [Float](repeating: 0, count: (vocabulary.count + 1) * d)
        var found = Set<Int>()
        while let line = try reader.nextLineString() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            guard fields.count == d + 1 else {
                throw ToolError.badInput(file: path, line: reader.lineNumber,
                                         message: "\(fields.count - 1) numbers after the symbol, the model width is \(d)")
            }
            guard let i = slot[String(fields[0])], !found.contains(i) else { continue }
            for j in 0..<d {
                guard let v = Float(fields[j + 1]), v.isFinite else {
                    throw ToolError.badInput(file: path, line: reader.lineNumber, message: "'\(excerpt(String(fields[j + 1])))' is not a finite number")
                }
                table[i * d + j] = v
            }
            found.insert(i)
        }
        guard !found.isEmpty else { throw ToolError.data(path, "no vocabulary gene has a vector in this table") }
        if found.count < vocabulary.count {
            Diagnostics.note("gene2vec \(path): \(vocabulary.count - found.count) of \(vocabulary.count) vocabulary genes have no vector (zero rows)")
        }
        return table
    }
}
