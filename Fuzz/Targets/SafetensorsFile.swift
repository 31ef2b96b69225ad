// Fuzz target `safetensors`: a byte string read as a safetensors file (header length, JSON
// header, dtypes, shapes and data offsets against the file).

import Foundation
import ToolKit
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    expectToolError("safetensors") {
        _ = try Safetensors.decode(UnsafeRawBufferPointer(start: data, count: size), name: "fuzz.safetensors")
    }
    return 0
}
