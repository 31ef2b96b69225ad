// swift-tools-version: 6.1
// scgrn: gene regulatory networks from single-cell RNA-seq, as a pipeline of small tools.
import PackageDescription

let package = Package(
    name: "scgrn",
    products: [
        .executable(name: "tokenize", targets: ["tokenize"]),
        .executable(name: "embed", targets: ["embed"]),
        .executable(name: "graphify", targets: ["graphify"]),
        .executable(name: "score", targets: ["score"]),
        .executable(name: "frames", targets: ["frames"]),
        .executable(name: "pretrain", targets: ["pretrain"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // ISA-L's igzip inflates gzip inputs about three times faster than zlib (zlib still writes).
        .systemLibrary(
            name: "CIsal", path: "Sources/CIsal", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        // The Performer's element-wise hot loops, compiled per instruction set, chosen at run time.
        .target(name: "CKernels"),
        .target(
            name: "Shared",
            dependencies: [
                "COpenBLAS", "CZlib", "CIsal", "CKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "tokenize", dependencies: ["Shared"]),
        .executableTarget(name: "embed", dependencies: ["Shared"]),
        .executableTarget(name: "graphify", dependencies: ["Shared"]),
        .executableTarget(name: "score", dependencies: ["Shared"]),
        .executableTarget(name: "frames", dependencies: ["Shared"]),
        .executableTarget(name: "pretrain", dependencies: ["Shared"]),
        // Benchmark driver for the training engine (bench/engine_bench.sh); not a pipeline tool.
        .executableTarget(name: "scgrn-bench", dependencies: ["Shared"], path: "bench/engine-bench"),
        // Test helpers shared by every test target (fixtures, running the tools, .npy, closeness).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"], path: "Tests/SharedTests"),
        .testTarget(name: "FramesTests", dependencies: ["Shared", "TestSupport", "frames"], path: "Tests/FramesTests"),
        .testTarget(name: "TokenizeTests", dependencies: ["Shared", "TestSupport", "tokenize"], path: "Tests/TokenizeTests"),
        .testTarget(name: "EmbedTests", dependencies: ["Shared", "TestSupport", "embed"], path: "Tests/EmbedTests"),
        .testTarget(name: "GraphifyTests", dependencies: ["Shared", "TestSupport", "graphify"], path: "Tests/GraphifyTests"),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport"], path: "Tests/PipelineTests"),
        .testTarget(name: "ScoreTests", dependencies: ["Shared", "TestSupport", "score"], path: "Tests/ScoreTests"),
        .testTarget(name: "PretrainTests", dependencies: ["Shared", "TestSupport", "pretrain"], path: "Tests/PretrainTests"),
    ],
    swiftLanguageModes: [.v5]
)
