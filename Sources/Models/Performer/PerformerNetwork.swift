// PerformerNetwork: scBERT's PerformerLM as trainable tensors on the engine's tape.
//
// The same function PerformerEncoder runs for inference (see PerformerModel for the dimension
// legend), written with tape operations so it can be trained:
//
//   x = token_emb[tok] + pos_emb                                   [B,N,D]
//   per layer:  x += to_out(FAVOR+(to_q·LN1(x), to_k·LN1(x), to_v·LN1(x)))
//               x += w2 · GELU(w1 · LN2(x) + b1) + b2
//   encodings = LN(x)                                              [B,N,D]
//   logits = encodings · to_outᵀ + b   (masked LM)                 [rows, T]
//   value  = encodings · to_valueᵀ + b (masked value regression)    [rows, 1]
//
// Parameters carry scBERT's state-dict names and layouts ([out, in] weights), so a checkpoint
// written from `stateDict()` is loaded by `PerformerModel` (embed) unchanged, and a scBERT
// state-dict loads here. Not trained: the FAVOR+ projection matrices (fixed random features,
// never redrawn; scBERT redraws every 1000 training calls), the last position-table row (zero,
// the appended position), and the whole position table when a gene2vec table is given.
// Dropout is 0 everywhere, as in scBERT.

import Engine
import Foundation
import Kernels
import ToolKit
import Weights

/// A trainable scBERT Performer.
public final class PerformerNetwork: ParameterOwner {
    /// One pre-LayerNorm block: attention then feed-forward. Weights are [out, in].
    public final class Block {
        public let norm1: LayerNorm
        public let toQ: Tensor, toK: Tensor, toV: Tensor     // [I, D]
        public let projection: [Float]                       // [M, E], fixed
        public let attnOut: Tensor, attnOutBias: Tensor      // [D, I], [D]
        public let norm2: LayerNorm
        public let w1: Tensor, b1: Tensor                    // [F, D], [F]
        public let w2: Tensor, b2: Tensor                    // [D, F], [D]

        init(norm1: LayerNorm, toQ: Tensor, toK: Tensor, toV: Tensor, projection: [Float], attnOut: Tensor,
             attnOutBias: Tensor, norm2: LayerNorm, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) {
            self.norm1 = norm1; self.toQ = toQ; self.toK = toK; self.toV = toV; self.projection = projection
            self.attnOut = attnOut; self.attnOutBias = attnOutBias; self.norm2 = norm2
            self.w1 = w1; self.b1 = b1; self.w2 = w2; self.b2 = b2
        }
    }

    public let config: PerformerConfig
    public let tokenEmbedding: Tensor        // [T, D]
    /// [P, D]; trained unless frozen (a gene2vec table). Its last row stays zero when learned.
    public let positionTable: Tensor
    public let blocks: [Block]
    public let finalNorm: LayerNorm
    public let toOut: Tensor, toOutBias: Tensor          // [T, D], [T]
    /// The masked-value regression head (`to_value.weight` [1, D], `to_value.bias` [1]), when present.
    public let toValue: Tensor?, toValueBias: Tensor?

    // MARK: - Construction

