import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// Encodings (int8, binary, PQ): recall of code scans and code walks against the exact
/// oracle, upkeep through upserts and deletes, reopen, determinism, bad parameters.
@Suite("Encodings")
struct EncodingTests {
    static let dimensions = 32

    /// Sign bits rank neighbours only with enough dimensions: binary cases run on 256.
    static func dimensions(for encoding: VectorEncoding) -> Int { encoding == .binary ? 256 : dimensions }

    func load(_ data: [[Float]], kind: VectorKind? = nil, metric: Metric) throws -> (TemporaryStore, Database) {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("v", schema: CollectionSchema(vectors: kind ?? .float32(dimensions: data[0].count), metric: metric))
        try db.write { tx in
            let c = try tx.collection("v")
            for (i, v) in data.enumerated() { try c.upsert(key: .int(UInt64(i)), vector: v) }
        }
        return (store, db)
    }

    /// Mean recall@k of searches with `options` against the exact float scan.
    func meanRecall(_ db: Database, _ queries: [[Float]], k: Int = 10, options: SearchOptions) throws -> Double {
        var total = 0.0
        for q in queries {
            let (got, truth) = try db.read { tx in
                let c = try tx.collection("v")
                return (try c.search(q, k: k, options: options),
                        try c.search(q, k: k, options: SearchOptions(candidates: .floats, strategy: .exact)))
            }
            total += recall(got.map(\.key), truth.map(\.key))
        }
        return total / Double(queries.count)
    }

    /// Data and queries from the same clusters (queries drawn from other clusters than the
    /// data's would make every encoding look worse than it is on real embeddings).
    static func split(_ all: [[Float]], queries: Int = 25) -> ([[Float]], [[Float]]) {
        (Array(all.dropLast(queries)), Array(all.suffix(queries)))
    }

    static let cases: [(VectorEncoding, Metric)] = [
        (.int8, .cosine), (.int8, .dot), (.int8, .l2), (.binary, .cosine), (.binary, .dot), (.pq(m: 8), .cosine), (.pq(m: 8), .l2),
    ]

    @Test(arguments: cases)
    func exactCodeScanRescoredMatchesFloats(encoding: VectorEncoding, metric: Metric) throws {
        let dimensions = Self.dimensions(for: encoding)
        let (data, queries) = Self.split(Datasets.clustered(count: 1_525, dimensions: dimensions, seed: 31))
        let (_, db) = try load(data, metric: metric)
        let info = try db.buildEncoding(collection: "v", EncodingParameters(encoding))
        #expect(info.dimensions == dimensions)
        let options = SearchOptions(candidates: .encoding(encoding), oversample: encoding == .int8 ? 4 : 10, strategy: .exact)
        let rescored = try meanRecall(db, queries, options: options)
        #expect(rescored >= (encoding == .int8 ? 0.97 : 0.9), "\(encoding) \(metric): rescored recall \(rescored)")
        // Rescored distances are the exact float distances.
        let q = queries[0]
        let (coded, exact) = try db.read { tx in
            let c = try tx.collection("v")
            return (try c.search(q, k: 5, options: options), try c.search(q, k: 5, options: SearchOptions(candidates: .floats)))
        }
        for hit in coded where exact.contains(where: { $0.key == hit.key }) {
            let e = exact.first { $0.key == hit.key }!
            #expect(abs(hit.distance - e.distance) <= 1e-4 * max(1, abs(e.distance)))
        }
        if encoding == .int8 {
            // int8 code distances alone are close to the float distances.
            let raw = try db.read { tx in
                try tx.collection("v").search(q, k: 5, options: SearchOptions(candidates: .encoding(.int8), rescore: false, strategy: .exact))
            }
            for hit in raw {
                let e = try db.read { tx in try tx.collection("v").get(hit.key)!.vector! }
                let d = BruteForce.distance(q, e, metric: metric)
                #expect(abs(Double(hit.distance) - d) <= 0.05 * max(1, abs(d)), "int8 distance \(hit.distance) vs \(d)")
            }
        }
    }

    @Test(arguments: [VectorEncoding.int8, .binary, .pq(m: 8)])
    func graphWalkOnCodesMatchesExact(encoding: VectorEncoding) throws {
        let dimensions = Self.dimensions(for: encoding)
        let (data, queries) = Self.split(Datasets.clustered(count: 2_025, dimensions: dimensions, seed: 41))
        let (_, db) = try load(data, metric: .cosine)
        try db.buildIndex(collection: "v", HNSWParameters(m: 12, efConstruction: 100), threads: 1)
        try db.buildEncoding(collection: "v", EncodingParameters(encoding))
        let options = SearchOptions(candidates: .encoding(encoding), oversample: encoding == .int8 ? 4 : 10, efSearch: 128, strategy: .index)
        let codes = try meanRecall(db, queries, options: options)
        let floats = try meanRecall(db, queries, options: SearchOptions(candidates: .floats, efSearch: 128, strategy: .index))
        // The walk on codes finds about what the walk on floats finds.
        #expect(floats >= 0.95, "float walk recall \(floats)")
        #expect(codes >= floats - (encoding == .int8 ? 0.03 : 0.1), "\(encoding): recall \(codes), floats \(floats)")
        #expect(try db.verify().isEmpty)
    }

