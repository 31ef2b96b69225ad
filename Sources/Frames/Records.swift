// Records: what the frames carry, and how each payload is encoded and decoded.
//
// Dimensions (docs/ARCHITECTURE.md): G dataset genes, V vocabulary size, N nonzero entries of a cell,
// D embedding width, P positions of an encoded cell.

import Foundation
import ToolKit

// MARK: - HEAD

/// One step of the provenance chain: which tool, which version, which command line.
public struct ProvenanceEntry: Equatable {
    public var tool: String
    public var version: String
    public var commandLine: String
    public init(tool: String, version: String, commandLine: String) {
        self.tool = tool; self.version = version; self.commandLine = commandLine
    }

    /// The entry for the running process.
    public static func current() -> ProvenanceEntry {
        ProvenanceEntry(tool: Diagnostics.tool, version: scgrnVersion,
                        commandLine: CommandLine.arguments.map(shellQuoted).joined(separator: " "))
    }

    static func shellQuoted(_ s: String) -> String {
        let safe = s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0) }
        if safe && !s.isEmpty { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// The HEAD frame: what the stream is about. The gene list is the node set of the final network.
public struct StreamHeader: Equatable {
    /// The kind of data frame this stream mainly carries (CELL, GENE, MODEL, ENCODING, CELLVEC).
    public var content: FrameKind
    /// The dataset genes, G of them; data frames refer to genes by index into this list.
    public var genes: [GeneName]
    /// The model vocabulary (V symbols), or empty when no model vocabulary is involved.
    public var vocabulary: [String]
    /// Per dataset gene, its index in `vocabulary`, or -1. Empty when `vocabulary` is empty.
    public var vocabularyIndex: [Int32]
    /// Key/value metadata, in order; keys are unique.
    public var metadata: [(key: String, value: String)]
    /// The tools that made this stream, oldest first.
    public var provenance: [ProvenanceEntry]

    public init(content: FrameKind, genes: [GeneName], vocabulary: [String] = [], vocabularyIndex: [Int32] = [],
                metadata: [(key: String, value: String)] = [], provenance: [ProvenanceEntry] = []) {
        self.content = content
        self.genes = genes
        self.vocabulary = vocabulary
        self.vocabularyIndex = vocabularyIndex
        self.metadata = metadata
        self.provenance = provenance
    }

    public static func == (a: StreamHeader, b: StreamHeader) -> Bool {
        a.content == b.content && a.genes == b.genes && a.vocabulary == b.vocabulary
            && a.vocabularyIndex == b.vocabularyIndex && a.provenance == b.provenance
            && a.metadata.map { $0.key } == b.metadata.map { $0.key }
            && a.metadata.map { $0.value } == b.metadata.map { $0.value }
    }

    /// The value of a metadata key, if present.
    public func metadata(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// Sets (or replaces) a metadata key.
    public mutating func setMetadata(_ key: String, _ value: String) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Appends the running tool to the provenance chain.
    public mutating func appendProvenance() {
        provenance.append(.current())
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter(capacity: 64 + genes.count * 24 + vocabulary.count * 12)
        w.u8(content.rawValue)
        w.zeros(3)
        w.u32(genes.count)
        for g in genes { w.string(g.symbol); w.string(g.id) }
        w.u32(vocabulary.count)
        for v in vocabulary { w.string(v) }
        if !vocabulary.isEmpty { w.array(vocabularyIndex) }
        w.u32(metadata.count)
        for (k, v) in metadata { w.string(k); w.string(v) }
        w.u32(provenance.count)
        for p in provenance { w.string(p.tool); w.string(p.version); w.string(p.commandLine) }
        return w.bytes
    }

    public static func decode(_ r: inout PayloadReader) throws -> StreamHeader {
        let kindByte = try r.u8("content kind")
        guard let content = FrameKind(rawValue: kindByte), content.isData else {
            throw r.fail("HEAD content kind \(kindByte) is not a data frame kind")
        }
        try r.reserved(3)
        let g = try r.count("gene count", minimumItemSize: 8)
        var genes = [GeneName]()
        genes.reserveCapacity(g)
        for _ in 0..<g { genes.append(GeneName(symbol: try r.string("gene symbol"), id: try r.string("gene id"))) }
        let v = try r.count("vocabulary size", minimumItemSize: 4)
        var vocab = [String]()
        vocab.reserveCapacity(v)
        for _ in 0..<v { vocab.append(try r.string("vocabulary symbol")) }
        var index = [Int32]()
        if v > 0 {
            index = try r.array(g, of: Int32.self, "vocabulary index")
            for (i, x) in index.enumerated() where x < -1 || Int(x) >= v {
                throw r.fail("gene \(i) maps to vocabulary index \(x), outside 0..<\(v)")
            }
        }
        let m = try r.count("metadata count", minimumItemSize: 8)
        var meta = [(key: String, value: String)]()
        for _ in 0..<m { meta.append((try r.string("metadata key"), try r.string("metadata value"))) }
        let p = try r.count("provenance count", minimumItemSize: 12)
        var prov = [ProvenanceEntry]()
        for _ in 0..<p {
            prov.append(ProvenanceEntry(tool: try r.string("provenance tool"), version: try r.string("provenance version"),
                                        commandLine: try r.string("provenance command line")))
        }
        try r.finish()
        return StreamHeader(content: content, genes: genes, vocabulary: vocab, vocabularyIndex: index,
                            metadata: meta, provenance: prov)
    }
}

// MARK: - CELL

/// One cell, sparse over the dataset genes.
public struct CellRecord: Equatable {
    public var barcode: String
    /// The normalisation total: the cell's raw counts summed over the vocabulary genes (0 if the
    /// values were taken as they are).
    public var total: Double
    /// Dataset gene indices of the nonzero entries, ascending (N of them).
    public var genes: [UInt32]
    /// Normalised values, one per entry.
    public var values: [Float]
    /// Binned tokens, one per entry, or empty when the frame carries none.
    public var tokens: [UInt8]
    /// Raw counts, one per entry, or empty when the frame carries none.
    public var counts: [Float]

    public init(barcode: String, total: Double = 0, genes: [UInt32], values: [Float],
                tokens: [UInt8] = [], counts: [Float] = []) {
        self.barcode = barcode; self.total = total; self.genes = genes; self.values = values
        self.tokens = tokens; self.counts = counts
    }
}

/// Flags of a CELL frame.
public struct CellFrameFlags: OptionSet, Equatable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let tokens = CellFrameFlags(rawValue: 1)
    public static let counts = CellFrameFlags(rawValue: 2)
}

/// Where a CELL record's fields lie — the one statement of the layout, used to size, write and
/// fill records (docs/FRAMES.md gives the same table):
///
///   u32 barcode length B · B bytes barcode · f64 total · u32 N · then the entry arrays
///   u32 genes[N] · f32 values[N] · u8 tokens[N] (flag tokens) · f32 counts[N] (flag counts)
public struct CellLayout {
    /// N, the record's entries.
    public let count: Int
    public let tokens: Bool, counts: Bool

    @inline(__always)
    public init(count: Int, flags: CellFrameFlags) {
        self.count = count
        tokens = flags.contains(.tokens)
        counts = flags.contains(.counts)
    }

    /// Bytes per entry over all arrays.
    public var bytesPerEntry: Int { 8 + (tokens ? 1 : 0) + (counts ? 4 : 0) }
    /// Bytes of the entry arrays.
    public var entriesSize: Int { count * bytesPerEntry }
    /// Bytes of the whole record for a barcode of `b` UTF-8 bytes.
    public func recordSize(barcodeBytes b: Int) -> Int { 4 + b + 8 + 4 + entriesSize }

    /// The arrays of a record whose entries start at `base`.
    public func slots(_ base: UnsafeMutableRawPointer) -> CellSlots {
        CellSlots(genes: base, values: base + 4 * count,
                  tokens: tokens ? (base + 8 * count).assumingMemoryBound(to: UInt8.self) : nil,
                  counts: counts ? base + (tokens ? 9 : 8) * count : nil)
    }
}

public enum CellCodec {
    /// Bytes a cell record takes in a frame.
    public static func size(_ c: CellRecord, flags: CellFrameFlags) -> Int {
        CellLayout(count: c.genes.count, flags: flags).recordSize(barcodeBytes: c.barcode.utf8.count)
    }

    public static func beginFrame(_ w: inout PayloadWriter, flags: CellFrameFlags) {
        w.u32(0)  // cell count, patched by the writer
        w.u8(flags.rawValue)
        w.zeros(3)
    }

    public static func append(_ c: CellRecord, to w: inout PayloadWriter, flags: CellFrameFlags) {
        precondition(c.values.count == c.genes.count, "cell \(c.barcode): values and genes differ in length")
        precondition(!flags.contains(.tokens) || c.tokens.count == c.genes.count, "cell \(c.barcode): tokens and genes differ in length")
        precondition(!flags.contains(.counts) || c.counts.count == c.genes.count, "cell \(c.barcode): counts and genes differ in length")
        let layout = CellLayout(count: c.genes.count, flags: flags)
        var barcode = c.barcode
        barcode.withUTF8 { b in
            append(to: &w, barcode: b, total: c.total, layout: layout) { slots in
                func copy<T>(_ a: [T], to p: UnsafeMutableRawPointer?) {
                    guard let p else { return }
                    a.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: p, count: $0.count).copyMemory(from: $0) }
                }
                copy(c.genes, to: slots.genes)
                copy(c.values, to: slots.values)
                copy(c.tokens, to: slots.tokens.map { UnsafeMutableRawPointer($0) })
                copy(c.counts, to: slots.counts)
            }
        }
    }

    /// Appends a record's fixed fields and its N-entry arrays zeroed, then lets `fill` write the
    /// arrays in place (the slots are valid only during the call).
    /// - Parameter barcode: the barcode's UTF-8 bytes.
    public static func append(to w: inout PayloadWriter, barcode: UnsafeBufferPointer<UInt8>, total: Double, layout: CellLayout,
                              fill: (CellSlots) -> Void) {
        w.u32(barcode.count)
        w.bytes.append(contentsOf: barcode)
        w.f64(total)
        w.u32(layout.count)
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: layout.entriesSize))
        w.bytes.withUnsafeMutableBytes { raw in fill(layout.slots(raw.baseAddress! + start)) }
    }

    /// Decodes a CELL payload; `geneCount` bounds the gene indices.
    public static func decode(_ r: inout PayloadReader, geneCount: Int) throws -> (CellFrameFlags, [CellRecord]) {
        let n = try r.count("cell count", minimumItemSize: 16)
        let flags = CellFrameFlags(rawValue: try r.u8("flags"))
        if flags.rawValue & ~3 != 0 { throw r.fail("unknown CELL flags \(flags.rawValue)") }
        try r.reserved(3)
        var cells = [CellRecord]()
        cells.reserveCapacity(n)
        for _ in 0..<n {
            let barcode = try r.string("barcode")
            let total = try r.f64("total")
            let nnz = try r.count("entry count", minimumItemSize: 8)
            let genes = try r.array(nnz, of: UInt32.self, "gene indices")
            var previous: Int64 = -1
            for g in genes {
                if Int(g) >= geneCount { throw r.fail("cell \(excerpt(barcode)): gene index \(g) outside 0..<\(geneCount)") }
                if Int64(g) <= previous { throw r.fail("cell \(excerpt(barcode)): gene indices are not strictly ascending") }
                previous = Int64(g)
            }
            let values = try r.array(nnz, of: Float.self, "values")
            if !total.isFinite { throw r.fail("cell \(excerpt(barcode)): total \(total) is non-finite") }
            try requireFinite(values, r, "cell \(excerpt(barcode)): value")
            let tokens = flags.contains(.tokens) ? try r.array(nnz, of: UInt8.self, "tokens") : []
            let counts = flags.contains(.counts) ? try r.array(nnz, of: Float.self, "counts") : []
            try requireFinite(counts, r, "cell \(excerpt(barcode)): count")
            cells.append(CellRecord(barcode: barcode, total: total, genes: genes, values: values, tokens: tokens, counts: counts))
        }
        try r.finish()
        return (flags, cells)
    }
}

