// score on the bundled real BEELINE dataset (Tests/Fixtures/beeline): symbols of real files map
// onto the dataset's genes, and a model that encodes the test labels ranks them perfectly.

import Foundation
import TestSupport
import ToolKit
import XCTest

final class BeelineFixtureTests: XCTestCase {
    let folder = Fixtures.path("beeline/hHEP_TFs500_Specific_sample1")

    /// The expression matrix's gene symbols (its row names), in order.
    func expressionGenes() throws -> [String] {
        let r = try ByteReader.open(folder + "/ExpressionData.csv.gz")
        _ = try r.nextLine()
        var genes = [String]()
        while let line = try r.nextLineString() {
            genes.append(String(line.prefix { $0 != "," }))
        }
        return genes
    }

    func testSplitFilesReadAsLabelledSymbolPairs() throws {
        let genes = try expressionGenes()
        XCTAssertEqual(genes.count, 948)
        let lookup = GeneLookup(genes.map { GeneName(symbol: $0) })
        for (file, rows, positives) in [("Train", 19002, 6641), ("Valid", 2845, 998), ("Test", 6563, 2300)] {
            let t = try EdgeList.read(folder + "/\(file).tsv", values: .labels)
            XCTAssertEqual(t.valueKind, .label)
            let edges = try t.resolve(lookup, what: file)
            XCTAssertEqual(edges.count, rows, file)
            XCTAssertEqual(edges.filter { $0.value == 1 }.count, positives, file)
        }
        XCTAssertEqual(try EdgeList.resolveTFs(folder + "/tfs.txt", lookup).count, 448)
    }

    func testModelEncodingTheTestLabelsRanksThemPerfectly() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let genes = try expressionGenes()
        let g = genes.count
        let index = Dictionary(uniqueKeysWithValues: genes.enumerated().map { ($1, $0) })
        // d = G: regulator[i] = e_i, target[j][i] = 1 when i → j is a positive test pair.
        var regulator = [Float](repeating: 0, count: g * g), target = regulator
        for i in 0..<g { regulator[i * g + i] = 1 }
        let test = try EdgeList.read(folder + "/Test.tsv", values: .labels)
        for e in test.edges where e.value == 1 { target[index[e.target]! * g + index[e.regulator]!] = 1 }
        let model = SyntheticModel(genes: genes, width: g, regulator: regulator, target: target)
        let stream = dir.appendingPathComponent("m.sgrf").path
        try model.write(to: stream)

        let metrics = dir.appendingPathComponent("m.json").path
        let run = try Tools.run("score", [stream, "--pairs", folder + "/Test.tsv", "--truth", folder + "/Test.tsv", "--metrics", metrics])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as! [String: Any]
        XCTAssertEqual(json["evaluated"] as? Int, 6563)
        XCTAssertEqual(json["positives"] as? Int, 2300)
        XCTAssertEqual(json["auroc"] as? Double, 1)
        XCTAssertEqual(json["auprc"] as? Double, 1)
        XCTAssertEqual(json["early_precision_ratio"] as! Double, 6563.0 / 2300, accuracy: 1e-12)
        let rows = parseRanked(run.stdoutText).rows
        XCTAssertEqual(rows.count, 6563)
        XCTAssertEqual(rows.prefix(2300).filter { $0.2 == 1 / (1 + exp(-1.0)) }.count, 2300)

        // Every TF × gene pair against the whole network (a positive-only edge list).
        let all = try Tools.run("score", [stream, "--tfs", folder + "/tfs.txt", "--truth", folder + "/network.tsv",
                                          "--metrics", metrics, "--top", "10", "--format", "beeline"])
        XCTAssertEqual(all.status, 0, all.stderr)
        let j2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as! [String: Any]
        XCTAssertEqual(j2["candidates"] as? Int, 448 * 947)
        XCTAssertEqual(j2["evaluated"] as? Int, 448 * 947)
        XCTAssertEqual((j2["positives"] as! Int) + (j2["truth_not_candidates"] as! Int), 9939)
        XCTAssertEqual(all.stdoutText.split(separator: "\n").count, 11)
    }
}