    @Test func upsertsAndDeletesKeepCodesCurrent() throws {
        let data = Datasets.clustered(count: 600, dimensions: Self.dimensions, seed: 51)
        let (store, db) = try load(data, metric: .l2)
        try db.buildEncoding(collection: "v", EncodingParameters(.int8))
        try db.buildEncoding(collection: "v", EncodingParameters(.pq(m: 4)))
        let fresh = Datasets.clustered(count: 50, dimensions: Self.dimensions, seed: 52)
        try db.write { tx in
            let c = try tx.collection("v")
            for i in 0..<100 { try c.delete(key: .int(UInt64(i))) }
            for (i, v) in fresh.enumerated() { try c.upsert(key: .int(UInt64(10_000 + i)), vector: v) }
            // Replaced vectors are re-encoded.
            for i in 100..<120 { try c.upsert(key: .int(UInt64(i)), vector: fresh[i - 100].map { $0 + 0.001 }) }
        }
        for encoding in [VectorEncoding.int8, .pq(m: 4)] {
            let options = SearchOptions(candidates: .encoding(encoding), oversample: 8, strategy: .exact)
            for (i, v) in fresh.prefix(20).enumerated() {
                let hits = try db.read { tx in try tx.collection("v").search(v, k: 3, options: options) }
                #expect(hits.first?.key == .int(UInt64(10_000 + i)), "\(encoding): fresh row \(i) not found first")
                #expect(!hits.contains { if case .int(let k) = $0.key { k < 100 } else { false } }, "deleted rows found")
            }
            #expect(try meanRecall(db, Array(fresh.suffix(10)), options: options) >= 0.9)
        }
        #expect(try db.verify().isEmpty)
        // Reopen: the encodings and their codes are stored.
        let reopened = try store.open()
        let infos = try reopened.read { tx in try tx.collection("v").encodings }
        #expect(Set(infos.map(\.parameters.encoding)) == [.int8, .pq(m: 4)])
        let hit = try reopened.read { tx in
            try tx.collection("v").search(fresh[30], k: 1, options: SearchOptions(candidates: .encoding(.pq(m: 4)), strategy: .exact))
        }
        #expect(hit.first?.key == .int(10_030))
    }

    @Test func trainingIsDeterministic() throws {
        let data = Datasets.clustered(count: 800, dimensions: Self.dimensions, seed: 61)
        let queries = Datasets.clustered(count: 5, dimensions: Self.dimensions, seed: 62)
        var runs: [[[Float]]] = []
        for _ in 0..<2 {
            let (_, db) = try load(data, metric: .l2)
            try db.buildEncoding(collection: "v", EncodingParameters(.pq(m: 8), sampleSize: 500, seed: 7))
            runs.append(try queries.map { q in
                try db.read { tx in
                    try tx.collection("v").search(q, k: 20, options: SearchOptions(candidates: .encoding(.pq(m: 8)), rescore: false, strategy: .exact))
                        .map(\.distance)
                }
            })
        }
        #expect(runs[0] == runs[1])
    }

    @Test func retrainReplacesTheEncoding() throws {
        let data = Datasets.clustered(count: 500, dimensions: Self.dimensions, seed: 71)
        let (_, db) = try load(data, metric: .cosine)
        try db.buildEncoding(collection: "v", EncodingParameters(.int8))
        // Drifted data: every vector shifted.
        try db.write { tx in
            let c = try tx.collection("v")
            for (i, v) in data.enumerated() { try c.upsert(key: .int(UInt64(i)), vector: v.map { $0 * 3 + 2 }) }
        }
        try db.buildEncoding(collection: "v", EncodingParameters(.int8))
        let infos = try db.read { tx in try tx.collection("v").encodings }
        #expect(infos.count == 1)
        let queries = data.prefix(10).map { $0.map { $0 * 3 + 2 } }
        #expect(try meanRecall(db, Array(queries), options: SearchOptions(candidates: .encoding(.int8), strategy: .exact)) >= 0.95)
        try db.write { tx in try tx.collection("v").dropEncoding(.int8) }
        #expect(try db.read { tx in try tx.collection("v").encodings }.isEmpty)
    }

