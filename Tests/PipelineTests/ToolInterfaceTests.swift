// What every tool shows a user before any data: `--version` prints `tool version`, `--help` ends
// with an EXAMPLES section; a missing input is a runtime failure (exit 1), not bad data; and embed
// runs the bundled default model when --model is omitted.

import Foundation
import TestSupport
import XCTest

final class ToolInterfaceTests: XCTestCase {
    static let tools = ["tokenize", "embed", "graphify", "score", "frames", "pretrain"]

    func testVersionNamesTheTool() throws {
        for tool in Self.tools {
            let run = try Tools.run(tool, ["--version"])
            XCTAssertEqual(run.status, 0, "\(tool): \(run.stderr)")
            let text = run.stdoutText.trimmingCharacters(in: .newlines)
            XCTAssertTrue(text.range(of: "^\(tool) [0-9]+\\.[0-9]+\\.[0-9]+$", options: .regularExpression) != nil,
                          "\(tool) --version printed '\(text)'")
        }
    }

    func testHelpEndsWithExamples() throws {
        for tool in Self.tools {
            let run = try Tools.run(tool, ["--help"])
            XCTAssertEqual(run.status, 0, "\(tool): \(run.stderr)")
            let help = run.stdoutText
            guard let examples = help.range(of: "\nEXAMPLES:\n") else { XCTFail("\(tool) --help has no examples:\n\(help)"); continue }
            // The examples are the last section: indented command lines, at least two running the tool.
            let lines = help[examples.upperBound...].split(separator: "\n")
            XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("  ") }, "\(tool) --help does not end with its examples:\n\(help)")
            XCTAssertGreaterThanOrEqual(lines.filter { $0.contains(tool + " ") }.count, 2, "\(tool) --help examples:\n\(lines)")
            XCTAssertTrue(help.contains("OPTIONS:") && help.range(of: "OPTIONS:")!.lowerBound < examples.lowerBound)
        }
    }

    /// DESIGN.md's exit codes: a file that cannot be opened is a runtime failure (1); 65 is for
    /// input that was read and found malformed.
    func testMissingInputsExit1WithOneLine() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let missing = dir.appendingPathComponent("absent.sgrf").path
        let csv = dir.appendingPathComponent("e.csv").path, cells = dir.appendingPathComponent("e.sgrf").path
        try "gene,c1,c2\nG1,5,1\nG2,3,4\n".write(toFile: csv, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Tools.run("tokenize", [csv, "-q", "-o", cells]).status, 0)
        let runs: [(String, [String])] = [
            ("tokenize", [missing]), ("embed", [missing]), ("graphify", [missing]), ("score", [missing, "--tfs", missing]),
            ("frames", ["check", missing]), ("frames", ["view", missing]), ("pretrain", [missing, "-o", dir.appendingPathComponent("m").path]),
            ("graphify", [cells, "--prior", missing]), ("embed", [cells, "--model", missing]),
        ]
        for (tool, args) in runs {
            let run = try Tools.run(tool, args)
            XCTAssertEqual(run.status, 1, "\(tool) \(args): \(run.stderr)")
            XCTAssertEqual(run.stderr, "\(tool): \(missing): cannot open: No such file or directory\n", "\(tool) \(args)")
        }
    }

    func testEmbedWithoutModelRunsTheBundledDefault() throws {
        let repo = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let vocab = repo.appendingPathComponent("models/default/genes.txt").path
        let model = repo.appendingPathComponent("models/default/model.safetensors").path
        let dir = try Fixtures.temporaryDirectory(self)
        let cells = dir.appendingPathComponent("cells.sgrf").path
        let tok = try Tools.run("tokenize", [Fixtures.path("beeline/hHEP_TFs500_Specific_sample1/ExpressionData.csv.gz"),
                                             "--input-scale", "log2", "--vocab", vocab, "--shard", "1/40", "-q", "-o", cells])
        XCTAssertEqual(tok.status, 0, tok.stderr)
        var views = [String]()
        for extra in [[], ["--model", model]] {
            let out = dir.appendingPathComponent("v\(views.count).sgrf").path
            let run = try Tools.run("embed", [cells, "--emit", "cells", "-t", "1", "-o", out] + extra)
            XCTAssertEqual(run.status, 0, run.stderr)
            let view = try Tools.run("frames", ["view", out])
            XCTAssertEqual(view.status, 0, view.stderr)
            views.append(view.stdoutText)
        }
        XCTAssertGreaterThan(views[0].split(separator: "\n").count, 5)
        XCTAssertEqual(views[0], views[1], "embed without --model differs from --model models/default/model.safetensors")
    }
}
