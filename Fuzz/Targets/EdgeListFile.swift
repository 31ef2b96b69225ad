// Fuzz target `edgelist`: a byte string read as graphify and score read their edge files
// (labels, scores, ignored third column) and TF lists, then resolved against a small gene
// list. The readers take a path, so each input is written to a scratch file first (in /dev/shm
// when there is one).

import Foundation
import ToolKit

let scratchPath: String = {
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    atexit { unlink(scratchPath) }
    return (dir as NSString).appendingPathComponent("scgrn-fuzz-edgelist-\(getpid()).tsv")
}()

nonisolated(unsafe) let lookup = GeneLookup(["TP53", "MYC", "GATA1", "SPI1", "CEBPA", "Gata1"].enumerated().map {
    GeneName(symbol: $0.element, id: "ENSG0000000000\($0.offset)")
})

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Diagnostics.verbosity = -1
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "edgelist: cannot create \(scratchPath)")
    var off = 0
    while off < size {
        let w = write(fd, data + off, size - off)
        precondition(w > 0, "edgelist: cannot write \(scratchPath)")
        off += w
    }
    close(fd)
    for values in [EdgeValueColumn.labels, .scores, .ignored] {
        do {
            let table = try EdgeList.read(scratchPath, values: values)
            _ = try? table.resolve(lookup, what: "edge", required: false)
        } catch is ToolError {
        } catch {
            fatalError("edgelist: an error that is not a ToolError: \(error)")
        }
    }
    do {
        _ = try EdgeList.readTFs(scratchPath)
        _ = try? EdgeList.resolveTFs(scratchPath, lookup)
    } catch is ToolError {
    } catch {
        fatalError("edgelist: an error that is not a ToolError: \(error)")
    }
    return 0
}
