// LayerNorm and Embedding: the two small parameterised layers a transformer needs besides Linear.

import Kernels

/// Layer normalisation over the last axis with learned gamma (ones) and beta (zeros), both [D].
public final class LayerNorm: ParameterOwner {
    public let gamma: Tensor, beta: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        gamma = Tensor([Float](repeating: 1, count: dim), shape: [dim], requiresGrad: true)
        beta = Tensor.zeros([dim], requiresGrad: true)
        self.eps = eps
    }

    public var parameters: [NamedParameter] { [NamedParameter("weight", gamma), NamedParameter("bias", beta)] }

    /// [rows…, D] → [rows…, D].
    public func callAsFunction(_ tape: Tape, _ x: Tensor) -> Tensor { tape.layerNorm(x, gamma: gamma, beta: beta, eps: eps) }
}

/// A table of V vectors of D values, looked up by id: [T] ids → [T, D].
public final class Embedding: ParameterOwner {
    public let table: Tensor

    /// Standard-normal initial values (PyTorch's nn.Embedding default).
    public init(_ count: Int, _ dim: Int, rng: inout Xoshiro256) {
        table = Tensor.normal([count, dim], std: 1, rng: &rng)
    }

    public var parameters: [NamedParameter] { [NamedParameter("weight", table)] }

    public func callAsFunction(_ tape: Tape, _ ids: [Int32]) -> Tensor { tape.embedding(table, ids) }
}