    /// A freshly initialised network.
    ///
    /// Initial values follow PyTorch's defaults for PerformerLM's modules: embeddings N(0, 1),
    /// linear weights and biases U(±1/√in), LayerNorm weight 1 and bias 0. Draw order: token
    /// table, position table, then per layer the projection matrix, to_q, to_k, to_v, to_out
    /// (weight, bias), w1 (weight, bias), w2 (weight, bias); then to_out (weight, bias) and
    /// to_value (weight, bias).
    /// - Parameters:
    ///   - gene2vec: a frozen position table [P, D] to use instead of a learned one.
    ///   - valueHead: add the masked-value regression head.
    public init(config c: PerformerConfig, seed: UInt64, gene2vec: [Float]? = nil, valueHead: Bool = false) {
        precondition(!c.qkvBias && !c.tiedOutput, "PerformerNetwork: qkv bias and tied output are not trained here")
        var rng = Xoshiro256(seed: seed)
        func linear(_ out: Int, _ inp: Int) -> (Tensor, Tensor) {
            let bound = Float(1 / Double(inp).squareRoot())
            return (Tensor.uniform([out, inp], -bound, bound, rng: &rng), Tensor.uniform([out], -bound, bound, rng: &rng))
        }
        func weight(_ out: Int, _ inp: Int) -> Tensor {
            let bound = Float(1 / Double(inp).squareRoot())
            return Tensor.uniform([out, inp], -bound, bound, rng: &rng)
        }
        config = c
        tokenEmbedding = Tensor.normal([c.tokens, c.dim], std: 1, rng: &rng)
        if let table = gene2vec {
            precondition(table.count == c.positions * c.dim, "PerformerNetwork: gene2vec table size")
            positionTable = Tensor(table, shape: [c.positions, c.dim], requiresGrad: false)
        } else {
            let t = Tensor.normal([c.positions, c.dim], std: 1, rng: &rng)
            for j in 0..<c.dim { t.data[(c.positions - 1) * c.dim + j] = 0 }
            positionTable = t
        }
        var blocks = [Block]()
        for _ in 0..<c.depth {
            let proj = RandomFeatures.gaussianOrthogonal(rows: c.features, columns: c.dimHead, rng: &rng)
            let q = weight(c.inner, c.dim), k = weight(c.inner, c.dim), v = weight(c.inner, c.dim)
            let (ao, aob) = linear(c.dim, c.inner)
            let (w1, b1) = linear(c.ffHidden, c.dim)
            let (w2, b2) = linear(c.dim, c.ffHidden)
            blocks.append(Block(norm1: LayerNorm(c.dim), toQ: q, toK: k, toV: v, projection: proj, attnOut: ao, attnOutBias: aob,
                                norm2: LayerNorm(c.dim), w1: w1, b1: b1, w2: w2, b2: b2))
        }
        self.blocks = blocks
        finalNorm = LayerNorm(c.dim)
        (toOut, toOutBias) = linear(c.tokens, c.dim)
        if valueHead {
            let (w, b) = linear(1, c.dim)
            toValue = w; toValueBias = b
        } else {
            toValue = nil; toValueBias = nil
        }
    }

    /// A network holding the tensors of a scBERT state-dict (as `PerformerModel` reads it).
    ///
    /// - Parameters:
    ///   - learnPositions: train the position table (else it is frozen, as scBERT's gene2vec).
    /// - Throws: exit 65 naming `name` when a tensor is missing, misshapen, or an option is used
    ///   that is not trained here (qkv bias, tied output).
    public init(_ file: TensorFile, name: String, learnPositions: Bool) throws {
        // PerformerModel checks names and shapes; the value head and optimiser state are not its business.
        var encoder = TensorFile()
        for n in file.names where n != PerformerTensorNames.valueWeight && n != PerformerTensorNames.valueBias
            && !n.hasPrefix("optimizer.") { encoder.set(n, file[n]!) }
        let model = try PerformerModel(encoder, name: name)
        let c = model.config
        guard !c.qkvBias, !c.tiedOutput else {
            throw ToolError.data(name, "this Performer uses qkv biases or a tied output head, which pretrain does not train")
        }
        config = c
        func t(_ b: FloatBuffer, _ shape: [Int], grad: Bool = true) -> Tensor { Tensor(b.array, shape: shape, requiresGrad: grad) }
        let d = c.dim, i = c.inner
        tokenEmbedding = t(model.tokenEmbedding, [c.tokens, d])
        positionTable = Tensor(model.positionTable.array.map { Float($0) }, shape: [c.positions, d], requiresGrad: learnPositions)
        blocks = model.layers.map { l in
            let n1 = LayerNorm(d), n2 = LayerNorm(d)
            n1.gamma.data = l.norm1Weight.array; n1.beta.data = l.norm1Bias.array
            n2.gamma.data = l.norm2Weight.array; n2.beta.data = l.norm2Bias.array
            let qkv = l.qkvWeight.array
            return Block(norm1: n1, toQ: Tensor(Array(qkv[0..<(i * d)]), shape: [i, d], requiresGrad: true),
                         toK: Tensor(Array(qkv[(i * d)..<(2 * i * d)]), shape: [i, d], requiresGrad: true),
                         toV: Tensor(Array(qkv[(2 * i * d)...]), shape: [i, d], requiresGrad: true),
                         projection: l.projection.array, attnOut: t(l.outWeight, [d, i]), attnOutBias: t(l.outBias, [d]),
                         norm2: n2, w1: t(l.w1, [c.ffHidden, d]), b1: t(l.b1, [c.ffHidden]),
                         w2: t(l.w2, [d, c.ffHidden]), b2: t(l.b2, [d]))
        }
        finalNorm = LayerNorm(d)
        finalNorm.gamma.data = model.finalNormWeight.array
        finalNorm.beta.data = model.finalNormBias.array
        toOut = t(model.outWeight, [c.tokens, d])
        toOutBias = t(model.outBias, [c.tokens])
        if let w = file[PerformerTensorNames.valueWeight], let b = file[PerformerTensorNames.valueBias] {
            guard w.shape == [1, d], b.shape == [1], w.dtype.isFloatingPoint, b.dtype.isFloatingPoint else {
                throw ToolError.data(name, "to_value.weight/bias have shapes \(w.shape)/\(b.shape), expected [1, \(d)]/[1]")
            }
            toValue = Tensor(w.floats, shape: [1, d], requiresGrad: true)
            toValueBias = Tensor(b.floats, shape: [1], requiresGrad: true)
        } else {
            toValue = nil; toValueBias = nil
        }
    }

