import Foundation
import Quiver
import Testing

/// `quiver index build --encoding`, `index stats`, `query --candidates`, `inspect` quality,
/// `index retrain`, `index drop --encoding`, `verify`, and `bench queries` on an encoded store;
/// `index build --encoding int8 --drop-floats`.
@Suite("quiver encodings")
struct EncodingCommandTests {
    @Test func buildQueryInspectRetrainDrop() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.createAndImport(fixture)
        let store = ["--store", "store.quiver"]

        for encoding in ["int8", "pq4", "ivfpq8x4"] {
            let build = try cli.run(["index", "build", "docs", "--encoding", encoding, "--quiet"] + store)
            #expect(build.status == 0, "\(encoding): \(build.stderr)")
            #expect(build.stdout.contains("built the \(encoding) encoding of docs"), "\(build.stdout)")
        }
        let stats = try #require(try cli.run(["index", "stats", "docs", "--json"] + store).json() as? [String: Any])
        #expect(stats["index"] is NSNull)
        #expect((stats["encodings"] as? [[String: Any]])?.compactMap { $0["encoding"] as? String } == ["int8", "pq4", "ivfpq8x4"])

        // Each encoding finds the row itself first.
        for candidates in ["int8", "pq4", "ivfpq8x4", "floats", "auto"] {
            let hits = try cli.run(["query", "docs", "--vector-file", "base.fvecs", "--row", "7", "--k", "3", "--candidates", candidates, "--nprobe", "8"] + store)
            #expect(hits.status == 0, "\(candidates): \(hits.stderr)")
            #expect((try hits.json() as? [[String: Any]])?.first?["key"] as? Int == 7, "\(candidates)")
        }
        let missing = try cli.run(["query", "docs", "--vector-file", "base.fvecs", "--candidates", "binary"] + store)
        #expect(missing.status != 0 && missing.stderr.contains("encodingNotFound"), "\(missing.stderr)")

        let inspect = try #require(try cli.run(["inspect", "--json", "--quality-queries", "20"] + store).json() as? [String: Any])
        let encodings = try #require(((inspect["collections"] as? [[String: Any]])?.first?["encodings"]) as? [[String: Any]])
        for e in encodings {
            #expect((e["mean_squared_error"] as? Double).map { $0 >= 0 } == true, "\(e)")
            #expect((e["recall_of_codes_at_10"] as? Double).map { $0 > 0.3 } == true, "\(e)")
        }

        let retrain = try cli.run(["index", "retrain", "docs", "--encoding", "int8", "--quiet"] + store)
        #expect(retrain.status == 0 && retrain.stdout.contains("retrained the int8 encoding of docs on 300 rows"), "\(retrain.stdout)\(retrain.stderr)")
        #expect(try cli.run(["verify"] + store).stdout == "ok\n")
        #expect(try cli.run(["index", "drop", "docs", "--encoding", "pq4"] + store).status == 0)
        let after = try #require(try cli.run(["index", "stats", "docs", "--json"] + store).json() as? [String: Any])
        #expect((after["encodings"] as? [[String: Any]])?.count == 2)
        #expect(try cli.run(["index", "build", "docs", "--encoding", "pq5", "--quiet"] + store).status == 2)

        try cli.write("truth.ivecs", fixture.ivecs(queries: [7, 8], k: 10))
        try cli.write("queries.fvecs", fixture.fvecs(7..<9))
        let bench = try #require(try cli.run(["bench", "queries", "docs", "--queries", "queries.fvecs", "--truth", "truth.ivecs",
                                              "--candidates", "ivfpq8x4", "--nprobe", "8", "--oversample", "8"] + store).json() as? [String: Any])
        #expect((bench["recall_at_10"] as? Double).map { $0 >= 0.9 } == true, "\(bench)")
        #expect(bench["queries_per_second"] is Double || bench["queries_per_second"] is Int)
    }

    @Test func dropFloatsKeepsTheVectorsAsInt8() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.createAndImport(fixture)
        let store = ["--store", "store.quiver"]
        let prefixed = try cli.run(["index", "build", "docs", "--encoding", "pq4", "--drop-floats"] + store)
        #expect(prefixed.status != 0 && prefixed.stderr.contains("--drop-floats"), "\(prefixed.stderr)")
        let build = try cli.run(["index", "build", "docs", "--encoding", "int8", "--drop-floats", "--quiet"] + store)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("the float vectors are kept only as these codes"), "\(build.stdout)")

        let inspect = try #require(try cli.run(["inspect", "--json", "--quality-queries", "20"] + store).json() as? [String: Any])
        let docs = try #require((inspect["collections"] as? [[String: Any]])?.first)
        #expect(docs["floats_kept_as_int8"] as? Bool == true)
        #expect((docs["tables"] as? [String: Any])?["vectors.f32"] == nil, "\(docs["tables"] ?? "")")
        let int8 = try #require((docs["encodings"] as? [[String: Any]])?.first)
        #expect(int8["against_int8_floats"] as? Bool == true && int8["recall_of_codes_at_10"] as? Double == 1)

        // Queries (exact and through an index built afterwards) and export run on the codes.
        #expect(try cli.run(["index", "build", "docs", "--quiet"] + store).status == 0)
        for extra in [["--exact"], []] {
            let hits = try cli.run(["query", "docs", "--vector-file", "base.fvecs", "--row", "7", "--k", "3"] + extra + store)
            #expect(hits.status == 0, "\(hits.stderr)")
            #expect((try hits.json() as? [[String: Any]])?.first?["key"] as? Int == 7, "\(extra)")
        }
        #expect(try cli.run(["export", "docs", "out", "--format", "fvecs"] + store).status == 0)
        let exported = try Data(contentsOf: cli.folder.appendingPathComponent("out.fvecs"))
        let original = try Data(contentsOf: cli.folder.appendingPathComponent("base.fvecs"))
        #expect(exported.count == original.count)
        #expect(try cli.run(["verify"] + store).stdout == "ok\n")
        let drop = try cli.run(["index", "drop", "docs", "--encoding", "int8"] + store)
        #expect(drop.status == 2 && drop.stderr.contains("cannot be dropped"), "\(drop.stderr)")
    }
}
