// GeneSelection: which input genes become the dataset genes (--keep-genes, --tfs,
// --top-variable), and the highly-variable-gene statistics behind --top-variable.
//
// Without a selection every input gene is a dataset gene. With one, the dataset genes are the
// union of the genes named in --keep-genes, those named in --tfs and the N most highly variable
// genes, in input order. Names are matched against the input genes' symbols (after make_unique)
// and ids, ignoring ASCII case. Cell totals are not affected: they are taken over every input
// gene of the vocabulary, before the selection (as scanpy normalises before subsetting).
//
// Highly variable genes are chosen as scanpy's `highly_variable_genes(adata, n_top_genes=N)`
// (flavour `seurat`) after `normalize_total(target_sum=TARGET)` and `log1p` (natural log), over
// every cell that --min-genes keeps:
//   d = ln(1 + c / (T_all / TARGET)), T_all the cell's total over ALL input genes (counts input),
//       d = the value (ln input) or value · ln 2 (log2 input);
//   per gene over the C cells, x = expm1(d): mean m, variance s² (ddof 1), dispersion s²/m
//       (m = 0 → m = 1e-12; a dispersion of 0 is undefined);
//   mean' = ln(1 + m), dispersion' = ln(dispersion);
//   genes binned by mean' into 20 equal-width bins (pandas.cut: range [min, max], the lowest
//       edge lowered by 0.1% of the range, intervals closed on the right);
//   per bin, the mean and standard deviation (ddof 1) of the defined dispersions'; a bin with
//       one defined dispersion (no deviation) gets mean 0 and deviation = its mean, i.e. that
//       gene's normalised dispersion is 1;
//   normalised dispersion z = (dispersion' − bin mean) / bin deviation;
//   kept: every gene whose z ≥ the N-th highest defined z (ties at the cut are all kept; all
//       genes with a defined z when fewer than N have one).

import Foundation
import ToolKit

/// Per input gene, the running sums of x = expm1(d) over cells, for the highly variable genes.
final class GeneStatistics {
    let targetSum: Double
    let scale: InputScale
    var sum: [Double]
    var sumOfSquares: [Double]
    var cells = 0

    init(geneCount: Int, targetSum: Double, scale: InputScale) {
        self.targetSum = targetSum
        self.scale = scale
        sum = [Double](repeating: 0, count: geneCount)
        sumOfSquares = [Double](repeating: 0, count: geneCount)
    }

    /// Adds one cell: N input gene indices and their raw values (counts or log values).
    func add(genes: UnsafeBufferPointer<UInt32>, values: CellNormaliser.Values) {
        cells += 1
        var raw = [Double](repeating: 0, count: genes.count)
        switch values {
        case .counts(let c): for i in 0..<genes.count { raw[i] = Double(c[i]) }
        case .values(let v): for i in 0..<genes.count { raw[i] = v[i] }
        }
        if scale == .counts {
            var total = 0.0
            for x in raw { total += x }
            guard total > 0 else { return }
            let per = total / targetSum
            for i in 0..<raw.count {
                let x = expm1(log1p(raw[i] / per))
                sum[Int(genes[i])] += x
                sumOfSquares[Int(genes[i])] += x * x
            }
        } else {
            let toLn = scale.toLn
            for i in 0..<raw.count {
                let x = expm1(raw[i] * toLn)
                sum[Int(genes[i])] += x
                sumOfSquares[Int(genes[i])] += x * x
            }
        }
    }

    /// scanpy's normalised dispersion per gene (NaN where it is undefined); see the file header.
    func normalisedDispersions(bins: Int = 20) -> [Double] {
        let n = Double(cells)
        let g = sum.count
        var means = [Double](repeating: 0, count: g)
        var dispersions = [Double](repeating: .nan, count: g)
        for i in 0..<g {
            var m = n > 0 ? sum[i] / n : 0
            let variance = n > 1 ? max(0, (sumOfSquares[i] - n * m * m) / (n - 1)) : 0
            if m == 0 { m = 1e-12 }
            let d = variance / m
            dispersions[i] = d == 0 ? .nan : log(d)
            means[i] = log1p(m)
        }
        // Equal-width bins over the range of the means (pandas.cut with `bins` bins).
        let lo = means.min() ?? 0, hi = means.max() ?? 0
        // As numpy.linspace computes them: i · step + lo, the last edge exactly hi.
        let step = (hi - lo) / Double(bins)
        var edges = (0...bins).map { Double($0) * step + lo }
        edges[bins] = hi
        if hi > lo {
            edges[0] -= (hi - lo) * 0.001
        } else {
            // pandas widens an empty range by 0.1% on both sides.
            let adj = lo != 0 ? abs(lo) * 0.001 : 0.001
            edges = (0...bins).map { (lo - adj) + 2 * adj * Double($0) / Double(bins) }
        }
        let bin = means.map { m -> Int in
            // pandas: the number of edges strictly below m, minus one (intervals (a, b]).
            var k = 0
            while k < edges.count && edges[k] < m { k += 1 }
            return min(max(k - 1, 0), bins - 1)
        }
        var binSum = [Double](repeating: 0, count: bins)
        var binCount = [Int](repeating: 0, count: bins)
        for i in 0..<g where !dispersions[i].isNaN {
            binSum[bin[i]] += dispersions[i]
            binCount[bin[i]] += 1
        }
        var binMean = (0..<bins).map { binCount[$0] > 0 ? binSum[$0] / Double(binCount[$0]) : .nan }
        var binDeviation = [Double](repeating: 0, count: bins)
        var squares = [Double](repeating: 0, count: bins)
        for i in 0..<g where !dispersions[i].isNaN {
            let d = dispersions[i] - binMean[bin[i]]
            squares[bin[i]] += d * d
        }
        for b in 0..<bins {
            binDeviation[b] = binCount[b] > 1 ? sqrt(squares[b] / Double(binCount[b] - 1)) : .nan
            if binDeviation[b].isNaN {
                // scanpy: a bin without a deviation gets deviation = its mean and mean 0.
                binDeviation[b] = binMean[b]
                binMean[b] = 0
            }
        }
        return (0..<g).map { (dispersions[$0] - binMean[bin[$0]]) / binDeviation[bin[$0]] }
    }

