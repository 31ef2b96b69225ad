// Fuzz target `pickle`: a byte string run through the restricted pickle machine that reads a
// checkpoint's data.pkl (its opcodes, stack and memo, the allowed globals, tensor rebuilds).
// It must return a value or throw a PickleError; nothing in it may run code or trap.

import Foundation
import ToolKit
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    expectToolError("pickle") {
        do { _ = try Pickle.load(UnsafeRawBufferPointer(start: data, count: size)) } catch is PickleError {}
    }
    return 0
}
