import Foundation
import Quiver
import QuiverTestSupport
import Testing

@Suite("Exact search")
struct SearchTests {
    /// Loads `data` with keys 0..<n and the given metric; returns the open store.
    func load(_ data: [[Float]], kind: VectorKind, metric: Metric) throws -> (TemporaryStore, Database) {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("v", schema: CollectionSchema(vectors: kind, metric: metric))
        let flat = data.flatMap { $0 }
        try flat.withUnsafeBufferPointer { try db.bulkLoad(into: "v", count: data.count, floats: $0, batchSize: 700) }
        return (store, db)
    }

    func expectMatchesOracle(_ hits: [SearchResult], _ oracle: [(Int, Double)], tolerance: Double = 1e-4) {
        #expect(hits.count == oracle.count)
        for (hit, truth) in zip(hits, oracle) {
            // Keys may differ only between (near-)tied distances; distances must agree.
            #expect(abs(Double(hit.distance) - truth.1) <= tolerance * max(1, abs(truth.1)), "got \(hit.key) \(hit.distance), oracle \(truth.0) \(truth.1)")
        }
        let k = oracle.count
        let exact = Set(oracle.map { RecordKey.int(UInt64($0.0)) })
        #expect(recall(hits.map(\.key), Array(exact)) >= Double(k - 1) / Double(k))
    }

    @Test(arguments: [Metric.cosine, .dot, .l2])
    func floatSearchMatchesBruteForce(metric: Metric) throws {
        let data = Datasets.clustered(count: 3_000, dimensions: 37, seed: 11)
        let (_, db) = try load(data, kind: .float32(dimensions: 37), metric: metric)
        let queries = Datasets.clustered(count: 10, dimensions: 37, seed: 12)
        for q in queries {
            let hits = try db.read { try $0.collection("v").search(q, k: 10) }
            let oracle = BruteForce.topK(data.enumerated().map { ($0.offset, BruteForce.distance(q, $0.element, metric: metric)) }, k: 10)
            expectMatchesOracle(hits, oracle)
        }
        // Batched search gives the same keys.
        let batch = try db.read { try $0.collection("v").searchBatch(queries, k: 10, threads: 2) }
        for (q, hits) in zip(queries, batch) {
            let single = try db.read { try $0.collection("v").search(q, k: 10) }
            #expect(hits.map(\.key) == single.map(\.key))
        }
    }

