// frames: look at, check and merge scgrn frame streams (like `samtools view`).
//
//   frames view [STREAM|-]    every record as TSV with one header line
//   frames check [STREAM|-]   validate; exit 0, or 65 with the reason
//   frames cat [STREAM ...]   merge concatenated streams (shards) into one

import ArgumentParser
import Foundation
import Frames
import ToolKit

@main
struct Frames: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "View, check and merge scgrn frame streams.",
        discussion: """
            Every scgrn stage reads and writes a stream of frames: HEAD, data frames, END \
            (docs/FRAMES.md). Streams may be concatenated; they are shards of one dataset.
            """,
        version: "frames " + scgrnVersion,
        subcommands: [View.self, Check.self, Cat.self])

    static let examples = [
        "frames view cells.sgrf | head                 # any stream as TSV",
        "frames check model.sgrf && echo complete      # exit 65 with the reason if not",
        "frames cat shard1.genes shard2.genes | graphify -o model.sgrf",
    ]
}

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a stream's records as TSV.",
        discussion: """
            Columns by record kind (one header line first):
              CELL      barcode gene value token     (one line per nonzero entry; token '.' when absent)
              GENE      gene weight known e0 … e{d-1}   (e = pooled sum / weight)
              MODEL     tensor row v0 … v{n-1}        (row is the gene symbol for per-gene tensors)
              ENCODING  barcode position e0 … e{d-1}
              CELLVEC   barcode e0 … e{d-1}
            By default the records of the HEAD's content kind are shown; --kind picks another.
            """)

    @Argument(help: "Input stream, or - for standard input.") var input = "-"
    @Option(help: "Record kind to show: cell, gene, model, encoding, cellvec.") var kind: String?
    @Flag(name: [.customShort("H"), .long], help: "Also print the HEAD (genes, metadata, provenance) as '#' lines.") var header = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        try requireInput(input, View.self)
        let stream = try StreamReader(path: input)
        let out = try OutputFile.open(common.output, binary: false, inputs: [input])
        let show: FrameKind
        if let kind {
            guard let k = FrameKind.allCases.first(where: { $0.isData && $0.description.lowercased() == kind.lowercased() }) else {
                throw ToolError.usage("--kind: unknown record kind '\(kind)' (cell, gene, model, encoding, cellvec)")
            }
            show = k
        } else {
            show = stream.header.content
        }
        let h = stream.header
        if header { try out.write(Self.headerText(h)) }
        var wroteColumns = false
        func columns(_ dim: Int) throws {
            if wroteColumns { return }
            wroteColumns = true
            switch show {
            case .cell: try out.write("barcode\tgene\tvalue\ttoken\n")
            case .gene: try out.write("gene\tweight\tknown" + (0..<dim).map { "\te\($0)" }.joined() + "\n")
            case .model: try out.write("tensor\trow\tvalues\n")
            case .encoding: try out.write("barcode\tposition" + (0..<dim).map { "\te\($0)" }.joined() + "\n")
            case .cellVector: try out.write("barcode" + (0..<dim).map { "\te\($0)" }.joined() + "\n")
            default: break
            }
        }
        while let raw = try stream.nextRaw() {
            guard raw.kind == show else { continue }
            var line = ""
            switch try stream.decode(raw) {
            case .cells(let flags, let cells):
                try columns(0)
                for c in cells {
                    for i in 0..<c.genes.count {
                        line.removeAll(keepingCapacity: true)
                        line += c.barcode; line += "\t"; line += h.genes[Int(c.genes[i])].symbol
                        line += "\t"; line += c.values[i].description; line += "\t"
                        line += flags.contains(.tokens) ? String(c.tokens[i]) : "."
                        line += "\n"
                        try out.write(line)
                    }
                }
            case .genes(let dim, let genes):
                try columns(dim)
                for g in genes {
                    line = h.genes[Int(g.gene)].symbol + "\t" + g.weight.description + "\t" + (g.known ? "1" : "0")
                    let w = g.weight == 0 ? 0 : Float(1 / g.weight)
                    for v in g.sum { line += "\t"; line += (v * w).description }
                    try out.write(line + "\n")
                }
            case .model(let tensors):
                try columns(0)
                for t in tensors {
                    let rows = t.shape.count >= 2 ? t.shape[0] : 1
                    let width = rows == 0 ? 0 : t.data.count / rows
                    for r in 0..<rows {
                        let label = (t.shape.count >= 2 && t.shape[0] == h.genes.count) ? h.genes[r].symbol : String(r)
                        line = t.name + "\t" + label
                        for v in t.data[(r * width)..<((r + 1) * width)] { line += "\t"; line += v.description }
                        try out.write(line + "\n")
                    }
                }
            case .encodings(let dim, let encs):
                try columns(dim)
                for e in encs {
                    for (i, p) in e.positions.enumerated() {
                        line = e.barcode + "\t" + String(p)
                        for v in e.values[(i * dim)..<((i + 1) * dim)] { line += "\t"; line += v.description }
                        try out.write(line + "\n")
                    }
                }
            case .cellVectors(let dim, let cells):
                try columns(dim)
                for c in cells {
                    line = c.barcode
                    for v in c.vector { line += "\t"; line += v.description }
                    try out.write(line + "\n")
                }
            }
        }
        try columns(0)
        try out.commit()
    }

    static func headerText(_ h: StreamHeader) -> String {
        var s = "#content\t\(h.content)\n#genes\t\(h.genes.count)\n"
        if !h.vocabulary.isEmpty {
            let mapped = h.vocabularyIndex.filter { $0 >= 0 }.count
            s += "#vocabulary\t\(h.vocabulary.count)\tmapped\t\(mapped)\n"
        }
        for (k, v) in h.metadata { s += "#meta\t\(k)\t\(v)\n" }
        for p in h.provenance { s += "#tool\t\(p.tool)\t\(p.version)\t\(p.commandLine)\n" }
        return s
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a stream: exit 0 if it is whole and well formed, else 65 with the reason.",
        discussion: """
            Checks every frame's magic, version, CRCs and size, decodes every payload, checks \
            that each stream starts with HEAD and ends with an END whose counts match, and that \
            concatenated streams share one gene list.
            """)

    @Argument(help: "Input stream, or - for standard input.") var input = "-"
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        try requireInput(input, Check.self)
        let stream = try StreamReader(path: input)
        var frames = 0
        var records = 0
        while let raw = try stream.nextRaw() {
            _ = try stream.decode(raw)
            frames += 1
            records += recordCount(ofPayload: raw.payload)
        }
        let out = try OutputFile.open(common.output, binary: false, inputs: [input])
        try out.write("\(stream.name): ok: \(stream.shardHeaders.count) stream(s), \(stream.header.content) content, "
                      + "\(stream.header.genes.count) genes, \(frames) data frames, \(records) records\n")
        try out.commit()
    }
}

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge streams (concatenated or in several files) into one stream.",
        discussion: """
            All inputs must describe the same dataset (same genes, same vocabulary). The output \
            has the first HEAD (with this command added to its provenance), every data frame \
            copied byte for byte, and one END.
            """)

    @Argument(help: "Input streams; - or none for standard input.") var inputs: [String] = []
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let paths = inputs.isEmpty ? ["-"] : inputs
        if paths == ["-"] { try requireInput("-", Cat.self) }
        var writer: FrameWriter?
        // The same rules the reader applies to concatenated streams, across the files.
        var rules: ShardRules?
        for path in paths {
            let stream = try StreamReader(path: path)
            do {
                if let rules {
                    try rules.admit(stream.header, at: "its stream (against \(paths[0]))")
                } else {
                    rules = ShardRules(first: stream.header)
                    var h = stream.header
                    h.appendProvenance()
                    writer = try FrameWriter(try OutputFile.open(common.output, binary: true, inputs: paths), header: h)
                }
                while let raw = try stream.nextRaw() {
                    try rules!.admit(frame: raw)
                    try writer!.copy(raw)
                }
            } catch let e as FrameError {
                throw ToolError.data(stream.name, e.description)
            }
        }
        try writer!.finish()
    }
}