// MARK: - GENE

/// One dataset gene's pooled transformer embedding: a running sum and the weight it was pooled
/// over, so that shards merge by adding.
public struct GeneRecord: Equatable {
    /// Index into the HEAD's gene list.
    public var gene: UInt32
    /// Whether the model knows this gene (it is in the model's vocabulary).
    public var known: Bool
    /// The total pooling weight (for mean pooling: the number of cells).
    public var weight: Double
    /// The weighted sum of the gene's embeddings (D values).
    public var sum: [Float]

    public init(gene: UInt32, known: Bool, weight: Double, sum: [Float]) {
        self.gene = gene; self.known = known; self.weight = weight; self.sum = sum
    }
}

public enum GeneCodec {
    public static func encode(_ records: [GeneRecord], dim: Int) -> [UInt8] {
        var w = PayloadWriter(capacity: 8 + records.count * (16 + 4 * dim))
        w.u32(records.count)
        w.u32(dim)
        for g in records {
            precondition(g.sum.count == dim, "gene \(g.gene): embedding has \(g.sum.count) values, not \(dim)")
            w.u32(g.gene)
            w.u8(g.known ? 1 : 0)
            w.zeros(3)
            w.f64(g.weight)
            w.array(g.sum)
        }
        return w.bytes
    }