    @Test func matryoshkaPrefixAndFunnel() throws {
        let d = 64
        let data = Datasets.clustered(count: 2_000, dimensions: d, seed: 21)
        let (_, db) = try load(data, kind: .matryoshka(dimensions: d, prefixes: [16, 32]), metric: .cosine)
        let q = Datasets.clustered(count: 1, dimensions: d, seed: 22)[0]
        // A prefix search without rescoring ranks by the re-normalised prefix.
        let prefixHits = try db.read { try $0.collection("v").search(q, k: 5, options: SearchOptions(prefix: 16, rescore: false)) }
        let prefixOracle = BruteForce.topK(data.enumerated().map { ($0.offset, BruteForce.distance(Array(q.prefix(16)), Array($0.element.prefix(16)), metric: .cosine)) }, k: 5)
        expectMatchesOracle(prefixHits, prefixOracle)
        // The funnel rescores on the full vector: distances are full cosine distances.
        let funnel = try db.read { try $0.collection("v").search(q, k: 5, options: SearchOptions(prefix: 16, oversample: 50)) }
        let fullOracle = BruteForce.topK(data.enumerated().map { ($0.offset, BruteForce.distance(q, $0.element, metric: .cosine)) }, k: 5)
        expectMatchesOracle(funnel, fullOracle)
        let error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search(q, k: 5, options: SearchOptions(prefix: 24)) } }
        #expect(error?.code == .invalidArgument)
    }

    @Test func binaryGivenAsBits() throws {
        let store = TemporaryStore()
        let db = try store.open()
        let bitsCount = 100
        try db.createCollection("b", schema: CollectionSchema(vectors: .binary(dimensions: bitsCount, keepsFloats: false), metric: .hamming))
        var rng = SeededGenerator(seed: 5)
        let rows = (0..<1_500).map { _ in (0..<13).map { i in i == 12 ? UInt8.random(in: 0...255, using: &rng) & 0xF0 : UInt8.random(in: 0...255, using: &rng) } }
        let flat = rows.flatMap { $0 }
        try flat.withUnsafeBufferPointer { try db.bulkLoad(into: "b", count: rows.count, bits: $0) }
        let q = rows[42]
        let hits = try db.read { try $0.collection("b").search(bits: q, k: 5) }
        let oracle = BruteForce.topK(rows.enumerated().map { ($0.offset, Double(BruteForce.hamming(q, $0.element))) }, k: 5)
        #expect(hits.first?.key == 42)
        #expect(hits.map { Double($0.distance) } == oracle.map(\.1))
        let error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("b").search(bits: [1, 2], k: 5) } }
        #expect(error?.code == .dimensionMismatch)
    }

    @Test func floatsLoadIntoABitsOnlyCollectionBySign() throws {
        let d = 70
        let data = Datasets.clustered(count: 300, dimensions: d, seed: 41)
        let (_, db) = try load(data, kind: .binary(dimensions: d, keepsFloats: false), metric: .hamming)
        let stored = try db.read { try $0.collection("v").get(7) }
        #expect(stored?.bits == BruteForce.signBits(data[7]))
        #expect(stored?.vector == nil)
        let hits = try db.read { try $0.collection("v").search(bits: BruteForce.signBits(data[7]), k: 1) }
        #expect(hits.first?.distance == 0)
    }

    @Test func binaryDerivedFromFloatsIsRescored() throws {
        let d = 96
        let data = Datasets.clustered(count: 2_000, dimensions: d, seed: 31)
        let (_, db) = try load(data, kind: .binary(dimensions: d, keepsFloats: true), metric: .cosine)
        let q = Datasets.clustered(count: 1, dimensions: d, seed: 32)[0]
        let stored = try db.read { try $0.collection("v").get(3) }
        #expect(stored?.bits == BruteForce.signBits(data[3]))
        let rescored = try db.read { try $0.collection("v").search(q, k: 10, options: SearchOptions(oversample: 200)) }
        let oracle = BruteForce.topK(data.enumerated().map { ($0.offset, BruteForce.distance(q, $0.element, metric: .cosine)) }, k: 10)
        expectMatchesOracle(rescored, oracle)
        let hammingOnly = try db.read { try $0.collection("v").search(q, k: 10, options: SearchOptions(rescore: false)) }
        let bits = BruteForce.signBits(q)
        let hammingOracle = BruteForce.topK(data.enumerated().map { ($0.offset, Double(BruteForce.hamming(bits, BruteForce.signBits($0.element)))) }, k: 10)
        #expect(hammingOnly.map { Double($0.distance) } == hammingOracle.map(\.1))
    }

    @Test func badQueriesAreTypedErrors() throws {
        let (_, db) = try load(Datasets.clustered(count: 10, dimensions: 4, seed: 1), kind: .float32(dimensions: 4), metric: .l2)
        var error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search([1, 2, 3], k: 1) } }
        #expect(error?.code == .dimensionMismatch)
        error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search([1, 2, 3, .nan], k: 1) } }
        #expect(error?.code == .invalidVector)
        error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search([1, 2, 3, 4], k: 0) } }
        #expect(error?.code == .invalidArgument)
        error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("v").search([1, 2, 3, 4], k: 1, filter: Field("x") == 1) } }
        #expect(error?.code == .unknownField)
    }

    @Test func kLargerThanTheCollectionReturnsEverything() throws {
        let (_, db) = try load(Datasets.clustered(count: 7, dimensions: 4, seed: 1), kind: .float32(dimensions: 4), metric: .l2)
        #expect(try db.read { try $0.collection("v").search([1, 2, 3, 4], k: 50) }.count == 7)
    }
}
