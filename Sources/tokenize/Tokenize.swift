// tokenize: a count matrix in, CELL frames out (scBERT's normalisation and binning).
//
// This file holds the command line and the order of work: find the input's files, read the
// genes, map them onto the vocabulary, write the HEAD, then stream the cells through the
// normaliser into CELL frames. The readers (MatrixMarketReader, DenseTableReader), the gene and
// vocabulary handling (GeneTable, VocabularyMap) and the arithmetic (CellNormaliser) live in
// their own files. docs/TOKENIZE.md is the user's reference.

import ArgumentParser
import Foundation
import ToolKit

@main
struct Tokenize: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Turn a count matrix into CELL frames: normalised values and scBERT tokens per cell.",
        discussion: """
        INPUT is a 10x directory (v2: matrix.mtx, genes.tsv, barcodes.tsv; v3: the same names \
        gzipped, with features.tsv.gz), a MatrixMarket file (.mtx or .mtx.gz, with --genes and \
        --barcodes), a dense CSV or TSV table (gzipped or not), an HDF5 file (AnnData .h5ad, loom, \
        or Cell Ranger's .h5, v2 or v3), or - for standard input. Gzip and HDF5 are detected by \
        their magic bytes. An .h5ad gives X (--layer NAME: layers/NAME, or a path such as raw/X), \
        the var index or --var-column as gene names and the obs index as barcodes.

        Normalisation (scBERT, as scanpy's normalize_total + log1p(base=2)): a cell's total T is \
        the sum of its raw counts over the vocabulary genes (over all genes without --vocab); \
        every entry becomes v = log2(1 + c * TARGET / T) and token = min(floor(v), BINS), v in \
        float64. Genes outside the vocabulary keep their entries, normalised with the same T. \
        --input-scale log2 takes already log-normalised values as they are (BEELINE): \
        token = min(floor(v), BINS) and T = 0; --input-scale ln takes scanpy's log1p values, \
        ln(1 + x), as v = value * log2(e). Counts that are not integers draw a warning.

        Species: --species mouse maps mouse symbols onto a human vocabulary through the \
        mouse-human ortholog table shipped with scgrn (or --orthologs FILE), then by name \
        ignoring case; a warning when under 50% of the counts fall on vocabulary genes, and \
        exit 65 when no cell has a count on one.

        Gene selection: --keep-genes FILE, --tfs FILE and --top-variable N (scanpy's highly \
        variable genes, flavour seurat, on ln(1 + count * TARGET / total over all genes)) keep \
        the union of what they select as the dataset genes; totals still cover every vocabulary \
        gene. --top-variable reads a file input twice; standard input is refused unless it is a \
        genes-by-cells table (held in memory anyway).

        Policies:
          genes     every input gene is a dataset gene (a node of the network), in input order; \
        10x v3 features of another type than "Gene Expression" are dropped (--feature-type).
          duplicates  a symbol seen before is renamed SYMBOL-1, SYMBOL-2, ... (scanpy's \
        make_unique); only its first occurrence maps to the vocabulary.
          vocabulary  a gene maps to the vocabulary entry with its exact name (--match-case \
        exact, the default, as scanpy); --match-case insensitive also matches ignoring ASCII case \
        (mouse symbols against a human vocabulary). A vocabulary entry takes at most one gene: \
        the exact match, else the first case-insensitive one. Coverage is reported on stderr.
          empty cells  a cell with no counts over the vocabulary genes is written with T = 0 and \
        no entries (scanpy keeps such a cell with all tokens 0); --min-genes 1 drops it.
          values    counts must be finite and not negative; a zero entry is no entry; entries \
        given twice for one gene and cell are summed (as scipy does).

        Sharding: --shard I/N keeps the I-th of N contiguous blocks of cells (in input order), so \
        `tokenize --shard 1/2 x; tokenize --shard 2/2 x` concatenated hold the cells of one run \
        in the same order; the HEAD is the same but for its metadata and provenance. A \
        cells-by-genes table, whose cell count is not known in advance, is split round-robin.

        Memory: a MatrixMarket matrix whose entries are grouped by cell (as Cell Ranger writes \
        them) is streamed: memory does not grow with the number of cells. Any other order \
        (e.g. sorted by gene) is held in memory, about 28 bytes per nonzero entry, as is a dense \
        genes-by-cells table (about 28 bytes per nonzero value). A cells-by-genes table streams. \
        HDF5: a matrix stored by cell (h5ad CSR, 10x .h5) or dense (h5ad, loom) streams a block \
        of cells at a time; a CSC h5ad is held in memory (about 28 bytes per nonzero entry).

        Exit status: 0 success, 64 usage error, 65 malformed or inconsistent input (one line on \
        stderr naming the file, line and problem; the stream then has no END frame), 1 I/O failure.
        """,
        version: "tokenize " + scgrnVersion)

    static let examples = [
        "tokenize filtered_feature_bc_matrix/ --vocab models/default/genes.txt | embed | graphify -o model.sgrf",
        "tokenize ExpressionData.csv.gz --input-scale log2 -o cells.sgrf     # BEELINE, log2 already",
        "tokenize counts/ --shard 1/4 -o part1.sgrf                          # a quarter of the cells",
    ]

    @Argument(help: ArgumentHelp("10x directory, .mtx[.gz], CSV/TSV[.gz], .h5ad, .loom, 10x .h5, or - for standard input.", valueName: "INPUT"))
    var input: String = "-"

    @Option(help: ArgumentHelp("Model vocabulary: one gene symbol per line (scBERT's 16,906 genes).", valueName: "FILE"))
    var vocab: String?

    @Option(help: ArgumentHelp("Gene list for a lone .mtx: 10x genes.tsv/features.tsv layout or one name per line.", valueName: "FILE"))
    var genes: String?

    @Option(help: ArgumentHelp("Cell barcodes for a lone .mtx, one per line.", valueName: "FILE"))
    var barcodes: String?

    @Option(help: ArgumentHelp("Orientation of a dense table or lone .mtx: genes-by-cells or cells-by-genes (default: detected).", valueName: "LAYOUT"))
    var layout: Layout?

    @Option(help: ArgumentHelp("Which name of a gene to match against the vocabulary: symbol or id (Ensembl).", valueName: "KEY"))
    var geneKey: GeneKey = .symbol

    @Option(help: ArgumentHelp("Vocabulary matching: exact (default), or insensitive to ASCII case.", valueName: "MODE"))
    var matchCase: MatchCase?

    @Option(help: ArgumentHelp("Species of the input genes: human (matched to the vocabulary by name) or mouse (mapped onto the human vocabulary through the ortholog table).", valueName: "SPECIES"))
    var species: Species = .human

    @Option(help: ArgumentHelp("Mouse-human ortholog table for --species mouse (mouse<TAB>human<TAB>type; default: the one shipped with scgrn).", valueName: "FILE"))
    var orthologs: String?

    @Option(help: ArgumentHelp("Keep only these genes (one name per line; with --top-variable or --tfs, kept in addition).", valueName: "FILE"))
    var keepGenes: String?

    @Option(help: ArgumentHelp("Regulators to keep whatever their variability (one name per line): the TFs of BEELINE's 'TFs + N'.", valueName: "FILE"))
    var tfs: String?

    @Option(help: ArgumentHelp("Keep the N most highly variable genes (scanpy's highly_variable_genes, flavour seurat); reads the input twice.", valueName: "N"))
    var topVariable: Int?

    @Option(help: ArgumentHelp("Keep 10x v3 features of this type; 'all' keeps every feature.", valueName: "TYPE"))
    var featureType: String = "Gene Expression"

    @Option(help: ArgumentHelp("Scale of the input values: counts (normalise), log2 (log2(1+x), taken as they are) or ln (ln(1+x), as scanpy's log1p writes; converted to log2).", valueName: "SCALE"))
    var inputScale: InputScale = .counts

    @Option(help: ArgumentHelp("Highest token: token = min(floor(v), BINS).", valueName: "BINS"))
    var bins: Int = 5

    @Option(help: ArgumentHelp("Each cell's counts over the vocabulary genes are scaled to sum to this.", valueName: "SUM"))
    var targetSum: Double = 1e4

    @Option(help: ArgumentHelp("Drop cells with fewer than N nonzero vocabulary genes (scanpy's filter_cells).", valueName: "N"))
    var minGenes: Int = 0

    @Flag(help: "Carry each entry's raw value in the CELL frames (the counts field).")
    var keepCounts = false

    @Option(help: ArgumentHelp("Write only shard I of N of the cells (contiguous blocks in input order), for running the pipeline in pieces.", valueName: "I/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Longest text line accepted (at least 1 MiB); it also bounds a dense table's columns.", valueName: "BYTES"))
    var maxLineBytes: Int = ByteReader.defaultMaxLineBytes

    @Flag(help: "Hold a MatrixMarket matrix in memory instead of streaming it (for entries not grouped by cell).")
    var buffer = false

    @OptionGroup(title: "HDF5 inputs (.h5ad, .loom, 10x .h5)") var hdf5: HDF5Options

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if bins < 1 || bins > 255 { throw ValidationError("--bins must be between 1 and 255") }
        if !(targetSum > 0) || !targetSum.isFinite { throw ValidationError("--target-sum must be a positive number") }
        if minGenes < 0 { throw ValidationError("--min-genes must not be negative") }
        if maxLineBytes < 1 << 20 { throw ValidationError("--max-line-bytes must be at least 1048576 (1 MiB)") }
        if let shard, CellShard(shard) == nil { throw ValidationError("--shard takes I/N with 1 ≤ I ≤ N, e.g. --shard 2/4") }
        if let topVariable, topVariable < 1 { throw ValidationError("--top-variable must be at least 1") }
        if orthologs != nil && species != .mouse { throw ValidationError("--orthologs maps mouse genes: give it with --species mouse") }
        if species == .mouse && matchCase != nil {
            throw ValidationError("--match-case does not apply with --species mouse (orthologs first, then names ignoring case)")
        }
        if species == .mouse && geneKey == .id {
            throw ValidationError("--species mouse maps gene symbols: it cannot be used with --gene-key id")
        }
    }

    func run() throws {
        common.apply()
        ByteReader.maxLineBytes = maxLineBytes
        ByteReader.maxLineBytesOption = "--max-line-bytes"
        if input == "-" && isatty(0) != 0 && genes == nil {
            throw ToolError.usage("no input: give a 10x directory, an .mtx or a table (or pipe one in); see --help")
        }
        var orthologTable: String?
        if species == .mouse && vocab != nil {
            orthologTable = try orthologs ?? BundledData.require("data/orthologs/mouse_human.tsv", what: "the mouse–human ortholog table")
        }
        let settings = TokenizeSettings(
            vocabPath: vocab, genesPath: genes, barcodesPath: barcodes, layout: layout, geneKey: geneKey,
            matchCase: matchCase ?? .exact, featureType: featureType, inputScale: inputScale, bins: bins,
            targetSum: targetSum, minGenes: minGenes, keepCounts: keepCounts, forceBuffer: buffer,
            prefetch: common.threadCount > 1, shard: shard.flatMap(CellShard.init),
            species: species,
            inputName: input, orthologsPath: orthologTable, keepGenesPath: keepGenes, tfsPath: tfs, topVariable: topVariable)
        let inputs = [input, vocab, genes, barcodes, orthologs, keepGenes, tfs].compactMap { $0 }
        let output = try OutputFile.open(common.output, binary: true, inputs: inputs)
        try TokenizeRun(input: input, settings: settings, output: output, hdf5: hdf5.choices).run()
    }
}

