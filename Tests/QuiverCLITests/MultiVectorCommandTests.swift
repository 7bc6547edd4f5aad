import Foundation
import Testing

/// Multi-vector collections through `quiver`: `import` from JSON Lines and from .npy + offsets
/// (with --create, pooling, --resume), `query --tokens` / `--tokens-file`, `inspect`, `verify`,
/// `index build` over the tokens, and `bench multivector`.
@Suite("quiver multi-vector")
struct MultiVectorCommandTests {
    static let dimensions = 8

    /// 30 documents of 2-12 unit tokens around 5 topics, deterministic (unit, so that dot and
    /// cosine agree and a document's own tokens score it highest).
    static func documents() -> [[[Float]]] {
        var state: UInt64 = 42
        func unit() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) * 2 - 1
        }
        let topics = (0..<5).map { _ in (0..<dimensions).map { _ in unit() } }
        return (0..<30).map { i in
            (0..<(2 + i % 11)).map { _ in
                let token = topics[i % 5].map { $0 + 0.4 * unit() }
                let norm = token.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return token.map { $0 / norm }
            }
        }
    }

    /// A version 1.0 .npy file: `descr` such as `<f4` or `<i8`, C order.
    static func npy(descr: String, shape: [Int], body: Data) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        out.append(UInt8(header.utf8.count & 0xFF))
        out.append(UInt8(header.utf8.count >> 8))
        out.append(contentsOf: Array(header.utf8))
        out.append(body)
        return out
    }

    static func tokenFiles(_ docs: [[[Float]]]) -> (tokens: Data, offsets: Data) {
        var floats = Data()
        var offsets = Data()
        var total: Int64 = 0
        withUnsafeBytes(of: total.littleEndian) { offsets.append(contentsOf: $0) }
        for doc in docs {
            for token in doc { for x in token { withUnsafeBytes(of: x.bitPattern.littleEndian) { floats.append(contentsOf: $0) } } }
            total += Int64(doc.count)
            withUnsafeBytes(of: total.littleEndian) { offsets.append(contentsOf: $0) }
        }
        return (npy(descr: "<f4", shape: [Int(total), dimensions], body: floats), npy(descr: "<i8", shape: [docs.count + 1], body: offsets))
    }

    static func json(_ tokens: [[Float]]) -> String {
        "[" + tokens.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
    }

    static func firstKey(_ result: CLIResult) throws -> Int? {
        (try result.json() as? [[String: Any]])?.first?["key"] as? Int
    }

    @Test func jsonLinesImportWithPoolingQueryInspectVerify() throws {
        let cli = try CLIHarness()
        let docs = Self.documents()
        let lines = docs.enumerated().map { i, d in
            "{\"id\": \(i), \"vectors\": \(Self.json(d)), \"metadata\": {\"topic\": \"t\(i % 5)\"}}"
        }.joined(separator: "\n") + "\n"
        try cli.write("docs.jsonl", Data(lines.utf8))
        let store = ["--store", "store.quiver"]
        let imported = try cli.run(["import", "docs", "docs.jsonl", "--create", "--kind", "multivector", "--pool-factor", "2",
                                    "--metric", "cosine", "--field", "topic:string", "--quiet"] + store)
        #expect(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(try imported.json() as? [String: Any])
        let before = docs.map(\.count).reduce(0, +)
        let pooled = docs.map { $0.count <= 1 ? $0.count : 1 + max(1, ($0.count - 1) / 2) }.reduce(0, +)
        #expect(summary["rows"] as? Int == docs.count)
        #expect(summary["tokens_read"] as? Int == before)
        #expect(summary["tokens_stored"] as? Int == pooled)

        let inspect = try #require(try cli.run(["inspect", "--json"] + store).json() as? [String: Any])
        let collection = try #require((inspect["collections"] as? [[String: Any]])?.first)
        let tokens = try #require(collection["tokens"] as? [String: Any])
        #expect(tokens["stored_tokens"] as? Int == pooled)
        #expect(tokens["tokens_before_pooling"] as? Int == before)
        #expect(tokens["vector_bytes"] as? Int == pooled * Self.dimensions * 4)
        #expect(((collection["schema"] as? [String: Any])?["pool_factor"]) as? Int == 2)

        // A document's own tokens find it first; a filter keeps only its topic.
        let hit = try cli.run(["query", "docs", "--tokens", Self.json(docs[12]), "--k", "3"] + store)
        #expect(hit.status == 0, "\(hit.stderr)")
        #expect(try Self.firstKey(hit) == 12)
        let filtered = try #require(try cli.run(["query", "docs", "--tokens", Self.json(docs[12]), "--k", "5", "--filter", "topic == \"t3\""] + store)
            .json() as? [[String: Any]])
        #expect(!filtered.isEmpty && filtered.allSatisfy { ($0["key"] as? Int).map { $0 % 5 == 3 } == true })
        #expect(try cli.run(["verify"] + store).stdout == "ok\n")

        // Export writes the stored (pooled) tokens and offsets; imported into a collection that
        // does not pool, they answer a query exactly as the original does.
        let export = try #require(try cli.run(["export", "docs", "out"] + store).json() as? [String: Any])
        #expect(export["rows"] as? Int == docs.count)
        #expect(export["tokens"] as? Int == pooled)
        let copy = try cli.run(["import", "copy", "out.npy", "--offsets", "out.offsets.npy", "--metadata", "out.jsonl", "--key-column", "id",
                                "--create", "--kind", "multivector", "--metric", "cosine", "--field", "topic:string", "--quiet"] + store)
        #expect(copy.status == 0, "\(copy.stderr)")
        // (Equal up to the last bit: the copy normalises the already unit tokens once more.)
        let original = try #require(try cli.run(["query", "docs", "--tokens", Self.json(docs[4]), "--k", "5"] + store).json() as? [[String: Any]])
        let copied = try #require(try cli.run(["query", "copy", "--tokens", Self.json(docs[4]), "--k", "5"] + store).json() as? [[String: Any]])
        #expect(original.count == 5 && original.compactMap { $0["key"] as? Int } == copied.compactMap { $0["key"] as? Int })
        for (a, b) in zip(original, copied) {
            #expect(abs((a["distance"] as? Double ?? 0) - (b["distance"] as? Double ?? 1)) < 1e-5)
        }

        // Ragged tokens: a typed error naming the line, nothing more written.
        try cli.write("bad.jsonl", Data("{\"id\": 99, \"vectors\": [[1,2,3,4,5,6,7,8],[1,2]]}\n".utf8))
        let bad = try cli.run(["import", "docs", "bad.jsonl", "--quiet"] + store)
        #expect(bad.status == 2 && bad.stderr.contains("dimensionMismatch: bad.jsonl:1:"), "\(bad.stderr)")
        let wrongQuery = try cli.run(["query", "docs", "--tokens", "[[1, 2]]"] + store)
        #expect(wrongQuery.status == 2 && wrongQuery.stderr.contains("dimensionMismatch"), "\(wrongQuery.stderr)")
    }

    @Test func npyImportResumeIndexAndTokenFileQueries() throws {
        let cli = try CLIHarness()
        let docs = Self.documents()
        let files = Self.tokenFiles(docs)
        try cli.write("tokens.npy", files.tokens)
        try cli.write("offsets.npy", files.offsets)
        let store = ["--store", "store.quiver"]
        #expect(try cli.run(["create", "docs", "--kind", "multivector", "--dimensions", "\(Self.dimensions)", "--metric", "dot"] + store).status == 0)
        let first = try cli.run(["import", "docs", "tokens.npy", "--offsets", "offsets.npy", "--batch-rows", "7", "--quiet"] + store)
        #expect(first.status == 0, "\(first.stderr)")
        #expect((try first.json() as? [String: Any])?["batches"] as? Int == 5)
        // --resume after a complete import skips every document and adds none.
        let again = try #require(try cli.run(["import", "docs", "tokens.npy", "--offsets", "offsets.npy", "--resume", "--quiet"] + store).json() as? [String: Any])
        #expect(again["rows"] as? Int == 0)
        #expect(again["records"] as? Int == docs.count)

        let queries = Self.tokenFiles([docs[3], docs[21]])
        try cli.write("q.npy", queries.tokens)
        try cli.write("qo.npy", queries.offsets)
        let exact = try cli.run(["query", "docs", "--tokens-file", "q.npy", "--token-offsets", "qo.npy", "--row", "1", "--k", "5"] + store)
        #expect(exact.status == 0, "\(exact.stderr)")
        #expect(try Self.firstKey(exact) == 21)
        let build = try cli.run(["index", "build", "docs", "--quiet"] + store)
        #expect(build.status == 0, "\(build.stderr)")
        let indexed = try cli.run(["query", "docs", "--tokens-file", "q.npy", "--token-offsets", "qo.npy", "--row", "1", "--k", "5",
                                   "--token-candidates", "16"] + store)
        #expect(try Self.firstKey(indexed) == 21, "\(indexed.stdout)")
        #expect(try cli.run(["verify"] + store).stdout == "ok\n")

        // Offsets that do not match the tokens, and --offsets for a dense collection.
        var short = Self.tokenFiles(Array(docs.prefix(3))).offsets
        short.append(contentsOf: [UInt8](repeating: 0, count: 0))
        try cli.write("short.npy", short)
        let mismatch = try cli.run(["import", "docs", "tokens.npy", "--offsets", "short.npy", "--quiet"] + store)
        #expect(mismatch.status != 0 && mismatch.stderr.contains("offsets"), "\(mismatch.stderr)")
        #expect(try cli.run(["create", "dense", "--dimensions", "\(Self.dimensions)", "--metric", "dot"] + store).status == 0)
        let dense = try cli.run(["import", "dense", "tokens.npy", "--offsets", "offsets.npy", "--quiet"] + store)
        #expect(dense.status == 2 && dense.stderr.contains("--offsets"), "\(dense.stderr)")
    }

    @Test func benchMultiVectorReportsEveryPoolFactor() throws {
        let cli = try CLIHarness()
        let docs = Self.documents()
        let files = Self.tokenFiles(docs)
        try cli.write("tokens.npy", files.tokens)
        try cli.write("offsets.npy", files.offsets)
        // Queries: documents 0, 7 and 19 themselves; the truth is the exact unpooled MaxSim order.
        let queryDocs = [0, 7, 19]
        let queries = Self.tokenFiles(queryDocs.map { docs[$0] })
        try cli.write("q.npy", queries.tokens)
        try cli.write("qo.npy", queries.offsets)
        func maxSim(_ q: [[Float]], _ d: [[Float]]) -> Float {
            q.reduce(0) { sum, a in sum + d.map { b in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }.max()! }
        }
        var truth = Data()
        for q in queryDocs {
            let ranked = docs.indices.sorted { maxSim(docs[q], docs[$0]) > maxSim(docs[q], docs[$1]) }.prefix(10)
            withUnsafeBytes(of: Int32(10).littleEndian) { truth.append(contentsOf: $0) }
            for r in ranked { withUnsafeBytes(of: Int32(r).littleEndian) { truth.append(contentsOf: $0) } }
        }
        try cli.write("truth.ivecs", truth)
        try cli.write("qrels.tsv", Data("query_index\tdoc_index\n0\t0\n1\t7\n2\t19\n".utf8))
        let result = try cli.run(["bench", "multivector", "--docs", "tokens.npy", "--doc-offsets", "offsets.npy", "--queries", "q.npy",
                                  "--query-offsets", "qo.npy", "--truth", "truth.ivecs", "--qrels", "qrels.tsv", "--pool-factor", "1,2",
                                  "--metric", "dot", "--index", "hnsw", "--token-candidates", "8", "--pooling-lengths", "4", "--passes", "1",
                                  "--m", "8", "--ef-construction", "32", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try result.json() as? [String: Any])
        #expect(report["documents"] as? Int == docs.count)
        let runs = try #require(report["runs"] as? [[String: Any]])
        #expect(runs.map { $0["pool_factor"] as? Int } == [1, 2])
        let unpooled = try #require(runs.first?["exact"] as? [String: Any])
        #expect(unpooled["recall_at_10"] as? Double == 1)
        #expect(unpooled["mrr_at_10"] as? Double == 1)
        #expect((runs[1]["stored_vectors"] as? Int).map { $0 < docs.map(\.count).reduce(0, +) } == true)
        let fast = try #require((runs.first?["fast"] as? [[String: Any]])?.first)
        #expect((fast["recall_at_10_vs_exact"] as? Double).map { $0 > 0.5 } == true, "\(fast)")
        let pooling = try #require((report["pooling_throughput"] as? [[String: Any]])?.first?["by_pool_factor"] as? [[String: Any]])
        #expect((pooling.first?["documents_per_second"] as? Double).map { $0 > 0 } == true)

        // The default fast path: IVF lists, as many as a list per 8 stored tokens allows.
        let ivf = try cli.run(["bench", "multivector", "--docs", "tokens.npy", "--doc-offsets", "offsets.npy", "--queries", "q.npy",
                               "--query-offsets", "qo.npy", "--truth", "truth.ivecs", "--pool-factor", "1", "--metric", "dot",
                               "--pooling-lengths", "4", "--passes", "1", "--nprobe", "4", "--json"])
        #expect(ivf.status == 0, "\(ivf.stderr)")
        let ivfReport = try #require(try ivf.json() as? [String: Any])
        #expect(ivfReport["index"] as? String == "ivf")
        let ivfRun = try #require((ivfReport["runs"] as? [[String: Any]])?.first)
        let stored = try #require(ivfRun["stored_vectors"] as? Int)
        let lists = try #require(((ivfRun["encodings"] as? [[String: Any]])?.first)?["nlist"] as? Int)
        #expect(lists <= stored / 8 && lists * 2 > stored / 8 && lists.nonzeroBitCount == 1, "nlist \(lists) for \(stored) tokens")
        let ivfFast = try #require((ivfRun["fast"] as? [[String: Any]])?.first)
        #expect((ivfFast["recall_at_10_vs_exact"] as? Double).map { $0 > 0.5 } == true, "\(ivfFast)")
    }
}
