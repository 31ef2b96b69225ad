// NodeFeatures: what graphify knows about each dataset gene after reading its input stream —
// the expression profile over cells (z-scored per gene, exact or as a seeded sketch) and, from a
// GENE stream, the pooled transformer embedding.
//
// Dimensions (docs/ARCHITECTURE.md): G dataset genes, C cells, K sketch width, D embedding width.
//
// Profiles. GENELink standardises every gene over the cells (scikit-learn's StandardScaler on the
// genes × cells matrix: mean 0, variance 1 with ddof 0; a gene with zero variance is only
// centred). With at most `maxCells` cells the profile is that exact [G, C] matrix, cells in
// stream order. Beyond, it is a random projection to K columns: every cell c gets a standard
// normal vector r_c ∈ ℝᴷ drawn from a generator seeded by a hash of its barcode and --seed, and
//     S_g = Σ_c x_gc r_c,  R = Σ_c r_c,  sketch_g = (S_g − μ_g R) / (σ_g √C)
// which is the projection Σ_c z_gc r_c / √C of the z-scored profile z_g: every coordinate has
// variance 1 like a z-score, and inner products are those of the profiles times K / C in
// expectation (Johnson–Lindenstrauss). The
// sums are additive over cells, so the sketch does not depend on the cell order or on how the
// cells were sharded, and memory is G × K whatever C is. The dense matrix is kept until the
// (maxCells + 1)-th cell arrives, then folded into the sketch.
//
// Embeddings. GENE records hold a running sum and a pooling weight; records for the same gene
// (from shards) are summed; the embedding is sum / weight. Genes the model does not know
// (known = false) or with weight 0 get zeros.

import Foundation
import Frames
import Kernels
import ToolKit

/// Node features read from a CELL stream (tokenize) or a GENE stream (embed).
struct NodeFeatures {
    /// The stream's HEAD (its genes are the node set).
    var header: StreamHeader
    /// [G, width] z-scored profiles (row-major), or empty when the stream has no cells.
    var profiles: [Float] = []
    var profileWidth = 0
    /// How the profiles were made, for the MODEL metadata ("dense" or "sketch").
    var profileKind = "none"
    var cellCount = 0
    /// [G, D] embeddings, or empty when the stream has no GENE frames.
    var embedding: [Float] = []
    var embeddingDim = 0
    /// Genes with a usable embedding (known and weight > 0).
    var embeddedGenes = 0

    var geneCount: Int { header.genes.count }

    /// Reads the whole stream.
    /// - Parameters:
    ///   - maxCells: the most cells kept as an exact profile; more switch to the sketch.
    ///   - sketchWidth: K.
    ///   - seed: seeds the per-cell sketch vectors.
    /// - Throws: 65 for a stream of another kind, or one with neither CELL nor GENE frames.
    static func read(_ stream: StreamReader, maxCells: Int, sketchWidth: Int, seed: UInt64) throws -> NodeFeatures {
        let h = stream.header
        guard h.content == .cell || h.content == .gene else {
            throw ToolError.data(stream.name, "carries \(h.content) frames: graphify reads CELL frames (tokenize) or GENE frames "
                                 + "(embed), e.g. tokenize counts/ | graphify --prior prior.tsv")
        }
        let g = h.genes.count
        guard g > 0 else { throw ToolError.data(stream.name, "HEAD lists no genes") }
        var profiles = ProfileAccumulator(genes: g, maxCells: maxCells, sketchWidth: sketchWidth, seed: seed)
        var sums = [Double](), weights = [Double](repeating: 0, count: g), known = [Bool](repeating: true, count: g)
        var dim = -1
        while let frame = try stream.next() {
            switch frame {
            case .cells(_, let cells):
                for c in cells { profiles.add(c) }
            case .genes(let d, let records):
                if dim < 0 { dim = d; sums = [Double](repeating: 0, count: g * d) }
                guard d == dim else {
                    throw ToolError.data(stream.name, "GENE frames of width \(d) and \(dim): embeddings from different models cannot be merged")
                }
                for r in records {
                    let gi = Int(r.gene)
                    if !r.known { known[gi] = false }
                    weights[gi] += r.weight
                    for x in 0..<d { sums[gi * d + x] += Double(r.sum[x]) }
                }
            default:
                throw ToolError.data(stream.name, "holds \(withArticle(frameName(frame))) frame: graphify reads CELL or GENE frames")
            }
        }
        if profiles.cells == 0 && dim < 0 {
            throw ToolError.data(stream.name, "has neither CELL nor GENE frames: there is nothing to build gene features from")
        }
        var f = NodeFeatures(header: h)
        f.cellCount = profiles.cells
        if profiles.cells > 0 {
            (f.profiles, f.profileWidth, f.profileKind) = profiles.finish()
        }
        if dim >= 0 {
            f.embeddingDim = dim
            f.embedding = [Float](repeating: 0, count: g * dim)
            for gi in 0..<g where known[gi] && weights[gi] > 0 {
                f.embeddedGenes += 1
                for x in 0..<dim { f.embedding[gi * dim + x] = Float(sums[gi * dim + x] / weights[gi]) }
            }
        }
        return f
    }