// MARK: - Option values

enum Layout: String, ExpressibleByArgument, CaseIterable {
    case genesByCells = "genes-by-cells"
    case cellsByGenes = "cells-by-genes"
}

enum GeneKey: String, ExpressibleByArgument, CaseIterable {
    case symbol, id
}

enum MatchCase: String, ExpressibleByArgument, CaseIterable {
    case exact, insensitive
}

enum InputScale: String, ExpressibleByArgument, CaseIterable {
    case counts, log2, ln

    /// The factor that turns a log-scale input value into log2(1 + x): 1 for log2, log2(e) for
    /// ln (ln(1 + x) · log2(e) = log2(1 + x)); 1 for counts (unused).
    var toLog2: Double { self == .ln ? 1.4426950408889634 : 1 }

    /// The factor that turns a log-scale input value into ln(1 + x) (for --top-variable).
    var toLn: Double { self == .log2 ? 0.6931471805599453 : 1 }
}

enum Species: String, ExpressibleByArgument, CaseIterable {
    case human, mouse
}

/// Every choice the command line makes, in one value for the readers.
struct TokenizeSettings {
    var vocabPath: String?
    var genesPath: String?
    var barcodesPath: String?
    var layout: Layout?
    var geneKey: GeneKey
    var matchCase: MatchCase
    var featureType: String
    var inputScale: InputScale
    var bins: Int
    var targetSum: Double
    var minGenes: Int
    var keepCounts: Bool
    var forceBuffer: Bool
    var prefetch: Bool
    var shard: CellShard?
    var species: Species = .human
    /// The input as given (for messages).
    var inputName = "-"
    /// The ortholog table (--species mouse with a vocabulary).
    var orthologsPath: String?
    var keepGenesPath: String?
    var tfsPath: String?
    var topVariable: Int?

    /// Whether the dataset genes are a selection of the input's.
    var selects: Bool { keepGenesPath != nil || tfsPath != nil || topVariable != nil }
}
