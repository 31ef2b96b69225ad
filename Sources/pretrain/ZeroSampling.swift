// ZeroSampling: which of a cell's genes one training sequence holds (--zeros).
//
// scBERT reads every cell as the whole vocabulary (16,906 genes for its own), most of them zeros,
// so a step costs the same for a cell with 500 expressed genes as for one with 5,000. With zero
// sampling a sequence holds the cell's expressed genes (nonzero tokens), a seeded sample of its
// zero genes and scBERT's appended position, in vocabulary order; each row reads the position-table
// row of its own gene, so the model and its file are unchanged. Cost then grows with the expressed
// genes, not with the vocabulary. Masking chooses among the expressed genes only, as it always has,
// so the loss is taken on the same kind of positions.
//
//   all    every vocabulary gene (scBERT's full sequence; the default)
//   N      N zero genes per cell (all of them when the cell has fewer)
//   Rx     ⌈R × the cell's expressed genes⌉ zero genes (e.g. 1x: as many zeros as expressed genes)

import ArgumentParser
import Kernels

enum ZeroSampling: Equatable, ExpressibleByArgument, CustomStringConvertible {
    case all
    case count(Int)
    case ratio(Double)

    init?(argument: String) {
        if argument == "all" { self = .all; return }
        if argument.hasSuffix("x") {
            guard let r = Double(argument.dropLast()), r.isFinite, r >= 0, r <= 1e6 else { return nil }
            self = .ratio(r)
            return
        }
        guard let n = Int(argument), n >= 0 else { return nil }
        self = .count(n)
    }

    var description: String {
        switch self {
        case .all: return "all"
        case .count(let n): return String(n)
        case .ratio(let r): return (r == r.rounded() && r < 1e6 ? String(Int(r)) : String(r)) + "x"
        }
    }

    /// How many of `zeros` zero genes a cell with `expressed` expressed genes keeps.
    func keep(expressed: Int, zeros: Int) -> Int {
        switch self {
        case .all: return zeros
        case .count(let n): return min(n, zeros)
        case .ratio(let r): return min(zeros, Int((Double(expressed) * r).rounded(.up)))
        }
    }

    /// The vocabulary positions one sequence of the cell reads, ascending: its expressed genes, a
    /// sample of its zero genes (a partial Fisher–Yates over the zero positions, ascending, with
    /// draws from `rng`), and the appended last position of the row.
    func positions(_ row: ArraySlice<UInt8>, rng: inout Xoshiro256) -> [Int32] {
        let l = row.count, last = l - 1
        var zeros = [Int32](), expressed = 0
        zeros.reserveCapacity(l)
        for (p, t) in row.enumerated() where p < last {
            if t == 0 { zeros.append(Int32(p)) } else { expressed += 1 }
        }
        let k = keep(expressed: expressed, zeros: zeros.count)
        var chosen = [Bool](repeating: false, count: l)
        if k == zeros.count {
            for z in zeros { chosen[Int(z)] = true }
        } else {
            for i in 0..<k {
                let j = i + rng.int(below: zeros.count - i)
                zeros.swapAt(i, j)
                chosen[Int(zeros[i])] = true
            }
        }
        var out = [Int32]()
        out.reserveCapacity(expressed + k + 1)
        for (p, t) in row.enumerated() where p < last && (t != 0 || chosen[p]) { out.append(Int32(p)) }
        out.append(Int32(last))
        return out
    }
}
