// swift-tools-version: 6.2
import PackageDescription

// Module layering (checked by Tools/scripts/check-imports.sh):
//   QuiverKernels  <- CQuiverKernels (SIMD distance kernels, dispatched once per process)
//   QuiverStorage  <- CLMDB, CLZ4 (bytes only: environment, transactions, tables, compression)
//   QuiverFiles    <- Foundation (readers and writers for .npy, .fvecs/.bvecs/.ivecs, JSON Lines, TSV/CSV)
//   Quiver         <- QuiverStorage, QuiverKernels (the engine and the public API)
//   QuiverCLI      <- Quiver, QuiverFiles, ArgumentParser (the `quiver` admin tool)
let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Quiver", targets: ["Quiver"]),
        .library(name: "QuiverFiles", targets: ["QuiverFiles"]),
        .executable(name: "quiver", targets: ["QuiverCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB", pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(
            name: "CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .target(name: "CQuiverKernels"),
        .target(name: "QuiverKernels", dependencies: ["CQuiverKernels"]),
        .target(name: "QuiverStorage", dependencies: ["CLMDB", "CLZ4"]),
        .target(name: "QuiverFiles"),
        .target(name: "Quiver", dependencies: ["QuiverStorage", "QuiverKernels"]),
        .executableTarget(
            name: "QuiverCLI",
            dependencies: [
                "Quiver", "QuiverFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/quiver"),
        .target(
            name: "QuiverTestSupport", dependencies: ["Quiver", "QuiverKernels"],
            path: "Tests/QuiverTestSupport"),
        .testTarget(name: "QuiverKernelsTests", dependencies: ["QuiverKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "QuiverStorageTests", dependencies: ["QuiverStorage"]),
        .testTarget(name: "QuiverFilesTests", dependencies: ["QuiverFiles"]),
        .testTarget(
            name: "QuiverTests",
            dependencies: ["Quiver", "QuiverFiles", "QuiverTestSupport", "QuiverKernels", "QuiverStorage"]),
        .testTarget(name: "QuiverCLITests", dependencies: ["QuiverCLI", "Quiver"], path: "Tests/QuiverCLITests"),
    ]
)
