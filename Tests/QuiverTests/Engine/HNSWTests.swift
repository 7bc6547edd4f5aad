import Foundation
import Quiver
import QuiverTestSupport
import Testing
@_spi(Fuzzing) import Quiver

/// Recall of index searches against the exact scan (the oracle), for every metric and kind,
/// through builds, upserts, deletes and reopen; the graph invariants after each step.
@Suite("HNSW index")
struct HNSWTests {
    static let dimensions = 24

    func load(_ data: [[Float]], kind: VectorKind, metric: Metric, fields: [FieldDefinition] = [],
              metadata: [[String: MetadataValue]]? = nil) throws -> (TemporaryStore, Database) {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("v", schema: CollectionSchema(vectors: kind, metric: metric, fields: fields))
        try db.write { tx in
            let c = try tx.collection("v")
            for (i, v) in data.enumerated() {
                try c.upsert(key: .int(UInt64(i)), vector: v, metadata: metadata?[i] ?? [:])
            }
        }
        return (store, db)
    }

    /// Mean recall@k of index searches against exact searches for `queries`.
    func meanRecall(_ db: Database, _ queries: [[Float]], k: Int = 10, ef: Int = 200, filter: Filter? = nil) throws -> Double {
        var total = 0.0
        for q in queries {
            let (got, truth) = try db.read { tx in
                let c = try tx.collection("v")
                return (try c.search(q, k: k, filter: filter, options: SearchOptions(efSearch: ef, strategy: .index)),
                        try c.search(q, k: k, filter: filter, options: SearchOptions(strategy: .exact)))
            }
            total += recall(got.map(\.key), truth.map(\.key))
        }
        return total / Double(queries.count)
    }

    func expectSound(_ db: Database) throws {
        let violations = try db.verify()
        #expect(violations.isEmpty, "\(violations.prefix(5))")
    }

