// Fuzz target `frames`: a byte string read as a frame stream (docs/FRAMES.md), as every tool
// reads its standard input: gzip detection, the frame reader (magic, header CRC, payload CRC,
// sizes), the stream structure (HEAD, shards, END counts) and every data frame's decoder.
// Every input must end in a decoded stream or a ToolError; anything else is a crash.

import Frames
import Foundation
import ToolKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    expectToolError("frames") {
        let stream = try StreamReader(try fuzzReader(bytes, name: "fuzz.sgrf"))
        while let frame = try stream.nextRaw() {
            _ = try stream.decode(frame)
        }
    }
    return 0
}
