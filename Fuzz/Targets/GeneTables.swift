// Fuzz target `genetables`: a byte string read as the per-gene files graphify and pretrain take
// besides expression — a gene vector table (gene2vec's text format: `--gene-features`, the
// knowledge table of `--contrast`, `pretrain --gene2vec`), with its width free and fixed, its rows
// then looked up for a few genes; and a GMT gene-set file (`--contrast go` or FILE.gmt). Read from
// memory through the 4 KB reader (gzip detected as the tools detect it).

import Foundation
@testable import ToolKit

let genes = ["TP53", "MYC", "Gata1", "SPI1", "cebpa", "Ébc1"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for width in [nil, 4] as [Int?] {
        expectToolError("genetables") {
            let table = try GeneTable.read(try fuzzReader(bytes, name: "fuzz.txt"), width: width)
            let (values, found) = table.rows(for: genes, ignoringCase: true)
            precondition(values.count == genes.count * table.width && found <= genes.count && values.allSatisfy(\.isFinite),
                         "genetables: rows of the wrong size, or a value that is not finite")
        }
    }
    expectToolError("genetables") {
        var next: Int32 = 0
        let sets = try GeneSetFile.forEachSet(try fuzzReader(bytes, name: "fuzz.gmt")) { set, fields in
            precondition(set == next, "genetables: set \(set) handed over where \(next) was due")
            precondition(fields.allSatisfy { !$0.isEmpty && !$0.contains(0x09) && !$0.contains(0x0A) },
                         "genetables: a gene field that is empty or holds a separator")
            next += 1
        }
        precondition(sets == next, "genetables: \(sets) sets counted, \(next) handed over")
    }
    return 0
}
