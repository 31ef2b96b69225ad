// The MODEL contract (RegulationModel): what graphify encodes, score decodes unchanged, through a
// real stream; the engine's [in, out] weights land in the contract's [out, in] layout.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

final class ModelContractTests: XCTestCase {
    func testEncodeDecodeRoundTripThroughAStream() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let g = 5, d = 3
        let values = { (n: Int, k: Float) in (0..<n).map { Float($0) * k - 1 } }
        // An engine layer W [in 2d = 6, out 4]: W[a][b] = 10a + b.
        let inOut = (0..<6).flatMap { a in (0..<4).map { b in Float(10 * a + b) } }
        let layer0 = DenseLayer(inOutWeight: inOut, bias: [1, 2, 3, 4], inputs: 6, outputs: 4)
        XCTAssertEqual(layer0.weight[2 * 6 + 5], 52, "row = output 2, column = input 5")
        let layer1 = DenseLayer(weight: [0.5, -1, 2, 0], bias: [0.25], outputs: 1, inputs: 4)
        let models = [
            RegulationModel(geneCount: g, width: d, regulator: values(g * d, 0.1), target: values(g * d, -0.2), decoder: .dot),
            RegulationModel(geneCount: g, width: d, regulator: values(g * d, 0.3), target: values(g * d, 0.05),
                            decoder: .mlp([layer0, layer1]), regulatorBias: values(g, 0.5), targetBias: [0, 1, 0, -2, 0]),
        ]
        for (i, m) in models.enumerated() {
            XCTAssertEqual(m.tensors.map(\.name).prefix(2), ["regulator", "target"])
            // One file per model: a file this process has read is an input, which -o refuses.
            let path = dir.appendingPathComponent("m\(i).sgrf").path
            let header = StreamHeader(content: .model, genes: (0..<g).map { GeneName(symbol: "G\($0)") },
                                      metadata: [(key: RegulationModel.decoderKey, value: m.decoder.name)])
            let w = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
            try w.write(model: m.tensors)
            try w.finish()
            let back = try RegulationModel.read(try StreamReader(path: path))
            XCTAssertEqual(back.geneCount, g)
            XCTAssertEqual(back.width, d)
            XCTAssertEqual(back.regulator, m.regulator)
            XCTAssertEqual(back.target, m.target)
            XCTAssertEqual(back.decoder, m.decoder)
            XCTAssertEqual(back.regulatorBias, m.regulatorBias)
            XCTAssertEqual(back.targetBias, m.targetBias)
            XCTAssertEqual(back.tensors, m.tensors, "decode then encode gives the same tensors")
        }
    }
}
