// `embed` with the released Exceiver checkpoint, end to end through the built executable: a CELL
// stream with raw counts built from the fixture's counts.tsv, the fixture's gene map and scaler;
// cell latents, pooled decoder outputs and per-gene encodings against Exceiver's own outputs;
// thread-count independence; every documented refusal (exit 64/65, one line, no output).

import Foundation
import Frames
import TestSupport
import ToolKit
import Weights
import XCTest

final class ExceiverToolTests: XCTestCase {
    static let mapped = 10_841
    static let extra = ["UNMAPPED-A", "UNMAPPED-B"]
    func fixture(_ name: String) -> String { Fixtures.path("exceiver/" + name) }
    var ckpt: String { fixture("pretrained_TS_exceiver.ckpt") }
    var scalerPair: String { fixture("scaler_mean.npy") + "," + fixture("scaler_scale.npy") }

    /// The map's symbols in file order (index i ↔ line i).
    func mapSymbols() throws -> [String] {
        let lines = try String(contentsOfFile: fixture("gene_map.tsv"), encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { String($0.split(separator: "\t")[1]) }
    }

    /// A CELL stream of the 4 fixture cells. Dataset genes: two genes the map does not name, then the
    /// mapped genes in REVERSE index order (so dataset order ≠ Exceiver order). The unmapped genes carry
    /// counts too: they must not enter Exceiver's total. Values are a log2 normalisation (passed through).
    func cellStream(counts withCounts: Bool = true) throws -> String {
        let symbols = try mapSymbols()
        XCTAssertEqual(symbols.count, Self.mapped)
        let genes = (Self.extra + symbols.reversed()).map { GeneName(symbol: $0) }
        let header = StreamHeader(content: .cell, genes: genes)
        let path = try Fixtures.temporaryDirectory(self).appendingPathComponent("cells.sgrf").path
        let writer = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
        let text = try String(contentsOfFile: fixture("counts.tsv"), encoding: .utf8)
        for (n, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: "\t")
            let c = f.dropFirst().map { Float($0)! }
            var g: [UInt32] = [0, 1], counts: [Float] = [Float(7 + n), 300]
            for d in 2..<genes.count {
                let index = Self.mapped - 1 - (d - 2)
                if c[index] > 0 { g.append(UInt32(d)); counts.append(c[index]) }
            }
            let total = counts.reduce(0, +)
            let values = counts.map { log2(1 + $0 * 1e4 / total) }
            try writer.append(cell: CellRecord(barcode: String(f[0]), total: Double(total), genes: g, values: values,
                                               counts: withCounts ? counts : []),
                              flags: withCounts ? .counts : [])
        }
        try writer.finish()
        return path
    }

    func frames(_ data: Data) throws -> (StreamHeader, [DataFrame]) {
        let path = try Fixtures.temporaryDirectory(self).appendingPathComponent("out.sgrf").path
        try data.write(to: URL(fileURLWithPath: path))
        let r = try StreamReader(path: path)
        var out = [DataFrame]()
        while let f = try r.next() { out.append(f) }
        return (r.header, out)
    }

