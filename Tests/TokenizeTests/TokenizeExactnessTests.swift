// tokenize against scanpy on real PBMC counts: every nonzero token and every per-cell total,
// from the 10x v3 and v2 layouts and from standard input; values against a float64 reference.

import Foundation
import TestSupport
import ToolKit
import XCTest

final class TokenizeExactnessTests: XCTestCase {
    let vocab = Fixtures.path("tokenize/vocab/scbert_genes.txt")

    /// Checks a stream of the PBMC fixture against scanpy's tokens and totals.
    func checkAgainstScanpy(_ s: CellStream, label: String) throws {
        let cellsTSV = try readLines(Fixtures.path("tokenize/expected/cells.tsv")).dropFirst().map { $0.split(separator: "\t") }
        XCTAssertEqual(s.cells.count, 402, label)
        XCTAssertEqual(s.cells.map(\.barcode), cellsTSV.map { String($0[0]) }, "\(label): barcodes")
        var totalDiff = 0.0
        for (c, row) in zip(s.cells, cellsTSV) { totalDiff = max(totalDiff, abs(c.total - Double(row[1])!)) }
        XCTAssertEqual(totalDiff, 0, "\(label): per-cell totals")

        // HEAD: all input genes, the vocabulary, and scanpy's mapping.
        let genes = try readLines(Fixtures.path("tokenize/expected/input_genes.tsv.gz")).dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        XCTAssertEqual(s.header.genes.map(\.symbol), genes.map { String($0[2]) }, "\(label): gene symbols")
        XCTAssertEqual(s.header.vocabularyIndex, genes.map { Int32($0[5])! }, "\(label): vocabulary index")
        XCTAssertEqual(s.header.vocabulary.count, 16906)
        XCTAssertEqual(s.header.metadata("bins"), "5")
        XCTAssertEqual(s.header.metadata("target_sum"), "10000")
        XCTAssertEqual(s.header.provenance.last?.tool, "tokenize")

        // Tokens: the nonzero tokens of vocabulary genes must be exactly scanpy's.
        var expected = Set<String>()
        for line in try readLines(Fixtures.path("tokenize/expected/tokens.tsv.gz")).dropFirst() { expected.insert(line) }
        var got = Set<String>()
        var entries = 0
        for c in s.cells {
            entries += c.genes.count
            for (i, g) in c.genes.enumerated() {
                let v = s.header.vocabularyIndex[Int(g)]
                if v >= 0 && c.tokens[i] > 0 { got.insert("\(c.barcode)\t\(v)\t\(c.tokens[i])") }
            }
        }
        XCTAssertEqual(expected.count, 422_440)
        let missing = expected.subtracting(got), extra = got.subtracting(expected)
        print("\(label): \(got.count) nonzero tokens, \(missing.count) missing, \(extra.count) extra vs scanpy")
        XCTAssertEqual(missing.count, 0, "\(label): e.g. \(missing.prefix(3))")
        XCTAssertEqual(extra.count, 0, "\(label): e.g. \(extra.prefix(3))")
        // Every nonzero input entry is kept (vocabulary or not): 468,266 of them.
        XCTAssertEqual(entries, 468_266, "\(label): entries")
    }

    func testV3DirectoryMatchesScanpy() throws {
        let (s, err) = try tokenize([Fixtures.path("tokenize/pbmc3k_v3"), "--vocab", vocab])
        try checkAgainstScanpy(s, label: "v3")
        XCTAssertTrue(err.contains("10569 of 16906 vocabulary genes present"), err)
        XCTAssertTrue(err.contains("2003 of 12572 input genes not in it"), err)
        XCTAssertEqual(s.header.metadata("input_format"), "10x-v3")
    }

    func testV2DirectoryMatchesScanpy() throws {
        let dir = try Fixtures.temporaryDirectory(self).appendingPathComponent("v2")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in ["genes.tsv", "barcodes.tsv"] {
            try FileManager.default.copyItem(atPath: Fixtures.path("tokenize/pbmc3k_v2/\(f)"), toPath: dir.appendingPathComponent(f).path)
        }
        // The v2 matrix.mtx is the decompressed v3 one, byte for byte (see the fixture README).
        let reader = try ByteReader.open(Fixtures.path("tokenize/pbmc3k_v3/matrix.mtx.gz"))
        var text = Data()
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { chunk.deallocate() }
        while case let n = try reader.read(into: chunk, count: 1 << 16), n > 0 { text.append(chunk.assumingMemoryBound(to: UInt8.self), count: n) }
        XCTAssertEqual(text.count, 5_083_135)
        try text.write(to: dir.appendingPathComponent("matrix.mtx"))
        let (s, _) = try tokenize([dir.path, "--vocab", vocab])
        try checkAgainstScanpy(s, label: "v2")
        XCTAssertEqual(s.header.metadata("input_format"), "10x-v2")
    }

    func testLoneMatrixFromStdinMatchesDirectory() throws {
        let base = Fixtures.path("tokenize/pbmc3k_v3")
        let (dirStream, _) = try tokenize([base, "--vocab", vocab, "-t", "1"])
        let matrix = try Data(contentsOf: URL(fileURLWithPath: base + "/matrix.mtx.gz"))
        let (s, _) = try tokenize(["-", "--genes", base + "/features.tsv.gz", "--barcodes", base + "/barcodes.tsv.gz", "--vocab", vocab],
                                  stdin: matrix)
        XCTAssertEqual(s.cells, dirStream.cells)
        XCTAssertEqual(s.header.genes, dirStream.header.genes)
        XCTAssertEqual(s.header.vocabularyIndex, dirStream.header.vocabularyIndex)
    }

    /// Values and tokens against a plain float64 reference computed here from the raw counts
    /// (--keep-counts), for vocabulary and non-vocabulary genes alike.
    func testValuesMatchFloat64Reference() throws {
        let (s, _) = try tokenize([Fixtures.path("tokenize/pbmc3k_v3"), "--vocab", vocab, "--keep-counts"])
        XCTAssertEqual(s.flags, [.tokens, .counts])
        var got = [Float](), want = [Float]()
        var tokenMismatches = 0
        for c in s.cells {
            var total = 0.0
            for (i, g) in c.genes.enumerated() where s.header.vocabularyIndex[Int(g)] >= 0 { total += Double(c.counts[i]) }
            XCTAssertEqual(total, c.total)
            for i in c.genes.indices {
                let v = Foundation.log2(1 + Double(c.counts[i]) * 1e4 / total)
                got.append(c.values[i])
                want.append(Float(v))
                // The integer-exact rule: token ≥ k ⇔ c·1e4 ≥ (2^k − 1)·T.
                var k = 0
                while k < 5 && Double(c.counts[i]) * 1e4 >= Double((1 << (k + 1)) - 1) * total { k += 1 }
                if Int(c.tokens[i]) != k { tokenMismatches += 1 }
            }
        }
        let worst = assertClose(got, want, atol: 0, "values vs float64 reference")
        XCTAssertEqual(worst, 0)
        XCTAssertEqual(tokenMismatches, 0, "tokens vs the integer-exact rule")
    }
}
