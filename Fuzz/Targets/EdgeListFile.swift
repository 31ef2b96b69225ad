// Fuzz target `edgelist`: a byte string read as graphify and score read their edge files
// (labels, scores, ignored third column) and TF lists, then resolved against a small gene
// list. The bytes are read from memory through the readers the path-taking functions use once
// they have opened the file (gzip detected as there), so no input touches the file system.

import Foundation
@testable import ToolKit

nonisolated(unsafe) let lookup = GeneLookup(["TP53", "MYC", "GATA1", "SPI1", "CEBPA", "Gata1"].enumerated().map {
    GeneName(symbol: $0.element, id: "ENSG0000000000\($0.offset)")
})

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let name = "fuzz.tsv"
    for values in [EdgeValueColumn.labels, .scores, .ignored] {
        expectToolError("edgelist") {
            let table = try EdgeList.read(try fuzzReader(bytes, name: name), values: values)
            _ = try? table.resolve(lookup, what: "edge", required: false)
        }
    }
    expectToolError("edgelist") {
        let tfs = try EdgeList.readTFs(try fuzzReader(bytes, name: name))
        _ = try? EdgeList.resolveTFs(tfs, name: name, lookup)
    }
    return 0
}
