// Real tasks: models built with the training engine learn to tell T cells from monocytes in real
// PBMC counts (Tests/Fixtures/train, labelling genes excluded) and are judged on held-out cells.

import Engine
import Foundation
import Kernels
import TestSupport
import XCTest

final class TrainTaskTests: XCTestCase {
    /// The fixture as standardised log-CP10k features with labels (1 = monocyte), split 70/30.
    struct Cells {
        var features: [Float]   // [cells, genes]
        var labels: [Float]     // [cells]
        var genes: Int
        var train: [Int], test: [Int]
        var count: Int { labels.count }
    }

    static func load() throws -> Cells {
        let text = try String(contentsOfFile: Fixtures.path("train/pbmc_t_vs_monocyte.tsv"), encoding: .utf8)
        var lines = text.split(separator: "\n")
        let header = lines.removeFirst().split(separator: "\t")
        let genes = header.count - 3
        var x = [Float](), y = [Float]()
        for line in lines {
            let f = line.split(separator: "\t")
            precondition(f.count == genes + 3, "fixture row has \(f.count) fields")
            y.append(f[1] == "monocyte" ? 1 : 0)
            let total = Double(f[2])!
            for j in 0..<genes { x.append(Float(Foundation.log1p(Double(f[3 + j])! / total * 1e4))) }
        }
        var rng = Xoshiro256(seed: 11)
        let order = rng.shuffled(Array(0..<y.count))
        let nTrain = y.count * 7 / 10
        let train = Array(order[..<nTrain]), test = Array(order[nTrain...])
        // Standardise each gene with the training cells' mean and deviation.
        for j in 0..<genes {
            let v = train.map { Double(x[$0 * genes + j]) }
            let m = v.reduce(0, +) / Double(v.count)
            let sd = max((v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot(), 1e-6)
            for i in 0..<y.count { x[i * genes + j] = Float((Double(x[i * genes + j]) - m) / sd) }
        }
        return Cells(features: x, labels: y, genes: genes, train: train, test: test)
    }

    static func accuracy(_ logits: [Float], _ labels: [Float], _ rows: [Int]) -> Double {
        Double(rows.filter { (logits[$0] > 0 ? 1 : 0) == labels[$0] }.count) / Double(rows.count)
    }

    func rows(_ c: Cells, _ idx: [Int]) -> Tensor {
        var v = [Float]()
        for i in idx { v += c.features[(i * c.genes)..<((i + 1) * c.genes)] }
        return Tensor(v, shape: [idx.count, c.genes])
    }

    // MARK: - MLP, mini-batches

    /// 200 → 32 (ReLU, dropout 0.2) → 1, BCE, AdamW with cosine schedule, batches of 32, 30 epochs.
    func testMLPSeparatesTCellsFromMonocytes() throws {
        let c = try Self.load()
        var rng = Xoshiro256(seed: 3)
        let l1 = Linear(c.genes, 32, rng: &rng), l2 = Linear(32, 1, rng: &rng)
        let params = l1.parameters(prefixed: "l1") + l2.parameters(prefixed: "l2")
        let opt = Adam.adamW(params, learningRate: 3e-3, weightDecay: 1e-2)
        let epochs = 30, batch = 32
        let stepsPerEpoch = (c.train.count + batch - 1) / batch
        let schedule = CosineWithWarmup(base: 3e-3, warmupSteps: stepsPerEpoch, totalSteps: epochs * stepsPerEpoch)
        func forward(_ tape: Tape, _ x: Tensor) -> Tensor { l2(tape, tape.dropout(tape.relu(l1(tape, x)), p: 0.2)) }

        let before = forward(Tape(training: false, recording: false), rows(c, c.test)).data
        let chance = Self.accuracy(before, c.test.map { c.labels[$0] }, Array(0..<c.test.count))
        var step = 0, firstLoss: Float = 0, lastLoss: Float = 0
        for epoch in 0..<epochs {
            let order = rng.shuffled(c.train)
            var epochLoss: Float = 0
            for b in stride(from: 0, to: order.count, by: batch) {
                let idx = Array(order[b..<min(b + batch, order.count)])
                let tape = Tape(seed: UInt64(step))
                let logits = forward(tape, rows(c, idx))
                let loss = tape.binaryCrossEntropyWithLogits(logits, Tensor(idx.map { c.labels[$0] }, shape: [idx.count, 1]))
                params.zeroGrad()
                tape.backward(loss)
                clipGradientNorm(params, maxNorm: 5)
                schedule.apply(to: opt, step: step)
                opt.step()
                step += 1
                epochLoss += loss.item
            }
            if epoch == 0 { firstLoss = epochLoss / Float(stepsPerEpoch) }
            lastLoss = epochLoss / Float(stepsPerEpoch)
        }
        let logits = forward(Tape(training: false, recording: false), rows(c, c.test)).data
        let acc = Self.accuracy(logits, c.test.map { c.labels[$0] }, Array(0..<c.test.count))
        print("[TrainTaskTests] MLP: held-out accuracy \(acc) on \(c.test.count) cells (untrained \(chance)); mean loss epoch 1 \(firstLoss) → epoch \(epochs) \(lastLoss)")
        XCTAssertGreaterThanOrEqual(acc, 0.97, "held-out accuracy")
        XCTAssertLessThan(lastLoss, firstLoss / 4)
    }

    // MARK: - Graph attention on a cell graph

    /// Transductive node classification: a k-nearest-neighbour graph of all cells (cosine
    /// similarity of the features), GAT(200 → 2 heads × 16, concat) → ELU → GAT(32 → 1 head × 8, mean)
    /// → Linear(8 → 1); trained on the training cells' labels only, Adam lr 3e-3 with StepLR(1, 0.99).
    func testGraphAttentionClassifiesCellsOnKNNGraph() throws {
        let c = try Self.load()
        let n = c.count, k = 5
        var norms = [Double](repeating: 0, count: n)
        for i in 0..<n { norms[i] = (0..<c.genes).map { Double(c.features[i * c.genes + $0] * c.features[i * c.genes + $0]) }.reduce(0, +).squareRoot() }
        var edges = [(node: Int, neighbour: Int)]()
        for i in 0..<n {
            var sims = [(Double, Int)]()
            for j in 0..<n where j != i {
                var s = 0.0
                for g in 0..<c.genes { s += Double(c.features[i * c.genes + g] * c.features[j * c.genes + g]) }
                sims.append((s / (norms[i] * norms[j]), j))
            }
            sims.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            for (_, j) in sims.prefix(k) { edges.append((i, j)) }
            edges.append((i, i))
        }
        let graph = NeighbourGraph(nodeCount: n, edges: edges)
        var rng = Xoshiro256(seed: 5)
        let gat1 = GraphAttentionLayer(inputDim: c.genes, outputDim: 16, heads: 2, merge: .concatenate, attentionDropout: 0.2, rng: &rng)
        let gat2 = GraphAttentionLayer(inputDim: 32, outputDim: 8, heads: 1, merge: .mean, attentionDropout: 0.2, rng: &rng)
        let head = Linear(8, 1, rng: &rng)
        let params = gat1.parameters(prefixed: "gat1") + gat2.parameters(prefixed: "gat2") + head.parameters(prefixed: "head")
        let opt = Adam(params, learningRate: 3e-3)
        let schedule = StepDecay(base: 3e-3, stepSize: 1, gamma: 0.99)
        let x = Tensor(c.features, shape: [n, c.genes])
        let trainIdx = c.train.map { Int32($0) }
        let trainLabels = Tensor(c.train.map { c.labels[$0] }, shape: [c.train.count, 1])
        func forward(_ tape: Tape) -> Tensor { head(tape, gat2(tape, tape.elu(gat1(tape, x, graph)), graph)) }
        for step in 0..<150 {
            let tape = Tape(seed: UInt64(step))
            let loss = tape.binaryCrossEntropyWithLogits(tape.gatherRows(forward(tape), trainIdx), trainLabels)
            params.zeroGrad()
            tape.backward(loss)
            opt.step()
            schedule.apply(to: opt, step: step + 1)
        }
        let logits = forward(Tape(training: false, recording: false)).data
        let acc = Self.accuracy(logits, c.labels, c.test)
        print("[TrainTaskTests] GAT on a \(k)-NN cell graph (\(graph.edgeCount) edges): held-out accuracy \(acc) on \(c.test.count) cells")
        XCTAssertGreaterThanOrEqual(acc, 0.97, "held-out accuracy")
    }
}
