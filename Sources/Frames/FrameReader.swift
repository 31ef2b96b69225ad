// FrameReader and StreamReader: read frames, check them, and present concatenated streams as one.
//
// FrameReader checks each frame on its own: magic, version, header CRC, size bound, payload
// CRC. StreamReader checks the structure: HEAD first, END with matching counts, and for
// concatenated streams (HEAD…END HEAD…END) that every shard has the same genes and vocabulary.

import Foundation
import Kernels
import ToolKit

/// One frame as read: valid until the next read.
public struct RawFrame {
    public let kind: FrameKind
    /// The 0-based index of this frame in the input.
    public let index: Int
    /// The byte offset of the frame header in the input.
    public let offset: Int
    /// The 20 header bytes followed by the payload.
    public let bytes: UnsafeRawBufferPointer
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[FrameFormat.headerSize...]) }
}

/// Reads and checks single frames.
public final class FrameReader {
    public let input: ByteReader
    public var name: String { input.name }
    public private(set) var offset = 0
    public private(set) var index = 0
    var buffer: UnsafeMutableRawPointer
    var capacity: Int

    public init(_ input: ByteReader) {
        self.input = input
        capacity = 1 << 16
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Grows the frame buffer, keeping its first `keep` bytes (the header already read).
    func ensureCapacity(_ n: Int, keep: Int) {
        if n <= capacity { return }
        let newCapacity = max(n, capacity * 2)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 64)
        grown.copyMemory(from: buffer, byteCount: keep)
        buffer.deallocate()
        buffer = grown
        capacity = newCapacity
    }

    /// The next frame, or nil at the end of the input (which must fall between frames).
    public func next() throws -> RawFrame? {
        let hs = FrameFormat.headerSize
        let got = try input.readFully(into: buffer, count: hs)
        if got == 0 { return nil }
        let h = UnsafeRawBufferPointer(start: buffer, count: got)
        // Magic and version come first: they are fixed for every version of the format.
        for i in 0..<min(got, 4) where h[i] != FrameFormat.magic[i] { throw FrameError.badMagic(offset: offset) }
        if got >= 5 && h[4] != FrameFormat.version { throw FrameError.unsupportedVersion(h[4], offset: offset) }
        if got < hs { throw FrameError.truncated(frame: index, offset: offset, got: got, expected: hs) }
        let stored = h.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian
        if crc32(UnsafeRawBufferPointer(rebasing: h[0..<16])) != stored {
            throw FrameError.headerCRC(frame: index, offset: offset)
        }
        if h[6] != 0 || h[7] != 0 { throw FrameError.malformed("frame \(index) at byte \(offset): reserved header bytes are not zero") }
        let length = Int(h.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        if length > FrameFormat.maxPayload { throw FrameError.tooLarge(frame: index, length: length, offset: offset) }
        ensureCapacity(hs + length, keep: hs)
        let body = try input.readFully(into: buffer + hs, count: length)
        if body < length { throw FrameError.truncated(frame: index, offset: offset, got: hs + body, expected: hs + length) }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: hs + length)
        let kind = FrameKind(rawValue: bytes[5])
        let pcrc = bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian
        if crc32(UnsafeRawBufferPointer(rebasing: bytes[hs...])) != pcrc {
            throw FrameError.payloadCRC(frame: index, kind: kind, offset: offset)
        }
        guard let kind else { throw FrameError.unknownKind(bytes[5], frame: index, offset: offset) }
        let frame = RawFrame(kind: kind, index: index, offset: offset, bytes: bytes)
        offset += hs + length
        index += 1
        return frame
    }
}

/// A decoded data frame.
public enum DataFrame {
    case cells(CellFrameFlags, [CellRecord])
    case genes(dim: Int, [GeneRecord])
    case model([ModelTensor])
    case encodings(dim: Int, [EncodingRecord])
    case cellVectors(dim: Int, [CellVectorRecord])
}

/// Reads a whole (possibly concatenated) stream, checking its structure.
public final class StreamReader {
    public let frames: FrameReader
    public var name: String { frames.name }
    /// The first shard's HEAD.
    public private(set) var header: StreamHeader
    /// Every shard's HEAD, in order.
    public private(set) var shardHeaders: [StreamHeader]
    var shardCounts = EndCounts()
    var rules: ShardRules
    var inShard = true

    /// Opens a path ("-" for standard input) and reads its HEAD.
    public convenience init(path: String) throws {
        try self.init(try ByteReader.open(path))
    }

    public init(_ input: ByteReader) throws {
        frames = FrameReader(input)
        do {
            guard let first = try frames.next() else { throw FrameError.empty }
            guard first.kind == .head else {
                throw FrameError.structure("stream starts with \(withArticle(first.kind.description)) frame, not HEAD")
            }
            var r = PayloadReader(first.payload, context: "HEAD frame 0")
            header = try StreamHeader.decode(&r)
            shardHeaders = [header]
            rules = ShardRules(first: header)
        } catch let e as FrameError {
            throw ToolError.data(input.name, e.description)
        }
    }

