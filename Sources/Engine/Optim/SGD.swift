// SGD with momentum, PyTorch's formulation (torch.optim.SGD):
//   g ← g + wd·p
//   b ← g at the first step, else momentum·b + (1 − dampening)·g
//   g ← g + momentum·b (Nesterov) or b
//   p ← p − lr·g
// Note the momentum buffer is not scaled by lr (unlike some textbooks), so torch settings transfer.

import ToolKit
import Weights

/// Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.
public final class SGD: Optimizer {
    public let parameters: [NamedParameter]
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public private(set) var stepCount = 0
    private var buffers: [[Float]]   // empty until the parameter's first step

    public init(_ parameters: [NamedParameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov
        buffers = parameters.map { _ in [] }
    }

    public func step() {
        stepCount += 1
        let lr = learningRate, mu = momentum, damp = dampening, wd = weightDecay
        for (k, p) in parameters.enumerated() {
            let t = p.tensor
            if t.grad.isEmpty { continue }
            let first = buffers[k].isEmpty
            if mu != 0 && first { buffers[k] = [Float](repeating: 0, count: t.count) }
            t.grad.withUnsafeBufferPointer { g in
                buffers[k].withUnsafeMutableBufferPointer { b in
                    t.data.withUnsafeMutableBufferPointer { x in
                        for i in 0..<x.count {
                            var d = g[i]
                            if wd != 0 { d += wd * x[i] }
                            if mu != 0 {
                                b[i] = first ? d : mu * b[i] + (1 - damp) * d
                                d = nesterov ? d + mu * b[i] : b[i]
                            }
                            x[i] -= lr * d
                        }
                    }
                }
            }
        }
    }

    public func state() -> (tensors: [(String, StoredTensor)], metadata: [String: String]) {
        var tensors = [(String, StoredTensor)]()
        for (k, p) in parameters.enumerated() where !buffers[k].isEmpty {
            tensors.append(("optimizer.momentum_buffer.\(p.name)", StoredTensor(buffers[k], shape: p.tensor.shape)))
        }
        return (tensors, ["optimizer": "sgd", "optimizer.step": String(stepCount), "optimizer.lr": String(learningRate),
                          "optimizer.momentum": String(momentum), "optimizer.dampening": String(dampening),
                          "optimizer.weight_decay": String(weightDecay), "optimizer.nesterov": String(nesterov)])
    }

    public func load(tensors: TensorFile, metadata: [String: String], source: String) throws {
        guard metadata["optimizer"] == "sgd" else {
            throw ToolError.data(source, "checkpoint holds '\(metadata["optimizer"] ?? "no")' optimiser state, not sgd")
        }
        let step = try loadStep(metadata, key: "optimizer.step", source: source)
        var newBuffers = buffers
        for (k, p) in parameters.enumerated() {
            let name = "optimizer.momentum_buffer.\(p.name)"
            newBuffers[k] = tensors[name] == nil ? [] : try loadBuffer(tensors, name, count: p.tensor.count, source: source)
        }
        buffers = newBuffers; stepCount = step
    }
}