    @Test func matryoshkaPrefixEncoding() throws {
        let (data, queries) = Self.split(Datasets.clustered(count: 820, dimensions: Self.dimensions, seed: 81), queries: 20)
        let (_, db) = try load(data, kind: .matryoshka(dimensions: Self.dimensions, prefixes: [8, 16]), metric: .cosine)
        try db.buildEncoding(collection: "v", EncodingParameters(.binary, prefix: 16))
        let info = try db.read { tx in try tx.collection("v").encodings }
        #expect(info.first?.dimensions == 16)
        // Candidates from the 16-prefix's bits, rescored on the full vector.
        let r = try meanRecall(db, queries, options: SearchOptions(prefix: 16, candidates: .encoding(.binary), oversample: 20, strategy: .exact))
        #expect(r >= 0.8, "recall \(r)")
    }

    @Test func funnelStagesMatchTheExactScan() throws {
        let (data, queries) = Self.split(Datasets.clustered(count: 1_220, dimensions: Self.dimensions, seed: 101), queries: 20)
        let (_, db) = try load(data, kind: .matryoshka(dimensions: Self.dimensions, prefixes: [8, 16]), metric: .cosine)
        try db.buildEncoding(collection: "v", EncodingParameters(.binary, prefix: 16))
        try db.buildEncoding(collection: "v", EncodingParameters(.int8, prefix: 16))
        let funnel = try Funnel("16:binary:300,16:int8:60,full")
        #expect(funnel.stages == [.init(prefix: 16, encoding: .binary, shortlist: 300), .init(prefix: 16, encoding: .int8, shortlist: 60), .init(prefix: nil)])
        #expect(funnel.description == "16:binary:300,16:int8:60,full:float")
        let r = try meanRecall(db, queries, options: SearchOptions(funnel: funnel))
        #expect(r >= 0.9, "funnel recall \(r)")
        // The default funnel: binary codes of the 8-prefix are absent, so its floats; int8 of 16.
        let automatic = try db.read { tx in try tx.collection("v").defaultFunnel(k: 10, oversample: 4) }
        #expect(automatic.description == "8:float:400,16:int8:40,full:float")
        #expect(try meanRecall(db, queries, options: SearchOptions(funnel: automatic)) >= 0.9)
        // A funnel of float prefixes alone, ending on a prefix: distances are the prefix's.
        let short = try db.read { tx in
            try tx.collection("v").search(queries[0], k: 5, options: SearchOptions(funnel: try Funnel("8:float:100,16")))
        }
        #expect(short.count == 5)
        func code(_ text: String) -> QuiverError.Code? {
            do { _ = try db.read { tx in try tx.collection("v").search(queries[0], k: 5, options: SearchOptions(funnel: try Funnel(text))) } }
            catch let e as QuiverError { return e.code } catch { return nil }
            return nil
        }
        #expect(code("12:float:100,full") == .invalidArgument)
        #expect(code("8:pq4:100,full") == .encodingNotFound)
        #expect(code("8:float,full") == .invalidArgument)
        #expect(code("8:zip:10") == .invalidArgument)
        #expect(code("x") == .invalidArgument)
    }

