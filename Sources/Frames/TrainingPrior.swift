// TrainingPrior: which prior network a MODEL was trained on, as graphify records it in the MODEL
// stream's HEAD metadata, so that score can tell prior edges from novel ones and warn when a
// ground truth overlaps what the model was trained on.
//
// Keys (docs/FRAMES.md, metadata table):
//   graphify.prior          the prior as the user named it: a path as given, or `collectri_human (bundled)`
//   graphify.prior_sha256   SHA-256 of the prior file's bytes
//   graphify.prior_edges    the number of distinct directed prior edges between two different dataset genes
//   graphify.prior_pairs    those edges, as dataset gene indices grouped by regulator:
//                           `r:t,t,…;r:t,…` (regulators ascending, targets ascending, decimal)
// The pairs are at most the prior's size (the bundled CollecTRI has 43,178 edges: a few hundred
// kilobytes of text at most), so they are always recorded in full.

import Foundation
import ToolKit

public struct TrainingPrior: Equatable {
    public static let nameKey = "graphify.prior"
    public static let digestKey = "graphify.prior_sha256"
    public static let countKey = "graphify.prior_edges"
    public static let pairsKey = "graphify.prior_pairs"

    /// The prior as named by the user (path as given, or a bundled prior's name).
    public var name: String
    /// SHA-256 of the file's bytes, hex.
    public var sha256: String
    /// Directed edges (regulator, target) between different dataset genes, as gene indices.
    public var pairs: [(regulator: Int, target: Int)]

    public init(name: String, sha256: String, pairs: [(regulator: Int, target: Int)]) {
        self.name = name; self.sha256 = sha256; self.pairs = pairs
    }

    public static func == (a: TrainingPrior, b: TrainingPrior) -> Bool {
        a.name == b.name && a.sha256 == b.sha256 && a.pairs.elementsEqual(b.pairs, by: { $0 == $1 })
    }

    /// The pair keys (regulator · 2³² + target), for membership tests.
    public var keys: Set<Int> { Set(pairs.map { $0.regulator << 32 | $0.target }) }

    /// `r:t,t;r:t` with regulators and targets ascending (duplicates dropped).
    public static func encode(_ pairs: [(regulator: Int, target: Int)]) -> String {
        let sorted = Set(pairs.map { $0.regulator << 32 | $0.target }).sorted()
        var out = ""
        var current = -1
        for key in sorted {
            let r = key >> 32, t = key & 0xFFFF_FFFF
            if r != current {
                if current >= 0 { out += ";" }
                out += "\(r):\(t)"
                current = r
            } else {
                out += ",\(t)"
            }
        }
        return out
    }

    /// Parses `encode`'s text; every index must be below `geneCount`.
    /// - Throws: `ToolError.badInput` (65) naming `source` for malformed text or an index out of range.
    public static func decode(_ text: String, geneCount: Int, source: String) throws -> [(regulator: Int, target: Int)] {
        var out = [(regulator: Int, target: Int)]()
        if text.isEmpty { return out }
        func index(_ s: Substring) throws -> Int {
            guard let i = Int(s), i >= 0, i < geneCount else {
                throw ToolError.data(source, "metadata \(pairsKey): '\(excerpt(String(s)))' is not a gene index below \(geneCount)")
            }
            return i
        }
        for group in text.split(separator: ";", omittingEmptySubsequences: false) {
            let parts = group.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw ToolError.data(source, "metadata \(pairsKey): group '\(excerpt(String(group)))' is not regulator:targets")
            }
            let r = try index(parts[0])
            for t in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let target = try index(t)
                out.append((r, target))
            }
        }
        return out
    }

    /// Sets the four keys in a header.
    public func record(in header: inout StreamHeader) {
        header.setMetadata(TrainingPrior.nameKey, name)
        header.setMetadata(TrainingPrior.digestKey, sha256)
        header.setMetadata(TrainingPrior.countKey, String(Set(pairs.map { $0.regulator << 32 | $0.target }).count))
        header.setMetadata(TrainingPrior.pairsKey, TrainingPrior.encode(pairs))
    }

    /// The prior a MODEL stream records, or nil when its HEAD has no `graphify.prior_pairs`
    /// (a model written before these keys existed, or by another tool).
    /// - Throws: `ToolError.badInput` (65) when the recorded pairs are malformed or disagree with
    ///   the recorded count.
    public static func recorded(in header: StreamHeader, source: String) throws -> TrainingPrior? {
        guard let text = header.metadata(pairsKey) else { return nil }
        let pairs = try decode(text, geneCount: header.genes.count, source: source)
        if let count = header.metadata(countKey), Int(count) != pairs.count {
            throw ToolError.data(source, "metadata \(countKey) says \(count) prior edges, \(pairsKey) holds \(pairs.count)")
        }
        return TrainingPrior(name: header.metadata(nameKey) ?? "the training prior",
                             sha256: header.metadata(digestKey) ?? "", pairs: pairs)
    }
}
