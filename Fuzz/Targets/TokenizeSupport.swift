// What the tokenize fuzz targets share: the settings of a plain `tokenize` run and an output
// that discards the frames.

import Foundation
@testable import ToolKit
@testable import tokenize

/// The settings `tokenize INPUT` runs with (its option defaults), single-threaded.
func fuzzSettings(forceBuffer: Bool = false) -> TokenizeSettings {
    TokenizeSettings(vocabPath: nil, genesPath: nil, barcodesPath: nil, layout: nil, geneKey: .symbol,
                     matchCase: .exact, featureType: "Gene Expression", inputScale: .counts, bins: 5,
                     targetSum: 10_000, minGenes: 0, keepCounts: true, forceBuffer: forceBuffer,
                     prefetch: false, shard: nil)
}

/// One output for every input, writing to /dev/null (its commit only flushes); kept rather than
/// made per input, which would allocate its 1 MB buffer each time.
nonisolated(unsafe) let sharedNullOutput = OutputFile(name: "/dev/null", fd: open("/dev/null", O_WRONLY),
                                                       finalPath: nil, tempPath: nil, target: nil)

func nullOutput() -> OutputFile { sharedNullOutput }
