import Foundation
import Testing

@_spi(Fuzzing) @testable import QuiverFiles

/// Replays every saved fuzz failure (`Fuzz/FailCases/<Target>/`) and seed
/// (`Fuzz/Corpus/<Target>/`) through the fuzz targets' own entry points: each must return
/// (the entry points trap on any crash or broken invariant, which fails the run).
@Suite struct FuzzReplayTests {
    /// The repository's `Fuzz/` folder, found from this file (through symlinks).
    static let fuzzFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// What each target's `LLVMFuzzerTestOneInput` calls.
    static let entryPoints: [String: @Sendable ([UInt8]) -> Void] = [
        "FuzzJSON": {
            QuiverFilesFuzzing.json($0)
            QuiverFilesFuzzing.multiVectorJSONLines($0)
        },
        "FuzzNpy": {
            QuiverFilesFuzzing.npy($0)
            QuiverFilesFuzzing.multiVectorNpy($0)
        },
        "FuzzVecs": QuiverFilesFuzzing.vecs, "FuzzTable": QuiverFilesFuzzing.table,
    ]

    @Test(arguments: ["FuzzJSON", "FuzzNpy", "FuzzVecs", "FuzzTable"])
    func replaysFailCasesAndSeeds(target: String) throws {
        let entryPoint = try #require(FuzzReplayTests.entryPoints[target])
        var replayed = 0
        for folder in ["FailCases", "Corpus"] {
            let directory = FuzzReplayTests.fuzzFolder.appendingPathComponent(folder)
                .appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
                entryPoint(bytes)
                replayed += 1
            }
        }
        #expect(replayed > 0, "no seeds found in \(FuzzReplayTests.fuzzFolder.path)")
    }

    /// Short, hand-made inputs that hit the comparison paths of every entry point.
    @Test func entryPointsSurviveEdgeInputs() {
        let inputs: [[UInt8]] = [
            [], [0], [0x93], Array("\u{93}NUMPY".utf8), [0xFF, 0xFF, 0xFF, 0xFF], [1, 0, 0, 0],
            Array("{\"vector\":[1]}\n{\"vector\":[1,2]}".utf8), Array("a,b\n\"x".utf8),
            Array("[1e39]".utf8), Array("\"\\ud800\"".utf8), [0xEF, 0xBB, 0xBF],
            Array("{\"vectors\":[[1,2],[3,4]]}\n{\"vectors\":[[5,6]]}".utf8),
            Array("{\"vectors\":[[1,2],[3]]}".utf8), Array("{\"vectors\":[]}".utf8),
            Array("{\"vectors\":[[1]]}\n{\"vectors\":[[1,2]]}".utf8),
        ]
        for input in inputs {
            QuiverFilesFuzzing.json(input)
            QuiverFilesFuzzing.multiVectorJSONLines(input)
            QuiverFilesFuzzing.npy(input)
            QuiverFilesFuzzing.multiVectorNpy(input)
            QuiverFilesFuzzing.vecs(input)
            QuiverFilesFuzzing.table(input)
        }
    }
}