    @Test(arguments: [Metric.cosine, .l2])
    func ivfpqListsAnswerAndStayCurrent(metric: Metric) throws {
        let (data, queries) = Self.split(Datasets.clustered(count: 2_025, dimensions: Self.dimensions, seed: 111))
        let (store, db) = try load(data, metric: metric)
        let encoding = VectorEncoding.ivfpq(nlist: 16, m: 8)
        try db.buildEncoding(collection: "v", EncodingParameters(encoding))
        #expect(try db.verify().isEmpty)
        let all = SearchOptions(candidates: .encoding(encoding), oversample: 8)
        var probed = all
        probed.nprobe = 16
        #expect(try meanRecall(db, queries, options: probed) >= 0.95)
        var one = all
        one.nprobe = 1
        let (oneRecall, allRecall) = (try meanRecall(db, queries, options: one), try meanRecall(db, queries, options: probed))
        #expect(oneRecall <= allRecall)
        // Filters apply inside the lists.
        let filtered = try db.read { tx in
            try tx.collection("v").search(queries[0], k: 5, filter: nil, options: probed)
        }
        #expect(filtered.count == 5)
        // Deletes leave the lists; new and replaced rows join them.
        let fresh = Array(Datasets.clustered(count: 2_100, dimensions: Self.dimensions, seed: 111).suffix(60))
        try db.read { old in
            try db.write { tx in
                let c = try tx.collection("v")
                for i in 0..<300 { try c.delete(key: .int(UInt64(i))) }
                for (i, v) in fresh.enumerated() { try c.upsert(key: .int(UInt64(50_000 + i)), vector: v) }
                for i in 300..<320 { try c.upsert(key: .int(UInt64(i)), vector: data[i].map { -$0 }) }
            }
            // Readers of the old and the new snapshot, interleaved through the pooled search
            // contexts (which keep list values by address per snapshot), each read their own lists.
            try db.read { new in
                for (i, v) in fresh.prefix(5).enumerated() {
                    let before = try old.collection("v").search(v, k: 3, options: probed)
                    let after = try new.collection("v").search(v, k: 3, options: probed)
                    #expect(!before.contains { $0.key == .int(UInt64(50_000 + i)) })
                    #expect(after.first?.key == .int(UInt64(50_000 + i)))
                }
            }
        }
        let violations = try db.verify()
        #expect(violations.isEmpty, "\(violations.prefix(3))")
        for (i, v) in fresh.prefix(15).enumerated() {
            let hits = try db.read { tx in try tx.collection("v").search(v, k: 3, options: probed) }
            #expect(hits.first?.key == .int(UInt64(50_000 + i)))
        }
        let quality = try db.read { tx in try tx.collection("v").encodingQuality(encoding, queries: 50) }
        #expect(quality.meanSquaredError != nil && quality.recallOfCodes != nil)
        #expect(try store.open().read { tx in try tx.collection("v").encodings }.map(\.parameters.encoding) == [encoding])
        // nlist larger than the collection, nprobe out of range.
        #expect(throws: QuiverError.self) { try db.buildEncoding(collection: "v", EncodingParameters(.ivfpq(nlist: 5_000, m: 8))) }
        var bad = all
        bad.nprobe = 17
        #expect(throws: QuiverError.self) { _ = try db.read { tx in try tx.collection("v").search(queries[0], k: 1, options: bad) } }
        #expect(VectorEncoding("ivfpq1024x48") == .ivfpq(nlist: 1_024, m: 48))
    }

    @Test func bulkLoadsAreEncoded() throws {
        let (data, queries) = Self.split(Datasets.clustered(count: 1_210, dimensions: 128, seed: 121), queries: 10)
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("v", schema: CollectionSchema(vectors: .float32(dimensions: 128), metric: .cosine))
        // Binary codes need no training: built on the empty collection, then bulk-loaded.
        _ = try db.write { tx in try tx.collection("v").buildEncoding(.binary) }
        let flat = data.flatMap { $0 }
        try db.write { tx in
            let c = try tx.collection("v")
            try flat.withUnsafeBufferPointer { try c.appendBatch(count: data.count, floats: $0, bits: nil, keys: .sequential(start: 0), metadata: nil) }
        }
        #expect(try db.verify().isEmpty)
        #expect(try meanRecall(db, queries, options: SearchOptions(candidates: .encoding(.binary), oversample: 10, strategy: .exact)) >= 0.9)
    }

    @Test func badParametersAreClearErrors() throws {
        let data = Datasets.clustered(count: 100, dimensions: Self.dimensions, seed: 91)
        let (_, db) = try load(data, metric: .l2)
        func code(_ body: () throws -> Void) -> QuiverError.Code? {
            do { try body() } catch let e as QuiverError { return e.code } catch { return nil }
            return nil
        }
        #expect(code { try db.buildEncoding(collection: "v", EncodingParameters(.pq(m: 5))) } == .invalidArgument)
        #expect(code { try db.buildEncoding(collection: "v", EncodingParameters(.pq(m: 0))) } == .invalidArgument)
        #expect(code { try db.buildEncoding(collection: "v", EncodingParameters(.binary)) } == .invalidArgument)
        #expect(code { try db.buildEncoding(collection: "v", EncodingParameters(.int8, prefix: 8)) } == .invalidArgument)
        #expect(code { try db.buildEncoding(collection: "v", EncodingParameters(.int8, sampleSize: 0)) } == .invalidArgument)
        #expect(code { _ = try db.read { tx in try tx.collection("v").search(data[0], k: 1, options: SearchOptions(candidates: .encoding(.int8))) } } == .encodingNotFound)
        #expect(code { try db.write { tx in try tx.collection("v").dropEncoding(.int8) } } == .encodingNotFound)
        try db.createCollection("empty", schema: CollectionSchema(vectors: .float32(dimensions: 4), metric: .l2))
        #expect(code { try db.buildEncoding(collection: "empty", EncodingParameters(.int8)) } == .invalidArgument)
        try db.createCollection("bits", schema: CollectionSchema(vectors: .binary(dimensions: 64, keepsFloats: false), metric: .hamming))
        #expect(code { try db.buildEncoding(collection: "bits", EncodingParameters(.int8)) } == .invalidArgument)
        #expect(VectorEncoding("pq48") == .pq(m: 48))
        #expect(VectorEncoding("int8") == .int8)
        #expect(VectorEncoding("pq") == nil)
    }
}
