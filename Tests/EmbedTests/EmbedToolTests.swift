// The embed tool end to end: CELL streams built from the scbert-mini fixture, run through the
// built executable, checked against scBERT's outputs; options, determinism and bad input.

import Foundation
import Frames
import Kernels
import LinearAlgebra
import Models
import TestSupport
import ToolKit
import Weights
import XCTest

final class EmbedToolTests: XCTestCase {
    static let extraGenes = ["NOT-IN-VOCAB-1", "NOT-IN-VOCAB-2"]

    /// A CELL stream of the 6 fixture cells over 2000 vocabulary genes plus two unknown genes
    /// (the second expressed in every cell). Values are token + 0.25 (they only pass through).
    /// `poison`, when given, replaces the first value of the first cell.
    func cellStream(vocabularySize: Int = 2000, tokens withTokens: Bool = true, end: Bool = true, poison: Float? = nil) throws -> Data {
        let vocab = try ScbertMini.genes()
        let genes = (vocab + Self.extraGenes).map { GeneName(symbol: $0) }
        let index = (0..<vocab.count).map { Int32($0) } + [-1, -1]
        let header = StreamHeader(content: .cell, genes: genes, vocabulary: Array(vocab.prefix(vocabularySize)),
                                  vocabularyIndex: index.map { $0 >= vocabularySize ? -1 : $0 })
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("cells.sgrf").path
        let writer = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
        for (cell, (barcode, tokens)) in try ScbertMini.tokens().enumerated() {
            var g = [UInt32](), v = [Float](), t = [UInt8]()
            for (i, tok) in tokens.prefix(2000).enumerated() where tok > 0 {
                g.append(UInt32(i)); v.append(Float(tok) + 0.25); t.append(UInt8(tok))
            }
            g.append(2001); v.append(1.5); t.append(2)
            if let poison, cell == 0 { v[0] = poison }
            try writer.append(cell: CellRecord(barcode: barcode, total: 100, genes: g, values: v, tokens: withTokens ? t : []),
                              flags: withTokens ? .tokens : [])
        }
        if end { try writer.finish() } else { try writer.flushPending(); try writer.output.commit() }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    func records(_ out: Data) throws -> (StreamHeader, [DataFrame]) {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("out.sgrf").path
        try out.write(to: URL(fileURLWithPath: path))
        let r = try StreamReader(path: path)
        var frames = [DataFrame]()
        while let f = try r.next() { frames.append(f) }
        return (r.header, frames)
    }

    func embed(_ args: [String], stdin: Data, file: StaticString = #filePath, line: UInt = #line) throws -> ToolRun {
        let run = try Tools.run("embed", args, stdin: stdin)
        XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
        return run
    }

    let pth = Fixtures.path("scbert-mini/model.pth")

    func testEncodingsMatchScbert() throws {
        let run = try embed(["--model", pth, "--emit", "encodings", "-t", "2"], stdin: try cellStream())
        let (header, frames) = try records(run.stdout)
        XCTAssertEqual(header.content, .encoding)
        let ref = try NPYArray(path: Fixtures.path("scbert-mini/encodings.npy")).floats
        var cell = 0
        for case .encodings(let dim, let encs) in frames {
            XCTAssertEqual(dim, 64)
            for e in encs {
                XCTAssertEqual(e.barcode, try ScbertMini.tokens()[cell].0)
                XCTAssertEqual(e.positions, (0..<2001).map { UInt32($0) })
                assertClose(e.values, Array(ref[(cell * 2001 * 64)..<((cell + 1) * 2001 * 64)]), atol: 1e-5, rtol: 1e-4,
                            maxAbs: 2e-5, "embed --emit encodings cell \(cell)")
                cell += 1
            }
        }
        XCTAssertEqual(cell, 6)
    }

    func testGenesAreMeanPooledAndCellsPassThrough() throws {
        let input = try cellStream()
        let run = try embed(["--model", pth, "-t", "2"], stdin: input)
        let (header, frames) = try records(run.stdout)
        XCTAssertEqual(header.content, .gene)
        XCTAssertEqual(header.metadata("pool"), "mean")
        XCTAssertEqual(header.provenance.last?.tool, "embed")
        let ref = try NPYArray(path: Fixtures.path("scbert-mini/encodings.npy")).floats
        var genes = [GeneRecord](), cells = [CellRecord]()
        for f in frames {
            switch f {
            case .genes(let dim, let g): XCTAssertEqual(dim, 64); genes += g
            case .cells(let flags, let c): XCTAssertEqual(flags, []); cells += c
            default: XCTFail("unexpected frame")
            }
        }
        XCTAssertEqual(genes.count, 2002)
        XCTAssertEqual(cells.count, 6)
        XCTAssertEqual(cells[0].values.last, 1.5, "the unknown gene's expression passes through")
        XCTAssertTrue(cells.allSatisfy { $0.tokens.isEmpty })
        var got = [Float](), want = [Float]()
        for g in genes where g.gene < 2000 {
            XCTAssertTrue(g.known)
            XCTAssertEqual(g.weight, 6)
            for j in 0..<64 {
                got.append(g.sum[j] / 6)
                want.append(Float((0..<6).reduce(0.0) { $0 + Double(ref[($1 * 2001 + Int(g.gene)) * 64 + j]) } / 6))
            }
        }
        assertClose(got, want, atol: 1e-5, rtol: 1e-4, maxAbs: 2e-5, "mean-pooled gene embeddings")
        for g in genes where g.gene >= 2000 {
            XCTAssertFalse(g.known); XCTAssertEqual(g.weight, 0); XCTAssertEqual(g.sum, [Float](repeating: 0, count: 64))
        }
        // The same data whatever the thread count (and the safetensors copy gives the same numbers).
        let one = try embed(["--model", Fixtures.path("scbert-mini/model.safetensors"), "-t", "1"], stdin: input)
        let (_, framesOne) = try records(one.stdout)
        var genesOne = [GeneRecord]()
        for case .genes(_, let g) in framesOne { genesOne += g }
        XCTAssertEqual(genesOne, genes, "byte-identical gene records with -t 1 and -t 2")
        let kernels = try embed(["--model", pth, "-t", "2", "--parallel", "kernels"], stdin: input)
        var genesK = [GeneRecord]()
        for case .genes(_, let g) in try records(kernels.stdout).1 { genesK += g }
        assertClose(genesK.flatMap(\.sum), genes.flatMap(\.sum), atol: 1e-5, rtol: 1e-5, "--parallel kernels")
    }

    /// embed's progress line counts against tokenize's `input_cells`, shard by shard.
    func testProgressShowsTheCellTotal() throws {
        let vocab = Fixtures.path("scbert-mini/genes.txt")
        var shards = Data()
        for i in 1...2 {
            let run = try Tools.run("tokenize", [Fixtures.path("tokenize/pbmc3k_v3"), "--vocab", vocab, "--shard", "\(i)/2", "-q"])
            XCTAssertEqual(run.status, 0, run.stderr)
            shards.append(run.stdout)
        }
        let run = try embed(["--model", Fixtures.path("scbert-mini/model.safetensors"), "--genes", "dataset", "-v"], stdin: shards)
        XCTAssertTrue(run.stderr.contains("[embed] 402/402 cells"), run.stderr)
        // Without the key (a stream written without it) the line has no total.
        let bare = try embed(["--model", pth, "-v"], stdin: try cellStream())
        XCTAssertTrue(bare.stderr.contains("[embed] 6 cells"), bare.stderr)
    }

    func testCellVectorsAndDatasetSequence() throws {
        let input = try cellStream()
        let run = try embed(["--model", pth, "--emit", "cells"], stdin: input)
        let ref = try NPYArray(path: Fixtures.path("scbert-mini/encodings.npy")).floats
        var n = 0
        for case .cellVectors(let dim, let vs) in try records(run.stdout).1 {
            for v in vs {
                let want = (0..<dim).map { j in Float((0..<2001).reduce(0.0) { $0 + Double(ref[(n * 2001 + $1) * 64 + j]) } / 2001) }
                assertClose(v.vector, want, atol: 1e-6, rtol: 1e-4, "cell vector \(n)")
                n += 1
            }
        }
        XCTAssertEqual(n, 6)

        // --genes dataset with a dataset that holds only every third vocabulary gene.
        let vocab = try ScbertMini.genes()
        let kept = stride(from: 0, to: 2000, by: 3).map { $0 }
        let header = StreamHeader(content: .cell, genes: kept.map { GeneName(symbol: vocab[$0]) }, vocabulary: vocab,
                                  vocabularyIndex: kept.map { Int32($0) })
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("subset.sgrf").path
        let writer = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
        let rows = try ScbertMini.tokens()
        for (barcode, tokens) in rows.prefix(2) {
            var g = [UInt32](), v = [Float](), t = [UInt8]()
            for (i, gi) in kept.enumerated() where tokens[gi] > 0 { g.append(UInt32(i)); v.append(1); t.append(UInt8(tokens[gi])) }
            try writer.append(cell: CellRecord(barcode: barcode, genes: g, values: v, tokens: t), flags: .tokens)
        }
        try writer.finish()
        let sub = try embed(["--model", pth, "--emit", "encodings", "--genes", "dataset"], stdin: try Data(contentsOf: URL(fileURLWithPath: path)))
        let model = try PerformerModel.load(pth)
        let encoder = PerformerEncoder(model: model, maxLength: kept.count + 1)
        // embed's default (--parallel cells) runs each cell on single-threaded BLAS; so does the
        // reference (OpenBLAS's own threads may round otherwise, docs/EMBED.md).
        let threads = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        let positions = kept.map { Int32($0) } + [2000]
        var cell = 0
        for case .encodings(_, let encs) in try records(sub.stdout).1 {
            for e in encs {
                XCTAssertEqual(e.positions, positions.map { UInt32($0) })
                var want = [Float](repeating: 0, count: positions.count * 64)
                let toks = positions.map { $0 == 2000 ? 0 : rows[cell].1[Int($0)] }
                want.withUnsafeMutableBufferPointer { encoder.encode(tokens: toks, positions: positions, output: $0.baseAddress!) }
                XCTAssertEqual(e.values, want, "dataset-only sequence, cell \(cell)")
                cell += 1
            }
        }
        XCTAssertEqual(cell, 2)
    }

    func testAttentionPoolingWeightsCellsByTheirAttention() throws {
        let input = try cellStream()
        let run = try embed(["--model", pth, "--pool", "attention"], stdin: input)
        var genes = [GeneRecord]()
        for case .genes(_, let g) in try records(run.stdout).1 { genes += g }
        XCTAssertEqual(genes.count, 2002)
        // Recompute the weights and weighted sums in process.
        let model = try PerformerModel.load(pth)
        let encoder = PerformerEncoder(model: model, maxLength: 2001)
        var wsum = [Double](repeating: 0, count: 2001), esum = [Double](repeating: 0, count: 2001 * 64)
        var enc = [Float](repeating: 0, count: 2001 * 64), scores = [Float](repeating: 0, count: 2001)
        for (_, tokens) in try ScbertMini.tokens() {
            enc.withUnsafeMutableBufferPointer { e in scores.withUnsafeMutableBufferPointer { s in
                encoder.encode(tokens: tokens, positions: (0..<2001).map { Int32($0) }, output: e.baseAddress!, scores: s.baseAddress!)
            } }
            XCTAssertEqual(scores.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5, "a cell's weights sum to 1")
            for p in 0..<2001 {
                wsum[p] += Double(scores[p])
                for j in 0..<64 { esum[p * 64 + j] += Double(scores[p]) * Double(enc[p * 64 + j]) }
            }
        }
        for g in genes where g.known {
            XCTAssertEqual(g.weight, wsum[Int(g.gene)], accuracy: 1e-6 * wsum[Int(g.gene)])
            XCTAssertGreaterThan(g.weight, 0)
        }
        assertClose(genes.filter(\.known).flatMap(\.sum), genes.filter(\.known).flatMap { g in (0..<64).map { Float(esum[Int(g.gene) * 64 + $0]) } },
                    atol: 1e-7, rtol: 1e-5, "attention-pooled sums")
    }

    // MARK: - Bad input

    /// Runs embed on `input` (given as a file, so an early exit cannot break a pipe) and expects exit 65.
    func failure(_ args: [String], status: Int32 = 65, stdin input: Data, _ expect: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try Fixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("input.sgrf").path
        try input.write(to: URL(fileURLWithPath: path))
        let run = try Tools.run("embed", [path] + args)
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.hasPrefix("embed: "), run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, "one line: \(run.stderr)", file: file, line: line)
        XCTAssertTrue(run.stderr.contains(expect), "\(run.stderr) should mention \(expect)", file: file, line: line)
        if !run.stdout.isEmpty {
            XCTAssertThrowsError(try records(run.stdout), "no complete output on failure", file: file, line: line)
        }
    }

