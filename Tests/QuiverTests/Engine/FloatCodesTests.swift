import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// Float vectors kept only as int8 codes (``CollectionWriter/keepFloatsOnlyAsInt8``): the
/// codes answer every search and every rescoring, the float blocks are gone and stay gone
/// through upserts and bulk loads, the store reopens, and what cannot be done is refused.
@Suite("Floats kept only as int8")
struct FloatCodesTests {
    func load(_ data: [[Float]], metric: Metric) throws -> (TemporaryStore, Database) {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("v", schema: CollectionSchema(vectors: .float32(dimensions: data[0].count), metric: metric))
        try db.write { tx in
            let c = try tx.collection("v")
            for (i, v) in data.enumerated() { try c.upsert(key: .int(UInt64(i)), vector: v) }
        }
        return (store, db)
    }

    func search(_ db: Database, _ q: [Float], k: Int = 10, _ options: SearchOptions = SearchOptions()) throws -> [SearchResult] {
        try db.read { tx in try tx.collection("v").search(q, k: k, options: options) }
    }

    /// Bytes of the collection's float blocks, from `inspect`.
    func floatBlockBytes(_ db: Database) throws -> Int {
        try db.inspect().collections.first { $0.name == "v" }?.bytesPerTable["vectors.f32"] ?? 0
    }

    func code(_ body: () throws -> Void) -> QuiverError.Code? {
        do { try body() } catch let e as QuiverError { return e.code } catch { return nil }
        return nil
    }

    @Test(arguments: [Metric.cosine, .dot, .l2])
    func searchesAnswerFromTheCodesAsTheInt8ScanDid(metric: Metric) throws {
        let all = Datasets.clustered(count: 1_525, dimensions: 32, seed: 301)
        let (data, queries) = (Array(all.dropLast(25)), Array(all.suffix(25)))
        let (store, db) = try load(data, metric: metric)
        try db.buildEncoding(collection: "v", EncodingParameters(.int8))
        // Before: the float truth, and the int8 codes alone.
        let codesAlone = SearchOptions(candidates: .encoding(.int8), rescore: false, strategy: .exact)
        let truth = try queries.map { try search(db, $0, SearchOptions(candidates: .floats, strategy: .exact)) }
        let before = try queries.map { try search(db, $0, codesAlone) }
        #expect(try floatBlockBytes(db) > 0)

        let info = try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() }
        #expect(info.parameters.encoding == .int8 && info.dimensions == 32)
        #expect(try floatBlockBytes(db) == 0)
        #expect(try db.formatVersion == FormatVersion.current)
        #expect(try db.read { try $0.collection("v").floatsKeptAsInt8 })
        #expect(try db.inspect().collections.first { $0.name == "v" }?.floatsKeptAsInt8 == true)
        #expect(try db.verify().isEmpty)

        // Every way of asking for full precision now scans the same codes.
        var total = 0.0
        for (i, q) in queries.enumerated() {
            for options in [SearchOptions(), SearchOptions(candidates: .floats, strategy: .exact), codesAlone] {
                let got = try search(db, q, options)
                #expect(got.map(\.key) == before[i].map(\.key))
                for (a, b) in zip(got, before[i]) { #expect(abs(a.distance - b.distance) <= 1e-5 * max(1, abs(b.distance))) }
            }
            total += recall(before[i].map(\.key), truth[i].map(\.key))
        }
        #expect(total / Double(queries.count) >= 0.9, "int8 recall \(total / Double(queries.count))")

        // A record's vector is what its code stands for: within half a quantisation step.
        let original = data[7]
        let stored = try #require(try db.read { tx in try tx.collection("v").get(.int(7)) }?.vector)
        let expected = metric == .cosine ? normalised(original) : original
        let ranges = (0..<32).map { d in data.map { metric == .cosine ? normalised($0)[d] : $0[d] } }.map { ($0.min()!, $0.max()!) }
        for d in 0..<32 {
            let step = (ranges[d].1 - ranges[d].0) / 255
            #expect(abs(stored[d] - expected[d]) <= step * 0.5 + 1e-5, "component \(d): \(stored[d]) vs \(expected[d])")
        }

        // Reopened, the store answers the same.
        let reopened = try store.open()
        let again = try reopened.read { tx in try tx.collection("v").search(queries[0], k: 10) }
        #expect(again.map(\.key) == before[0].map(\.key))
    }

