// RepeatedRanking against BinaryRanking and GroupedRanking: the same bits for every scoring of
// many random tied inputs, one ranking reused across scorings as graphify's weight grid reuses it.

import Metrics
import XCTest

final class RepeatedRankingTests: XCTestCase {
    func testEqualsBinaryAndGroupedRankingBitForBit() {
        var state: UInt64 = 2024
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var compared = (pooled: 0, grouped: 0, undefined: 0)
        for trial in 0..<200 {
            let n = 1 + next(300)
            let groupCount = 1 + next(12)
            // Groups given unsorted and sparse, labels sometimes all of one class in a group.
            let keys = (0..<n).map { _ in Int32(next(groupCount) * 7 - 20) }
            let positiveRate = 1 + next(6)
            let labels = (0..<n).map { _ in next(positiveRate + 1) == 0 }
            var ranking = RepeatedRanking(labels: labels, groups: keys)
            for scoring in 0..<4 {
                // Few score levels (many ties) in some scorings, continuous scores in others.
                let levels = scoring % 2 == 0 ? 1 + next(10) : 1 << 20
                let scores = (0..<n).map { _ in Double(next(levels)) / 8 - 2 }
                let pooled = BinaryRanking(scores: scores, labels: labels).auroc
                let grouped = GroupedRanking(scores: scores, labels: labels, groups: keys).auroc
                let fast = (ranking.auroc(scores), ranking.groupedAUROC(scores))
                XCTAssertEqual(fast.0?.bitPattern, pooled?.bitPattern, "trial \(trial) scoring \(scoring): pooled")
                XCTAssertEqual(fast.1?.bitPattern, grouped?.bitPattern, "trial \(trial) scoring \(scoring): grouped")
                if pooled != nil { compared.pooled += 1 }
                if grouped != nil { compared.grouped += 1 } else { compared.undefined += 1 }
            }
        }
        // The trials cover defined and undefined cases alike.
        XCTAssertGreaterThan(compared.pooled, 500)
        XCTAssertGreaterThan(compared.grouped, 500)
        XCTAssertGreaterThan(compared.undefined, 10)
    }

    func testUndefinedWithoutBothClasses() {
        var r = RepeatedRanking(labels: [true, true, true], groups: [1, 1, 2])
        XCTAssertNil(r.auroc([0.1, 0.2, 0.3]))
        XCTAssertNil(r.groupedAUROC([0.1, 0.2, 0.3]))
        var s = RepeatedRanking(labels: [true, false, true, true], groups: [1, 1, 2, 2])
        XCTAssertEqual(s.groupedAUROC([0.9, 0.1, 0.5, 0.5]), 1.0)  // group 2 has no negative
        XCTAssertEqual(s.auroc([0.9, 0.1, 0.5, 0.5]), 1.0)
        XCTAssertEqual(s.auroc([0.1, 0.3, 0.5, 0.5]), 2.0 / 3)
    }
}