    /// A torch.save zip holding one member, `archive/data.pkl`, with these pickle bytes.
    func zipped(pickle p: [UInt8]) -> [UInt8] {
        var zipped = [UInt8]()
        let name = Array("archive/data.pkl".utf8)
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let crc = p.withUnsafeBytes { crc32($0) }
        zipped += le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(crc)
        zipped += le(UInt32(p.count)) + le(UInt32(p.count)) + le(UInt16(name.count)) + le(UInt16(0)) + name + p
        let cd = zipped.count
        zipped += le(UInt32(0x0201_4B50)) + le(UInt16(20)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(crc)
        zipped += le(UInt32(p.count)) + le(UInt32(p.count)) + le(UInt16(name.count)) + [UInt8](repeating: 0, count: 12) + le(UInt32(0)) + name
        zipped += le(UInt32(0x0605_4B50)) + le(UInt32(0)) + le(UInt16(1)) + le(UInt16(1)) + le(UInt32(zipped.count - cd)) + le(UInt32(cd)) + le(UInt16(0))
        return zipped
    }

    /// A safetensors file of this JSON header and `data` zero bytes.
    func safetensors(_ json: String, data: Int) -> Data {
        let h = Array(json.utf8)
        return Data(withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + [UInt8](repeating: 0, count: data))
    }

    /// What is not a model, or a corrupt one, is named for what it is: one line, exit 65.
    func testModelsThatAreNotCheckpointsAreNamedForWhatTheyAre() throws {
        let good = try cellStream()
        let dir = try Fixtures.temporaryDirectory(self)
        func model(_ name: String, _ bytes: Data) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        }
        try failure(["--model", dir.path], stdin: good, "\(dir.path): is a directory, not a file")
        // A device: not "permission" (Foundation's word for a read it cannot map), what it is.
        try failure(["--model", "/dev/zero"], stdin: good, "/dev/zero: is not a regular file (a device, FIFO or socket)")
        // A pickle saved bare (pickle.dump, or torch.save's legacy call) named .safetensors.
        try failure(["--model", try model("bare.safetensors", Data([0x80, 0x04, 0x7D, 0x94, 0x2E]))], stdin: good,
                    "a bare pickle, not a checkpoint scgrn reads")
        // LONG4 (an integer of up to 2³² bytes) is named, not "unknown".
        let long4 = try model("long4.pth", Data(zipped(pickle: [0x80, 0x02, 0x8B, 1, 0, 0, 0, 5, 0x2E])))
        try failure(["--model", long4], stdin: good, "opcode 0x8b (LONG4) is not allowed in a checkpoint")
        // A state_dict keyed by an int: "an int", not "a int".
        let intKey = try model("intkey.pth", Data(zipped(pickle: [0x80, 0x02, 0x7D, 0x4B, 1, 0x4B, 2, 0x73, 0x2E])))
        try failure(["--model", intKey], stdin: good, "a state_dict key is an int, not a string")
        // safetensors as strict as the reference: no overlap, no byte outside every tensor.
        try failure(["--model", try model("overlap.safetensors", safetensors(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12))],
            stdin: good, "tensor b data_offsets [4, 12] overlap another tensor's data")
        try failure(["--model", try model("gap.safetensors", safetensors(
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: 12))],
            stdin: good, "bytes 4..<8 of the data belong to no tensor")
        // A NaN among real weights.
        var file = try WeightsFile.load(Fixtures.path("scbert-mini/model.safetensors"))
        let name = "performer.net.layers.0.0.fn.to_out.weight"
        var w = file[name]!.floats
        w[5] = .nan
        file.set(name, StoredTensor(w, shape: file[name]!.shape))
        let nan = dir.appendingPathComponent("nan.safetensors").path
        try Safetensors.write(file, to: nan)
        try failure(["--model", nan], stdin: good, "tensor \(name) holds a non-finite value (NaN or infinity) at element 5")
        // A NaN or an infinity among a CELL stream's values: embed is the first stage to read it.
        for bad in [Float.nan, .infinity] {
            try failure(["--model", pth], stdin: try cellStream(poison: bad), "value \(bad) at 0 is non-finite")
        }
    }

