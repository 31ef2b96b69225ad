// Fuzz target `checkpoint`: a byte string read as a PyTorch checkpoint (torch.save's zip):
// the zip directory (end records, zip64, member bounds), the data.pkl and storage CRCs, the
// pickle and the tensors' shapes, strides and offsets against their storages. A mutation
// rarely keeps data.pkl's CRC intact, so the `pickle` target reaches the pickle machine
// directly.

import Foundation
import ToolKit
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    expectToolError("checkpoint") {
        _ = try TorchCheckpoint.decode(UnsafeRawBufferPointer(start: data, count: size), name: "fuzz.pth")
    }
    return 0
}
