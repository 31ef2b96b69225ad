// Fuzz target `dense`: a byte string read as tokenize reads a dense CSV or TSV count table
// (plain or gzip): header, layout detection, every row's values, the gene table and the cells
// written through a CellWriter to /dev/null — TokenizeRun.runDense as the tool runs it.

import Foundation
import Frames
@testable import ToolKit
@testable import tokenize

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    expectToolError("dense") {
        let reader = try fuzzReader(bytes, name: "fuzz.csv")
        if let header = try reader.nextLine().map({ Array($0) }) {
            let run = TokenizeRun(input: "fuzz.csv", settings: fuzzSettings(), output: nullOutput())
            try run.runDense(reader: reader, header: header)
        }
    }
    return 0
}
