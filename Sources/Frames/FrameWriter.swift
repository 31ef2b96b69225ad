// FrameWriter: writes one stream — HEAD, data frames, END — to an OutputFile.
//
// Records are batched into frames of about FrameFormat.targetPayload bytes; `finish()` writes
// END with the counts and commits the output. A writer that dies before `finish()` leaves a
// stream without END, which every reader rejects.

import Foundation
import Kernels
import ToolKit

public final class FrameWriter {
    public let output: OutputFile
    public let header: StreamHeader
    public private(set) var counts = EndCounts()
    var pending = PayloadWriter()
    var pendingKind: FrameKind?
    var pendingRecords = 0
    var pendingCellFlags = CellFrameFlags()
    var pendingDim = 0
    var finished = false

    /// Starts a stream by writing its HEAD.
    public init(_ output: OutputFile, header: StreamHeader) throws {
        self.output = output
        self.header = header
        try header.encode().withUnsafeBytes { try writeFrame(.head, $0) }
    }

    /// Writes one complete frame: header and payload.
    func writeFrame(_ kind: FrameKind, _ payload: UnsafeRawBufferPointer) throws {
        guard payload.count <= FrameFormat.maxPayload else {
            throw ToolError.runtime("internal error: \(withArticle(kind.description)) frame of \(payload.count) bytes exceeds the maximum")
        }
        var h = [UInt8](repeating: 0, count: FrameFormat.headerSize)
        h[0..<4] = FrameFormat.magic[0..<4]
        h[4] = FrameFormat.version
        h[5] = kind.rawValue
        let len = UInt32(payload.count)
        let pcrc = crc32(payload)
        for i in 0..<4 {
            h[8 + i] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(i)))
            h[12 + i] = UInt8(truncatingIfNeeded: pcrc >> (8 * UInt32(i)))
        }
        let hcrc = h.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[0..<16])) }
        for i in 0..<4 { h[16 + i] = UInt8(truncatingIfNeeded: hcrc >> (8 * UInt32(i))) }
        try output.write(h)
        try output.write(payload)
    }

    /// Writes a finished data frame payload (its first u32 is its record count).
    public func writeDataFrame(_ kind: FrameKind, payload: UnsafeRawBufferPointer) throws {
        precondition(kind.isData)
        try flushPending()
        try writeFrame(kind, payload)
        counts.dataFrames += 1
        counts.records += UInt64(recordCount(ofPayload: payload))
        counts.payloadBytes += UInt64(payload.count)
    }

    /// Copies a data frame read from another stream, byte for byte (its CRCs stay valid).
    public func copy(_ frame: RawFrame) throws {
        precondition(frame.kind.isData)
        try flushPending()
        try output.write(frame.bytes)
        counts.dataFrames += 1
        counts.records += UInt64(recordCount(ofPayload: frame.payload))
        counts.payloadBytes += UInt64(frame.payload.count)
    }

    private func begin(_ kind: FrameKind, dim: Int = 0, cellFlags: CellFrameFlags = []) throws {
        if pendingKind == kind && pendingDim == dim && pendingCellFlags == cellFlags
            && pending.bytes.count < FrameFormat.targetPayload { return }
        try flushPending()
        pendingKind = kind
        pendingDim = dim
        pendingCellFlags = cellFlags
        pending.bytes.removeAll(keepingCapacity: true)
        switch kind {
        case .cell: CellCodec.beginFrame(&pending, flags: cellFlags)
        case .encoding: EncodingCodec.beginFrame(&pending, dim: dim)
        case .cellVector: CellVectorCodec.beginFrame(&pending, dim: dim)
        default: preconditionFailure("\(kind) frames are not batched")
        }
    }

    private func checkRecordFits(_ size: Int, _ what: @autoclosure () -> String) throws {
        if size + 16 > FrameFormat.maxPayload {
            throw ToolError.runtime("\(what()) takes \(size) bytes, more than one frame may hold (\(FrameFormat.maxPayload))")
        }
        if pending.bytes.count + size > FrameFormat.maxPayload { try flushPending() }
    }

    /// Adds a cell to the current CELL frame.
    public func append(cell: CellRecord, flags: CellFrameFlags) throws {
        let size = CellCodec.size(cell, flags: flags)
        try checkRecordFits(size, "cell \(cell.barcode)")
        try begin(.cell, cellFlags: flags)
        CellCodec.append(cell, to: &pending, flags: flags)
        pendingRecords += 1
    }

    /// Adds a cell to the current CELL frame with its arrays written in place by `fill`: the
    /// same bytes as `append(cell:flags:)` for a record with these fields, without building it.
    ///
    /// `fill` gets the record's N-entry slots (zeroed) and must write every entry; the slots are
    /// valid only during the call.
    /// - Parameters:
    ///   - barcode: the barcode's UTF-8 bytes.
    ///   - count: N, the cell's entries.
    public func appendCell(barcode: UnsafeBufferPointer<UInt8>, total: Double, count n: Int, flags: CellFrameFlags,
                           fill: (CellSlots) -> Void) throws {
        let layout = CellLayout(count: n, flags: flags)
        try checkRecordFits(layout.recordSize(barcodeBytes: barcode.count), "cell \(String(decoding: barcode, as: UTF8.self))")
        try begin(.cell, cellFlags: flags)
        // One access to the frame for the whole record (each access to a class's stored
        // property is checked for exclusivity at run time).
        CellCodec.append(to: &pending, barcode: barcode, total: total, layout: layout, fill: fill)
        pendingRecords += 1
    }

    /// Adds a cell's encodings to the current ENCODING frame.
    public func append(encoding: EncodingRecord, dim: Int) throws {
        try checkRecordFits(8 + encoding.barcode.utf8.count + 4 * (encoding.positions.count + encoding.values.count), "encoding of \(encoding.barcode)")
        try begin(.encoding, dim: dim)
        EncodingCodec.append(encoding, to: &pending, dim: dim)
        pendingRecords += 1
    }

    /// Adds a cell vector to the current CELLVEC frame.
    public func append(cellVector: CellVectorRecord, dim: Int) throws {
        try begin(.cellVector, dim: dim)
        CellVectorCodec.append(cellVector, to: &pending, dim: dim)
        pendingRecords += 1
    }

    /// Writes GENE records, split into frames of about the target size.
    public func write(genes: [GeneRecord], dim: Int) throws {
        let per = max(1, FrameFormat.targetPayload / (16 + 4 * max(dim, 1)))
        var i = 0
        repeat {
            let chunk = Array(genes[i..<min(genes.count, i + per)])
            try GeneCodec.encode(chunk, dim: dim).withUnsafeBytes { try writeDataFrame(.gene, payload: $0) }
            i += per
        } while i < genes.count
    }

    /// Writes model tensors, several to a frame up to the target size.
    public func write(model tensors: [ModelTensor]) throws {
        var group = [ModelTensor]()
        var size = 0
        for t in tensors {
            let s = 16 + t.name.utf8.count + 4 * t.shape.count + 4 * t.data.count
            if s + 8 > FrameFormat.maxPayload { throw ToolError.runtime("tensor \(t.name) is larger than a frame may hold") }
            if !group.isEmpty && size + s > FrameFormat.targetPayload {
                try ModelCodec.encode(group).withUnsafeBytes { try writeDataFrame(.model, payload: $0) }
                group.removeAll()
                size = 0
            }
            group.append(t)
            size += s
        }
        if !group.isEmpty || tensors.isEmpty {
            try ModelCodec.encode(group).withUnsafeBytes { try writeDataFrame(.model, payload: $0) }
        }
    }

    /// Closes the current batched frame, if any.
    public func flushPending() throws {
        guard let kind = pendingKind else { return }
        pendingKind = nil
        if pendingRecords == 0 { return }
        let n = UInt32(pendingRecords).littleEndian
        withUnsafeBytes(of: n) { nb in
            for i in 0..<4 { pending.bytes[i] = nb[i] }
        }
        pendingRecords = 0
        try pending.bytes.withUnsafeBytes { try writeDataFrame(kind, payload: $0) }
    }

    /// Ends the stream: writes END and commits the output.
    public func finish() throws {
        try finishStream()
        try output.commit()
    }

    /// Writes END but leaves the output open (for writing a further stream after it).
    public func finishStream() throws {
        precondition(!finished, "stream already finished")
        try flushPending()
        try counts.encode().withUnsafeBytes { try writeFrame(.end, $0) }
        try output.flush()
        finished = true
    }
}

/// One cell record's N-entry arrays inside a CELL frame being built (see `CellLayout` and
/// `FrameWriter.appendCell`): little-endian, not necessarily aligned, so written with
/// `storeBytes(of:toByteOffset:as:)` or copied in.
public struct CellSlots {
    /// N u32 dataset gene indices, ascending.
    public let genes: UnsafeMutableRawPointer
    /// N f32 values.
    public let values: UnsafeMutableRawPointer
    /// N u8 tokens, when the frame carries them.
    public let tokens: UnsafeMutablePointer<UInt8>?
    /// N f32 raw counts, when the frame carries them.
    public let counts: UnsafeMutableRawPointer?
}
