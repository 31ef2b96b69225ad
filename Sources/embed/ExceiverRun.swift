// ExceiverRun: `embed` with an Exceiver checkpoint — raw counts in, latents or gene outputs out.
//
// Exceiver reads a cell as its raw counts at every one of the model's G genes (ExceiverScaler
// gives the preprocessing), so the CELL stream must carry counts (`tokenize --keep-counts`); the
// user supplies the gene map (--gene-map) and the scaler (--scaler). Every cell runs alone over
// all G inputs, as Exceiver's inference does. docs/EXCEIVER.md describes formats and outputs:
//
//   --emit cells      CELLVEC: the latent array after the process stack, flattened (L·E values)
//   --emit genes      GENE: per dataset gene mapped to an index, its decoder_out (K values) for
//                     query = that gene, summed over cells, weight = cells (mean pooling); plus
//                     the cells' expression as CELL frames without tokens
//   --emit encodings  ENCODING: per cell, decoder_out of every mapped gene, positions = Exceiver indices

import Foundation
import Frames
import Kernels
import LinearAlgebra
import Models
import ToolKit
import Weights

struct ExceiverRun {
    let options: Embed
    let weights: TensorFile

    /// The model's inputs and outputs for one worker.
    final class Worker {
        let forward: ExceiverForward
        let counts: DoubleBuffer, values: FloatBuffer, mask: FloatBuffer
        let latent: FloatBuffer, decoded: FloatBuffer
        var error: ToolError?
        /// Whether the last cell had any counts over the mapped genes.
        var hadCounts = false

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

