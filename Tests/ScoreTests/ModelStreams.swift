// ModelStreams: synthetic MODEL streams (written with FrameWriter) and a plain double-precision
// reference of the decoders, for the score tests.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

/// A small deterministic generator of floats in [-1, 1].
struct LCG {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// A synthetic model: per-gene representations [G, d] and an optional MLP decoder.
struct SyntheticModel {
    var genes: [String]
    var width: Int
    var regulator: [Float]  // [G, d]
    var target: [Float]     // [G, d]
    /// MLP layers (weight [out, in], bias [out]); empty for the dot decoder.
    var layers: [(weight: [Float], bias: [Float], outputs: Int, inputs: Int)] = []
    /// Per-gene propensities ([G] each), written as `regulator.bias` / `target.bias` when set.
    var regulatorBias: [Float]? = nil
    var targetBias: [Float]? = nil
    var decoder: String? { layers.isEmpty ? "dot" : "mlp" }

    /// Writes the model as a MODEL stream to `path`.
    /// - Parameters:
    ///   - decoderOverride: the `decoder` metadata to write instead ("" writes none).
    ///   - withModelFrame: false writes HEAD and END only.
    func write(to path: String, decoderOverride: String? = nil, withModelFrame: Bool = true,
               extraTensors: [ModelTensor] = [], metadata: [(key: String, value: String)] = []) throws {
        var meta = [(key: String, value: String)]()
        let dec = decoderOverride ?? decoder!
        if !dec.isEmpty { meta.append((key: "decoder", value: dec)) }
        meta += metadata
        let header = StreamHeader(content: .model, genes: genes.map { GeneName(symbol: $0) }, metadata: meta)
        let w = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
        if withModelFrame {
            var ts = [ModelTensor(name: "regulator", shape: [genes.count, width], data: regulator),
                      ModelTensor(name: "target", shape: [genes.count, width], data: target)]
            for (l, layer) in layers.enumerated() {
                ts.append(ModelTensor(name: "decoder.\(l).weight", shape: [layer.outputs, layer.inputs], data: layer.weight))
                ts.append(ModelTensor(name: "decoder.\(l).bias", shape: [layer.outputs], data: layer.bias))
            }
            if let b = regulatorBias { ts.append(ModelTensor(name: "regulator.bias", shape: [b.count], data: b)) }
            if let b = targetBias { ts.append(ModelTensor(name: "target.bias", shape: [b.count], data: b)) }
            try w.write(model: ts + extraTensors)
        }
        try w.finish()
    }

    /// The logit of i → j in double precision, by the contract's definition.
    func referenceLogit(_ i: Int, _ j: Int) -> Double {
        decoderLogit(i, j) + Double(regulatorBias?[i] ?? 0) + Double(targetBias?[j] ?? 0)
    }

    /// The decoder's part of the logit, without the propensities.
    func decoderLogit(_ i: Int, _ j: Int) -> Double {
        let d = width
        if layers.isEmpty {
            var s = 0.0
            for x in 0..<d { s += Double(regulator[i * d + x]) * Double(target[j * d + x]) }
            return s
        }
        var h = (0..<d).map { Double(regulator[i * d + $0]) } + (0..<d).map { Double(target[j * d + $0]) }
        for (l, layer) in layers.enumerated() {
            var y = [Double](repeating: 0, count: layer.outputs)
            for o in 0..<layer.outputs {
                var s = Double(layer.bias[o])
                for k in 0..<layer.inputs { s += Double(layer.weight[o * layer.inputs + k]) * h[k] }
                y[o] = l < layers.count - 1 ? max(s, 0) : s
            }
            h = y
        }
        return h[0]
    }

    /// A random model with `g` genes named G00, G01, … (or the given names).
    static func random(genes g: Int, width d: Int, hidden: [Int] = [], seed: UInt64, names: [String]? = nil) -> SyntheticModel {
        var rng = LCG(state: seed)
        var m = SyntheticModel(genes: names ?? (0..<g).map { String(format: "G%02d", $0) }, width: d,
                               regulator: rng.array(g * d), target: rng.array(g * d))
        var inputs = 2 * d
        for (n, h) in (hidden + (hidden.isEmpty ? [] : [1])).enumerated() {
            _ = n
            m.layers.append((rng.array(h * inputs), rng.array(h), h, inputs))
            inputs = h
        }
        return m
    }
}

/// Writes text to a file in a test's temporary directory and returns its path.
func writeText(_ text: String, _ dir: URL, _ name: String) throws -> String {
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// The rows of a ranked TSV (header dropped): (regulator, target, score).
func parseRanked(_ text: String) -> (header: String, rows: [(String, String, Double)]) {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    let header = lines.first ?? ""
    let rows = lines.dropFirst().map { l -> (String, String, Double) in
        let f = l.split(separator: "\t").map(String.init)
        return (f[0], f[1], Double(f[2]) ?? .nan)
    }
    return (header, rows)
}
