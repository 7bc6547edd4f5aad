import Foundation
import Quiver
import Testing

/// `quiver index build --encoding`, `index stats`, `query --candidates`, `inspect` quality,
/// `index retrain`, `index drop --encoding`, `verify`, and `bench queries` on an encoded store.
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
}