    public static func decode(_ r: inout PayloadReader, geneCount: Int) throws -> (dim: Int, records: [GeneRecord]) {
        let n = try r.count("gene record count", minimumItemSize: 16)
        let dim = Int(try r.u32("dimension"))
        if n > 0 && dim > r.remaining / 4 { throw r.fail("dimension \(dim) does not fit in the frame") }
        var out = [GeneRecord]()
        out.reserveCapacity(n)
        for _ in 0..<n {
            let g = try r.u32("gene index")
            if Int(g) >= geneCount { throw r.fail("gene index \(g) outside 0..<\(geneCount)") }
            let flags = try r.u8("gene flags")
            if flags & ~1 != 0 { throw r.fail("unknown gene flags \(flags)") }
            try r.reserved(3)
            let weight = try r.f64("weight")
            let sum = try r.array(dim, of: Float.self, "embedding sum")
            if !weight.isFinite { throw r.fail("gene \(g): weight \(weight) is non-finite") }
            try requireFinite(sum, r, "gene \(g): embedding sum")
            out.append(GeneRecord(gene: g, known: flags & 1 != 0, weight: weight, sum: sum))
        }
        try r.finish()
        return (dim, out)
    }
}

// MARK: - MODEL

/// A named float32 tensor of a trained model (row-major).
public struct ModelTensor: Equatable {
    public var name: String
    public var shape: [Int]
    public var data: [Float]
    public init(name: String, shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor \(name): shape \(shape) does not match \(data.count) values")
        self.name = name; self.shape = shape; self.data = data
    }
}

