import Foundation
import Quiver
import Testing

/// `quiver index build|drop|stats`, index-backed `quiver query`, `quiver bench ann`, and a
/// reader querying in a loop while another process builds.
@Suite("quiver index")
struct IndexCommandTests {
    @Test func buildStatsQueryVerifyDrop() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.createAndImport(fixture)

        let build = try cli.run(["index", "build", "docs", "--store", "store.quiver", "--m", "8", "--ef-construction", "64", "--threads", "2", "--quiet"])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("built the HNSW index of docs: 300 vectors"))

        let stats = try cli.run(["index", "stats", "docs", "--store", "store.quiver", "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let object = try #require(try stats.json() as? [String: Any])
        #expect(object["nodes"] as? Int == 300)
        #expect(object["m"] as? Int == 8)
        #expect(object["unreachable_nodes"] as? Int == 0)
        #expect((object["level0_degree_histogram"] as? [Int])?.count == 17)
        #expect((object["nodes_per_level"] as? [Int])?.first == 300)

        // The index answers the filtered query the exact scan answers (few rows pass: exact plan),
        // and an unfiltered query finds the row itself first.
        let row = (0..<fixture.rows).first { fixture.sections[$0] == "b" && fixture.sizes[$0] < 50 }!
        let filtered = try cli.run(["query", "docs", "--store", "store.quiver", "--vector-file", "base.fvecs", "--row", "\(row)",
                                    "--k", "5", "--filter", #"section == "b" and size < 50"#])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        let hits = try #require(try filtered.json() as? [[String: Any]])
        #expect(hits.compactMap { $0["key"] as? Int } == fixture.nearest(to: fixture.vector(row), section: "b", sizeBelow: 50, k: 5))
        let plain = try cli.run(["query", "docs", "--store", "store.quiver", "--vector-file", "base.fvecs", "--row", "\(row)", "--k", "3", "--ef-search", "100"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect((try plain.json() as? [[String: Any]])?.first?["key"] as? Int == row)

        #expect(try cli.run(["verify", "--store", "store.quiver"]).stdout == "ok\n")
        #expect(try cli.run(["index", "drop", "docs", "--store", "store.quiver"]).status == 0)
        let missing = try cli.run(["index", "stats", "docs", "--store", "store.quiver"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("indexNotFound"))
    }

    @Test func badParametersExitTwo() throws {
        let cli = try CLIHarness()
        try cli.createAndImport(Fixture())
        for arguments in [["--m", "1"], ["--m", "100"], ["--ef-construction", "2"], ["--prefix", "8"]] {
            let result = try cli.run(["index", "build", "docs", "--store", "store.quiver", "--quiet"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("invalidArgument"), "\(arguments): \(result.stderr)")
        }
        #expect(try cli.run(["index", "build", "nope", "--store", "store.quiver", "--quiet"]).status == 2)
    }

    @Test func benchAnnPrintsItsSchema() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.write("base.fvecs", fixture.fvecs())
        try cli.write("queries.fvecs", fixture.fvecs(0..<20))
        let result = try cli.run(["bench", "ann", "--base", "base.fvecs", "--queries", "queries.fvecs", "--metric", "l2",
                                  "--m", "8", "--ef-construction", "40", "--ef-search", "10,40", "--threads", "2",
                                  "--filter-selectivity", "0.01,0.5", "--plot", "curve.svg", "--json", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try result.json() as? [String: Any])
        #expect(report["base_vectors"] as? Int == 300)
        #expect(report["unreachable_nodes"] as? Int == 0)
        for key in ["build_seconds", "build_vectors_per_second", "index_bytes_per_vector", "open_to_first_result_ms"] {
            #expect(report[key] is Double || report[key] is Int, "\(key)")
        }
        let sweep = try #require(report["sweep"] as? [[String: Any]])
        #expect(sweep.map { $0["ef_search"] as? Int } == [10, 40])
        // Without --truth there is no recall; the SVG needs recall points, so it has no curve.
        #expect(sweep.allSatisfy { $0["recall_at_10"] is NSNull })
        let filtered = try #require(report["filtered"] as? [[String: Any]])
        #expect(filtered.count == 4)
        for entry in filtered {
            // Recall against the exact filtered scan: the tiny filter is planned exact (1.0).
            let recall = try #require(entry["recall_at_10"] as? Double)
            #expect(recall >= (entry["plan"] as? String == "exact" ? 1.0 : 0.9))
        }
        #expect(FileManager.default.fileExists(atPath: cli.path("curve.svg")))
    }

    @Test func readerQueriesWhileAnotherProcessBuilds() throws {
        let cli = try CLIHarness()
        let dimensions = 32
        let rows = 20_000
        var data = Data(capacity: rows * (dimensions + 1) * 4)
        var state: UInt64 = 7
        for _ in 0..<rows {
            withUnsafeBytes(of: Int32(dimensions).littleEndian) { data.append(contentsOf: $0) }
            for _ in 0..<dimensions {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                withUnsafeBytes(of: Float(Int64(state >> 40) - (1 << 23)) / Float(1 << 23)) { data.append(contentsOf: $0) }
            }
        }
        try data.write(to: URL(fileURLWithPath: cli.path("base.fvecs")))
        let load = try cli.run(["import", "c", "base.fvecs", "--store", "s.quiver", "--create", "--metric", "l2", "--quiet"])
        #expect(load.status == 0, "\(load.stderr)")

        let process = Process()
        process.executableURL = cli.binary
        process.arguments = ["index", "build", "c", "--store", "s.quiver", "--m", "16", "--ef-construction", "200", "--threads", "1", "--quiet"]
        process.currentDirectoryURL = cli.folder
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // While the other process builds, this one keeps querying the committed state: exact
        // answers until the index commits, then index answers; never an error.
        let db = try Database(path: cli.path("s.quiver"), configuration: .init(readOnly: true))
        let query = [Float](repeating: 0.1, count: dimensions)
        var during = 0
        var sawIndex = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let running = process.isRunning
            let (hits, indexed) = try db.read { tx in
                let c = try tx.collection("c")
                return (try c.search(query, k: 5), try c.indexParameters != nil)
            }
            #expect(hits.count == 5)
            if running { during += 1 }
            if indexed { sawIndex = true }
            if !running { break }
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(during > 0, "the build finished before a query ran during it")
        let indexed = try db.read { try $0.collection("c").indexParameters != nil }
        #expect(indexed || sawIndex)
        #expect(try db.verify().isEmpty)
    }
}
