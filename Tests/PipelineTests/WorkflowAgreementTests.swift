// The three workflows (pipelines/Makefile, the Snakefile and the Nextflow modules) run the same
// command for every tool: each command is read from each file, its variables renamed to one
// vocabulary, and the results compared word for word. Nextflow cannot run on our machines, so
// this (with pipelines/lint.py, which CI runs) is what keeps the modules honest.

import Foundation
import TestSupport
import XCTest

final class WorkflowAgreementTests: XCTestCase {
    static let pipelines = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pipelines")
    static let tools = ["tokenize", "embed", "frames cat", "graphify", "score"]
    static let modules = ["tokenize": "tokenize", "embed": "embed", "frames cat": "framescat", "graphify": "graphify", "score": "score"]

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
            guard var c = command(tool, in: lines, prefix: "$(TOOL)") else { continue }
            c = String(c.dropFirst("$(TOOL)".count))
            c = c.replacingOccurrences(of: "$(filter %.sgrf,$^)", with: "{genes}")
            c = c.replacingOccurrences(of: "$<", with: "{\(firstInput[tool] ?? "?")}")
            c = c.replacingOccurrences(of: "$*", with: "{shard}")
            c = c.replacingOccurrences(of: "$@", with: "{out}")
            c = rename(c, #"\$\((SHARD_)?THREADS\)"#) { _ in "{threads}" }
            out[tool] = rename(c, #"\$\(([A-Z_]+)\)"#) { "{\($0[1].lowercased())}" }
        }
        return out
    }

    func nextflowCommands() throws -> [String: String] {
        var out = [String: String]()
        for tool in Self.tools {
            let lines = try read("modules/local/scgrn/\(Self.modules[tool]!)/main.nf").split(separator: "\n").map(String.init)
            guard var c = command(tool, in: lines, prefix: "") else { continue }
            c = c.replacingOccurrences(of: "${task.cpus}", with: "{threads}")
            c = c.replacingOccurrences(of: "${args}", with: "{\(tool)_args}")
            out[tool] = rename(c, #"\$\{(?:meta\.)?([a-z_]+)\}"#) { "{\($0[1])}" }
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
            XCTAssertTrue(c.hasSuffix(" 2> {log}"), "the Snakefile's \(tool) does not write a log")
            c = String(c.dropFirst("{params.bin}".count))
            if c.hasSuffix(" 2> {log}") { c = String(c.dropLast(" 2> {log}".count)) }
            c = c.replacingOccurrences(of: "{output.edges}", with: "{out}").replacingOccurrences(of: "{output}", with: "{out}")
            out[tool] = rename(c, #"\{(?:params|input|wildcards)\.([a-z_]+)\}"#) { "{\($0[1])}" }
        }
        return out
    }

    func testEveryToolRunsTheSameCommandInAllThreeWorkflows() throws {
        let make = try makefileCommands(), nf = try nextflowCommands(), smk = try snakemakeCommands()
        XCTAssertEqual(Set(make.keys), Set(Self.tools))
        for tool in Self.tools {
            XCTAssertEqual(nf[tool], make[tool], "the Nextflow module and the Makefile differ for \(tool)")
            XCTAssertEqual(smk[tool], make[tool], "the Snakefile and the Makefile differ for \(tool)")
        }
        XCTAssertEqual(make["tokenize"], "tokenize {data} --vocab {vocab} {tokenize_args} --shard {shard}/{shards} -t {threads} -o {out}")
        XCTAssertEqual(make["graphify"], "graphify {genes} --prior {prior} {train_opt} {valid_opt} {graphify_args} -t {threads} -o {out}")
    }

    func testNextflowRecordsEveryToolsVersionAndHasTheProfiles() throws {
        for (tool, module) in Self.modules {
            let nf = try read("modules/local/scgrn/\(module)/main.nf")
            let name = tool.split(separator: " ")[0]
            XCTAssertTrue(nf.contains("scgrn: \\$(\(name) --version)"), "\(name) --version is not recorded in versions.yml")
            XCTAssertTrue(nf.contains("stub:"), "\(module) has no stub: block")
        }
        let config = try read("nextflow.config")
        for profile in ["local", "slurm", "awsbatch", "googlebatch", "docker", "test"] {
            XCTAssertTrue(config.contains("    \(profile) {"), profile)
        }
    }
}
