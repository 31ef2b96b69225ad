// The real tools, piped as a user pipes them, on the bundled hHEP example with the default model:
// tokenize | embed | graphify (1 epoch) → MODEL; score on the held-out test pairs. The streams
// must be whole (END present, `frames check`), carry the dataset's genes and the model's width,
// and the trained model must rank the test pairs better than chance.

import Foundation
import TestSupport
import XCTest

/// The repository root and the shell that runs pipelines of the built tools.
enum Repository {
    static let root = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Runs `script` in bash with `set -euo pipefail`, the built tools first on PATH and the
    /// repository as working directory.
    static func shell(_ script: String) throws -> ToolRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "set -euo pipefail\n" + script]
        p.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = Tools.productsDirectory.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let e = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { e.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return ToolRun(status: p.terminationStatus, stdout: o, stderr: String(decoding: e.data, as: UTF8.self))
    }

    /// The `#meta` lines of a stream's HEAD (`frames view -H`), as key → value.
    static func metadata(_ stream: String) throws -> [String: String] {
        let run = try shell("frames view -H '\(stream)' | grep '^#' || true")
        var meta = [String: String]()
        for line in run.stdoutText.split(separator: "\n") where line.hasPrefix("#meta\t") {
            let f = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            if f.count == 3 { meta[String(f[1])] = String(f[2]) }
        }
        return meta
    }

    /// The `#genes` count of a stream's HEAD.
    static func geneCount(_ stream: String) throws -> Int? {
        let run = try shell("frames view -H '\(stream)' | sed -n 's/^#genes\t//p' | head -n 1")
        return Int(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

final class EndToEndTests: XCTestCase {
    static let example = "Tests/Fixtures/beeline/hHEP_TFs500_Specific_sample1"

    func testPipelineOnTheBundledExample() throws {
        let dir = try Fixtures.temporaryDirectory(self).path
        let d = Self.example
        let run = try Repository.shell("""
            tokenize \(d)/ExpressionData.csv.gz --input-scale log2 --vocab models/default/genes.txt -q \
              | embed --model models/default/model.safetensors --genes dataset -q \
              | tee '\(dir)/genes.sgrf' \
              | graphify --prior \(d)/Train.tsv --train \(d)/Train.tsv --valid \(d)/Valid.tsv --epochs 1 -q -o '\(dir)/model.sgrf'
            score '\(dir)/model.sgrf' --pairs \(d)/Test.tsv --truth \(d)/Test.tsv --metrics '\(dir)/metrics.json' -q -o '\(dir)/test.tsv'
            frames check '\(dir)/genes.sgrf'
            frames check '\(dir)/model.sgrf'
            """)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdoutText.contains("genes.sgrf: ok"), run.stdoutText)
        XCTAssertTrue(run.stdoutText.contains("model.sgrf: ok"), run.stdoutText)

        // Shapes: every stage keeps the dataset's 948 genes; the GENE records carry the model's width.
        XCTAssertEqual(try Repository.geneCount("\(dir)/genes.sgrf"), 948)
        XCTAssertEqual(try Repository.geneCount("\(dir)/model.sgrf"), 948)
        let width = try Repository.shell("frames view '\(dir)/genes.sgrf' | head -n 2 | tail -n 1 | awk -F'\\t' '{print NF - 3}'")
        XCTAssertEqual(Int(width.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)), 64, "the default model's width")
        let model = try Repository.metadata("\(dir)/model.sgrf")
        XCTAssertEqual(model["graphify.epochs_run"], "1")
        XCTAssertEqual(model["graphify.transformer"], "true")

        // One scored line per test pair, and better than chance.
        let testPairs = try String(contentsOfFile: Repository.path("\(d)/Test.tsv"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("regulator") }.count
        let scored = try String(contentsOfFile: "\(dir)/test.tsv", encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(scored, testPairs + 1, "header + one line per test pair")
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/metrics.json"))) as? [String: Any]
        let auroc = try XCTUnwrap(metrics?["auroc"] as? Double)
        XCTAssertGreaterThan(auroc, 0.5)
    }

    /// A stream cut anywhere before its END is refused by the next stage, never read as short.
    func testTruncatedStreamStopsThePipeline() throws {
        let dir = try Fixtures.temporaryDirectory(self).path
        let run = try Repository.shell("""
            tokenize \(Self.example)/ExpressionData.csv.gz --input-scale log2 --vocab models/default/genes.txt -q -o '\(dir)/cells.sgrf'
            head -c $(( $(stat -c %s '\(dir)/cells.sgrf') - 30 )) '\(dir)/cells.sgrf' > '\(dir)/cut.sgrf'
            status=0; embed '\(dir)/cut.sgrf' --model models/default/model.safetensors -q -o '\(dir)/genes.sgrf' || status=$?
            echo "status $status"; test ! -e '\(dir)/genes.sgrf' && echo "no output"
            """)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdoutText.contains("status 65"), run.stdoutText + run.stderr)
        XCTAssertTrue(run.stdoutText.contains("no output"), run.stdoutText)
    }
}