public enum ModelCodec {
    public static let maxRank = 8

    public static func encode(_ tensors: [ModelTensor]) -> [UInt8] {
        var w = PayloadWriter(capacity: 4 + tensors.reduce(0) { $0 + 16 + $1.name.utf8.count + 4 * $1.shape.count + 4 * $1.data.count })
        w.u32(tensors.count)
        for t in tensors {
            w.string(t.name)
            w.u8(1)  // dtype: 1 = float32
            w.u8(UInt8(t.shape.count))
            w.zeros(2)
            for d in t.shape { w.u32(d) }
            w.array(t.data)
        }
        return w.bytes
    }

    public static func decode(_ r: inout PayloadReader) throws -> [ModelTensor] {
        let n = try r.count("tensor count", minimumItemSize: 8)
        var out = [ModelTensor]()
        for _ in 0..<n {
            let name = try r.string("tensor name")
            let dtype = try r.u8("dtype")
            if dtype != 1 { throw r.fail("tensor \(excerpt(name)): unknown dtype \(dtype)") }
            let rank = Int(try r.u8("rank"))
            if rank > maxRank { throw r.fail("tensor \(excerpt(name)): rank \(rank) over \(maxRank)") }
            try r.reserved(2)
            var shape = [Int]()
            for _ in 0..<rank { shape.append(Int(try r.u32("dimension"))) }
            var count = 1
            if !shape.contains(0) {
                for d in shape {
                    let (m, overflow) = count.multipliedReportingOverflow(by: d)
                    if overflow { throw r.fail("tensor \(excerpt(name)): shape \(shape) does not fit in the frame") }
                    count = m
                }
            } else {
                count = 0
            }
            let data = try r.array(count, of: Float.self, "tensor \(name)")
            try requireFinite(data, r, "tensor \(excerpt(name)):")
            out.append(ModelTensor(name: name, shape: shape, data: data))
        }
        try r.finish()
        return out
    }
}

// MARK: - ENCODING and CELLVEC

/// A cell's final hidden states at the positions the model read (P positions × D values).
public struct EncodingRecord: Equatable {
    public var barcode: String
    /// Sequence positions (indices into the model's input), P of them.
    public var positions: [UInt32]
    /// Row-major [P, D].
    public var values: [Float]
    public init(barcode: String, positions: [UInt32], values: [Float]) {
        self.barcode = barcode; self.positions = positions; self.values = values
    }
}

