// docs/FRAMES.md's metadata table is the contract for HEAD metadata: every key a tool writes is
// in it, and every key in it is written by some tool. The keys written are gathered two ways:
// from the HEADs of real runs (tokenize, embed, graphify) and from the `setMetadata("…")` calls
// in Sources/ (which also covers runs not made here, e.g. Exceiver's).

import Foundation
import TestSupport
import XCTest

final class MetadataKeysTests: XCTestCase {
    /// The keys in FRAMES.md's table "Metadata keys in use" (first column, in backticks).
    func documentedKeys() throws -> Set<String> {
        let text = try String(contentsOfFile: Repository.path("docs/FRAMES.md"), encoding: .utf8)
        let start = try XCTUnwrap(text.range(of: "Metadata keys in use"))
        let end = try XCTUnwrap(text.range(of: "\n## ", range: start.upperBound..<text.endIndex))
        var keys = Set<String>()
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            let first = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            for part in first.split(separator: "`") where !part.trimmingCharacters(in: .whitespaces).hasPrefix(",")
                && !part.trimmingCharacters(in: .whitespaces).isEmpty {
                keys.insert(String(part))
            }
        }
        return keys
    }

    /// Every Swift source file's text under Sources/.
    func sources() throws -> [String] {
        let root = Repository.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        return try files.map { try String(contentsOf: $0, encoding: .utf8) }
    }

    /// Keys passed as literals to `setMetadata` anywhere in Sources/.
    func keysSetInSources() throws -> Set<String> {
        let re = try NSRegularExpression(pattern: #"setMetadata\("([^"\\]+)""#)
        var keys = Set<String>()
        for s in try sources() {
            for m in re.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                keys.insert(String(s[Range(m.range(at: 1), in: s)!]))
            }
        }
        return keys
    }

    /// The metadata keys of streams made by real runs of the tools.
    func keysWrittenByRuns() throws -> Set<String> {
        let dir = try Fixtures.temporaryDirectory(self).path
        let d = EndToEndTests.example
        let run = try Repository.shell("""
            tokenize Tests/Fixtures/tokenize/pbmc3k_v3 --vocab Tests/Fixtures/scbert-mini/genes.txt --shard 1/2 -q -o '\(dir)/pbmc.sgrf'
            embed '\(dir)/pbmc.sgrf' --model Tests/Fixtures/scbert-mini/model.safetensors -q -o '\(dir)/pbmc_genes.sgrf'
            embed '\(dir)/pbmc.sgrf' --model Tests/Fixtures/scbert-mini/model.safetensors --emit cells -q -o '\(dir)/pbmc_cells.sgrf'
            tokenize \(d)/ExpressionData.csv.gz --input-scale log2 --vocab models/default/genes.txt -q \
              | embed --model models/default/model.safetensors --genes dataset -q \
              | graphify --prior \(d)/Train.tsv --epochs 1 -q -o '\(dir)/model.sgrf'
            """)
        XCTAssertEqual(run.status, 0, run.stderr)
        var keys = Set<String>()
        for s in ["pbmc.sgrf", "pbmc_genes.sgrf", "pbmc_cells.sgrf", "model.sgrf"] {
            let meta = try Repository.metadata("\(dir)/\(s)")
            XCTAssertFalse(meta.isEmpty, "\(s) has no metadata")
            keys.formUnion(meta.keys)
        }
        return keys
    }

    func testEveryKeyWrittenIsDocumented() throws {
        let documented = try documentedKeys()
        XCTAssertGreaterThan(documented.count, 20)
        let fromRuns = try keysWrittenByRuns()
        XCTAssertTrue(fromRuns.isSuperset(of: ["input", "shard", "feature_type", "model", "pool", "cellvec", "decoder"]),
                      "the runs should exercise tokenize, embed and graphify: \(fromRuns.sorted())")
        let fromSources = try keysSetInSources()
        XCTAssertTrue(fromSources.contains("input"), "setMetadata calls not found in Sources/")
        let undocumented = fromRuns.union(fromSources).subtracting(documented)
        XCTAssertTrue(undocumented.isEmpty, "keys written but not in docs/FRAMES.md: \(undocumented.sorted())")
    }

    func testEveryDocumentedKeyIsWritten() throws {
        let all = try sources().joined(separator: "\n")
        let unwritten = try documentedKeys().filter { !all.contains("\"\($0)\"") }
        XCTAssertTrue(unwritten.isEmpty, "keys in docs/FRAMES.md that no source writes: \(unwritten.sorted())")
    }
}
