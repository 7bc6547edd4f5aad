// swift-tools-version: 6.2
import PackageDescription

// The fuzz targets: one libFuzzer executable each, in `Sources/<Name>/<Name>.swift` (not
// main.swift), whose `LLVMFuzzerTestOneInput` hands the bytes to an `@_spi(Fuzzing)` entry
// point of the library. Seeds live in `Corpus/<Name>/`, crashers in `FailCases/<Name>/`
// (replayed by the unit tests). Build and run them with `Tools/scripts/fuzz.sh`.
//
// To add a target: add a line below naming it and the root products it uses, and create
// `Sources/<Name>/<Name>.swift` and `Corpus/<Name>/`.
let targets: [(name: String, products: [String])] = [
    ("FuzzJSON", ["QuiverFiles"]),  // JSON parser, float arrays, JSON Lines records and documents
    ("FuzzNpy", ["QuiverFiles"]),  // .npy header and rows, token offsets, token matrices
    ("FuzzVecs", ["QuiverFiles"]),  // .fvecs, .bvecs, .ivecs
    ("FuzzTable", ["QuiverFiles"]),  // TSV, CSV and JSON Lines metadata tables
    ("FuzzFilter", ["Quiver"]),  // filter text parser, printer and schema validation
    ("FuzzRecordCodec", ["Quiver"]),  // stored records, posting containers, key codecs
    ("FuzzHNSW", ["Quiver"]),  // graph upkeep: upserts, deletes, builds, searches against exact
    ("FuzzMultiVector", ["Quiver"]),  // multi-vector documents: pooling, token space upkeep, MaxSim against a plain reference
]

let package = Package(
    name: "QuiverFuzz",
    dependencies: [.package(name: "Quiver", path: "..")],
    targets: targets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: target.products.map { .product(name: $0, package: "Quiver") },
            path: "Sources/\(target.name)")
    }
)