    func embed(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ToolRun {
        let run = try Tools.run("embed", args)
        XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
        return run
    }

    func exceiverArgs(_ input: String, model: String? = nil) -> [String] {
        [input, "--model", model ?? ckpt, "--gene-map", fixture("gene_map.tsv"), "--scaler", scalerPair]
    }

    func npy(_ name: String) throws -> [Float] { try NPYArray(path: fixture(name)).floats }

    // MARK: - Outputs

    func testCellVectorsAreTheLatentArrays() throws {
        let run = try embed(exceiverArgs(try cellStream()) + ["--emit", "cells", "-t", "2"])
        XCTAssertTrue(run.stderr.contains("10841 of 10843 dataset genes mapped"), run.stderr)
        let (header, frames) = try frames(run.stdout)
        XCTAssertEqual(header.content, .cellVector)
        XCTAssertEqual(header.provenance.last?.tool, "embed")
        XCTAssertTrue(header.metadata("cellvec")?.contains("128 x 4") ?? false)
        var vectors = [Float](), barcodes = [String]()
        for case .cellVectors(let dim, let records) in frames {
            XCTAssertEqual(dim, 512)
            for r in records { vectors += r.vector; barcodes.append(r.barcode) }
        }
        XCTAssertEqual(barcodes, ["CTAAGGACCGTTAG-1", "CCAGTCTGCGGAGA-1", "CTATGTACTGTTTC-1", "GGAGCCACCTTCTA-1"])
        assertClose(vectors, try npy("latent.npy"), atol: 1e-4, maxAbs: 1e-4, "embed --emit cells vs Exceiver latent")
    }

    func testGenesAreMeanPooledDecoderOutputs() throws {
        let input = try cellStream()
        let run = try embed(exceiverArgs(input) + ["-t", "2"])
        let (header, frames) = try frames(run.stdout)
        XCTAssertEqual(header.content, .gene)
        XCTAssertEqual(header.metadata("pool"), "mean")
        var records = [GeneRecord](), cells = [CellRecord]()
        for f in frames {
            switch f {
            case .genes(let dim, let r): XCTAssertEqual(dim, 4); records += r
            case .cells(let flags, let c): XCTAssertEqual(flags, []); cells += c
            default: XCTFail("unexpected frame \(f)")
            }
        }
        XCTAssertEqual(cells.count, 4)
        XCTAssertTrue(cells.allSatisfy { $0.tokens.isEmpty && $0.counts.isEmpty && $0.genes.first == 0 })
        XCTAssertEqual(records.count, Self.mapped + 2)
        for r in records[0..<2] { XCTAssertFalse(r.known); XCTAssertEqual(r.weight, 0) }
        XCTAssertTrue(records[2...].allSatisfy { $0.known && $0.weight == 4 })
        // Pooled sums of the query genes the map covers, against Σ over cells of decoder_out_query.
        let queries = try NPYArray(path: fixture("query_ids.npy")).int64s.map(Int.init)
        let ref = try npy("decoder_out_query.npy")
        var got = [Float](), want = [Float]()
        for (j, q) in queries.enumerated() where q < Self.mapped {
            let record = records[2 + (Self.mapped - 1 - q)]
            XCTAssertEqual(Int(record.gene), 2 + (Self.mapped - 1 - q))
            got += record.sum
            want += (0..<4).map { e in (0..<4).map { c in ref[(c * queries.count + j) * 4 + e] }.reduce(0, +) }
        }
        XCTAssertEqual(got.count, 4 * queries.filter { $0 < Self.mapped }.count)
        assertClose(got, want, atol: 4e-4, maxAbs: 4e-4, "embed --emit genes pooled sums vs Exceiver decoder_out")

        // One thread gives the same records and cells.
        let one = try embed(exceiverArgs(input) + ["-t", "1"])
        let (_, framesOne) = try self.frames(one.stdout)
        XCTAssertEqual(framesOne.count, frames.count)
        for (a, b) in zip(frames, framesOne) {
            switch (a, b) {
            case (.genes(_, let x), .genes(_, let y)): XCTAssertEqual(x, y)
            case (.cells(_, let x), .cells(_, let y)): XCTAssertEqual(x, y)
            default: XCTFail("frame kinds differ")
            }
        }
    }

    func testEncodingsAreDecoderOutputsAtExceiverIndices() throws {
        let run = try embed(exceiverArgs(try cellStream()) + ["--emit", "encodings"])
        let (header, frames) = try frames(run.stdout)
        XCTAssertEqual(header.content, .encoding)
        let queries = try NPYArray(path: fixture("query_ids.npy")).int64s.map(Int.init).filter { $0 < Self.mapped }
        let all = try NPYArray(path: fixture("query_ids.npy")).int64s.map(Int.init)
        let ref = try npy("decoder_out_query.npy")
        var cell = 0
        for case .encodings(let dim, let records) in frames {
            XCTAssertEqual(dim, 4)
            for r in records {
                XCTAssertEqual(r.positions, (0..<UInt32(Self.mapped)).map { $0 })
                var got = [Float](), want = [Float]()
                for q in queries {
                    let at: Int = q * 4
                    got += r.values[at..<(at + 4)]
                    let j = all.firstIndex(of: q)!
                    let start: Int = (cell * all.count + j) * 4
                    want += ref[start..<(start + 4)]
                }
                assertClose(got, want, atol: 1e-4, maxAbs: 1e-4, "embed --emit encodings cell \(cell)")
                cell += 1
            }
        }
        XCTAssertEqual(cell, 4)
    }

    /// The safetensors copy and a TSV scaler give the same latents (with a warning about the head count).
    func testSafetensorsAndTSVScaler() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let mean = try NPYArray(path: fixture("scaler_mean.npy")).doubles, scale = try NPYArray(path: fixture("scaler_scale.npy")).doubles
        let tsv = dir.appendingPathComponent("scaler.tsv").path
        var text = "# Exceiver scaler\nmean\tscale\n"
        for (m, s) in zip(mean, scale) { text += "\(m)\t\(s)\n" }
        try text.write(toFile: tsv, atomically: true, encoding: .utf8)
        let run = try embed([try cellStream(), "--model", fixture("exceiver_state_dict.safetensors"), "--gene-map", fixture("gene_map.tsv"),
                             "--scaler", tsv, "--emit", "cells"])
        XCTAssertTrue(run.stderr.contains("assuming 4"), run.stderr)
        let (_, frames) = try frames(run.stdout)
        var vectors = [Float]()
        for case .cellVectors(_, let records) in frames { for r in records { vectors += r.vector } }
        assertClose(vectors, try npy("latent.npy"), atol: 1e-4, maxAbs: 1e-4, "safetensors + TSV scaler latent")
    }

