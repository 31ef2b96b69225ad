// Initialization: Xavier (Glorot) and Kaiming (He) initial values from the seeded generator,
// with PyTorch's formulas so hyper-parameters and gains transfer.
//
// Fans: the engine stores a linear layer's weight as [in, out] (y = x · W), so for a matrix
// fanIn = shape[0] and fanOut = shape[1] — the same numbers PyTorch derives from its [out, in]
// layout. For other shapes pass the fans explicitly. Values are drawn in row-major order.

import Foundation
import Kernels

/// The non-linearity a Kaiming initialisation is tuned for (PyTorch's calculate_gain).
public enum Nonlinearity {
    case linear, relu
    /// Leaky ReLU with this negative slope.
    case leakyRelu(Float)

    /// The recommended gain: 1, √2, √(2 / (1 + slope²)).
    public var gain: Double {
        switch self {
        case .linear: return 1
        case .relu: return 2.0.squareRoot()
        case .leakyRelu(let a): return (2 / (1 + Double(a) * Double(a))).squareRoot()
        }
    }
}

extension Tensor {
    /// (fanIn, fanOut) of a [in, out] matrix; for rank ≠ 2, the first axis against the product of the rest.
    public static func fans(_ shape: [Int]) -> (Int, Int) {
        if shape.count == 2 { return (shape[0], shape[1]) }
        if shape.isEmpty { return (1, 1) }
        return (shape[0], shape.dropFirst().reduce(1, *))
    }

    /// Uniform on [−b, b], b = gain · √(6 / (fanIn + fanOut)) (torch.nn.init.xavier_uniform_).
    public static func xavierUniform(_ shape: [Int], gain: Double = 1, fans: (Int, Int)? = nil,
                                     rng: inout Xoshiro256, requiresGrad: Bool = true) -> Tensor {
        let (fi, fo) = fans ?? Tensor.fans(shape)
        let b = Float(gain * (6 / Double(fi + fo)).squareRoot())
        return uniform(shape, -b, b, rng: &rng, requiresGrad: requiresGrad)
    }

    /// Normal with σ = gain · √(2 / (fanIn + fanOut)) (torch.nn.init.xavier_normal_).
    public static func xavierNormal(_ shape: [Int], gain: Double = 1, fans: (Int, Int)? = nil,
                                    rng: inout Xoshiro256, requiresGrad: Bool = true) -> Tensor {
        let (fi, fo) = fans ?? Tensor.fans(shape)
        return normal(shape, std: gain * (2 / Double(fi + fo)).squareRoot(), rng: &rng, requiresGrad: requiresGrad)
    }

    /// Uniform on [−b, b], b = gain · √(3 / fan) (torch.nn.init.kaiming_uniform_, mode fan_in by default).
    public static func kaimingUniform(_ shape: [Int], fan: Int? = nil, nonlinearity: Nonlinearity = .leakyRelu(0),
                                      rng: inout Xoshiro256, requiresGrad: Bool = true) -> Tensor {
        let f = fan ?? Tensor.fans(shape).0
        let b = Float(nonlinearity.gain * (3 / Double(max(f, 1))).squareRoot())
        return uniform(shape, -b, b, rng: &rng, requiresGrad: requiresGrad)
    }

    /// Normal with σ = gain / √fan (torch.nn.init.kaiming_normal_).
    public static func kaimingNormal(_ shape: [Int], fan: Int? = nil, nonlinearity: Nonlinearity = .leakyRelu(0),
                                     rng: inout Xoshiro256, requiresGrad: Bool = true) -> Tensor {
        let f = fan ?? Tensor.fans(shape).0
        return normal(shape, std: nonlinearity.gain / Double(max(f, 1)).squareRoot(), rng: &rng, requiresGrad: requiresGrad)
    }

    /// Uniform on [low, high).
    public static func uniform(_ shape: [Int], _ low: Float, _ high: Float, rng: inout Xoshiro256,
                               requiresGrad: Bool = true) -> Tensor {
        let n = shape.reduce(1, *)
        var v = [Float](repeating: 0, count: n)
        for i in 0..<n { v[i] = rng.uniform(low, high) }
        return Tensor(v, shape: shape, requiresGrad: requiresGrad)
    }

    /// Normal with mean 0 and standard deviation `std`.
    public static func normal(_ shape: [Int], std: Double, rng: inout Xoshiro256, requiresGrad: Bool = true) -> Tensor {
        let n = shape.reduce(1, *)
        var v = [Float](repeating: 0, count: n)
        for i in 0..<n { v[i] = Float(rng.normal() * std) }
        return Tensor(v, shape: shape, requiresGrad: requiresGrad)
    }
}