    static func frameName(_ f: DataFrame) -> String {
        switch f {
        case .cells: return "CELL"
        case .genes: return "GENE"
        case .model: return "MODEL"
        case .encodings: return "ENCODING"
        case .cellVectors: return "CELLVEC"
        }
    }
}

// MARK: - Profiles

/// Collects per-gene expression over cells: exact columns up to `maxCells`, then a sketch.
struct ProfileAccumulator {
    let genes: Int, maxCells: Int, sketchWidth: Int, seed: UInt64
    private(set) var cells = 0
    /// Per gene Σx and Σx² over all cells (float64), for the z-scoring.
    private var sum: [Double], sumSquares: [Double]
    /// Dense mode: [C][nonzero entries] kept until maxCells is exceeded.
    private var kept: [CellRecord] = []
    /// Sketch mode: S [G, K] and R [K] (float64 sums).
    private var sketch: [Double] = [], sketchOnes: [Double] = []
    private var sketching = false

    init(genes: Int, maxCells: Int, sketchWidth: Int, seed: UInt64) {
        self.genes = genes; self.maxCells = maxCells; self.sketchWidth = sketchWidth; self.seed = seed
        sum = [Double](repeating: 0, count: genes)
        sumSquares = sum
    }

    mutating func add(_ c: CellRecord) {
        cells += 1
        for (gi, v) in zip(c.genes, c.values) {
            sum[Int(gi)] += Double(v)
            sumSquares[Int(gi)] += Double(v) * Double(v)
        }
        if sketching {
            project(c)
        } else if cells > maxCells {
            sketching = true
            sketch = [Double](repeating: 0, count: genes * sketchWidth)
            sketchOnes = [Double](repeating: 0, count: sketchWidth)
            for k in kept { project(k) }
            kept = []
            project(c)
        } else {
            kept.append(c)
        }
    }

    /// The cell's sketch vector r_c: K standard normals from a generator seeded by (barcode, seed).
    func cellVector(_ barcode: String) -> [Double] {
        var rng = Xoshiro256(seed: ProfileAccumulator.hash(barcode) ^ (seed &* 0x9E37_79B9_7F4A_7C15))
        return (0..<sketchWidth).map { _ in rng.normal() }
    }

    private mutating func project(_ c: CellRecord) {
        let r = cellVector(c.barcode)
        let k = sketchWidth
        for x in 0..<k { sketchOnes[x] += r[x] }
        for (gi, v) in zip(c.genes, c.values) {
            let base = Int(gi) * k, vd = Double(v)
            for x in 0..<k { sketch[base + x] += vd * r[x] }
        }
    }

    /// FNV-1a, 64-bit, over the barcode's UTF-8 bytes.
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// Per gene mean and scale (StandardScaler: σ with ddof 0, 1 when σ = 0).
    func standardisation() -> (mean: [Double], scale: [Double]) {
        let n = Double(cells)
        var mean = [Double](repeating: 0, count: genes), scale = mean
        for g in 0..<genes {
            let m = sum[g] / n
            let variance = max(0, sumSquares[g] / n - m * m)
            mean[g] = m
            scale[g] = variance > 0 ? variance.squareRoot() : 1
        }
        return (mean, scale)
    }

    /// The z-scored profiles [G, width], their width and kind.
    func finish() -> ([Float], Int, String) {
        if sketching {
            let (mean, scale) = standardisation()
            let k = sketchWidth, root = Double(cells).squareRoot()
            var out = [Float](repeating: 0, count: genes * k)
            for g in 0..<genes {
                let s = scale[g] * root
                for x in 0..<k { out[g * k + x] = Float((sketch[g * k + x] - mean[g] * sketchOnes[x]) / s) }
            }
            return (out, k, "sketch")
        }
        // Exact: start every entry at the z-score of 0, then overwrite the nonzero entries. The
        // variance is recomputed in two passes over the dense values for accuracy.
        let c = cells
        var dense = [Double](repeating: 0, count: genes * c)
        for (j, cell) in kept.enumerated() {
            for (gi, v) in zip(cell.genes, cell.values) { dense[Int(gi) * c + j] = Double(v) }
        }
        var out = [Float](repeating: 0, count: genes * c)
        for g in 0..<genes {
            let row = g * c
            var m = 0.0
            for j in 0..<c { m += dense[row + j] }
            m /= Double(c)
            var v = 0.0
            for j in 0..<c { let d = dense[row + j] - m; v += d * d }
            v /= Double(c)
            let s = v > 0 ? v.squareRoot() : 1
            for j in 0..<c { out[row + j] = Float((dense[row + j] - m) / s) }
        }
        return (out, c, "dense")
    }
}