    func run() throws {
        let o = options
        guard let mapPath = o.geneMap, let scalerArgument = o.scaler else {
            throw ToolError.usage("\(o.model) is an Exceiver checkpoint: give its gene order and scaler with "
                                  + "--gene-map FILE and --scaler MEAN.npy,SCALE.npy (or a mean<TAB>scale TSV); see docs/EXCEIVER.md")
        }
        if o.pool != .mean { throw ToolError.usage("--pool attention is scBERT's (scTransNet's) pooling; Exceiver genes are mean-pooled") }
        if o.genes != .vocabulary { throw ToolError.usage("--genes applies to scBERT models; Exceiver always reads all its genes") }

        let model = try ExceiverModel(weights, name: o.model, hyperParameters: try ExceiverHyperParameters.read(o.model))
        let c = model.config
        if c.headsSource.hasPrefix("assumed") {
            Diagnostics.warning("\(o.model): the process stack's head count is not recorded (no Lightning hyper_parameters "
                                + "and no safetensors metadata nhead); assuming 4, as in the released Exceiver")
        }
        Diagnostics.verbose("model \(o.model): \(c)")
        let map = try ExceiverGeneMap(path: mapPath, genes: c.genes)
        let scaler = try ExceiverScaler(argument: scalerArgument, genes: c.genes)

        let stream = try StreamReader(path: o.input)
        let resolution = map.resolve(stream.header.genes)
        let datasetGenes = stream.header.genes.count
        guard resolution.matched > 0 else {
            throw ToolError.data(mapPath, "none of its \(map.entries.count) genes is in \(stream.name)'s gene list "
                                 + "(matched against symbols, then Ensembl ids)")
        }
        if !resolution.unmatched.isEmpty {
            let first = resolution.unmatched.prefix(3).map(\.gene).joined(separator: ", ")
            Diagnostics.warning("\(mapPath): \(resolution.unmatched.count) of \(map.entries.count) genes are not in the stream "
                                + "(e.g. \(first)); their indices count 0 in every cell")
        }
        if !resolution.duplicates.isEmpty {
            let d = resolution.duplicates[0]
            Diagnostics.warning("\(mapPath): \(resolution.duplicates.count) lines name a dataset gene already mapped by an "
                                + "earlier line (first: line \(d.line), \(d.gene)); they are skipped")
        }
        Diagnostics.note("gene map \(URL(fileURLWithPath: mapPath).lastPathComponent): \(resolution.matched) of \(datasetGenes) "
                         + "dataset genes mapped to Exceiver indices (of \(c.genes))")

        // Decoder queries: the mapped indices, ascending; slot of each dataset gene.
        let queries = resolution.indexOfGene.filter { $0 >= 0 }.sorted()
        var slotOfIndex = [Int32: Int]()
        for (s, q) in queries.enumerated() { slotOfIndex[q] = s }
        let decodes = o.emit != .cells

        let threads = o.common.threadCount
        let workers = o.parallel == .cells ? threads : 1
        BLAS.setThreads(o.parallel == .cells ? 1 : threads)
        let pool = (0..<workers).map { _ in Worker(model: model, queries: decodes ? queries.count : 0) }
        let ids = (0..<c.genes).map { Int32($0) }

        let output = try OutputFile.open(o.common.output, binary: true, inputs: [o.input, o.model, mapPath]
                                         + scalerArgument.split(separator: ",").map(String.init))
        var header = stream.header
        header.content = o.emit == .genes ? .gene : (o.emit == .cells ? .cellVector : .encoding)
        header.setMetadata("model", URL(fileURLWithPath: o.model).lastPathComponent)
        header.setMetadata("model.config", c.description)
        header.setMetadata("exceiver.gene_map", "\(URL(fileURLWithPath: mapPath).lastPathComponent): "
                           + "\(resolution.matched) of \(datasetGenes) dataset genes mapped")
        header.setMetadata("exceiver.scaler", scalerArgument.split(separator: ",")
                            .map { URL(fileURLWithPath: String($0)).lastPathComponent }.joined(separator: ","))
        header.setMetadata("exceiver.input", "ln(1 + c / (T/1e4)) over the model's \(c.genes) genes, standardised, min(z, 10) + 1; "
                           + "mask 1 where c = 0, added to the encoder logits")
        switch o.emit {
        case .genes:
            header.setMetadata("embed.vectors", "Exceiver decoder_out (\(c.geneDim) values) with the gene as decoder query")
            header.setMetadata("pool", "mean")
        case .cells:
            header.setMetadata("cellvec", "Exceiver latent array after the process stack, flattened (\(c.latents) x \(c.latentDim))")
        case .encodings:
            header.setMetadata("embed.vectors", "Exceiver decoder_out per mapped gene; positions are Exceiver gene indices")
        }
        header.appendProvenance()
        let writer = try FrameWriter(output, header: header)
        let k = c.geneDim, latentWidth = c.latents * c.latentDim
        let sums = o.emit == .genes ? GenePool(slots: queries.count, dim: k) : nil
        let progress = Progress(unit: "cells")
        var emptyCells = 0
        let positions = queries.map { UInt32($0) }

        /// Fills a worker's inputs from a cell's counts; the cell's error (bad count) is recorded, not thrown.
        func prepare(_ cell: CellRecord, _ w: Worker) -> Bool {
            w.counts.zero()
            var any = false
            for (i, g) in cell.genes.enumerated() {
                let index = resolution.indexOfGene[Int(g)]
                if index < 0 { continue }
                let v = cell.counts[i]
                guard v.isFinite, v >= 0 else {
                    w.error = .data(stream.name, "cell \(cell.barcode): raw count \(v) of gene \(stream.header.genes[Int(g)].symbol) "
                                    + "is not a finite, non-negative number")
                    return false
                }
                w.counts.pointer[Int(index)] += Double(v)
                if v > 0 { any = true }
            }
            scaler.prepare(counts: w.counts.pointer, values: w.values.pointer, mask: w.mask.pointer)
            return any
        }

        var batch = [CellRecord]()
        func flush() throws {
            if batch.isEmpty { return }
            let cells = batch
            let work = { (i: Int) in
                let w = pool[i]
                w.hadCounts = prepare(cells[i], w)
                if w.error != nil { return }
                w.forward.encode(ids: ids, values: w.values.pointer, mask: w.mask.pointer, count: c.genes, latent: w.latent.pointer)
                if decodes {
                    w.forward.decode(latent: w.latent.pointer, queries: queries, count: queries.count, output: w.decoded.pointer)
                }
            }
            if cells.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: cells.count, execute: work) }
            for (i, cell) in cells.enumerated() {
                let w = pool[i]
                if let e = w.error { throw e }
                if !w.hadCounts { emptyCells += 1 }
                switch o.emit {
                case .genes:
                    sums!.add(w.decoded.pointer, weights: nil)
                    try writer.append(cell: CellRecord(barcode: cell.barcode, total: cell.total, genes: cell.genes, values: cell.values), flags: [])
                case .cells:
                    try writer.append(cellVector: CellVectorRecord(barcode: cell.barcode,
                                                                   vector: Array(UnsafeBufferPointer(start: w.latent.pointer, count: latentWidth))),
                                      dim: latentWidth)
                case .encodings:
                    try writer.append(encoding: EncodingRecord(barcode: cell.barcode, positions: positions,
                                                               values: Array(UnsafeBufferPointer(start: w.decoded.pointer, count: queries.count * k))),
                                      dim: k)
                }
            }
            progress.advance(by: batch.count)
            batch.removeAll(keepingCapacity: true)
        }

        while let frame = try stream.next() {
            guard case .cells(let flags, let cells) = frame else {
                throw ToolError.data(stream.name, "expected CELL frames (from tokenize), found another kind of data frame")
            }
            guard flags.contains(.counts) else {
                throw ToolError.data(stream.name, "CELL frames without raw counts: an Exceiver model reads raw counts "
                                     + "(make the stream with tokenize --keep-counts)")
            }
            for cell in cells {
                batch.append(cell)
                if batch.count == workers { try flush() }
            }
        }
        try flush()
        if let sums {
            let records = (0..<datasetGenes).map { g -> GeneRecord in
                let index = resolution.indexOfGene[g]
                guard index >= 0, let s = slotOfIndex[index] else {
                    return GeneRecord(gene: UInt32(g), known: false, weight: 0, sum: [Float](repeating: 0, count: k))
                }
                let p = sums.sums.pointer + s * k
                return GeneRecord(gene: UInt32(g), known: true, weight: sums.weights[s], sum: (0..<k).map { Float(p[$0]) })
            }
            try writer.write(genes: records, dim: k)
        }
        if emptyCells > 0 {
            Diagnostics.warning("\(emptyCells) cells have no counts over the mapped genes; they were run with every gene masked")
        }
        progress.finish()
        try writer.finish()
    }
}
