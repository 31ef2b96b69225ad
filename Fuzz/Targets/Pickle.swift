// Fuzz target `pickle`: a byte string run through the restricted pickle machine that reads a
// checkpoint's data.pkl (its opcodes, stack and memo, the allowed globals, tensor rebuilds).
// It must return a value or throw a PickleError; nothing in it may run code or trap.

import Foundation
import ToolKit
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    do {
        _ = try Pickle.load(UnsafeRawBufferPointer(start: data, count: size))
    } catch is PickleError {
    } catch is ToolError {
    } catch {
        fatalError("pickle: an error that is neither a PickleError nor a ToolError: \(error)")
    }
    return 0
}