    @Test func upsertsDeletesAndBulkLoadsWriteCodesOnly() throws {
        let data = Datasets.clustered(count: 700, dimensions: 32, seed: 311)
        let (_, db) = try load(Array(data.prefix(600)), metric: .l2)
        try db.buildIndex(collection: "v", HNSWParameters(m: 12, efConstruction: 100), threads: 1)
        _ = try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() }
        let fresh = Array(data.suffix(100))
        try db.write { tx in
            let c = try tx.collection("v")
            for i in 0..<50 { try c.delete(key: .int(UInt64(i))) }
            for (i, v) in fresh.prefix(50).enumerated() { try c.upsert(key: .int(UInt64(10_000 + i)), vector: v) }
            // Replaced vectors get new codes.
            for i in 50..<60 { try c.upsert(key: .int(UInt64(i)), vector: fresh[50 + i - 50]) }
        }
        let tail = fresh.suffix(40).flatMap { $0 }
        try db.write { tx in
            try tail.withUnsafeBufferPointer {
                try tx.collection("v").appendBatch(count: 40, floats: $0, bits: nil, keys: .sequential(start: 20_000), metadata: nil)
            }
        }
        #expect(try floatBlockBytes(db) == 0)
        #expect(try db.verify().isEmpty)
        #expect(try db.read { try $0.collection("v").count } == 600 - 50 + 50 + 40)
        for strategy in [SearchStrategy.exact, .index] {
            for (i, v) in fresh.prefix(50).enumerated() {
                let hits = try search(db, v, k: 3, SearchOptions(efSearch: 64, strategy: strategy))
                #expect(hits.first?.key == .int(UInt64(10_000 + i)), "\(strategy): fresh row \(i) not first")
                #expect(!hits.contains { if case .int(let k) = $0.key { k < 50 } else { false } }, "deleted rows found")
            }
            for (i, v) in fresh.suffix(40).enumerated() {
                #expect(try search(db, v, k: 1, SearchOptions(strategy: strategy)).first?.key == .int(UInt64(20_000 + i)))
            }
            let replaced = try search(db, fresh[50], k: 2, SearchOptions(strategy: strategy)).map(\.key)
            #expect(replaced.contains(.int(50)))
        }
    }

    @Test func theIndexIsBuiltAndWalkedOnTheCodes() throws {
        let all = Datasets.clustered(count: 2_025, dimensions: 32, seed: 321)
        let (data, queries) = (Array(all.dropLast(25)), Array(all.suffix(25)))
        let (_, db) = try load(data, metric: .cosine)
        _ = try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() }
        try db.buildIndex(collection: "v", HNSWParameters(m: 12, efConstruction: 100), threads: 2)
        var total = 0.0
        for q in queries {
            let walked = try search(db, q, SearchOptions(efSearch: 128, strategy: .index))
            let scanned = try search(db, q, SearchOptions(strategy: .exact))
            total += recall(walked.map(\.key), scanned.map(\.key))
            // The walk scores the same codes as the scan.
            for hit in walked {
                if let same = scanned.first(where: { $0.key == hit.key }) { #expect(abs(hit.distance - same.distance) <= 1e-5) }
            }
        }
        #expect(total / Double(queries.count) >= 0.95, "walk recall against the code scan \(total / Double(queries.count))")
        #expect(try db.verify().isEmpty)
    }

    @Test func otherEncodingsAreRescoredOnAndTrainedFromTheCodes() throws {
        let all = Datasets.clustered(count: 1_525, dimensions: 256, seed: 331)
        let (data, queries) = (Array(all.dropLast(25)), Array(all.suffix(25)))
        let (_, db) = try load(data, metric: .cosine)
        try db.buildEncoding(collection: "v", EncodingParameters(.binary))
        _ = try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() }
        // Built after the floats went: trained on the decoded codes.
        try db.buildEncoding(collection: "v", EncodingParameters(.pq(m: 16)))
        for encoding in [VectorEncoding.binary, .pq(m: 16)] {
            var total = 0.0
            for q in queries {
                let rescored = try search(db, q, SearchOptions(candidates: .encoding(encoding), oversample: 10, strategy: .exact))
                let exact = try search(db, q, SearchOptions(strategy: .exact))
                total += recall(rescored.map(\.key), exact.map(\.key))
                // Rescored distances are the int8 distances.
                for hit in rescored {
                    if let same = exact.first(where: { $0.key == hit.key }) { #expect(abs(hit.distance - same.distance) <= 1e-5) }
                }
            }
            #expect(total / Double(queries.count) >= 0.9, "\(encoding) rescored on int8: recall \(total / Double(queries.count))")
        }
        // Retraining everything leaves the int8 codes that hold the vectors alone.
        let retrained = try db.write { tx in try tx.collection("v").retrainEncodings() }
        #expect(Set(retrained.map(\.parameters.encoding)) == [.binary, .pq(m: 16)])
        // Quality is measured against the codes: the int8 encoding itself is exact there.
        let quality = try db.read { tx in try tx.collection("v").encodingQuality(.int8, queries: 20) }
        #expect(quality.againstInt8Floats)
        #expect(quality.meanSquaredError == 0)
        #expect(quality.recallOfCodes == 1)
        #expect(try db.verify().isEmpty)
    }

    @Test func batchSearchMatchesSearch() throws {
        let data = Datasets.clustered(count: 500, dimensions: 32, seed: 341)
        let (_, db) = try load(data, metric: .dot)
        _ = try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() }
        let queries = Array(data.prefix(8))
        let batch = try db.read { tx in try tx.collection("v").searchBatch(queries, k: 5, threads: 2) }
        for (q, got) in zip(queries, batch) { #expect(got.map(\.key) == (try search(db, q, k: 5)).map(\.key)) }
    }

    @Test func whatCannotBeDoneIsRefused() throws {
        let data = Datasets.clustered(count: 200, dimensions: 32, seed: 351)
        let (_, db) = try load(data, metric: .l2)
        let first = try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() }
        // Again: nothing to do, the same encoding.
        #expect(try db.write { tx in try tx.collection("v").keepFloatsOnlyAsInt8() } == first)
        #expect(code { try db.write { tx in try tx.collection("v").dropEncoding(.int8) } } == .invalidArgument)
        #expect(code { try db.buildEncoding(collection: "v", EncodingParameters(.int8)) } == .invalidArgument)
        #expect(code { _ = try db.write { tx in try tx.collection("v").retrainEncodings(.int8) } } == .invalidArgument)
        #expect(try db.verify().isEmpty)

        try db.createCollection("m", schema: CollectionSchema(vectors: .matryoshka(dimensions: 32, prefixes: [8, 16]), metric: .cosine))
        try db.createCollection("b", schema: CollectionSchema(vectors: .binary(dimensions: 64, keepsFloats: true), metric: .cosine))
        try db.createCollection("t", schema: CollectionSchema(vectors: .multiVector(dimensions: 8), metric: .dot))
        for name in ["m", "b", "t"] {
            #expect(code { _ = try db.write { tx in try tx.collection(name).keepFloatsOnlyAsInt8() } } == .invalidArgument, "\(name)")
        }
        try db.createCollection("empty", schema: CollectionSchema(vectors: .float32(dimensions: 4), metric: .l2))
        #expect(code { _ = try db.write { tx in try tx.collection("empty").keepFloatsOnlyAsInt8() } } == .invalidArgument)
    }

    func normalised(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}