    /// Gene-map lines naming genes the stream lacks are counted as zero, with a warning.
    func testGeneMapWithUnknownGenesWarns() throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let symbols = try mapSymbols()
        let map = dir.appendingPathComponent("map.tsv").path
        try ("0\t\(symbols[0])\n5\tNOT-A-GENE\n7\t\(symbols[7])\n9\tALSO-MISSING\n").write(toFile: map, atomically: true, encoding: .utf8)
        let run = try embed([try cellStream(), "--model", ckpt, "--gene-map", map, "--scaler", scalerPair, "--emit", "genes"])
        XCTAssertTrue(run.stderr.contains("warning: \(map): 2 of 4 genes are not in the stream"), run.stderr)
        let (_, frames) = try frames(run.stdout)
        var known = 0
        for case .genes(_, let records) in frames { known += records.filter(\.known).count }
        XCTAssertEqual(known, 2)
    }

    // MARK: - Refusals

    func refuse(_ args: [String], status: Int32, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = try Fixtures.temporaryDirectory(self).appendingPathComponent("never.sgrf").path
        let run = try Tools.run("embed", args + ["-o", out])
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        // One error line (notes `[embed] …` and warnings may precede it).
        let errors = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("[embed]") && !$0.hasPrefix("embed: warning:") }
        XCTAssertEqual(errors.count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(errors.first?.hasPrefix("embed: ") ?? false, run.stderr, file: file, line: line)
        XCTAssertTrue(errors.first?.contains(message) ?? false, "stderr was: \(run.stderr)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output on failure", file: file, line: line)
    }

    func testRefusals() throws {
        let input = try cellStream()
        let dir = try Fixtures.temporaryDirectory(self)
        func write(_ name: String, _ text: String) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        // Usage errors (64).
        try refuse([input, "--model", ckpt, "--gene-map", fixture("gene_map.tsv")], status: 64, "--scaler")
        try refuse(exceiverArgs(input) + ["--pool", "attention"], status: 64, "mean-pooled")
        try refuse(exceiverArgs(input) + ["--genes", "dataset"], status: 64, "--genes applies to scBERT")
        try refuse([input, "--model", Fixtures.path("scbert-mini/model.pth"), "--scaler", scalerPair], status: 64,
                   "apply to Exceiver checkpoints")
        // Bad input (65).
        try refuse(exceiverArgs(try cellStream(counts: false)), status: 65, "without raw counts")
        try refuse([input, "--model", ckpt, "--gene-map", try write("none.tsv", "0\tNOPE\n1\tNADA\n"), "--scaler", scalerPair],
                   status: 65, "none of its 2 genes is in")
        try refuse([input, "--model", ckpt, "--gene-map", try write("range.tsv", "index\tgene\n0\tA\n19067\tB\n"), "--scaler", scalerPair],
                   status: 65, "line 3: index 19067 is outside the model's 19067 genes")
        try refuse([input, "--model", ckpt, "--gene-map", try write("twice.tsv", "0\tA\n0\tB\n"), "--scaler", scalerPair],
                   status: 65, "line 2: index 0 is already given to A on line 1")
        try refuse([input, "--model", ckpt, "--gene-map", fixture("gene_map.tsv"), "--scaler", try write("short.tsv", "0.1\t1\n0.2\t2\n")],
                   status: 65, "the scaler mean has 2 values but the model has 19067 genes")
        try refuse([input, "--model", ckpt, "--gene-map", fixture("gene_map.tsv"), "--scaler", fixture("scaler_mean.npy") + "," + fixture("gene_vals.npy")],
                   status: 65, "not a 1-D float .npy array: shape (4, 19067)")
        try refuse([input, "--model", ckpt, "--gene-map", fixture("gene_map.tsv"), "--scaler", fixture("scaler_mean.npy") + "," + fixture("missing.npy")],
                   status: 1, "missing.npy: cannot open")
        // A misshapen tensor in an otherwise complete Exceiver.
        var weights = try WeightsFile.load(fixture("exceiver_state_dict.safetensors"))
        weights.set("query_emb", StoredTensor([Float](repeating: 0, count: 512), shape: [512]))
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try Safetensors.write(weights, to: bad)
        try refuse(exceiverArgs(input, model: bad), status: 65, "query_emb has shape [512], expected [?, ?]")
    }
}
