// ExceiverEmbedding: the Exceiver as an embed model — raw counts in, latents or gene outputs out.
//
// Exceiver reads a cell as its raw counts at every one of the model's G genes (ExceiverScaler
// gives the preprocessing), so the CELL stream must carry counts (`tokenize --keep-counts`); the
// gene map says which dataset gene is which Exceiver index. Every cell runs alone over all G
// inputs, as Exceiver's inference does. docs/EXCEIVER.md describes formats and outputs:
//
//   --emit cells      CELLVEC: the latent array after the process stack, flattened (L·E values)
//   --emit genes      GENE: per dataset gene mapped to an index, its decoder_out (K values) for
//                     query = that gene, summed over cells, weight = cells (mean pooling); plus
//                     the cells' expression as CELL frames without tokens
//   --emit encodings  ENCODING: per cell, decoder_out of every mapped gene, positions = Exceiver indices

import Foundation
import Frames
import Kernels
import Models
import ToolKit

struct ExceiverEmbedding: EmbedModel {
    let model: ExceiverModel
    let scaler: ExceiverScaler
    /// Dataset gene → Exceiver index, or -1 (from the gene map).
    let indexOfGene: [Int32]
    /// Dataset genes the map gives an index.
    let mapped: Int
    /// Dataset gene names, for messages.
    let genes: [GeneName]
    let input: String
    /// Decoder queries: the mapped indices, ascending (empty when only latents are wanted).
    let queries: [Int32]
    let slotOfIndex: [Int32: Int]
    let ids: [Int32]

    /// Resolves the gene map against the stream's genes, saying what did not match.
    /// - Parameter decodes: whether cells are decoded at the mapped genes (every --emit but cells).
    /// - Throws: exit 65 when no gene of the map is in the stream.
    init(model: ExceiverModel, scaler: ExceiverScaler, map: ExceiverGeneMap, mapPath: String, header: StreamHeader, input: String,
         decodes: Bool) throws {
        let resolution = map.resolve(header.genes)
        guard resolution.matched > 0 else {
            throw ToolError.data(mapPath, "none of its \(map.entries.count) genes is in \(input)'s gene list "
                                 + "(matched against symbols, then Ensembl ids)")
        }
        if !resolution.unmatched.isEmpty {
            let first = resolution.unmatched.prefix(3).map { excerpt($0.gene) }.joined(separator: ", ")
            Diagnostics.warning("\(mapPath): \(resolution.unmatched.count) of \(map.entries.count) genes are not in the stream "
                                + "(e.g. \(first)); their indices count 0 in every cell")
        }
        if !resolution.duplicates.isEmpty {
            let d = resolution.duplicates[0]
            Diagnostics.warning("\(mapPath): \(resolution.duplicates.count) lines name a dataset gene already mapped by an "
                                + "earlier line (first: line \(d.line), \(excerpt(d.gene))); they are skipped")
        }
        Diagnostics.note("gene map \(URL(fileURLWithPath: mapPath).lastPathComponent): \(resolution.matched) of \(header.genes.count) "
                         + "dataset genes mapped to Exceiver indices (of \(model.config.genes))")

        self.model = model; self.scaler = scaler
        indexOfGene = resolution.indexOfGene
        mapped = resolution.matched
        genes = header.genes
        self.input = input
        let indices = indexOfGene.filter { $0 >= 0 }.sorted()
        var slotOfIndex = [Int32: Int]()
        for (s, q) in indices.enumerated() { slotOfIndex[q] = s }
        self.slotOfIndex = slotOfIndex
        queries = decodes ? indices : []
        ids = (0..<model.config.genes).map { Int32($0) }
    }

    /// The model's inputs and outputs for one worker.
    final class Worker {
        let forward: ExceiverForward
        let counts: DoubleBuffer, values: FloatBuffer, mask: FloatBuffer
        let latent: FloatBuffer, decoded: FloatBuffer
        /// Cells run with no counts over the mapped genes.
        var emptyCells = 0

        init(model: ExceiverModel, queries: Int) {
            let c = model.config
            forward = ExceiverForward(model: model)
            counts = DoubleBuffer(count: c.genes)
            values = FloatBuffer(count: c.genes)
            mask = FloatBuffer(count: c.genes)
            latent = FloatBuffer(count: c.latents * c.latentDim)
            decoded = FloatBuffer(count: max(queries, 1) * c.geneDim)
        }
    }

    var requiredFlag: CellFrameFlags { .counts }
    var missingFlagMessage: String {
        "CELL frames without raw counts: an Exceiver model reads raw counts (make the stream with tokenize --keep-counts)"
    }
    var slots: Int { queries.count }
    var slotWidth: Int { model.config.geneDim }
    var slotPositions: [UInt32] { queries.map { UInt32($0) } }
    var cellVectorWidth: Int { model.config.latents * model.config.latentDim }
    var datasetGenes: Int { genes.count }

    func makeWorker() -> Worker { Worker(model: model, queries: queries.count) }

    /// Fills the worker's inputs from the cell's counts at the mapped genes, then encodes (and decodes).
    /// - Throws: exit 65 for a count that is not a finite, non-negative number.
    func run(_ cell: CellRecord, on w: Worker) throws {
        w.counts.zero()
        var any = false
        for (i, g) in cell.genes.enumerated() {
            let index = indexOfGene[Int(g)]
            if index < 0 { continue }
            let v = cell.counts[i]
            guard v.isFinite, v >= 0 else {
                throw ToolError.data(input, "cell \(excerpt(cell.barcode)): raw count \(v) of gene \(excerpt(genes[Int(g)].symbol)) "
                                     + "is not a finite, non-negative number")
            }
            w.counts.pointer[Int(index)] += Double(v)
            if v > 0 { any = true }
        }
        if !any { w.emptyCells += 1 }
        scaler.prepare(counts: w.counts.pointer, values: w.values.pointer, mask: w.mask.pointer)
        let c = model.config
        w.forward.encode(ids: ids, values: w.values.pointer, mask: w.mask.pointer, count: c.genes, latent: w.latent.pointer)
        if !queries.isEmpty {
            w.forward.decode(latent: w.latent.pointer, queries: queries, count: queries.count, output: w.decoded.pointer)
        }
    }

    func encodings(_ w: Worker) -> UnsafePointer<Float> { UnsafePointer(w.decoded.pointer) }

    func cellVector(_ w: Worker) -> [Float] { Array(UnsafeBufferPointer(start: w.latent.pointer, count: cellVectorWidth)) }

    func slot(ofGene g: Int) -> Int {
        let index = indexOfGene[g]
        return index < 0 ? -1 : slotOfIndex[index] ?? -1
    }

    func finish(_ workers: [Worker]) {
        let empty = workers.reduce(0) { $0 + $1.emptyCells }
        if empty > 0 {
            Diagnostics.warning("\(empty) cells have no counts over the mapped genes; they were run with every gene masked")
        }
    }
}
