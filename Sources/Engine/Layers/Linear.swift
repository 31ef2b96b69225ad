// Linear: the fully connected layer y = x · W + b, with W stored [in, out].

import Foundation
import Kernels

/// y = x · weight + bias.
///
/// Shapes: weight [in, out], bias [out]; input [rows…, in] → output [rows…, out].
public final class Linear: ParameterOwner {
    public let weight: Tensor
    public let bias: Tensor?

    /// PyTorch's nn.Linear initialisation: weight and bias uniform on ±1/√in (kaiming_uniform with
    /// a = √5 gives that bound), drawn weight first.
    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, rng: inout Xoshiro256) {
        let bound = Float(1 / Double(max(inputs, 1)).squareRoot())
        weight = Tensor.uniform([inputs, outputs], -bound, bound, rng: &rng)
        self.bias = bias ? Tensor.uniform([outputs], -bound, bound, rng: &rng) : nil
    }

    /// Xavier-uniform weight with `gain` (GENELink's heads use gain 1.414); the bias, if any, as PyTorch's default.
    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, xavierGain: Double, rng: inout Xoshiro256) {
        weight = Tensor.xavierUniform([inputs, outputs], gain: xavierGain, rng: &rng)
        let bound = Float(1 / Double(max(inputs, 1)).squareRoot())
        self.bias = bias ? Tensor.uniform([outputs], -bound, bound, rng: &rng) : nil
    }

    /// A layer over given tensors (weight [in, out], bias [out]), e.g. loaded from a checkpoint.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2 && (bias == nil || bias!.shape == [weight.shape[1]]), "Linear: weight \(weight.shape), bias \(bias?.shape ?? [])")
        self.weight = weight
        self.bias = bias
    }

    public var parameters: [NamedParameter] {
        [NamedParameter("weight", weight)] + (bias.map { [NamedParameter("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ tape: Tape, _ x: Tensor) -> Tensor {
        let y = tape.matmul(x, weight)
        return bias.map { tape.add(y, $0) } ?? y
    }
}