public enum EncodingCodec {
    public static func beginFrame(_ w: inout PayloadWriter, dim: Int) {
        w.u32(0)  // record count, patched by the writer
        w.u32(dim)
    }

    public static func append(_ e: EncodingRecord, to w: inout PayloadWriter, dim: Int) {
        precondition(e.values.count == e.positions.count * dim, "encoding \(e.barcode): shape mismatch")
        w.string(e.barcode)
        w.u32(e.positions.count)
        w.array(e.positions)
        w.array(e.values)
    }

    public static func decode(_ r: inout PayloadReader) throws -> (dim: Int, records: [EncodingRecord]) {
        let n = try r.count("encoding count", minimumItemSize: 8)
        let dim = Int(try r.u32("dimension"))
        var out = [EncodingRecord]()
        for _ in 0..<n {
            let b = try r.string("barcode")
            let p = try r.count("position count", minimumItemSize: 4)
            let pos = try r.array(p, of: UInt32.self, "positions")
            let (total, overflow) = p.multipliedReportingOverflow(by: dim)
            if overflow { throw r.fail("encoding \(excerpt(b)): size overflows") }
            let vals = try r.array(total, of: Float.self, "encoding values")
            try requireFinite(vals, r, "encoding \(excerpt(b)): value")
            out.append(EncodingRecord(barcode: b, positions: pos, values: vals))
        }
        try r.finish()
        return (dim, out)
    }
}

/// One vector per cell (a cell embedding, D values).
public struct CellVectorRecord: Equatable {
    public var barcode: String
    public var vector: [Float]
    public init(barcode: String, vector: [Float]) { self.barcode = barcode; self.vector = vector }
}

public enum CellVectorCodec {
    public static func beginFrame(_ w: inout PayloadWriter, dim: Int) {
        w.u32(0)
        w.u32(dim)
    }

    public static func append(_ c: CellVectorRecord, to w: inout PayloadWriter, dim: Int) {
        precondition(c.vector.count == dim, "cell vector \(c.barcode): \(c.vector.count) values, not \(dim)")
        w.string(c.barcode)
        w.array(c.vector)
    }

    public static func decode(_ r: inout PayloadReader) throws -> (dim: Int, records: [CellVectorRecord]) {
        let n = try r.count("cell vector count", minimumItemSize: 4)
        let dim = Int(try r.u32("dimension"))
        var out = [CellVectorRecord]()
        for _ in 0..<n {
            let b = try r.string("barcode")
            let v = try r.array(dim, of: Float.self, "vector")
            try requireFinite(v, r, "cell vector \(excerpt(b)): value")
            out.append(CellVectorRecord(barcode: b, vector: v))
        }
        try r.finish()
        return (dim, out)
    }
}

// MARK: - END

/// The END frame: what the stream's writer wrote, so a reader can tell a complete stream.
public struct EndCounts: Equatable {
    /// Data frames between HEAD and END.
    public var dataFrames: UInt64
    /// Records in those frames (cells, genes, tensors, encodings or cell vectors).
    public var records: UInt64
    /// Payload bytes of those frames.
    public var payloadBytes: UInt64

    public init(dataFrames: UInt64 = 0, records: UInt64 = 0, payloadBytes: UInt64 = 0) {
        self.dataFrames = dataFrames; self.records = records; self.payloadBytes = payloadBytes
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter(capacity: 24)
        w.u64(dataFrames); w.u64(records); w.u64(payloadBytes)
        return w.bytes
    }

    public static func decode(_ r: inout PayloadReader) throws -> EndCounts {
        let e = EndCounts(dataFrames: try r.u64(), records: try r.u64(), payloadBytes: try r.u64())
        try r.finish()
        return e
    }
}

/// The number of records a data frame holds: its first u32, for every data kind.
public func recordCount(ofPayload p: UnsafeRawBufferPointer) -> Int {
    p.count >= 4 ? Int(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))) : 0
}

// MARK: - Finite values

/// Refuses a NaN or infinity: no stage computes with one, so the first stage that reads it stops.
@inline(__always)
func requireFinite(_ values: [Float], _ r: PayloadReader, _ what: String) throws {
    var ok = true
    for v in values { ok = ok && v.isFinite }
    if ok { return }
    let i = values.firstIndex { !$0.isFinite }!
    throw r.fail("\(what) \(values[i]) at \(i) is non-finite (NaN or infinity)")
}
