// CellRunner: runs the encoder over a batch of cells on several worker threads.
//
// Each worker owns a PerformerEncoder (its scratch memory) and output buffers. Cells are
// independent (scBERT's key stabiliser is per sequence), so a batch of W cells runs as W
// parallel single-cell passes; results are handed back in input order, so the output does not
// depend on the number of threads.

import Foundation
import Frames
import Kernels
import Models

final class CellRunner {
    let plan: SequencePlan
    let encoders: [PerformerEncoder]
    let outputs: [FloatBuffer]
    let scoreBuffers: [FloatBuffer]?

    init(model: PerformerModel, plan: SequencePlan, workers: Int, scores: Bool) {
        self.plan = plan
        let n = plan.length, d = model.config.dim
        encoders = (0..<workers).map { _ in PerformerEncoder(model: model, maxLength: n) }
        outputs = (0..<workers).map { _ in FloatBuffer(count: n * d) }
        scoreBuffers = scores ? (0..<workers).map { _ in FloatBuffer(count: n) } : nil
    }

    /// Encodes up to `workers` cells at once, then calls `emit(i, encodings [N,D], scores [N]?)` in order.
    func run(_ cells: [CellRecord], emit: (Int, UnsafePointer<Float>, UnsafePointer<Float>?) throws -> Void) throws {
        precondition(cells.count <= encoders.count)
        let work = { (i: Int) in
            self.encoders[i].encode(tokens: self.plan.tokens(cells[i]), positions: self.plan.positions,
                                    output: self.outputs[i].pointer, scores: self.scoreBuffers?[i].pointer)
        }
        if cells.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: cells.count, execute: work) }
        for i in 0..<cells.count { try emit(i, outputs[i].pointer, scoreBuffers?[i].pointer) }
    }
}
