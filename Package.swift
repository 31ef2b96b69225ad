// swift-tools-version: 6.1
// scgrn: gene regulatory networks from single-cell RNA-seq, as a pipeline of small tools.
//
// The libraries are layered; each depends only on those below it (docs/ARCHITECTURE.md):
//
//   Kernels        buffers, CRC-32, the seeded generator            (CIsal)
//   LinearAlgebra  the one file that calls BLAS, and its reference  (COpenBLAS)
//   ToolKit        errors, diagnostics, options, byte/gzip/output I/O, edge lists
//   Frames         the stream format: frames, records, the MODEL contract
//   Weights        pickle, zip, safetensors: checkpoints read as data
//   Engine         tensors, reverse-mode gradients, layers, optimisers
//   Models         Performer (scBERT), Exceiver, the graph network
//   Metrics        ranking metrics (AUROC, AUPRC, EPR)
//
// Each tool names the libraries it uses; tokenize and frames link no BLAS.
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "scgrn",
    products: [
        .executable(name: "tokenize", targets: ["tokenize"]),
        .executable(name: "embed", targets: ["embed"]),
        .executable(name: "graphify", targets: ["graphify"]),
        .executable(name: "score", targets: ["score"]),
        .executable(name: "frames", targets: ["frames"]),
        .executable(name: "pretrain", targets: ["pretrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // zlib is the reference gzip encoder of the tests (ISA-L inflates the tools' inputs).
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // ISA-L's igzip inflates gzip inputs about three times faster than zlib; its CRC-32 too.
        .systemLibrary(
            name: "CIsal", path: "Sources/CIsal", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        // libhdf5 reads AnnData .h5ad, loom and 10x .h5 inputs (tokenize only).
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        // Element-wise hot loops and the MatrixMarket line scanner, compiled per instruction set,
        // chosen at run time.
        .target(name: "CKernels"),
        // Restarts a program on the OpenBLAS kernels of the CPU's instruction sets when OpenBLAS
        // does not know the CPU model (include/cblascore.h).
        .target(name: "CBLASCore", dependencies: ["COpenBLAS"]),

        .target(name: "Kernels", dependencies: ["CIsal"]),
        .target(name: "LinearAlgebra", dependencies: ["COpenBLAS", "CBLASCore"]),
        .target(name: "ToolKit", dependencies: ["Kernels", "CIsal", argumentParser]),
        .target(name: "Frames", dependencies: ["ToolKit", "Kernels"]),
        .target(name: "Weights", dependencies: ["ToolKit", "Kernels"]),
        .target(name: "Engine", dependencies: ["Weights", "ToolKit", "LinearAlgebra", "Kernels", "CKernels"]),
        .target(name: "Models", dependencies: ["Engine", "Weights", "ToolKit", "LinearAlgebra", "Kernels", "CKernels"]),
        .target(name: "Metrics"),

        .executableTarget(name: "tokenize", dependencies: ["Frames", "ToolKit", "Kernels", "CKernels", "CHDF5", argumentParser]),
        .executableTarget(name: "embed", dependencies: ["Models", "Frames", "Weights", "ToolKit", "LinearAlgebra", "Kernels", argumentParser]),
        .executableTarget(name: "graphify", dependencies: ["Models", "Engine", "Frames", "Metrics", "ToolKit", "LinearAlgebra", "Kernels", argumentParser]),
        .executableTarget(name: "score", dependencies: ["Frames", "Metrics", "ToolKit", "LinearAlgebra", "Kernels", argumentParser]),
        .executableTarget(name: "frames", dependencies: ["Frames", "ToolKit", "Kernels", argumentParser]),
        .executableTarget(name: "pretrain", dependencies: ["Models", "Engine", "Frames", "Weights", "ToolKit", "LinearAlgebra", "Kernels", argumentParser]),
        // Benchmark driver for the training engine (bench/engine_bench.sh); not a pipeline tool.
        .executableTarget(name: "scgrn-bench", dependencies: ["Models", "Engine", "Weights", "ToolKit", "LinearAlgebra", "Kernels"], path: "bench/engine-bench"),

        // Test helpers shared by every test target (fixtures, running the tools, .npy, closeness).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "LinearAlgebra", "CZlib", "TestSupport"], path: "Tests/KernelsTests"),
        .testTarget(name: "ToolKitTests", dependencies: ["ToolKit", "Kernels", "CZlib", "TestSupport"], path: "Tests/ToolKitTests"),
        .testTarget(name: "WeightsTests", dependencies: ["Weights", "ToolKit", "Kernels", "TestSupport"], path: "Tests/WeightsTests"),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "TestSupport"], path: "Tests/MetricsTests"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Models", "Weights", "ToolKit", "LinearAlgebra", "Kernels", "CKernels", "TestSupport"], path: "Tests/EngineTests"),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Engine", "Weights", "ToolKit", "LinearAlgebra", "Kernels", "CKernels", "TestSupport"], path: "Tests/ModelsTests"),
        .testTarget(name: "FramesTests", dependencies: ["Frames", "ToolKit", "Kernels", "TestSupport", "frames"], path: "Tests/FramesTests"),
        .testTarget(name: "TokenizeTests", dependencies: ["Frames", "ToolKit", "Kernels", "CKernels", "TestSupport", "tokenize"], path: "Tests/TokenizeTests"),
        .testTarget(name: "EmbedTests", dependencies: ["Models", "Frames", "Weights", "ToolKit", "Kernels", "LinearAlgebra", "TestSupport", "embed"], path: "Tests/EmbedTests"),
        .testTarget(name: "GraphifyTests", dependencies: ["Models", "Engine", "Frames", "ToolKit", "LinearAlgebra", "Kernels", "TestSupport", "graphify"], path: "Tests/GraphifyTests"),
        .testTarget(name: "ScoreTests", dependencies: ["Frames", "Metrics", "ToolKit", "Kernels", "TestSupport", "score"], path: "Tests/ScoreTests"),
        .testTarget(name: "PretrainTests", dependencies: ["Models", "Engine", "Frames", "Weights", "ToolKit", "Kernels", "TestSupport", "pretrain"], path: "Tests/PretrainTests"),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport"], path: "Tests/PipelineTests"),
    ],
    swiftLanguageModes: [.v5]
)