    // MARK: - Parameters and state-dict

    /// The trainable tensors under scBERT's state-dict names, in a fixed order.
    public var parameters: [NamedParameter] {
        typealias Names = PerformerTensorNames
        var p = [NamedParameter(Names.tokenEmbedding, tokenEmbedding)]
        if positionTable.requiresGrad { p.append(NamedParameter(Names.positionTable, positionTable)) }
        for (l, b) in blocks.enumerated() {
            let n = Names.layer(l)
            p += [NamedParameter(n.norm1Weight, b.norm1.gamma), NamedParameter(n.norm1Bias, b.norm1.beta),
                  NamedParameter(n.toQ, b.toQ), NamedParameter(n.toK, b.toK), NamedParameter(n.toV, b.toV),
                  NamedParameter(n.outWeight, b.attnOut), NamedParameter(n.outBias, b.attnOutBias),
                  NamedParameter(n.norm2Weight, b.norm2.gamma), NamedParameter(n.norm2Bias, b.norm2.beta),
                  NamedParameter(n.w1Weight, b.w1), NamedParameter(n.w1Bias, b.b1),
                  NamedParameter(n.w2Weight, b.w2), NamedParameter(n.w2Bias, b.b2)]
        }
        p += [NamedParameter(Names.finalNormWeight, finalNorm.gamma), NamedParameter(Names.finalNormBias, finalNorm.beta),
              NamedParameter(Names.outWeight, toOut), NamedParameter(Names.outBias, toOutBias)]
        if let w = toValue, let b = toValueBias { p += [NamedParameter(Names.valueWeight, w), NamedParameter(Names.valueBias, b)] }
        return p
    }

    /// Every tensor of the model under scBERT's names, in scBERT's order: the parameters, the
    /// fixed projection matrices and the position table (float32); the value head when asked.
    public func stateDict(includeValueHead: Bool = false) -> TensorFile {
        typealias Names = PerformerTensorNames
        var file = TensorFile()
        func put(_ name: String, _ t: Tensor) { file.set(name, StoredTensor(t.data, shape: t.shape)) }
        put(Names.tokenEmbedding, tokenEmbedding)
        put(Names.positionTable, positionTable)
        for (l, b) in blocks.enumerated() {
            let n = Names.layer(l)
            put(n.norm1Weight, b.norm1.gamma); put(n.norm1Bias, b.norm1.beta)
            file.set(n.projection, StoredTensor(b.projection, shape: [config.features, config.dimHead]))
            put(n.toQ, b.toQ); put(n.toK, b.toK); put(n.toV, b.toV)
            put(n.outWeight, b.attnOut); put(n.outBias, b.attnOutBias)
            put(n.norm2Weight, b.norm2.gamma); put(n.norm2Bias, b.norm2.beta)
            put(n.w1Weight, b.w1); put(n.w1Bias, b.b1)
            put(n.w2Weight, b.w2); put(n.w2Bias, b.b2)
        }
        put(Names.finalNormWeight, finalNorm.gamma); put(Names.finalNormBias, finalNorm.beta)
        put(Names.outWeight, toOut); put(Names.outBias, toOutBias)
        if includeValueHead, let w = toValue, let b = toValueBias { put(Names.valueWeight, w); put(Names.valueBias, b) }
        return file
    }

