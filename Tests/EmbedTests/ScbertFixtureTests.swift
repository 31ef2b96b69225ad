// scBERT exactness: the Swift forward against the outputs of scBERT's own PyTorch code
// (Tests/Fixtures/scbert-mini: random weights, 6 real PBMC cells, 2001 positions), loaded from
// both the `.pth` checkpoint and the `.safetensors` copy.

import Foundation
import Models
import TestSupport
import XCTest

/// The scbert-mini fixture: model files, token rows and reference outputs.
enum ScbertMini {
    static let cells = 6, length = 2001

    /// Barcodes and token rows (2001 tokens each) from tokens.tsv.
    static func tokens() throws -> [(String, [Int32])] {
        let text = try String(contentsOfFile: Fixtures.path("scbert-mini/tokens.tsv"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: "\t")
            return (String(f[0]), f.dropFirst().map { Int32($0)! })
        }
    }

    static func genes() throws -> [String] {
        try String(contentsOfFile: Fixtures.path("scbert-mini/genes.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
    }
}

final class ScbertFixtureTests: XCTestCase {
    func check(modelFile: String) throws {
        let model = try PerformerModel.load(Fixtures.path("scbert-mini/\(modelFile)"))
        let c = model.config
        XCTAssertEqual(c, PerformerConfig(dim: 64, depth: 2, heads: 4, dimHead: 16, features: 44, ffHidden: 256,
                                          tokens: 7, positions: 2001, qkvBias: false, tiedOutput: false))
        let rows = try ScbertMini.tokens()
        XCTAssertEqual(rows.count, ScbertMini.cells)
        let encRef = try NPYArray(path: Fixtures.path("scbert-mini/encodings.npy")).floats
        let logRef = try NPYArray(path: Fixtures.path("scbert-mini/logits.npy")).floats
        let hidRef = try NPYArray(path: Fixtures.path("scbert-mini/hidden_cell0.npy")).floats
        let n = ScbertMini.length, d = c.dim
        let encoder = PerformerEncoder(model: model, maxLength: n)
        let positions = (0..<Int32(n)).map { $0 }
        var out = [Float](repeating: 0, count: n * d)
        var logits = [Float](repeating: 0, count: n * c.tokens)
        for (cell, (barcode, tokens)) in rows.enumerated() {
            XCTAssertEqual(tokens.count, n)
            var hidden = [[Float]]()
            out.withUnsafeMutableBufferPointer { o in
                encoder.encode(tokens: tokens, positions: positions, output: o.baseAddress!) { _, h in
                    if cell == 0 { hidden.append(Array(UnsafeBufferPointer(start: h, count: n * d))) }
                }
                logits.withUnsafeMutableBufferPointer { lp in
                    encoder.logits(encodings: o.baseAddress!, count: n, output: lp.baseAddress!)
                }
            }
            let encWant = Array(encRef[(cell * n * d)..<((cell + 1) * n * d)])
            assertClose(out, encWant, atol: 1e-5, rtol: 1e-4, maxAbs: 2e-5, "\(modelFile) encodings cell \(cell) \(barcode)")
            let logWant = Array(logRef[(cell * n * c.tokens)..<((cell + 1) * n * c.tokens)])
            assertClose(logits, logWant, atol: 5e-6, rtol: 1e-4, maxAbs: 1e-5, "\(modelFile) logits cell \(cell)")
            if cell == 0 {
                XCTAssertEqual(hidden.count, 5)
                for (i, h) in hidden.enumerated() {
                    let want = Array(hidRef[(i * n * d)..<((i + 1) * n * d)])
                    // Index 0 (the embedding sum, float64 add rounded once) must be exact.
                    assertClose(h, want, atol: i == 0 ? 0 : 1e-5, rtol: i == 0 ? 0 : 1e-4, maxAbs: i == 0 ? 0 : 2e-5,
                                "\(modelFile) hidden[\(i)] cell 0")
                }
            }
        }
    }

    func testEncodingsFromPthCheckpoint() throws { try check(modelFile: "model.pth") }

    func testEncodingsFromSafetensors() throws { try check(modelFile: "model.safetensors") }

    /// The float64 plain-loop reference agrees with PyTorch to float32 rounding (cell 0 only: it is slow).
    func testReferenceForwardMatchesPyTorch() throws {
        let model = try PerformerModel.load(Fixtures.path("scbert-mini/model.safetensors"))
        let (_, tokens) = try ScbertMini.tokens()[0]
        let n = ScbertMini.length
        let ref = PerformerReference.forward(model, tokens: tokens, positions: (0..<Int32(n)).map { $0 })
        let encRef = try NPYArray(path: Fixtures.path("scbert-mini/encodings.npy")).floats
        assertClose(ref.encodings.map { Float($0) }, Array(encRef[0..<(n * 64)]), atol: 5e-6, rtol: 1e-4, maxAbs: 5e-6,
                    "float64 reference encodings cell 0")
    }
}
