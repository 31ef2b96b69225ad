// SequencePlan: which model positions a run feeds, and how a cell's tokens fill them.
//
// scBERT reads a cell as one token per vocabulary gene in vocabulary order, then one appended
// token 0 at the last position (whose gene2vec row is zero): V + 1 positions. With
// `--genes dataset` only the vocabulary genes present in the dataset's gene list are fed, each at
// its own gene2vec row, in vocabulary order, followed by the same final position.

import Foundation
import Frames
import Models
import ToolKit

struct SequencePlan {
    /// Sequence slot → row of the model's position table, ascending; the last is V (the final position).
    let positions: [Int32]
    let positionsU32: [UInt32]
    /// Vocabulary index → sequence slot, or -1 when the vocabulary gene is not fed.
    let slotOfVocabulary: [Int32]
    /// Dataset gene → vocabulary index, or -1 (from the stream's HEAD).
    let vocabularyIndex: [Int32]
    let tokenCount: Int
    var length: Int { positions.count }

    /// - Throws: exit 65 when the stream's vocabulary does not fit the model.
    init(header: StreamHeader, model: PerformerModel, modelPath: String, input: String, datasetOnly: Bool) throws {
        let v = header.vocabulary.count, p = model.config.positions
        guard v > 0 else {
            throw ToolError.data(input, "the stream carries no model vocabulary: tokenize it with --vocab <the model's gene list>")
        }
        guard v + 1 == p else {
            throw ToolError.data(input, "the stream's vocabulary has \(v) genes but \(modelPath) expects \(p - 1) "
                                 + "(\(p) positions = genes + 1): tokenize with the model's own vocabulary")
        }
        vocabularyIndex = header.vocabularyIndex
        tokenCount = model.config.tokens
        var slots = [Int32](repeating: -1, count: v)
        var positions = [Int32]()
        if datasetOnly {
            for x in Set(header.vocabularyIndex.filter { $0 >= 0 }).sorted() { slots[Int(x)] = Int32(positions.count); positions.append(x) }
        } else {
            for i in 0..<v { slots[i] = Int32(i); positions.append(Int32(i)) }
        }
        positions.append(Int32(v))
        self.positions = positions
        positionsU32 = positions.map { UInt32($0) }
        slotOfVocabulary = slots
    }

    /// The sequence slot of a dataset gene, or -1 when the model does not know it.
    func slot(ofGene g: Int) -> Int {
        let v = vocabularyIndex[g]
        return v < 0 ? -1 : Int(slotOfVocabulary[Int(v)])
    }

    /// Checks a cell's tokens against the model's token count.
    func check(_ cell: CellRecord, input: String) throws {
        for t in cell.tokens where Int(t) >= tokenCount {
            throw ToolError.data(input, "cell \(excerpt(cell.barcode)): token \(t) is outside the model's \(tokenCount) tokens (0..<\(tokenCount))")
        }
    }

    /// The model input for a cell: token 0 everywhere, the cell's tokens at its genes' slots.
    func tokens(_ cell: CellRecord) -> [Int32] {
        var out = [Int32](repeating: 0, count: length)
        for (i, g) in cell.genes.enumerated() {
            let s = slot(ofGene: Int(g))
            if s >= 0 { out[s] = Int32(cell.tokens[i]) }
        }
        return out
    }
}