    func testBadInputIsRefusedWithOneLine() throws {
        let good = try cellStream()
        try failure(["--model", pth], stdin: try cellStream(vocabularySize: 1999), "vocabulary has 1999 genes but")
        try failure(["--model", pth], stdin: try cellStream(tokens: false), "without tokens")
        try failure(["--model", pth], stdin: try cellStream(end: false), "END")
        try failure(["--model", "/nonexistent/model.pth"], status: 1, stdin: good, "cannot open")
        let dir = try Fixtures.temporaryDirectory(self)
        // A state_dict with a tensor missing, and one with a tensor of the wrong shape.
        var file = try WeightsFile.load(Fixtures.path("scbert-mini/model.safetensors"))
        var missing = TensorFile()
        for n in file.names where n != "norm.weight" { missing.set(n, file[n]!) }
        let missingPath = dir.appendingPathComponent("missing.safetensors").path
        try Safetensors.write(missing, to: missingPath)
        try failure(["--model", missingPath], stdin: good, "missing tensor norm.weight")
        file.set("performer.net.layers.1.1.fn.fn.w2.bias", StoredTensor([Float](repeating: 0, count: 63), shape: [63]))
        let shapePath = dir.appendingPathComponent("shape.safetensors").path
        try Safetensors.write(file, to: shapePath)
        try failure(["--model", shapePath], stdin: good, "has shape [63], expected [64]")
        // A checkpoint whose pickle calls os.system.
        let evil = dir.appendingPathComponent("evil.pth").path
        let p: [UInt8] = [0x80, 0x02, 0x63] + Array("os\nsystem\n".utf8) + [0x28, 0x58, 4, 0, 0, 0] + Array("true".utf8) + [0x74, 0x52, 0x2E]
        FileManager.default.createFile(atPath: evil, contents: Data(zipped(pickle: p)))
        try failure(["--model", evil], stdin: good, "global os.system is not allowed")
        let trunc = dir.appendingPathComponent("truncated.pth").path
        let real = try Data(contentsOf: URL(fileURLWithPath: pth))
        try real.prefix(real.count - 100).write(to: URL(fileURLWithPath: trunc))
        try failure(["--model", trunc], stdin: good, "end-of-central-directory")
        let usage = try Tools.run("embed", ["--model", pth, "--emit", "cells", "--pool", "attention"])
        XCTAssertEqual(usage.status, 64, usage.stderr)
    }
}
