// ScBERTEmbedding: scBERT's Performer as an embed model.
//
// A cell becomes the token sequence of its SequencePlan (token 0 everywhere, its binned tokens
// at its genes' slots) and runs alone, as scBERT's PyTorch code does with batch size 1; scBERT's
// key stabiliser is per sequence, so cells are independent. Each worker owns a PerformerEncoder
// (its scratch memory) and output buffers.
//
//   --emit genes      per slot, the final encoding (D values); weight 1 (mean) or scTransNet's
//                     attention weight of the slot (--pool attention)
//   --emit cells      CELLVEC: the mean of the final encodings over all N positions
//   --emit encodings  ENCODING: every position's final encoding; positions = rows of the position table

import Foundation
import Frames
import Kernels
import Models

struct ScBERTEmbedding: EmbedModel {
    let model: PerformerModel
    let plan: SequencePlan
    /// Whether workers compute the attention pooling weights.
    let attentionWeights: Bool

    final class Worker {
        let encoder: PerformerEncoder
        let output: FloatBuffer           // [N, D]
        let scores: FloatBuffer?          // [N]

        init(model: PerformerModel, length n: Int, scores: Bool) {
            encoder = PerformerEncoder(model: model, maxLength: n)
            output = FloatBuffer(count: n * model.config.dim)
            self.scores = scores ? FloatBuffer(count: n) : nil
        }
    }

    var requiredFlag: CellFrameFlags { .tokens }
    var missingFlagMessage: String {
        "CELL frames without tokens: embed needs tokenize's binned tokens (tokenize --vocab <the model's vocabulary>)"
    }
    var slots: Int { plan.length }
    var slotWidth: Int { model.config.dim }
    var slotPositions: [UInt32] { plan.positionsU32 }
    var cellVectorWidth: Int { model.config.dim }
    var datasetGenes: Int { plan.vocabularyIndex.count }

    func makeWorker() -> Worker { Worker(model: model, length: plan.length, scores: attentionWeights) }

    func check(_ cell: CellRecord, input: String) throws { try plan.check(cell, input: input) }

    func run(_ cell: CellRecord, on w: Worker) throws {
        w.encoder.encode(tokens: plan.tokens(cell), positions: plan.positions, output: w.output.pointer, scores: w.scores?.pointer)
    }

    func encodings(_ w: Worker) -> UnsafePointer<Float> { UnsafePointer(w.output.pointer) }
    func poolWeights(_ w: Worker) -> UnsafePointer<Float>? { w.scores.map { UnsafePointer($0.pointer) } }

    /// The mean of the final encodings over all positions, summed in float64.
    func cellVector(_ w: Worker) -> [Float] {
        let n = plan.length, d = model.config.dim, e = w.output.pointer
        var mean = [Double](repeating: 0, count: d)
        for p in 0..<n { for j in 0..<d { mean[j] += Double(e[p * d + j]) } }
        return mean.map { Float($0 / Double(n)) }
    }

    func slot(ofGene g: Int) -> Int { plan.slot(ofGene: g) }
}