    @Test(arguments: [Metric.cosine, .dot, .l2])
    func floatRecallMatchesExact(metric: Metric) throws {
        let data = Datasets.clustered(count: 2_000, dimensions: Self.dimensions, seed: 21)
        let (_, db) = try load(data, kind: .float32(dimensions: Self.dimensions), metric: metric)
        try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 100), threads: 2)
        try expectSound(db)
        let queries = Datasets.clustered(count: 30, dimensions: Self.dimensions, seed: 22)
        let r = try meanRecall(db, queries)
        // The dot product is not a metric: on unnormalised data graph search is weaker
        // (hnswlib reaches 0.73 at ef 64 on data like this; docs/benchmarks.md).
        #expect(r >= (metric == .dot ? 0.8 : 0.97), "recall \(r)")
        // Distances of index hits are the exact distances of those rows.
        let q = queries[0]
        let (index, exact) = try db.read { tx in
            let c = try tx.collection("v")
            return (try c.search(q, k: 5, options: SearchOptions(efSearch: 200, strategy: .index)), try c.search(q, k: 5, options: SearchOptions(strategy: .exact)))
        }
        #expect(index.first?.key == exact.first?.key)
        #expect(abs((index.first?.distance ?? 0) - (exact.first?.distance ?? 1)) < 1e-4)
    }

    @Test func statisticsDescribeTheGraph() throws {
        let data = Datasets.clustered(count: 1_500, dimensions: Self.dimensions, seed: 23)
        let (_, db) = try load(data, kind: .float32(dimensions: Self.dimensions), metric: .l2)
        try db.buildIndex(collection: "v", HNSWParameters(m: 6, efConstruction: 60, efSearch: 40), threads: 1)
        let stats = try db.read { try $0.collection("v").indexStatistics() }
        #expect(stats.nodes == 1_500)
        #expect(stats.nodesPerLevel.first == 1_500)
        #expect(stats.entryLevel == stats.nodesPerLevel.count - 1)
        #expect(stats.unreachableNodes == 0)
        #expect(stats.level0DegreeHistogram.count == 13)
        #expect(stats.level0DegreeHistogram.reduce(0, +) == 1_500)
        #expect(stats.level0DegreeHistogram[0] == 0)
        #expect(stats.parameters == HNSWParameters(m: 6, efConstruction: 60, efSearch: 40))
        #expect(stats.bytesPerVector > 0 && stats.bytesPerVector < 200)
    }

    @Test func deletesAndReinsertsKeepRecall() throws {
        let n = 2_000
        var data = Datasets.clustered(count: n, dimensions: Self.dimensions, seed: 31)
        let (store, db) = try load(data, kind: .float32(dimensions: Self.dimensions), metric: .cosine)
        let parameters = HNSWParameters(m: 8, efConstruction: 100)
        try db.buildIndex(collection: "v", parameters, threads: 2)
        let queries = Datasets.clustered(count: 30, dimensions: Self.dimensions, seed: 32)
        // Delete 30% in small transactions and insert as many new records.
        var rng = SeededGenerator(seed: 33)
        let doomed = Array((0..<n).shuffled(using: &rng).prefix(n * 3 / 10))
        let fresh = Datasets.clustered(count: doomed.count, dimensions: Self.dimensions, seed: 34)
        for start in stride(from: 0, to: doomed.count, by: 50) {
            try db.write { tx in
                let c = try tx.collection("v")
                for i in start..<min(start + 50, doomed.count) {
                    #expect(try c.delete(key: .int(UInt64(doomed[i]))))
                    try c.upsert(key: .int(UInt64(n + i)), vector: fresh[i])
                }
            }
        }
        try expectSound(db)
        let afterChurn = try meanRecall(db, queries)
        // A fresh build on the same records.
        for (i, d) in doomed.enumerated() { data[d] = fresh[i] }
        try db.buildIndex(collection: "v", parameters, threads: 1)
        let rebuilt = try meanRecall(db, queries)
        #expect(afterChurn >= rebuilt - 0.02, "after churn \(afterChurn), fresh build \(rebuilt)")
        #expect(afterChurn >= 0.93)
        // Deleted keys never come back.
        let hits = try db.read { try $0.collection("v").search(queries[0], k: 50, options: SearchOptions(strategy: .index)) }
        let gone = Set(doomed.map { RecordKey.int(UInt64($0)) })
        #expect(hits.allSatisfy { !gone.contains($0.key) })
        // Reopen: the index is still there and answers the same.
        let reopened = try Database(path: store.path)
        let again = try reopened.read { try $0.collection("v").search(queries[0], k: 50, options: SearchOptions(strategy: .index)) }
        #expect(again.map(\.key) == hits.map(\.key))
    }

    /// The repair of deletes keeps every link between rows that survive and refills only the
    /// places the deleted rows held, so the graph keeps its degree. (Re-choosing whole lists
    /// by the heuristic, as before, cut the mean level-0 degree here from 9.3 to 8.0, and left
    /// recall 0.011 below a fresh build at efSearch 64 on debian, docs/benchmarks.md.)
    @Test func deletesKeepTheSurvivorsLinksAndTheDegree() throws {
        let n = 2_000
        let data = Datasets.clustered(count: n, dimensions: Self.dimensions, seed: 35)
        let (_, db) = try load(data, kind: .float32(dimensions: Self.dimensions), metric: .l2)
        try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 100), threads: 2)
        func meanDegree() throws -> Double {
            let histogram = try db.read { try $0.collection("v").indexStatistics() }.level0DegreeHistogram
            let nodes = histogram.reduce(0, +)
            return Double(histogram.enumerated().reduce(0) { $0 + $1.offset * $1.element }) / Double(max(1, nodes))
        }
        let before = try meanDegree()
        var rng = SeededGenerator(seed: 36)
        let doomed = Array((0..<n).shuffled(using: &rng).prefix(n * 3 / 10))
        for start in stride(from: 0, to: doomed.count, by: 50) {
            try db.write { tx in
                let c = try tx.collection("v")
                for row in doomed[start..<min(start + 50, doomed.count)] { #expect(try c.delete(key: .int(UInt64(row)))) }
            }
        }
        try expectSound(db)
        let after = try meanDegree()
        #expect(after >= 0.9 * before, "mean level-0 degree \(before) before the deletes, \(after) after")
    }

    @Test func updatesMoveVectors() throws {
        let data = Datasets.clustered(count: 800, dimensions: Self.dimensions, seed: 41)
        let (_, db) = try load(data, kind: .float32(dimensions: Self.dimensions), metric: .l2)
        try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 80), threads: 1)
        // Move record 5 onto record 700's vector: it must now be found next to it.
        try db.write { try $0.collection("v").upsert(key: 5, vector: data[700].map { $0 + 1e-3 }) }
        let hits = try db.read { try $0.collection("v").search(data[700], k: 2, options: SearchOptions(strategy: .index)) }
        #expect(Set(hits.map(\.key)) == [.int(700), .int(5)])
        try expectSound(db)
    }

    @Test func deletingEverythingThenInserting() throws {
        let data = Datasets.clustered(count: 300, dimensions: 8, seed: 51)
        let (_, db) = try load(data, kind: .float32(dimensions: 8), metric: .l2)
        try db.buildIndex(collection: "v", HNSWParameters(m: 4, efConstruction: 20), threads: 1)
        try db.write { tx in
            let c = try tx.collection("v")
            for i in 0..<300 { try c.delete(key: .int(UInt64(i))) }
        }
        try expectSound(db)
        #expect(try db.read { try $0.collection("v").search(data[0], k: 3, options: SearchOptions(strategy: .index)) }.isEmpty)
        try db.write { tx in
            let c = try tx.collection("v")
            for i in 0..<100 { try c.upsert(key: .int(UInt64(1_000 + i)), vector: data[i]) }
        }
        try expectSound(db)
        let hit = try db.read { try $0.collection("v").search(data[42], k: 1, options: SearchOptions(strategy: .index)) }
        #expect(hit.first?.key == .int(1_042))
    }

    @Test func binaryAndMatryoshkaIndexes() throws {
        let d = 64
        // Like a Matryoshka model's embeddings: the leading half carries most of the variance.
        let data = Datasets.clustered(count: 1_500, dimensions: d, seed: 61).map { v in v.enumerated().map { $0.offset < 32 ? $0.element : 0.15 * $0.element } }
        let queries = Datasets.clustered(count: 20, dimensions: d, seed: 62)
        // Binary, floats kept: graph on bits, rescored on floats.
        do {
            let (_, db) = try load(data, kind: .binary(dimensions: d, keepsFloats: true), metric: .cosine)
            try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 100), threads: 2)
            try expectSound(db)
            let r = try meanRecall(db, queries, ef: 200)
            #expect(r >= 0.8, "binary recall \(r)")
        }
        // Bits only, Hamming.
        do {
            let store = TemporaryStore()
            let db = try store.open()
            try db.createCollection("v", schema: CollectionSchema(vectors: .binary(dimensions: d, keepsFloats: false), metric: .hamming))
            try db.write { tx in
                for (i, v) in data.enumerated() { try tx.collection("v").upsert(key: .int(UInt64(i)), bits: BruteForce.signBits(v)) }
            }
            try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 100), threads: 2)
            try expectSound(db)
            var total = 0.0
            for q in queries {
                let bits = BruteForce.signBits(q)
                let (got, truth) = try db.read { tx in
                    let c = try tx.collection("v")
                    return (try c.search(bits: bits, k: 10, options: SearchOptions(efSearch: 100, strategy: .index)),
                            try c.search(bits: bits, k: 10, options: SearchOptions(strategy: .exact)))
                }
                // Hamming ties are common: compare distances of the k-th hit.
                total += got.last!.distance <= truth.last!.distance ? 1 : 0
            }
            #expect(total / Double(queries.count) >= 0.9)
        }
        // Matryoshka: graph on the 32-prefix, rescored on all 64.
        do {
            let (_, db) = try load(data, kind: .matryoshka(dimensions: d, prefixes: [16, 32]), metric: .cosine)
            // One build thread, so the graph and its recall are the same every run (0.92 with the
            // avx512, avx2 and sse2 kernels); two threads gave 0.920 or 0.935 from run to run.
            try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 100, prefix: 32), threads: 1)
            try expectSound(db)
            let r = try meanRecall(db, queries, ef: 100)
            #expect(r >= 0.9, "matryoshka recall \(r)")
            #expect(try db.read { try $0.collection("v").indexParameters }?.prefix == 32)
        }
    }

    @Test func filteredSearchAtEverySelectivity() throws {
        let n = 6_000
        let data = Datasets.clustered(count: n, dimensions: Self.dimensions, seed: 71)
        let metadata: [[String: MetadataValue]] = (0..<n).map { ["bucket": .int64(Int64($0 % 1_000))] }
        let (_, db) = try load(data, kind: .float32(dimensions: Self.dimensions), metric: .l2,
                               fields: [FieldDefinition("bucket", .int64)], metadata: metadata)
        // One build thread: the graph, and so each recall below, is the same on every run and
        // with every kernel set (0.96 at 100%); a two-thread build once gave 0.945 there in CI.
        // Concurrent builds are tested elsewhere.
        try db.buildIndex(collection: "v", HNSWParameters(m: 8, efConstruction: 100), threads: 1)
        let queries = Datasets.clustered(count: 20, dimensions: Self.dimensions, seed: 72)
        for limit in [1, 10, 100, 500, 1_000] {
            let filter = Field("bucket") < .int64(Int64(limit))
            // The planner's plan (exact for few rows, the graph otherwise) holds recall.
            var total = 0.0
            for q in queries {
                let (got, truth) = try db.read { tx in
                    let c = try tx.collection("v")
                    return (try c.search(q, k: 10, filter: filter, options: SearchOptions(efSearch: 200)),
                            try c.search(q, k: 10, filter: filter, options: SearchOptions(strategy: .exact)))
                }
                total += recall(got.map(\.key), truth.map(\.key))
            }
            #expect(total / Double(queries.count) >= 0.95, "selectivity \(Double(limit) / 1_000): planner recall \(total / Double(queries.count))")
            // The graph alone, where the planner would use it.
            if limit >= 500 {
                let forced = try meanRecall(db, queries, filter: filter)
                #expect(forced >= 0.95, "selectivity \(Double(limit) / 1_000): graph recall \(forced)")
            }
        }
    }

    @Test func bulkLoadIntoIndexedCollectionAndBuildInOneTransaction() throws {
        let data = Datasets.clustered(count: 1_200, dimensions: Self.dimensions, seed: 81)
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("v", schema: CollectionSchema(vectors: .float32(dimensions: Self.dimensions), metric: .cosine))
        let flat = data.prefix(600).flatMap { $0 }
        try db.write { tx in
            let c = try tx.collection("v")
            try flat.withUnsafeBufferPointer { try c.appendBatch(count: 600, floats: $0, bits: nil, keys: .sequential(start: 0), metadata: nil) }
            try c.buildIndex(HNSWParameters(m: 8, efConstruction: 80), threads: 2)
        }
        try expectSound(db)
        // Appending into an indexed collection inserts into the graph.
        let rest = data.suffix(600).flatMap { $0 }
        try rest.withUnsafeBufferPointer { try db.bulkLoad(into: "v", count: 600, floats: $0, batchSize: 250) }
        try expectSound(db)
        let queries = Datasets.clustered(count: 20, dimensions: Self.dimensions, seed: 82)
        #expect(try meanRecall(db, queries) >= 0.95)
    }

    @Test func badParametersAndMissingIndex() throws {
        let data = Datasets.clustered(count: 50, dimensions: 8, seed: 91)
        let (_, db) = try load(data, kind: .float32(dimensions: 8), metric: .l2)
        for bad in [HNSWParameters(m: 1), HNSWParameters(m: 65), HNSWParameters(efConstruction: 4), HNSWParameters(efSearch: 0),
                    HNSWParameters(prefix: 4)] {
            #expect(throws: QuiverError.self) { try db.buildIndex(collection: "v", bad) }
        }
        let error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search(data[0], k: 1, options: SearchOptions(strategy: .index)) } }
        #expect(error?.code == .indexNotFound)
        #expect(throws: QuiverError.self) { try db.dropIndex(collection: "v") }
        #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search(data[0], k: 1, options: SearchOptions(efSearch: 0)) } }
        try db.buildIndex(collection: "v", HNSWParameters(m: 4, efConstruction: 8))
        #expect(try db.formatVersion.description == "1.1")
        try db.dropIndex(collection: "v")
        #expect(try db.read { try $0.collection("v").indexParameters } == nil)
        try expectSound(db)
    }
}

