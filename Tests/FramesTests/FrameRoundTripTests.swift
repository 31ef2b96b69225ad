// Frames: random round trips of every frame kind, byte-exact, through the writer and the reader.

import Foundation
import Frames
import TestSupport
import ToolKit
import XCTest

/// A small deterministic generator for test data.
struct TestRNG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func float() -> Float { Float(Int(next() % 2_000_001) - 1_000_000) / 1024 }
    mutating func text(_ n: Int) -> String {
        let alphabet = Array("ACGTacgt-_.0123456789é")
        return String((0..<n).map { _ in alphabet[int(alphabet.count)] })
    }
}

/// Writes a stream into memory through the real writer.
func streamBytes(_ header: StreamHeader, _ body: (FrameWriter) throws -> Void) throws -> [UInt8] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scgrn-frames-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("s.sgrf").path
    let w = try FrameWriter(try OutputFile.open(path, binary: true), header: header)
    try body(w)
    try w.finish()
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func reader(_ bytes: [UInt8]) throws -> StreamReader {
    try StreamReader(try ByteReader(detecting: MemorySource(bytes), name: "mem"))
}

final class FrameRoundTripTests: XCTestCase {
    func randomHeader(_ rng: inout TestRNG, content: FrameKind, genes: Int) -> StreamHeader {
        let g = (0..<genes).map { GeneName(symbol: "G\($0)" + rng.text(rng.int(6)), id: rng.int(2) == 0 ? "" : "ENSG\(rng.int(99999))") }
        let v = rng.int(2) == 0 ? [] : (0..<rng.int(20) + 1).map { "V\($0)" }
        let vi: [Int32] = v.isEmpty ? [] : (0..<genes).map { _ in Int32(rng.int(v.count + 1)) - 1 }
        var h = StreamHeader(content: content, genes: g, vocabulary: v, vocabularyIndex: vi)
        for i in 0..<rng.int(4) { h.setMetadata("key\(i)", rng.text(rng.int(10))) }
        h.provenance = (0..<rng.int(3)).map { ProvenanceEntry(tool: "t\($0)", version: "1", commandLine: rng.text(12)) }
        return h
    }

    func randomCell(_ rng: inout TestRNG, genes: Int, flags: CellFrameFlags) -> CellRecord {
        var idx = [UInt32]()
        for g in 0..<genes where rng.int(3) == 0 { idx.append(UInt32(g)) }
        return CellRecord(barcode: rng.text(rng.int(20)), total: Double(rng.int(100000)),
                          genes: idx, values: idx.map { _ in rng.float() },
                          tokens: flags.contains(.tokens) ? idx.map { _ in UInt8(rng.int(6)) } : [],
                          counts: flags.contains(.counts) ? idx.map { _ in Float(rng.int(50)) } : [])
    }

    /// Every kind, many random shapes: what is read equals what was written, and writing it
    /// again gives the same bytes.
    func testRandomRoundTripOfEveryKindIsByteExact() throws {
        var rng = TestRNG(state: 2024)
        for trial in 0..<40 {
            let genes = rng.int(30)
            let kind: FrameKind = [.cell, .gene, .model, .encoding, .cellVector][trial % 5]
            let header = randomHeader(&rng, content: kind, genes: genes)
            let dim = rng.int(9)
            var cells = [CellRecord](), geneRecs = [GeneRecord](), tensors = [ModelTensor]()
            var encs = [EncodingRecord](), vecs = [CellVectorRecord]()
            let flags = CellFrameFlags(rawValue: UInt8(rng.int(4)))
            switch kind {
            case .cell: cells = (0..<rng.int(12)).map { _ in randomCell(&rng, genes: genes, flags: flags) }
            case .gene:
                geneRecs = (0..<genes).filter { _ in rng.int(2) == 0 }.map {
                    GeneRecord(gene: UInt32($0), known: rng.int(2) == 0, weight: Double(rng.int(1000)) / 8, sum: (0..<dim).map { _ in rng.float() })
                }
            case .model:
                tensors = (0..<rng.int(5)).map { t in
                    let shape = (0..<rng.int(4)).map { _ in rng.int(5) }
                    return ModelTensor(name: "w\(t)", shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.float() })
                }
            case .encoding:
                encs = (0..<rng.int(5)).map { _ in
                    let p = (0..<rng.int(6)).map { _ in UInt32(rng.int(100)) }
                    return EncodingRecord(barcode: rng.text(8), positions: p, values: (0..<(p.count * dim)).map { _ in rng.float() })
                }
            default:
                vecs = (0..<rng.int(5)).map { _ in CellVectorRecord(barcode: rng.text(8), vector: (0..<dim).map { _ in rng.float() }) }
            }
            func write(_ w: FrameWriter) throws {
                for c in cells { try w.append(cell: c, flags: flags) }
                if kind == .gene { try w.write(genes: geneRecs, dim: dim) }
                if kind == .model { try w.write(model: tensors) }
                for e in encs { try w.append(encoding: e, dim: dim) }
                for v in vecs { try w.append(cellVector: v, dim: dim) }
            }
            let bytes = try streamBytes(header, write)
            let r = try reader(bytes)
            XCTAssertEqual(r.header, header, "trial \(trial)")
            var gotCells = [CellRecord](), gotGenes = [GeneRecord](), gotTensors = [ModelTensor]()
            var gotEncs = [EncodingRecord](), gotVecs = [CellVectorRecord]()
            while let f = try r.next() {
                switch f {
                case .cells(let fl, let c): XCTAssertEqual(fl, flags); gotCells += c
                case .genes(_, let g): gotGenes += g
                case .model(let t): gotTensors += t
                case .encodings(_, let e): gotEncs += e
                case .cellVectors(_, let v): gotVecs += v
                }
            }
            XCTAssertEqual(gotCells, cells, "trial \(trial)")
            XCTAssertEqual(gotGenes, geneRecs, "trial \(trial)")
            XCTAssertEqual(gotTensors, tensors, "trial \(trial)")
            XCTAssertEqual(gotEncs, encs, "trial \(trial)")
            XCTAssertEqual(gotVecs, vecs, "trial \(trial)")
            // Writing what was read gives the same bytes.
            let again = try streamBytes(r.header) { w in
                for c in gotCells { try w.append(cell: c, flags: flags) }
                if kind == .gene { try w.write(genes: gotGenes, dim: dim) }
                if kind == .model { try w.write(model: gotTensors) }
                for e in gotEncs { try w.append(encoding: e, dim: dim) }
                for v in gotVecs { try w.append(cellVector: v, dim: dim) }
            }
            XCTAssertEqual(again, bytes, "trial \(trial): re-encoding differs")
        }
    }

    /// Large batches split into several frames and still read back whole.
    func testLargeStreamsSplitIntoFrames() throws {
        var rng = TestRNG(state: 9)
        let header = StreamHeader(content: .cell, genes: (0..<2000).map { GeneName(symbol: "G\($0)") })
        let cells = (0..<900).map { _ in randomCell(&rng, genes: 2000, flags: [.tokens]) }
        let bytes = try streamBytes(header) { w in for c in cells { try w.append(cell: c, flags: [.tokens]) } }
        let r = try reader(bytes)
        var frames = 0
        var got = [CellRecord]()
        while let f = try r.next() { if case .cells(_, let c) = f { got += c; frames += 1 } }
        XCTAssertGreaterThan(frames, 1)
        XCTAssertEqual(got, cells)
    }
}
