// scgrn-bench: times one GENELink training step (forward, backward, Adam) with the training
// engine, for bench/engine_bench.sh. Input: the safetensors written by bench/engine_prepare.py.
//
// Usage: scgrn-bench INPUT.safetensors [--threads T] [--steps N] [--warmup W]
// Prints one line: swift threads=T steps=N forward_ms=<median> step_ms=<median> loss_first=… loss_last=…

import Engine
import Foundation
import LinearAlgebra
import Models
import Weights

func arg(_ name: String, _ fallback: Int) -> Int {
    let a = CommandLine.arguments
    if let i = a.firstIndex(of: name), i + 1 < a.count, let v = Int(a[i + 1]) { return v }
    return fallback
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

guard CommandLine.arguments.count > 1 else {
    FileHandle.standardError.write("usage: scgrn-bench INPUT.safetensors [--threads T] [--steps N] [--warmup W]\n".data(using: .utf8)!)
    exit(64)
}
let path = CommandLine.arguments[1]
let threads = arg("--threads", 1), steps = arg("--steps", 20), warmup = arg("--warmup", 3)
BLAS.setThreads(threads)

let file: TensorFile
do { file = try Safetensors.read(path: path) } catch { print("scgrn-bench: \(error)"); exit(65) }
guard let f = file["features"], let e = file["edges"], let p = file["pairs"], let l = file["labels"] else {
    print("scgrn-bench: \(path): needs features, edges, pairs, labels"); exit(65)
}
let genes = f.shape[0], inputs = f.shape[1]
let x = Tensor(f.floats, shape: f.shape)
let edgeList = e.int64s, pairList = p.int64s
let graph = NeighbourGraph.undirected(nodeCount: genes, pairs: (0..<e.shape[0]).map { (Int(edgeList[2 * $0]), Int(edgeList[2 * $0 + 1])) })
let regulators = (0..<p.shape[0]).map { Int32(pairList[2 * $0]) }, targets = (0..<p.shape[0]).map { Int32(pairList[2 * $0 + 1]) }
let labels = Tensor(l.floats, shape: [l.count, 1])

// GENELink's defaults: heads [3, 3], hidden [128, 64, 32], output 16, dot decoder, Adam 3e-3, StepLR(1, 0.99).
let net = JointGRNNetwork(JointGRNConfiguration(profileDim: inputs), seed: 8)
let isolated = IsolatedNodes(graph)
let opt = Adam(net.parameters, learningRate: 3e-3)
let schedule = StepDecay(base: 3e-3, stepSize: 1, gamma: 0.99)

var forwardTimes = [Double](), stepTimes = [Double](), losses = [Float]()
for step in 0..<(warmup + steps) {
    let t0 = now()
    let tape = Tape(seed: UInt64(step))
    let (r, t) = net.embed(tape, profiles: x, embedding: nil, graph: graph, isolated: isolated)
    let loss = tape.binaryCrossEntropyWithLogits(net.score(tape, regulator: r, target: t, regulators: regulators, targets: targets), labels)
    let t1 = now()
    net.zeroGrad()
    tape.backward(loss)
    opt.step()
    schedule.apply(to: opt, step: step + 1)
    let t2 = now()
    losses.append(loss.item)
    if step >= warmup { forwardTimes.append(t1 - t0); stepTimes.append(t2 - t0) }
}
print(String(format: "swift threads=%d steps=%d genes=%d edges=%d forward_ms=%.2f step_ms=%.2f loss_first=%.4f loss_last=%.4f",
             threads, steps, genes, graph.edgeCount, median(forwardTimes), median(stepTimes), losses.first!, losses.last!))
