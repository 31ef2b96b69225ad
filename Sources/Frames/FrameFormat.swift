// FrameFormat: the constants of the scgrn frame stream and its errors (docs/FRAMES.md).
//
// A stream is HEAD, data frames, END; streams may be concatenated. Each frame is a 20-byte
// header (magic, version, kind, length, payload CRC-32, header CRC-32) and a payload.

import Foundation

public enum FrameFormat {
    /// "SGRF": the first four bytes of every frame.
    public static let magic: [UInt8] = [0x53, 0x47, 0x52, 0x46]
    /// The structural version this build reads and writes.
    public static let version: UInt8 = 1
    /// Bytes in a frame header.
    public static let headerSize = 20
    /// The largest payload a frame may carry (256 MiB); writers split larger data.
    public static let maxPayload = 1 << 28
    /// Payload size at which writers close a data frame and start the next (4 MiB).
    public static let targetPayload = 1 << 22
}

/// What a frame holds. The raw values are the `kind` byte of the frame header.
public enum FrameKind: UInt8, CaseIterable, CustomStringConvertible {
    case head = 1, cell = 2, gene = 3, model = 4, encoding = 5, cellVector = 6, end = 7

    public var description: String {
        switch self {
        case .head: return "HEAD"
        case .cell: return "CELL"
        case .gene: return "GENE"
        case .model: return "MODEL"
        case .encoding: return "ENCODING"
        case .cellVector: return "CELLVEC"
        case .end: return "END"
        }
    }

    /// Whether this kind is a data frame (neither HEAD nor END).
    public var isData: Bool { self != .head && self != .end }
}

/// Why a stream could not be read. Each case has its own message, so `frames check` tells them apart.
public enum FrameError: Error, CustomStringConvertible {
    case empty
    case badMagic(offset: Int)
    case unsupportedVersion(UInt8, offset: Int)
    case headerCRC(frame: Int, offset: Int)
    case payloadCRC(frame: Int, kind: FrameKind?, offset: Int)
    case tooLarge(frame: Int, length: Int, offset: Int)
    case truncated(frame: Int, offset: Int, got: Int, expected: Int)
    case missingEnd(frames: Int)
    case unknownKind(UInt8, frame: Int, offset: Int)
    case structure(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .empty:
            return "empty input: no frames"
        case .badMagic(let off):
            return off == 0 ? "not an scgrn frame stream (bad magic at byte 0)"
                : "bad frame magic at byte \(off): the stream is corrupt"
        case .unsupportedVersion(let v, let off):
            return "unsupported frame format version \(v) at byte \(off) (this build reads version \(FrameFormat.version))"
        case .headerCRC(let f, let off):
            return "header CRC mismatch in frame \(f) at byte \(off): the stream is corrupt"
        case .payloadCRC(let f, let k, let off):
            return "payload CRC mismatch in frame \(f) (\(k.map { "\($0)" } ?? "?")) at byte \(off): the stream is corrupt"
        case .tooLarge(let f, let len, let off):
            return "frame \(f) at byte \(off) declares \(len) payload bytes, over the \(FrameFormat.maxPayload)-byte maximum"
        case .truncated(let f, let off, let got, let expected):
            return "truncated stream: frame \(f) at byte \(off) ends after \(got) of \(expected) bytes"
        case .missingEnd(let n):
            return "stream ends without an END frame after \(n) frames (its writer may have died)"
        case .unknownKind(let k, let f, let off):
            return "unknown frame kind \(k) in frame \(f) at byte \(off)"
        case .structure(let m), .malformed(let m):
            return m
        }
    }
}
