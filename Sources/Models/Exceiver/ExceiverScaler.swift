// ExceiverScaler: Exceiver's per-gene standardisation, and the input values and mask it yields.
//
// Exceiver's data pipeline (scripts/preprocess.py + ExceiverDataset) turns a cell's raw counts
// over the G model genes into the model input, per index i:
//
//   x_i = c_i / (T / 1e4)     T = Σ_i c_i, the cell's counts over the model's genes (0 if T = 0)
//   l_i = ln(1 + x_i)
//   z_i = (l_i − mean_i) / scale_i          in float64 (sklearn's StandardScaler), then float32
//   v_i = min(z_i, 10) + 1                  in float32 (clip at max_value 10, shift to mean 1)
//   mask_i = 1 if c_i = 0 else 0            (added to the encoder's attention logits)
//
// Indices no dataset gene feeds have c_i = 0. The scaler is a side file, in one of two forms:
//   * `MEAN.npy,SCALE.npy`: two 1-D .npy arrays of G float64 (or float32) values, as
//     `scaler.mean_` and `scaler.scale_` of a fitted sklearn StandardScaler are saved by numpy;
//   * a TSV file: one line per index in order, `mean<TAB>scale`; `#` lines, empty lines and a
//     first line that is not numeric (a header) are skipped.
// Every mean must be finite and every scale finite and positive.

import Foundation
import ToolKit

public struct ExceiverScaler {
    public let mean: [Double]
    public let scale: [Double]
    /// normalize_total's target sum.
    public static let targetSum = 1e4
    /// ExceiverDataset's max_value: larger standardised values are set to it.
    public static let clip: Float = 10

    public init(mean: [Double], scale: [Double]) {
        precondition(mean.count == scale.count)
        self.mean = mean; self.scale = scale
    }

    /// Reads a scaler for a model of `genes` indices from `MEAN.npy,SCALE.npy` or a TSV file.
    /// - Throws: `ToolError.badInput` (exit 65) naming the file for a wrong length, a bad value or a malformed file.
    public init(argument: String, genes: Int) throws {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 {
            mean = try Self.readNPY(parts[0])
            scale = try Self.readNPY(parts[1])
            try Self.check(mean, file: parts[0], genes: genes, what: "mean", positive: false)
            try Self.check(scale, file: parts[1], genes: genes, what: "scale", positive: true)
        } else {
            (mean, scale) = try Self.readTSV(argument)
            try Self.check(mean, file: argument, genes: genes, what: "mean", positive: false)
            try Self.check(scale, file: argument, genes: genes, what: "scale", positive: true)
        }
    }

    static func check(_ v: [Double], file: String, genes: Int, what: String, positive: Bool) throws {
        guard v.count == genes else {
            throw ToolError.data(file, "the scaler \(what) has \(v.count) values but the model has \(genes) genes")
        }
        for (i, x) in v.enumerated() where !x.isFinite || (positive && x <= 0) {
            throw ToolError.data(file, "scaler \(what) of index \(i) is \(x); expected a finite\(positive ? ", positive" : "") number")
        }
    }

    // MARK: - Files

    /// A 1-D little-endian float64 or float32 .npy array (format 1.0–3.0, C order).
    static func readNPY(_ path: String) throws -> [Double] {
        func bad(_ m: String) -> ToolError { .data(path, "not a 1-D float .npy array: \(m)") }
        return try withMappedFile(path) { raw -> [Double] in
            let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
            guard raw.count >= 10, (0..<6).allSatisfy({ raw[$0] == magic[$0] }) else { throw bad("no .npy magic") }
            let major = raw[6]
            let (headerLength, start): (Int, Int)
            switch major {
            case 1: (headerLength, start) = (Int(raw[8]) | Int(raw[9]) << 8, 10)
            case 2, 3:
                guard raw.count >= 12 else { throw bad("truncated header") }
                (headerLength, start) = (Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24, 12)
            default: throw bad("format version \(major) is not supported")
            }
            guard headerLength <= raw.count - start, headerLength <= 1 << 20 else { throw bad("header runs past the end of the file") }
            let header = String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<(start + headerLength)]), as: UTF8.self)
            func field(_ key: String) -> Substring? {
                guard let r = header.range(of: "'\(key)':") else { return nil }
                return header[r.upperBound...].drop { $0 == " " }
            }
            guard let d = field("descr"), d.hasPrefix("'") else { throw bad("no descr") }
            let descr = d.dropFirst().prefix { $0 != "'" }
            let size: Int
            switch descr {
            case "<f8": size = 8
            case "<f4": size = 4
            default: throw bad("dtype \(descr) (expected <f8 or <f4)")
            }
            guard let f = field("fortran_order"), f.hasPrefix("False") || f.hasPrefix("True") else { throw bad("no fortran_order") }
            guard let s = field("shape"), s.hasPrefix("(") else { throw bad("no shape") }
            let dims = s.dropFirst().prefix { $0 != ")" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard dims.count == 1, let n = Int(dims[0]), n >= 0 else { throw bad("shape (\(dims.joined(separator: ", "))) is not one-dimensional") }
            let body = start + headerLength
            guard n <= (raw.count - body) / size, raw.count - body == n * size else {
                throw bad("\(n) values of \(size) bytes do not match the \(raw.count - body) data bytes")
            }
            if size == 8 { return (0..<n).map { raw.loadUnaligned(fromByteOffset: body + 8 * $0, as: Double.self) } }
            return (0..<n).map { Double(raw.loadUnaligned(fromByteOffset: body + 4 * $0, as: Float.self)) }
        }
    }

    /// `mean<TAB>scale` lines in index order.
    static func readTSV(_ path: String) throws -> ([Double], [Double]) {
        let reader = try ByteReader.open(path)
        var mean = [Double](), scale = [Double]()
        var first = true
        while let raw = try reader.nextLineString() {
            let n = reader.lineNumber
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let m = fields.count == 2 ? Double(fields[0]) : nil, s = fields.count == 2 ? Double(fields[1]) : nil
            guard let m, let s else {
                if first && fields.count == 2 { first = false; continue }   // a header line
                throw ToolError.badInput(file: path, line: n, message: "expected mean<TAB>scale (two numbers), found \"\(excerpt(String(line)))\"")
            }
            first = false
            mean.append(m); scale.append(s)
        }
        return (mean, scale)
    }

    // MARK: - Values

    /// The model input of one cell.
    /// - Parameters:
    ///   - counts: [G] the cell's raw counts at each model index (float64; 0 where no gene feeds it).
    ///   - values: [G] receives v_i.
    ///   - mask: [G] receives mask_i.
    public func prepare(counts: UnsafePointer<Double>, values: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>) {
        let g = mean.count
        var total = 0.0
        for i in 0..<g { total += counts[i] }
        let per = total / Self.targetSum
        for i in 0..<g {
            let c = counts[i]
            let x = total > 0 ? c / per : 0
            let z = (log1p(x) - mean[i]) / scale[i]
            var v = Float(z)
            if v > Self.clip { v = Self.clip }
            values[i] = v + 1
            mask[i] = c > 0 ? 0 : 1
        }
    }
}
