// The three workflows (pipelines/Makefile, main.nf, Snakefile) run the same command for every
// tool: each command is read from each file, its variables renamed to one vocabulary, and the
// results compared word for word. Nextflow cannot run on our machines, so this is what keeps
// main.nf honest.

import Foundation
import TestSupport
import XCTest

final class WorkflowAgreementTests: XCTestCase {
    static let pipelines = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pipelines")
    static let tools = ["tokenize", "embed", "frames cat", "graphify", "score"]

    func read(_ name: String) throws -> String {
        try String(contentsOf: Self.pipelines.appendingPathComponent(name), encoding: .utf8)
    }

    /// Replaces every match of `pattern` using `name(match groups)`.
    func rename(_ s: String, _ pattern: String, _ name: ([String]) -> String) -> String {
        let re = try! NSRegularExpression(pattern: pattern)
        var out = s
        for m in re.matches(in: s, range: NSRange(s.startIndex..., in: s)).reversed() {
            let groups = (0..<m.numberOfRanges).map { i -> String in
                guard let r = Range(m.range(at: i), in: s) else { return "" }
                return String(s[r])
            }
            out.replaceSubrange(Range(m.range, in: out)!, with: name(groups))
        }
        return out
    }

    /// The command line of `tool` in a file: the one line that runs it (not `--version`).
    func command(_ tool: String, in lines: [String], prefix: String) -> String? {
        let hits = lines.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix(prefix + tool + " ") && !$0.contains("--version") }
        XCTAssertEqual(hits.count, 1, "\(tool): \(hits)")
        return hits.first
    }

    func makefileCommands() throws -> [String: String] {
        let lines = try read("Makefile").split(separator: "\n").map(String.init)
        // Make's automatic variables, per tool: what the first prerequisite(s) are.
        let firstInput = ["embed": "cells", "graphify": "genes", "score": "model"]
        var out = [String: String]()
        for tool in Self.tools {
            guard var c = command(tool, in: lines, prefix: "$(BIN)") else { continue }
            c = String(c.dropFirst("$(BIN)".count))
            c = c.replacingOccurrences(of: "$<", with: "{\(firstInput[tool] ?? "?")}")
            c = c.replacingOccurrences(of: "$^", with: "{genes}")
            c = c.replacingOccurrences(of: "$*", with: "{shard}")
            c = c.replacingOccurrences(of: "$@", with: "{out}")
            out[tool] = rename(c, #"\$\(([A-Z_]+)\)"#) { "{\($0[1].lowercased())}" }
        }
        return out
    }

    func nextflowCommands() throws -> [String: String] {
        let lines = try read("main.nf").split(separator: "\n").map(String.init)
        var out = [String: String]()
        for tool in Self.tools {
            guard let c = command(tool, in: lines, prefix: "") else { continue }
            out[tool] = rename(c, #"\$\{(?:params\.)?([a-z_]+)\}"#) { "{\($0[1])}" }
        }
        return out
    }

    func snakemakeCommands() throws -> [String: String] {
        let lines = try read("Snakefile").split(separator: "\n").map { line -> String in
            var t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("\"") && t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
            return t
        }
        var out = [String: String]()
        for tool in Self.tools {
            guard var c = command(tool, in: lines, prefix: "{params.bin}") else { continue }
            c = String(c.dropFirst("{params.bin}".count)).replacingOccurrences(of: "{output}", with: "{out}")
            out[tool] = rename(c, #"\{(?:params|input|wildcards)\.([a-z_]+)\}"#) { "{\($0[1])}" }
        }
        return out
    }

    func testEveryToolRunsTheSameCommandInAllThreeWorkflows() throws {
        let make = try makefileCommands(), nf = try nextflowCommands(), smk = try snakemakeCommands()
        XCTAssertEqual(Set(make.keys), Set(Self.tools))
        for tool in Self.tools {
            XCTAssertEqual(nf[tool], make[tool], "main.nf and the Makefile differ for \(tool)")
            XCTAssertEqual(smk[tool], make[tool], "the Snakefile and the Makefile differ for \(tool)")
        }
        XCTAssertEqual(make["tokenize"], "tokenize {data} --vocab {vocab} {tokenize_args} --shard {shard}/{shards} -o {out}")
        XCTAssertEqual(make["graphify"], "graphify {genes} --prior {prior} {train_opt} {valid_opt} {graphify_args} -o {out}")
    }

    func testNextflowRecordsEveryToolsVersionAndHasTheProfiles() throws {
        let nf = try read("main.nf")
        for tool in ["tokenize", "embed", "frames", "graphify", "score"] {
            XCTAssertTrue(nf.contains("\"\\$(\(tool) --version)\""), "\(tool) --version is not recorded")
        }
        let config = try read("nextflow.config")
        for profile in ["local", "slurm", "awsbatch"] { XCTAssertTrue(config.contains("\(profile) {"), profile) }
    }
}
