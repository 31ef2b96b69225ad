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

    /// `input_cells` is the count tokenize knows before writing the cells (embed's progress total):
    /// the input's, or a shard's share; a cells-by-genes table, read row by row, has none.
    func testInputCellsIsTheCellCountOfTheStream() throws {
        let input = Fixtures.path("tokenize/pbmc3k_v3")
        let (whole, _) = try tokenize([input])
        XCTAssertEqual(whole.header.metadata("input_cells"), "402")
        XCTAssertEqual(whole.cells.count, 402)
        for (i, n) in [(1, 201), (2, 201)] {
            let (part, _) = try tokenize([input, "--shard", "\(i)/2"])
            XCTAssertEqual(part.header.metadata("input_cells"), String(n))
            XCTAssertEqual(part.cells.count, n)
        }
        let dense = try tokenize([Fixtures.path("beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz"),
                                  "--input-scale", "log2"]).0
        XCTAssertEqual(dense.header.metadata("input_cells"), "425")
        let table = "gene,A,B\nc1,1,0\nc2,0,3\nc3,2,2\n"
        let rows = try tokenize(["-", "--layout", "cells-by-genes"], stdin: Data(table.utf8)).0
        XCTAssertEqual(rows.cells.count, 3)
        XCTAssertNil(rows.header.metadata("input_cells"), "a cells-by-genes table is not counted before its cells")
    }

    func testShardOutsideItsRangeIsAUsageError() throws {
        for bad in ["0/2", "3/2", "2", "a/b", "1/0"] {
            let run = try Tools.run("tokenize", [Fixtures.path("tokenize/pbmc3k_v3"), "--shard", bad])
            XCTAssertEqual(run.status, 64, "--shard \(bad): \(run.stderr)")
        }
    }
}