/// The fuzz target's workload, on seeded random bytes and on every saved fuzz failure.
@Suite("HNSW invariants under random workloads")
struct HNSWWorkloadTests {
    @Test(arguments: 0..<6)
    func randomWorkloadKeepsInvariants(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(1_000 + seed))
        let bytes = (0..<1_500).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let store = TemporaryStore()
        try GraphWorkload.run(bytes, storePath: store.path)
    }

    @Test func fuzzFailCasesAndSeedsReplay() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for folder in ["Fuzz/FailCases/FuzzHNSW", "Fuzz/Corpus/FuzzHNSW"] {
            let url = root.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where !name.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
                let store = TemporaryStore()
                try GraphWorkload.run(bytes, storePath: store.path)
            }
        }
    }
}

/// Exact duplicates: every distance among them ties, so the neighbour heuristic alone keeps them
/// all and lists fill with copies of one vector.
@Suite("HNSW with identical vectors")
struct HNSWDuplicateTests {
    @Test(arguments: [Metric.l2, .dot, .cosine])
    func identicalVectorsStayReachableThroughChurn(metric: Metric) throws {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("g", schema: CollectionSchema(vectors: .float32(dimensions: 7), metric: metric))
        try db.write { tx in try tx.collection("g").upsert(key: .int(999), vector: [7, 1, 2, 3, 4, 5, 6]) }
        try db.buildIndex(collection: "g", HNSWParameters(m: 3, efConstruction: 8), threads: 1)
        var rng = SeededGenerator(seed: 7)
        for step in 0..<60 {
            try db.write { tx in
                let c = try tx.collection("g")
                for _ in 0..<5 {
                    let key = UInt64.random(in: 0..<40, using: &rng)
                    if Bool.random(using: &rng) && key % 3 == 0 {
                        try c.delete(key: .int(key))
                    } else {
                        try c.upsert(key: .int(key), vector: [1, 2, 3, 4, 5, 6, 7])
                    }
                }
            }
            let violations = try db.verify()
            try #require(violations.isEmpty, "step \(step): \(violations.prefix(2))")
        }
        // Every copy is found by the graph alone.
        let count = try db.read { try $0.collection("g").count }
        let hits = try db.read { tx in
            try tx.collection("g").search([1, 2, 3, 4, 5, 6, 7], k: count, options: SearchOptions(efSearch: 200, strategy: .index))
        }
        #expect(hits.count == count)
    }
}
