// Helpers for the tokenize tests: run the built tool, decode its stream, write small inputs.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

/// A decoded CELL stream.
struct CellStream {
    var header: StreamHeader
    var cells: [CellRecord]
    var flags: CellFrameFlags?
}

extension XCTestCase {
    /// Runs tokenize and requires success.
    func tokenize(_ args: [String], stdin: Data? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> (CellStream, String) {
        let run = try Tools.run("tokenize", args, stdin: stdin)
        XCTAssertEqual(run.status, 0, "tokenize \(args.joined(separator: " ")): \(run.stderr)", file: file, line: line)
        return (try decode(run.stdout), run.stderr)
    }

    /// Decodes a stream held in memory (through a temporary file, as a user's file would be read).
    func decode(_ data: Data) throws -> CellStream {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("out.sgrf").path
        try data.write(to: URL(fileURLWithPath: path))
        let reader = try StreamReader(path: path)
        var stream = CellStream(header: reader.header, cells: [])
        while let frame = try reader.next() {
            guard case .cells(let flags, let cells) = frame else { XCTFail("not a CELL frame"); continue }
            stream.flags = flags
            stream.cells.append(contentsOf: cells)
        }
        return stream
    }

    /// Runs tokenize on bad input and checks the contract: exit 65, one stderr line naming the
    /// file (and the line, where given) and the problem, no output file, and on stdout no
    /// stream that reads as complete.
    func assertBadInput(_ args: [String], stdin: Data? = nil, names file: String, line: Int? = nil, says problem: String, status: Int32 = 65,
                        sourceFile: StaticString = #filePath, sourceLine: UInt = #line) throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let out = dir.appendingPathComponent("bad.sgrf").path
        let run = try Tools.run("tokenize", args + ["-o", out], stdin: stdin)
        XCTAssertEqual(run.status, status, "\(args): \(run.stderr)", file: sourceFile, line: sourceLine)
        let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("tokenize: ") && !$0.hasPrefix("tokenize: warning") }
        XCTAssertEqual(lines.count, 1, "one error line expected: \(run.stderr)", file: sourceFile, line: sourceLine)
        let message = lines.first.map(String.init) ?? ""
        XCTAssertTrue(message.contains(file), "'\(message)' does not name \(file)", file: sourceFile, line: sourceLine)
        if let line { XCTAssertTrue(message.contains("line \(line):"), "'\(message)' does not name line \(line)", file: sourceFile, line: sourceLine) }
        XCTAssertTrue(message.contains(problem), "'\(message)' does not say '\(problem)'", file: sourceFile, line: sourceLine)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a failed run left \(out)", file: sourceFile, line: sourceLine)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(leftovers, [], "temporary output left behind", file: sourceFile, line: sourceLine)

        let piped = try Tools.run("tokenize", args, stdin: stdin)
        XCTAssertEqual(piped.status, status, file: sourceFile, line: sourceLine)
        if !piped.stdout.isEmpty {
            XCTAssertThrowsError(try decode(piped.stdout), "stdout of a failed run reads as a complete stream",
                                 file: sourceFile, line: sourceLine)
        }
    }
}

/// A small count matrix, written in whichever layout a test needs.
struct TinyMatrix {
    var genes: [String]
    var barcodes: [String]
    /// counts[cell][gene]
    var counts: [[Double]]

    var entries: [(gene: Int, cell: Int, value: Double)] {
        var out: [(Int, Int, Double)] = []
        for (c, row) in counts.enumerated() { for (g, v) in row.enumerated() where v != 0 { out.append((g, c, v)) } }
        return out
    }

    static func value(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// MatrixMarket text (genes are rows), entries grouped by cell or sorted by gene.
    func mtx(byGene: Bool = false, field: String = "integer") -> String {
        var e = entries
        if byGene { e.sort { ($0.gene, $0.cell) < ($1.gene, $1.cell) } }
        var s = "%%MatrixMarket matrix coordinate \(field) general\n%\n\(genes.count) \(barcodes.count) \(e.count)\n"
        for x in e { s += "\(x.gene + 1) \(x.cell + 1) \(TinyMatrix.value(x.value))\n" }
        return s
    }

    /// Writes a 10x directory (v2 names, or v3 gzipped when `v3`).
    func write10x(to dir: URL, v3: Bool = false, byGene: Bool = false) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let genesText = genes.enumerated().map { "ID\($0.offset)\t\($0.element)" + (v3 ? "\tGene Expression" : "") }.joined(separator: "\n") + "\n"
        let bc = barcodes.joined(separator: "\n") + "\n"
        if v3 {
            try gzip(Data(mtx(byGene: byGene).utf8)).write(to: dir.appendingPathComponent("matrix.mtx.gz"))
            try gzip(Data(genesText.utf8)).write(to: dir.appendingPathComponent("features.tsv.gz"))
            try gzip(Data(bc.utf8)).write(to: dir.appendingPathComponent("barcodes.tsv.gz"))
        } else {
            try Data(mtx(byGene: byGene).utf8).write(to: dir.appendingPathComponent("matrix.mtx"))
            try Data(genesText.utf8).write(to: dir.appendingPathComponent("genes.tsv"))
            try Data(bc.utf8).write(to: dir.appendingPathComponent("barcodes.tsv"))
        }
    }

    /// A dense genes-by-cells CSV with a corner field (as BEELINE writes it).
    var genesByCellsCSV: String {
        var s = "," + barcodes.joined(separator: ",") + "\n"
        for (g, name) in genes.enumerated() {
            s += name + "," + barcodes.indices.map { TinyMatrix.value(counts[$0][g]) }.joined(separator: ",") + "\n"
        }
        return s
    }

    /// A dense cells-by-genes TSV without a corner field (as R's write.table writes it).
    var cellsByGenesTSV: String {
        var s = genes.joined(separator: "\t") + "\n"
        for (c, b) in barcodes.enumerated() {
            s += b + "\t" + counts[c].map(TinyMatrix.value).joined(separator: "\t") + "\n"
        }
        return s
    }
}

/// Gzips data with the system's gzip (test inputs only).
func gzip(_ data: Data) throws -> Data {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("scgrn-gz-\(UUID().uuidString)")
    try data.write(to: tmp)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "gzip -n -c \"$0\"", tmp.path]
    let outPipe = Pipe()
    p.standardOutput = outPipe
    try p.run()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return out
}

/// Reads a whole (possibly gzipped) text file's lines.
func readLines(_ path: String) throws -> [String] {
    try ByteReader.open(path).readAllLines()
}
