// tokenize --shard: the shards of a run, concatenated, are the run's cells in the same order.

import Foundation
import Frames
import TestSupport
import XCTest

final class TokenizeShardTests: XCTestCase {
    func testShardsConcatenateToTheWholeRun() throws {
        let input = Fixtures.path("tokenize/pbmc3k_v3")
        let vocab = Fixtures.path("tokenize/vocab/scbert_genes.txt")
        let (whole, _) = try tokenize([input, "--vocab", vocab])
        var pieces = [CellRecord]()
        var sizes = [Int]()
        for i in 1...3 {
            let (part, _) = try tokenize([input, "--vocab", vocab, "--shard", "\(i)/3"])
            XCTAssertEqual(part.header.genes, whole.header.genes)
            XCTAssertEqual(part.header.vocabularyIndex, whole.header.vocabularyIndex)
            XCTAssertEqual(part.header.metadata("shard"), "\(i)/3")
            pieces += part.cells
            sizes.append(part.cells.count)
        }
        XCTAssertEqual(sizes, [134, 134, 134])
        XCTAssertEqual(pieces, whole.cells)
    }

    func testShardOutsideItsRangeIsAUsageError() throws {
        for bad in ["0/2", "3/2", "2", "a/b", "1/0"] {
            let run = try Tools.run("tokenize", [Fixtures.path("tokenize/pbmc3k_v3"), "--shard", bad])
            XCTAssertEqual(run.status, 64, "--shard \(bad): \(run.stderr)")
        }
    }
}