    /// The input genes scanpy would flag highly variable with n_top_genes = `top`.
    func highlyVariable(top: Int) -> [Bool] {
        let z = normalisedDispersions()
        var defined = z.filter { !$0.isNaN }
        if defined.isEmpty { return [Bool](repeating: false, count: z.count) }
        defined.sort(by: >)
        let cut = defined[min(top, defined.count) - 1]
        return z.map { !$0.isNaN && $0 >= cut }
    }
}

struct GeneSelection {
    /// The kept input genes, ascending.
    var kept: [Int]
    /// Per input gene, its dataset gene index or −1.
    var outputIndex: [Int32]
    /// One line for the HEAD's `selection` metadata and stderr.
    var summary: String

    /// Reads a list of gene names: one per line, the first tab- or comma-separated field, blank
    /// lines and `#` comments skipped.
    static func readNames(path: String) throws -> [String] {
        let reader = try ByteReader.open(path)
        var names: [String] = []
        while let line = try reader.nextLine() {
            let field = line.split(whereSeparator: { $0 == 0x09 || $0 == 0x2C }).first.map { Array($0) } ?? []
            let name = DenseTableReader.name(field)
            if name.isEmpty || name.hasPrefix("#") { continue }
            names.append(name)
        }
        return names
    }

    /// The input genes named in a list file (symbol or id, ignoring ASCII case).
    /// - Returns: per input gene whether it is named, and how many names matched no gene.
    static func match(path: String, genes: GeneTable) throws -> (named: [Bool], unmatched: Int, names: Int) {
        let names = try readNames(path: path)
        var byName: [String: [Int]] = [:]
        for (i, gene) in genes.genes.enumerated() {
            byName[VocabularyMap.asciiUppercased(gene.symbol), default: []].append(i)
            if !gene.id.isEmpty && gene.id != gene.symbol { byName[VocabularyMap.asciiUppercased(gene.id), default: []].append(i) }
        }
        var named = [Bool](repeating: false, count: genes.genes.count)
        var unmatched = 0
        for name in names {
            if let hits = byName[VocabularyMap.asciiUppercased(name)] {
                for i in hits { named[i] = true }
            } else {
                unmatched += 1
            }
        }
        return (named, unmatched, names.count)
    }

    /// Combines the lists and the highly variable genes into the selection.
    /// - Throws: ToolError.badInput when a list names no input gene, or nothing is selected.
    static func make(settings: TokenizeSettings, genes: GeneTable, statistics: GeneStatistics?) throws -> GeneSelection {
        let g = genes.genes.count
        var keep = [Bool](repeating: false, count: g)
        var parts: [String] = []
        for (option, path) in [("--keep-genes", settings.keepGenesPath), ("--tfs", settings.tfsPath)] {
            guard let path else { continue }
            let (named, unmatched, total) = try match(path: path, genes: genes)
            let found = named.reduce(0) { $0 + ($1 ? 1 : 0) }
            if found == 0 {
                throw ToolError.data(path, "none of its \(total) names is an input gene (\(option) keeps genes by symbol or id)")
            }
            Diagnostics.note("\(option) \(path): \(found) input genes kept; \(unmatched) of its \(total) names are not input genes")
            for i in 0..<g where named[i] { keep[i] = true }
            parts.append("\(option == "--tfs" ? "tfs" : "keep-genes") \(found)")
        }
        if let top = settings.topVariable, let statistics {
            let hv = statistics.highlyVariable(top: top)
            let found = hv.reduce(0) { $0 + ($1 ? 1 : 0) }
            if found == 0 {
                throw ToolError.data(settings.inputName, "no gene varies across the \(statistics.cells) cells: no highly variable gene to keep")
            }
            if found != top {
                Diagnostics.note("--top-variable \(top): \(found) genes kept (\(found > top ? "ties at the cut" : "fewer genes have a defined dispersion"))")
            }
            let new = (0..<g).filter { hv[$0] && !keep[$0] }.count
            for i in 0..<g where hv[i] { keep[i] = true }
            parts.append("top-variable \(found) (\(new) not in the lists)")
        }
        let kept = (0..<g).filter { keep[$0] }
        var outputIndex = [Int32](repeating: -1, count: g)
        for (k, i) in kept.enumerated() { outputIndex[i] = Int32(k) }
        let summary = "\(kept.count) of \(g) input genes: " + parts.joined(separator: ", ")
        return GeneSelection(kept: kept, outputIndex: outputIndex, summary: summary)
    }
}

/// Barcodes for a pass that writes nothing (the statistics pass of --top-variable).
final class NoBarcodes: BarcodeSource {
    func nextBytes() throws -> UnsafeBufferPointer<UInt8>? { UnsafeBufferPointer(start: nil, count: 0) }
    func finish(cells: Int) throws {}
}