    /// Clears the gradient of the position table's last row (the appended position stays zero).
    public func freezeFinalPosition() {
        guard positionTable.requiresGrad, !positionTable.grad.isEmpty else { return }
        let d = config.dim, base = (config.positions - 1) * d
        for j in 0..<d { positionTable.grad[base + j] = 0 }
    }

    // MARK: - Forward

    /// Final encodings of B sequences of N = P positions (each position i reads table row i).
    ///
    /// - Parameter tokens: B·N token ids, cell after cell, each < T.
    /// - Returns: [B, N, D] after the final LayerNorm.
    public func encode(_ tape: Tape, tokens: [Int32], batch: Int) -> Tensor {
        let c = config, n = c.positions
        precondition(tokens.count == batch * n, "encode: \(tokens.count) tokens for \(batch) sequences of \(n)")
        var x = tape.reshape(tape.embedding(tokenEmbedding, tokens), [batch, n, c.dim])
        x = tape.add(x, positionTable)
        for b in blocks {
            let h = b.norm1(tape, x)
            let q = tape.matmul(h, b.toQ, transB: true), k = tape.matmul(h, b.toK, transB: true)
            let v = tape.matmul(h, b.toV, transB: true)
            let a = tape.favorAttention(q, k, v, heads: c.heads, projection: b.projection, features: c.features)
            x = tape.add(x, tape.add(tape.matmul(a, b.attnOut, transB: true), b.attnOutBias))
            let h2 = b.norm2(tape, x)
            let f = tape.gelu(tape.add(tape.matmul(h2, b.w1, transB: true), b.b1))
            x = tape.add(x, tape.add(tape.matmul(f, b.w2, transB: true), b.b2))
        }
        return finalNorm(tape, x)
    }

    /// Final encodings of cells that each read a subset of the positions (zero sampling): cell b
    /// is the tokens `tokens[start_b ..< start_b + lengths[b]]` at the vocabulary positions
    /// `positions[…]` (each < P), so each row adds the position-table row of its own gene. Every
    /// layer but attention works row by row on [R, D], R = Σ lengths; attention stays within a cell.
    /// With every cell reading all P positions in order, this is `encode(_:tokens:batch:)` (up to
    /// the order of float additions in the position table's gradient).
    ///
    /// - Returns: [R, D] after the final LayerNorm, cell after cell.
    public func encode(_ tape: Tape, tokens: [Int32], positions: [Int32], lengths: [Int]) -> Tensor {
        let c = config
        precondition(tokens.count == positions.count && lengths.reduce(0, +) == tokens.count,
                     "encode: \(tokens.count) tokens, \(positions.count) positions, lengths total \(lengths.reduce(0, +))")
        precondition(positions.allSatisfy { $0 >= 0 && Int($0) < c.positions }, "encode: a position outside 0..<\(c.positions)")
        var x = tape.add(tape.embedding(tokenEmbedding, tokens), tape.gatherRows(positionTable, positions))
        for b in blocks {
            let h = b.norm1(tape, x)
            let q = tape.matmul(h, b.toQ, transB: true), k = tape.matmul(h, b.toK, transB: true)
            let v = tape.matmul(h, b.toV, transB: true)
            let a = tape.favorAttention(q, k, v, heads: c.heads, projection: b.projection, features: c.features, lengths: lengths)
            x = tape.add(x, tape.add(tape.matmul(a, b.attnOut, transB: true), b.attnOutBias))
            let h2 = b.norm2(tape, x)
            let f = tape.gelu(tape.add(tape.matmul(h2, b.w1, transB: true), b.b1))
            x = tape.add(x, tape.add(tape.matmul(f, b.w2, transB: true), b.b2))
        }
        return finalNorm(tape, x)
    }

    /// Token logits of encoding rows: [rows, D] → [rows, T].
    public func logits(_ tape: Tape, _ encodings: Tensor) -> Tensor {
        tape.add(tape.matmul(encodings, toOut, transB: true), toOutBias)
    }

    /// Predicted values of encoding rows: [rows, D] → [rows, 1] (needs the value head).
    public func values(_ tape: Tape, _ encodings: Tensor) -> Tensor {
        guard let w = toValue, let b = toValueBias else { preconditionFailure("values: the network has no value head") }
        return tape.add(tape.matmul(encodings, w, transB: true), b)
    }
}