    /// The next data frame in the stream, across shards, or nil after the last END.
    public func nextRaw() throws -> RawFrame? {
        do {
            while true {
                guard let f = try frames.next() else {
                    if inShard { throw FrameError.missingEnd(frames: frames.index) }
                    return nil
                }
                switch f.kind {
                case .head:
                    if inShard {
                        throw FrameError.structure("frame \(f.index) at byte \(f.offset): HEAD inside a stream (the previous stream has no END)")
                    }
                    var r = PayloadReader(f.payload, context: "HEAD frame \(f.index)")
                    let h = try StreamHeader.decode(&r)
                    try checkShard(h, frame: f)
                    shardHeaders.append(h)
                    inShard = true
                    shardCounts = EndCounts()
                case .end:
                    if !inShard { throw FrameError.structure("frame \(f.index) at byte \(f.offset): END without a HEAD") }
                    var r = PayloadReader(f.payload, context: "END frame \(f.index)")
                    let e = try EndCounts.decode(&r)
                    if e != shardCounts {
                        throw FrameError.structure(
                            "frame \(f.index) at byte \(f.offset): END counts (\(e.dataFrames) frames, \(e.records) records, \(e.payloadBytes) bytes) "
                            + "disagree with the stream (\(shardCounts.dataFrames) frames, \(shardCounts.records) records, \(shardCounts.payloadBytes) bytes)")
                    }
                    inShard = false
                default:
                    if !inShard { throw FrameError.structure("frame \(f.index) at byte \(f.offset): \(f.kind) frame after END") }
                    try rules.admit(frame: f)
                    shardCounts.dataFrames += 1
                    shardCounts.records += UInt64(recordCount(ofPayload: f.payload))
                    shardCounts.payloadBytes += UInt64(f.payload.count)
                    return f
                }
            }
        } catch let e as FrameError {
            throw ToolError.data(name, e.description)
        }
    }

    func checkShard(_ h: StreamHeader, frame f: RawFrame) throws {
        try rules.admit(h, at: "stream starting at byte \(f.offset)")
    }

    /// Decodes a data frame against this stream's header.
    public func decode(_ f: RawFrame) throws -> DataFrame {
        var r = PayloadReader(f.payload, context: "\(f.kind) frame \(f.index)")
        do {
            switch f.kind {
            case .cell:
                let (flags, cells) = try CellCodec.decode(&r, geneCount: header.genes.count)
                return .cells(flags, cells)
            case .gene:
                let (dim, g) = try GeneCodec.decode(&r, geneCount: header.genes.count)
                return .genes(dim: dim, g)
            case .model:
                return .model(try ModelCodec.decode(&r))
            case .encoding:
                let (dim, e) = try EncodingCodec.decode(&r)
                return .encodings(dim: dim, e)
            case .cellVector:
                let (dim, c) = try CellVectorCodec.decode(&r)
                return .cellVectors(dim: dim, c)
            case .head, .end:
                preconditionFailure("not a data frame")
            }
        } catch let e as FrameError {
            throw ToolError.data(name, e.description)
        }
    }

    /// The next decoded data frame, or nil after the last END.
    public func next() throws -> DataFrame? {
        guard let f = try nextRaw() else { return nil }
        return try decode(f)
    }
}

/// Every rule that lets streams merge as shards of one dataset, in one place: the reader applies
/// it to concatenated streams, `frames cat` to its input files, so what one accepts the other does.
///
/// Shards must carry the same content kind, the same gene list, and the same vocabulary with the
/// same mapping of genes onto it; GENE frames must all have one embedding width (embeddings of
/// different models cannot be pooled); and a MODEL stream is never a shard (one trained model).
public struct ShardRules {
    public let first: StreamHeader
    /// The embedding width of the GENE frames seen so far.
    public private(set) var geneWidth: Int?

    public init(first: StreamHeader) { self.first = first }

    /// Admits another shard's HEAD; `at` says where it starts, for the message.
    public func admit(_ h: StreamHeader, at: String) throws {
        if h.content != first.content {
            throw FrameError.structure("\(at) carries \(h.content) frames, the first stream \(first.content): they cannot be merged")
        }
        if h.content == .model {
            throw FrameError.structure("\(at) is a second MODEL stream: a MODEL stream holds one trained model and cannot be merged")
        }
        if h.genes != first.genes {
            let firstDiff = (0..<min(h.genes.count, first.genes.count)).first { h.genes[$0] != first.genes[$0] }
            let detail = h.genes.count != first.genes.count
                ? "\(h.genes.count) genes against \(first.genes.count)"
                : "gene \(firstDiff ?? 0) is \(excerpt(h.genes[firstDiff ?? 0].symbol)), not \(excerpt(first.genes[firstDiff ?? 0].symbol))"
            throw FrameError.structure("\(at) has another gene list than the first (\(detail)): shards must come from one dataset")
        }
        if h.vocabulary != first.vocabulary {
            throw FrameError.structure("\(at) uses another vocabulary than the first stream")
        }
        if h.vocabularyIndex != first.vocabularyIndex {
            throw FrameError.structure("\(at) maps its genes onto the vocabulary differently from the first stream "
                                       + "(tokenized with another --match-case or --gene-key?)")
        }
    }

    /// Admits a data frame: a GENE frame's embedding width must match the earlier ones.
    public mutating func admit(frame f: RawFrame) throws {
        guard f.kind == .gene, f.payload.count >= 8 else { return }
        let width = Int(f.payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        if let geneWidth, geneWidth != width {
            throw FrameError.structure("frame \(f.index) at byte \(f.offset): GENE embeddings of width \(width) after width "
                                       + "\(geneWidth): embeddings from different models cannot be merged")
        }
        geneWidth = width
    }
}
