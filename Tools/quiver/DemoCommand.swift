import ArgumentParser
import Foundation
import Quiver

/// `quiver demo`: builds a store from seeded synthetic data and walks through the main job:
/// bulk load, filtered queries, a Matryoshka funnel, binary codes with rescoring, verify.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a store from generated data and run filtered queries on it.",
        discussion:
            "The data is generated in-process from a fixed seed, so every run prints the same results (timings aside)."
    )

    @Option(
        help: ArgumentHelp(
            "Where to build the store; it must not exist (default: a temporary folder, removed afterwards).",
            valueName: "path"
        )
    )
    var store: String?

    @Option(help: "How many records to generate.")
    var rows: Int = 20_000

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 2026

    func validate() throws {
        guard (100...2_000_000).contains(rows) else {
            throw ValidationError("--rows must be in 100...2000000")
        }
    }

    func run() throws {
        let started = now()
        var temporary: TemporaryStore?
        let path: String
        if let store {
            guard !FileManager.default.fileExists(atPath: store) else {
                throw UsageError(
                    "\(store) exists; the demo builds a new store (give a new path, or none for a temporary one)"
                )
            }
            path = store
        } else {
            temporary = try TemporaryStore()
            path = temporary!.folder + "/demo.store"
        }
        defer { temporary?.remove() }

        print("Quiver demo: \(grouped(rows)) records, store \(path)\n")
        var t = now()
        let data = DemoData(count: rows, seed: seed)
        print(
            "1. generated \(grouped(rows)) clustered \(data.dimensions)-d vectors with section/size/tags/title in \(ms(now() - t))"
        )

        // Create and load.
        let database = try StoreOptions.open(path: path, readOnly: false)
        let schema = CollectionSchema(
            vectors: .matryoshka(dimensions: data.dimensions, prefixes: [32, 64]),
            metric: .cosine,
            fields: [
                FieldDefinition("section", .string), FieldDefinition("size", .int64),
                FieldDefinition("tags", .stringList),
                FieldDefinition("title", .string, filterable: false),
            ]
        )
        try database.createCollection("docs", schema: schema)
        print("2. created collection docs: \(describe(schema))")
        t = now()
        let progress = ProgressReporter(
            label: "   load",
            total: rows,
            bytesPerRow: data.dimensions * 4
        )
        try data.vectors.withUnsafeBufferPointer { floats in
            try database.bulkLoad(
                into: "docs",
                count: rows,
                floats: floats,
                metadata: data.metadata,
                batchSize: 5_000,
                progress: { progress.update(rows: $0.committedRows) }
            )
        }
        progress.finish(rows: rows)
        let loadSeconds = now() - t
        print(
            "   loaded \(grouped(rows)) records in \(ms(loadSeconds)) (\(grouped(Int(Double(rows) / loadSeconds))) vectors/s, durable commits of 5,000)\n"
        )

        // Filtered queries.
        print("3. filtered queries (exact scan of the rows the filter selects; k = 5)")
        let queries = data.queries(60, seed: seed &+ 1)
        let filters: [String?] = [
            nil,
            #"section == "libs""#,
            #"section == "libs" and size < 1000"#,
            #"tags contains "simd" and not section in ["docs", "tests"]"#,
            #"section == "legacy" and 100 <= size < 10000 and tags contains "lmdb""#,
        ]
        for (i, text) in filters.enumerated() {
            let filter = try text.map { try Filter.parse($0) }
            let (matching, results, latency) = try database.read { tx in
                let reader = try tx.collection("docs")
                let matching = try filter.map { try reader.count(where: $0) } ?? reader.count
                var times: [Double] = []
                var first: [SearchResult] = []
                for (j, q) in queries.prefix(20).enumerated() {
                    let t = now()
                    let hits = try reader.search(
                        q,
                        k: 5,
                        filter: filter,
                        options: SearchOptions(includeMetadata: true)
                    )
                    times.append(now() - t)
                    if j == i { first = hits }
                }
                return (matching, first, percentiles(times).median)
            }
            let selectivity = 100 * Double(matching) / Double(rows)
            print("   \(text ?? "(no filter)")")
            print(
                "     \(grouped(matching)) records pass (\(String(format: "%.2f", selectivity))%); median \(ms(latency)) per query over 20 queries"
            )
            for hit in results.prefix(3) {
                let m = hit.metadata ?? [:]
                let tags = m["tags"].map { "\($0)" } ?? "[]"
                print(
                    "     key \(pad(hit.key.description, 6)) distance \(String(format: "%.4f", hit.distance))  section \(pad(m["section"].map { "\($0)" } ?? "-", 9)) size \(pad(m["size"].map { "\($0)" } ?? "-", 7)) tags \(tags)"
                )
            }
            if results.isEmpty { print("     (no results)") }
        }

        // Matryoshka funnel.
        print(
            "\n4. Matryoshka funnel over 60 queries (recall@10 against the full 128-d exact search)"
        )
        let truth = try database.read { tx in
            let reader = try tx.collection("docs")
            return try queries.map { try reader.search($0, k: 10).map(\.key) }
        }
        let fullTime = try timeQueries(database, "docs", queries) { reader, q in
            try reader.search(q, k: 10)
        }
        print("   full 128-d:                       recall 1.000, \(ms(fullTime)) per query")
        for (prefix, rescore) in [(32, false), (32, true), (64, true)] {
            var found: [[RecordKey]] = []
            let time = try timeQueries(database, "docs", queries) { reader, q in
                let hits = try reader.search(
                    q,
                    k: 10,
                    options: SearchOptions(prefix: prefix, rescore: rescore, oversample: 4)
                )
                found.append(hits.map(\.key))
                return hits
            }
            let label = "prefix \(prefix)" + (rescore ? ", rescore 4× on 128-d" : ", no rescore")
            print(
                "   \(pad(label + ":", 34)) recall \(String(format: "%.3f", recall(found, truth))), \(ms(time)) per query"
            )
        }

        // Binary codes with rescoring, on data of even scale (every bit weighs the same).
        let flat = DemoData(
            count: rows,
            dimensions: 256,
            decaying: false,
            latent: 24,
            seed: seed &+ 2
        )
        print(
            "\n5. binary codes (1 bit per component) with full-precision rescoring: \(grouped(rows)) other 256-d vectors, 60 queries"
        )
        try database.createCollection(
            "codes",
            schema: CollectionSchema(
                vectors: .binary(dimensions: flat.dimensions, keepsFloats: true),
                metric: .cosine
            )
        )
        try flat.vectors.withUnsafeBufferPointer { floats in
            try database.bulkLoad(into: "codes", count: rows, floats: floats, batchSize: 10_000)
        }
        let flatQueries = flat.queries(60, seed: seed &+ 3)
        let flatTruth = flatQueries.map {
            flat.nearest($0, k: 10).map { RecordKey.int(UInt64($0)) }
        }
        for (rescore, oversample) in [(false, 1), (true, 4), (true, 10)] {
            var found: [[RecordKey]] = []
            let time = try timeQueries(database, "codes", flatQueries) { reader, q in
                let hits = try reader.search(
                    q,
                    k: 10,
                    options: SearchOptions(rescore: rescore, oversample: oversample)
                )
                found.append(hits.map(\.key))
                return hits
            }
            let label = rescore ? "hamming shortlist \(oversample)× + rescore:" : "hamming only:"
            print(
                "   \(pad(label, 34)) recall \(String(format: "%.3f", recall(found, flatTruth))), \(ms(time)) per query"
            )
        }

        // Encodings of the docs vectors: candidates from compact codes, rescored on the floats.
        // (On these 10 MB of floats, which stay in cache, codes save little time; they pay when
        // the floats do not fit: docs/benchmarks.md, "Compressed search".)
        print("\n6. int8 codes of the 128-d docs vectors, candidates rescored on the floats (60 queries, exact plan)")
        for encoding in [VectorEncoding.int8] {
            t = now()
            let info = try database.buildEncoding(collection: "docs", EncodingParameters(encoding))
            print("   \(encoding): \(info.codeBytes) B per row (floats \(128 * 4) B), trained and encoded in \(ms(now() - t))")
            for oversample in [1, 4] {
                var found: [[RecordKey]] = []
                let time = try timeQueries(database, "docs", queries) { reader, q in
                    let hits = try reader.search(q, k: 10, options: SearchOptions(candidates: .encoding(encoding), oversample: oversample, strategy: .exact))
                    found.append(hits.map(\.key))
                    return hits
                }
                print("   \(pad("\(encoding), shortlist \(oversample)× + rescore:", 34)) recall \(String(format: "%.3f", recall(found, truth))), \(ms(time)) per query")
            }
        }

        // Verify and summarise.
        t = now()
        let violations = try database.verify()
        print(
            "\n7. verify: \(violations.isEmpty ? "ok" : "\(violations.count) violations") (\(ms(now() - t)))"
        )
        for violation in violations { print("   \(violation)") }
        let report = try database.inspect()
        print(
            "\nsummary: \(grouped(rows)) records × 2 collections, store \(bytes(fileSize(path))) (\(bytes(report.usedBytes)) used), total \(duration(now() - started))"
        )
        if temporary != nil { print("(temporary store removed; pass --store PATH to keep one)") }
        if !violations.isEmpty { throw OperationFailed() }
    }

    /// Median seconds per query of `body` over `queries`, in one read transaction.
    private func timeQueries(
        _ database: Database,
        _ collection: String,
        _ queries: [[Float]],
        _ body: (CollectionReader, [Float]) throws -> [SearchResult]
    ) throws -> Double {
        try database.read { tx in
            let reader = try tx.collection(collection)
            var times: [Double] = []
            for q in queries {
                let t = now()
                _ = try body(reader, q)
                times.append(now() - t)
            }
            return percentiles(times).median
        }
    }

    private func recall(_ found: [[RecordKey]], _ truth: [[RecordKey]]) -> Double {
        var sum = 0.0
        for (f, t) in zip(found, truth) {
            sum += Double(Set(f).intersection(t).count) / Double(max(1, t.count))
        }
        return sum / Double(max(1, truth.count))
    }
}

/// Seconds as milliseconds with two decimals.
func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }
