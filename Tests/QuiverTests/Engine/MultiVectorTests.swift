import Foundation
@_spi(Fuzzing) import Quiver
import QuiverTestSupport
import Testing

/// Multi-vector (ColBERT-style) collections: documents as token matrices, pooling at ingest,
/// exact MaxSim against a plain reference, the token-index fast path, filters, deletes, bulk
/// loads, reopen, and bad input.
@Suite("Multi-vector collections")
struct MultiVectorTests {
    static let dimensions = 16

    /// Documents of 3-40 tokens drawn around a few topic centres, so that MaxSim has real
    /// neighbours; queries of 2-8 tokens drawn the same way.
    static func documents(_ count: Int, seed: UInt64, minTokens: Int = 3, maxTokens: Int = 40) -> [[[Float]]] {
        var rng = SeededGenerator(seed: seed)
        let topics = (0..<12).map { _ in (0..<dimensions).map { _ in rng.gaussian() } }
        return (0..<count).map { _ in
            let topic = topics[Int.random(in: 0..<topics.count, using: &rng)]
            return (0..<Int.random(in: minTokens...maxTokens, using: &rng)).map { _ in topic.map { $0 + 0.8 * rng.gaussian() } }
        }
    }

    /// Documents whose tokens are words: a shared vocabulary of 48 word vectors (from
    /// `vocabularySeed`), 12 topics of 8 words each; a document's tokens are words of its topic
    /// (one in five from anywhere) plus a little noise, as contextual token embeddings cluster
    /// by the word they stand for.
    static func wordDocuments(_ count: Int, seed: UInt64, vocabularySeed: UInt64 = 99, minTokens: Int = 3,
                              maxTokens: Int = 40) -> [[[Float]]] {
        var vocabularyRNG = SeededGenerator(seed: vocabularySeed)
        let words = (0..<48).map { _ in (0..<dimensions).map { _ in vocabularyRNG.gaussian() } }
        let topics = (0..<12).map { _ in (0..<8).map { _ in Int.random(in: 0..<words.count, using: &vocabularyRNG) } }
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let topic = topics[Int.random(in: 0..<topics.count, using: &rng)]
            return (0..<Int.random(in: minTokens...maxTokens, using: &rng)).map { _ in
                let word = Int.random(in: 0..<5, using: &rng) == 0 ? Int.random(in: 0..<words.count, using: &rng)
                    : topic[Int.random(in: 0..<topic.count, using: &rng)]
                return words[word].map { $0 + 0.3 * rng.gaussian() }
            }
        }
    }

    static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    /// MaxSim written out plainly: the reference the engine is checked against.
    static func maxSim(_ query: [[Float]], _ document: [[Float]]) -> Float {
        query.reduce(0) { sum, q in
            sum + document.map { t in zip(q, t).reduce(0) { $0 + $1.0 * $1.1 } }.max()!
        }
    }

    func makeStore(metric: Metric = .cosine, poolFactor: Int = 1, fields: [FieldDefinition] = []) throws -> (TemporaryStore, Database) {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("docs", schema: CollectionSchema(
            vectors: .multiVector(dimensions: Self.dimensions, poolFactor: poolFactor, protectedTokens: 1), metric: metric, fields: fields))
        return (store, db)
    }

    /// The IVF lists of ``makeCodedListsStore(seed:)``.
    static let codedLists = VectorEncoding.ivfpq(nlist: 32, m: 4)

    /// A store of 300 word documents (keys 0..<300) with IVF lists of their tokens
    /// (``codedLists``) and int8 codes of them, and 20 queries; documents and queries from
    /// `seed` and `seed + 1`.
    func makeCodedListsStore(seed: UInt64) throws -> (TemporaryStore, Database, [[[Float]]], [[[Float]]]) {
        let docs = Self.wordDocuments(300, seed: seed)
        let queries = Self.wordDocuments(20, seed: seed + 1, minTokens: 3, maxTokens: 20)
        let (store, db) = try makeStore()
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
            try c.buildEncoding(EncodingParameters(Self.codedLists))
            try c.buildEncoding(.int8)
        }
        return (store, db, docs, queries)
    }

    @Test("upsert, get and reopen keep the (normalised) tokens and metadata")
    func roundTrip() throws {
        let docs = Self.documents(20, seed: 1)
        let (store, db) = try makeStore(fields: [FieldDefinition("n", .int64)])
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d, metadata: ["n": .int64(Int64(d.count))]) }
        }
        let reopened = try store.open()
        try reopened.read { tx in
            let c = try tx.collection("docs")
            #expect(c.count == docs.count)
            for (i, d) in docs.enumerated() {
                let record = try #require(try c.get(.int(UInt64(i))))
                #expect(record.vector == nil)
                #expect(record.metadata["n"] == .int64(Int64(d.count)))
                let tokens = try #require(record.tokens)
                #expect(tokens.count == d.count)
                for (stored, given) in zip(tokens, d) {
                    for (a, b) in zip(stored, Self.normalized(given)) { #expect(abs(a - b) < 1e-5) }
                }
            }
            let stats = try c.tokenStatistics()
            #expect(stats.documents == docs.count)
            #expect(stats.storedTokens == docs.map(\.count).reduce(0, +))
            #expect(stats.tokensBeforePooling == stats.storedTokens)
        }
    }

    @Test("the exact scan ranks documents by MaxSim exactly", arguments: [Metric.cosine, .dot])
    func exactMatchesReference(metric: Metric) throws {
        let docs = Self.documents(60, seed: 2)
        let queries = Self.documents(8, seed: 3, minTokens: 2, maxTokens: 8)
        let (_, db) = try makeStore(metric: metric)
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
        }
        let stored = metric == .cosine ? docs.map { $0.map(Self.normalized) } : docs
        for query in queries {
            let q = metric == .cosine ? query.map(Self.normalized) : query
            let expected = stored.enumerated().map { (key: UInt64($0.offset), score: Self.maxSim(q, $0.element)) }
                .sorted { $0.score > $1.score }.prefix(5)
            let got = try db.read { tx in try tx.collection("docs").search(tokens: query, k: 5, options: SearchOptions(strategy: .exact)) }
            #expect(got.map(\.key) == expected.map { .int($0.key) })
            for (hit, want) in zip(got, expected) { #expect(abs(-hit.distance - want.score) < 1e-3 * max(1, abs(want.score))) }
        }
    }

    @Test("pooling keeps max(1, (n - p) / f) clusters after the protected tokens, as unit vectors")
    func pooledCounts() throws {
        let docs = Self.documents(10, seed: 4, minTokens: 1, maxTokens: 30)
        let (_, db) = try makeStore(poolFactor: 3)
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
        }
        try db.read { tx in
            let c = try tx.collection("docs")
            var expectedTotal = 0
            for (i, d) in docs.enumerated() {
                let tokens = try #require(try c.get(.int(UInt64(i)))?.tokens)
                let expected = d.count <= 1 ? d.count : 1 + max(1, (d.count - 1) / 3)
                #expect(tokens.count == expected, "document of \(d.count) tokens")
                expectedTotal += expected
                // The protected first token is kept as given (normalised for cosine).
                for (a, b) in zip(tokens[0], Self.normalized(d[0])) { #expect(abs(a - b) < 1e-5) }
                for token in tokens { #expect(abs(token.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4) }
            }
            let stats = try c.tokenStatistics()
            #expect(stats.storedTokens == expectedTotal)
            #expect(stats.tokensBeforePooling == docs.map(\.count).reduce(0, +))
            #expect(stats.vectorBytes == expectedTotal * Self.dimensions * 4)
        }
    }

    @Test("deletes and replacements free token rows for reuse and leave results at once")
    func deletesAndReplacements() throws {
        let docs = Self.documents(30, seed: 5)
        let (_, db) = try makeStore()
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
        }
        let before = try db.read { tx in try tx.collection("docs").tokenStatistics() }
        let query = docs[7]
        try db.write { tx in
            let c = try tx.collection("docs")
            #expect(try c.delete(key: .int(7)))
            #expect(try !c.delete(key: .int(7)))
            // Replace document 8 with a shorter one.
            try c.upsert(key: .int(8), tokens: Array(docs[8].prefix(2)))
        }
        try db.read { tx in
            let c = try tx.collection("docs")
            #expect(try c.get(.int(7)) == nil)
            #expect(try c.get(.int(8))?.tokens?.count == 2)
            let hits = try c.search(tokens: query, k: 30, options: SearchOptions(strategy: .exact))
            #expect(!hits.contains { $0.key == .int(7) })
            #expect(hits.count == 29)
            let stats = try c.tokenStatistics()
            #expect(stats.storedTokens == before.storedTokens - docs[7].count - docs[8].count + 2)
        }
        // New documents reuse the freed token rows: the token row high-water mark stays.
        try db.write { tx in try tx.collection("docs").upsert(key: .int(100), tokens: Array(docs[7].prefix(docs[7].count - 1))) }
        let after = try db.read { tx in try tx.collection("docs").tokenStatistics() }
        #expect(after.tokenRows == before.tokenRows)
        #expect(try db.verify().isEmpty)
    }

    @Test("searches see each snapshot's token lists: the context's document lists follow writes in one transaction and across snapshots")
    func documentListsFollowSnapshots() throws {
        let docs = Self.documents(40, seed: 6)
        let (_, db) = try makeStore()
        let exact = SearchOptions(strategy: .exact)
        /// Document `key`'s score for `query`, found among all results.
        func score(_ hits: [SearchResult], _ key: UInt64) -> Float? { hits.first { $0.key == .int(key) }.map { -$0.distance } }
        let query = docs[3]
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
            let first = try c.reader().search(tokens: query, k: 40, options: exact)
            #expect(abs(score(first, 3)! - Self.maxSim(query.map(Self.normalized), docs[3].map(Self.normalized))) <= 1e-4)
            // Replaced in the same transaction (its list moves to other rows): the next search
            // scores the new tokens.
            try c.upsert(key: .int(3), tokens: docs[9])
            let second = try c.reader().search(tokens: query, k: 40, options: exact)
            #expect(abs(score(second, 3)! - Self.maxSim(query.map(Self.normalized), docs[9].map(Self.normalized))) <= 1e-4)
        }
        // A reader of the old snapshot and one of the new, interleaved through the pooled contexts.
        try db.read { old in
            try db.write { tx in try tx.collection("docs").upsert(key: .int(3), tokens: docs[12]) }
            try db.read { new in
                for _ in 0..<2 {
                    let before = try old.collection("docs").search(tokens: query, k: 40, options: exact)
                    let after = try new.collection("docs").search(tokens: query, k: 40, options: exact)
                    #expect(abs(score(before, 3)! - Self.maxSim(query.map(Self.normalized), docs[9].map(Self.normalized))) <= 1e-4)
                    #expect(abs(score(after, 3)! - Self.maxSim(query.map(Self.normalized), docs[12].map(Self.normalized))) <= 1e-4)
                }
            }
        }
    }

    @Test("appendDocuments equals one upsert per document, and a bad document writes nothing")
    func bulkLoad() throws {
        let docs = Self.documents(40, seed: 6)
        let flat = docs.flatMap { $0.flatMap { $0 } }
        let (_, bulk) = try makeStore(poolFactor: 2, fields: [FieldDefinition("i", .int64)])
        let (_, single) = try makeStore(poolFactor: 2, fields: [FieldDefinition("i", .int64)])
        let metadata = docs.indices.map { ["i": MetadataValue.int64(Int64($0))] }
        let stored = try bulk.write { tx in
            try flat.withUnsafeBufferPointer {
                try tx.collection("docs").appendDocuments(tokens: $0, tokenCounts: docs.map(\.count), keys: .sequential(start: 0),
                                                          metadata: metadata, threads: 2)
            }
        }
        try single.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d, metadata: metadata[i]) }
        }
        #expect(stored == (try bulk.read { tx in try tx.collection("docs").tokenStatistics().storedTokens }))
        for i in [0, 17, 39] {
            let a = try bulk.read { tx in try tx.collection("docs").get(.int(UInt64(i))) }
            let b = try single.read { tx in try tx.collection("docs").get(.int(UInt64(i))) }
            #expect(a == b)
        }
        // Document 3 has a NaN: the error names it and nothing of the batch is written.
        var bad = flat
        bad[(docs[0].count + docs[1].count + docs[2].count) * Self.dimensions + 5] = .nan
        let (_, empty) = try makeStore()
        let error = #expect(throws: QuiverError.self) {
            try empty.write { tx in
                let c = try tx.collection("docs")
                do {
                    _ = try bad.withUnsafeBufferPointer { try c.appendDocuments(tokens: $0, tokenCounts: docs.map(\.count), keys: .sequential(start: 0)) }
                } catch {
                    #expect(c.count == 0)
                    throw error
                }
            }
        }
        #expect(error?.code == .invalidVector)
        #expect(error?.key == .int(3))
    }

    @Test("the token index finds the exact MaxSim top 10, and stays in step with writes")
    func fastPath() throws {
        let docs = Self.documents(300, seed: 7)
        let queries = Self.documents(20, seed: 8, minTokens: 3, maxTokens: 8)
        let (_, db) = try makeStore(fields: [FieldDefinition("even", .bool)])
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d, metadata: ["even": .bool(i % 2 == 0)]) }
            try c.buildIndex(HNSWParameters(m: 12, efConstruction: 100, efSearch: 64))
        }
        // Writes after the build: deletes, replacements, new documents.
        try db.write { tx in
            let c = try tx.collection("docs")
            for i in stride(from: 0, to: 300, by: 7) { try c.delete(key: .int(UInt64(i))) }
            for i in stride(from: 1, to: 300, by: 11) { try c.upsert(key: .int(UInt64(i)), tokens: docs[(i * 13) % 300], metadata: ["even": .bool(i % 2 == 0)]) }
            for i in 300..<340 { try c.upsert(key: .int(UInt64(i)), tokens: docs[i - 300], metadata: ["even": .bool(i % 2 == 0)]) }
        }
        #expect(try db.verify().isEmpty)
        for filter in [nil, Field("even") == .bool(true)] as [Filter?] {
            var total = 0.0
            for query in queries {
                let (fast, exact) = try db.read { tx in
                    let c = try tx.collection("docs")
                    return (try c.search(tokens: query, k: 10, filter: filter),
                            try c.search(tokens: query, k: 10, filter: filter, options: SearchOptions(strategy: .exact)))
                }
                total += recall(fast.map(\.key), exact.map(\.key))
                if filter != nil { #expect(fast.allSatisfy { if case .int(let key) = $0.key { key % 2 == 0 } else { false } }) }
            }
            #expect(total / Double(queries.count) >= 0.9, "filter \(String(describing: filter))")
        }
    }

    @Test("IVF lists of the tokens (centroid interaction) find the exact MaxSim top 10, respect filters, and stay in step with writes")
    func ivfPath() throws {
        let docs = Self.wordDocuments(400, seed: 17)
        // Queries of up to 30 tokens: every way the estimate groups query tokens by eight.
        let queries = Self.wordDocuments(20, seed: 18, minTokens: 3, maxTokens: 30)
        let (_, db) = try makeStore(fields: [FieldDefinition("even", .bool), FieldDefinition("third", .bool)])
        func metadata(_ i: Int) -> [String: MetadataValue] { ["even": .bool(i % 2 == 0), "third": .bool(i % 3 == 0)] }
        let encoding = VectorEncoding.ivfpq(nlist: 32, m: 4)
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d, metadata: metadata(i)) }
            try c.buildEncoding(EncodingParameters(encoding))
        }
        // Writes after the build: deletes, replacements, new documents (lists and row plane
        // are kept at flush).
        var deleted: Set<RecordKey> = []
        try db.write { tx in
            let c = try tx.collection("docs")
            for i in stride(from: 0, to: 400, by: 7) {
                try c.delete(key: .int(UInt64(i)))
                deleted.insert(.int(UInt64(i)))
            }
            for i in stride(from: 1, to: 400, by: 11) {
                try c.upsert(key: .int(UInt64(i)), tokens: docs[(i * 13) % 400], metadata: metadata(i))
                deleted.remove(.int(UInt64(i)))
            }
            for i in 400..<440 { try c.upsert(key: .int(UInt64(i)), tokens: docs[i - 400], metadata: metadata(i)) }
        }
        #expect(try db.verify().isEmpty)
        let live = try db.read { tx in try tx.collection("docs").count }

        // Without a token graph the lists are the default candidates; `.index` takes them
        // rather than failing for want of a graph.
        let forced = SearchOptions(strategy: .index)
        var everything = SearchOptions(candidates: .encoding(encoding), oversample: 100, strategy: .index)
        everything.nprobe = 32
        let filters: [Filter?] = [nil, Field("even") == .bool(true), Field("third") == .bool(true)]
        for filter in filters {
            for options in [SearchOptions(), forced] {
                var total = 0.0
                for query in queries {
                    let (fast, exact, all) = try db.read { tx in
                        let c = try tx.collection("docs")
                        return (try c.search(tokens: query, k: 10, filter: filter, options: options),
                                try c.search(tokens: query, k: 10, filter: filter, options: SearchOptions(strategy: .exact)),
                                try c.search(tokens: query, k: 10, filter: filter, options: everything))
                    }
                    total += recall(fast.map(\.key), exact.map(\.key))
                    #expect(fast.count == 10)
                    #expect(!fast.contains { deleted.contains($0.key) })
                    // Every list probed and every candidate rescored: exactly the exact scan.
                    #expect(all.map(\.key) == exact.map(\.key))
                    #expect(zip(all, exact).allSatisfy { abs($0.distance - $1.distance) <= 1e-5 })
                    if filter != nil {
                        let passes = { (key: RecordKey) -> Bool in
                            guard case .int(let i) = key else { return false }
                            return filter == filters[1] ? i % 2 == 0 : i % 3 == 0
                        }
                        #expect(fast.allSatisfy { passes($0.key) })
                    }
                }
                #expect(total / Double(queries.count) >= 0.9, "filter \(String(describing: filter)), strategy \(options.strategy)")
            }
        }
        #expect(live == 400 - deleted.count + 40)

        // An nprobe past the lists, or lists that were never built, are refused; without the
        // encoding `.index` has nothing to walk.
        var tooMany = SearchOptions(strategy: .index)
        tooMany.nprobe = 33
        try db.read { tx in
            let c = try tx.collection("docs")
            let refused = #expect(throws: QuiverError.self) { try c.search(tokens: queries[0], k: 10, options: tooMany) }
            #expect(refused?.code == .invalidArgument)
            let missing = SearchOptions(candidates: .encoding(.ivfpq(nlist: 48, m: 4)))
            let error = #expect(throws: QuiverError.self) { try c.search(tokens: queries[0], k: 10, options: missing) }
            #expect(error?.code == .encodingNotFound)
        }
        try db.write { tx in try tx.collection("docs").dropEncoding(encoding) }
        try db.read { tx in
            let error = #expect(throws: QuiverError.self) { try tx.collection("docs").search(tokens: queries[0], k: 10, options: forced) }
            #expect(error?.code == .indexNotFound)
        }
    }

    @Test("with int8 codes of the tokens the IVF path scores its shortlist on them first, kept current by writes, and rescores the best on the floats")
    func ivfPathWithCodeRescoring() throws {
        let (_, db, docs, queries) = try makeCodedListsStore(seed: 23)
        let lists = Self.codedLists
        // Documents written after the builds: their codes are written at flush (the lists
        // take them at the next build, so they are found by tokens already listed).
        try db.write { tx in
            let c = try tx.collection("docs")
            for i in 300..<320 { try c.upsert(key: .int(UInt64(i)), tokens: docs[i - 300].map { $0.map { -$0 } }) }
        }
        #expect(try db.verify().isEmpty)
        // Both encodings are the token space's: their quality is measured on stored tokens
        // (`quiver inspect` reports it for every encoding a collection lists).
        try db.read { tx in
            let c = try tx.collection("docs")
            #expect(try c.encodings.map(\.parameters.encoding) == [lists, .int8])
            let int8 = try c.encodingQuality(.int8, queries: 50)
            #expect(int8.sampledRows == 50)
            #expect((int8.recallOfCodes ?? 0) >= 0.9)
            #expect((int8.meanSquaredError ?? 1) < 0.001)
            #expect(try c.encodingQuality(lists, queries: 50).recallOfCodes != nil)
        }
        // A shortlist of 10 × 8 = 80 documents: the codes keep 10 of them for the floats, and
        // up to 5 more within their error margin of the 10th.
        var options = SearchOptions(candidates: .encoding(lists), oversample: 8, strategy: .index)
        options.nprobe = 4
        var withCodes: [[SearchResult]] = []
        var total = 0.0
        for query in queries {
            let (fast, exact) = try db.read { tx in
                let c = try tx.collection("docs")
                return (try c.search(tokens: query, k: 10, options: options),
                        try c.search(tokens: query, k: 10, options: SearchOptions(strategy: .exact)))
            }
            #expect(fast.count == 10)
            total += recall(fast.map(\.key), exact.map(\.key))
            // Scores are the floats' MaxSim, not the codes' estimates.
            let stored = Dictionary(uniqueKeysWithValues: exact.map { ($0.key, $0.distance) })
            for hit in fast { if let distance = stored[hit.key] { #expect(abs(hit.distance - distance) <= 1e-4) } }
            withCodes.append(fast)
        }
        #expect(total / Double(queries.count) >= 0.9)
        // Without the codes every shortlisted document is scored on the floats: the codes'
        // first pass keeps what those would rank best.
        try db.write { tx in try tx.collection("docs").dropEncoding(.int8) }
        var agreement = 0.0
        for (query, coded) in zip(queries, withCodes) {
            let plain = try db.read { tx in try tx.collection("docs").search(tokens: query, k: 10, options: options) }
            agreement += recall(coded.map(\.key), plain.map(\.key))
        }
        #expect(agreement / Double(queries.count) >= 0.95)
    }

    @Test("by default a shortlist is oversampled 8× when the tokens have int8 codes, else 4×")
    func defaultOversample() throws {
        let (_, db, _, queries) = try makeCodedListsStore(seed: 31)
        let lists = Self.codedLists
        func options(_ oversample: Int?) -> SearchOptions {
            var options = SearchOptions(candidates: .encoding(lists), oversample: oversample, strategy: .index)
            options.nprobe = 1
            return options
        }
        // For each query: whether the default found what `oversample` 4 finds, and what 8 finds.
        func agreement() throws -> (four: Int, eight: Int) {
            var four = 0, eight = 0
            for query in queries {
                let (automatic, x4, x8) = try db.read { tx in
                    let c = try tx.collection("docs")
                    return (try c.search(tokens: query, k: 10, options: options(nil)).map(\.key),
                            try c.search(tokens: query, k: 10, options: options(4)).map(\.key),
                            try c.search(tokens: query, k: 10, options: options(8)).map(\.key))
                }
                if automatic == x4 { four += 1 }
                if automatic == x8 { eight += 1 }
            }
            return (four, eight)
        }
        let coded = try agreement()
        #expect(coded.eight == queries.count)
        #expect(coded.four < queries.count, "the data must tell 4 from 8")
        try db.write { tx in try tx.collection("docs").dropEncoding(.int8) }
        let plain = try agreement()
        #expect(plain.four == queries.count)
        #expect(plain.eight < queries.count, "the data must tell 4 from 8")
    }

    @Test("bad input is refused with a typed error")
    func badInput() throws {
        let (_, db) = try makeStore()
        let d = Self.dimensions
        let good = [[Float]](repeating: [Float](repeating: 1, count: d), count: 3)
        func code(_ body: (CollectionWriter) throws -> Void) -> QuiverError.Code? {
            do {
                try db.write { tx in try body(try tx.collection("docs")) }
                return nil
            } catch let error as QuiverError { return error.code } catch { return nil }
        }
        #expect(code { try $0.upsert(key: .int(1), tokens: []) } == .invalidVector)
        #expect(code { try $0.upsert(key: .int(1), tokens: [good[0], [1, 2]]) } == .dimensionMismatch)
        #expect(code { try $0.upsert(key: .int(1), tokens: [good[0].map { _ in .nan }]) } == .invalidVector)
        #expect(code { try $0.upsert(key: .int(1), tokens: [[Float](repeating: 0, count: d)]) } == .invalidVector)
        #expect(code { try $0.upsert(key: .int(1), vector: good[0]) } == .invalidArgument)
        #expect(code { try $0.upsert(key: .string("x"), tokens: good) } == .invalidKey)
        #expect(code { c in
            _ = try [Float](repeating: 1, count: 5 * d).withUnsafeBufferPointer { try c.appendDocuments(tokens: $0, tokenCounts: [2, 2], keys: .sequential(start: 0)) }
        } == .dimensionMismatch)
        #expect(code { c in
            _ = try [Float](repeating: 1, count: 2 * d).withUnsafeBufferPointer { try c.appendDocuments(tokens: $0, tokenCounts: [2, 0], keys: .sequential(start: 0)) }
        } == .invalidVector)
        #expect(try db.read { tx in try tx.collection("docs").count } == 0)
        try db.write { tx in try tx.collection("docs").upsert(key: .int(1), tokens: good) }
        try db.read { tx in
            let c = try tx.collection("docs")
            #expect(throws: QuiverError.self) { try c.search(good[0], k: 1) }
            #expect(throws: QuiverError.self) { try c.search(tokens: [], k: 1) }
            #expect(throws: QuiverError.self) { try c.search(tokens: [[1, 2]], k: 1) }
            #expect(throws: QuiverError.self) { try c.search(tokens: [good[0].map { _ in .infinity }], k: 1) }
        }
        // Dense collections refuse token matrices.
        try db.createCollection("dense", schema: CollectionSchema(vectors: .float32(dimensions: d), metric: .cosine))
        #expect(throws: QuiverError.self) { try db.write { tx in try tx.collection("dense").upsert(key: .int(1), tokens: good) } }
        #expect(throws: QuiverError.self) { try db.read { tx in try tx.collection("dense").search(tokens: good, k: 1) } }
        // Schemas: MaxSim needs dot or cosine; pool factors and protected tokens in range.
        for schema in [CollectionSchema(vectors: .multiVector(dimensions: d), metric: .l2),
                       CollectionSchema(vectors: .multiVector(dimensions: d, poolFactor: 0), metric: .dot),
                       CollectionSchema(vectors: .multiVector(dimensions: d, protectedTokens: -1), metric: .dot)] {
            #expect(throws: QuiverError.self) { try db.createCollection("bad", schema: schema) }
        }
    }

    @Test("dropping a collection drops its token space; the name can be reused")
    func dropAndRecreate() throws {
        let (store, db) = try makeStore()
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in Self.documents(10, seed: 9).enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
            try c.buildIndex()
        }
        try db.dropCollection("docs")
        try db.createCollection("docs", schema: CollectionSchema(vectors: .multiVector(dimensions: Self.dimensions), metric: .dot))
        try db.read { tx in
            let c = try tx.collection("docs")
            #expect(c.count == 0)
            #expect(try c.tokenStatistics().storedTokens == 0)
            #expect(try c.indexParameters == nil)
        }
        #expect(try db.verify().isEmpty)
        #expect(try store.open().formatVersion.description == "1.4")
    }

    @Test("an int8 encoding of the tokens serves the token walk and the first rescoring, is kept current and verified")
    func encodedTokens() throws {
        let docs = Self.documents(120, seed: 10)
        let queries = Self.documents(10, seed: 11, minTokens: 3, maxTokens: 6)
        let (store, db) = try makeStore(poolFactor: 2)
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
            try c.buildIndex(HNSWParameters(m: 12, efConstruction: 64))
            let info = try c.buildEncoding(.int8)
            #expect(info.dimensions == Self.dimensions)
        }
        // Writes after the build re-encode the new tokens at flush.
        try db.write { tx in
            let c = try tx.collection("docs")
            for i in 0..<10 { try c.delete(key: .int(UInt64(i))) }
            for i in 200..<220 { try c.upsert(key: .int(UInt64(i)), tokens: docs[i - 200]) }
        }
        #expect(try db.verify().isEmpty)
        let reopened = try store.open()
        #expect(try reopened.read { tx in try tx.collection("docs").encodings.map(\.parameters.encoding) } == [VectorEncoding.int8])
        var total = 0.0
        for query in queries {
            let (coded, exact) = try reopened.read { tx in
                let c = try tx.collection("docs")
                return (try c.search(tokens: query, k: 5, options: SearchOptions(candidates: .encoding(.int8), oversample: 10)),
                        try c.search(tokens: query, k: 5, options: SearchOptions(strategy: .exact)))
            }
            total += recall(coded.map(\.key), exact.map(\.key))
        }
        #expect(total / Double(queries.count) >= 0.9)
    }

    @Test("TokenPooler pools as ingest does, and refuses bad settings and input")
    func publicPooler() throws {
        let docs = Self.documents(5, seed: 12, minTokens: 9, maxTokens: 9)
        let (_, db) = try makeStore(metric: .dot, poolFactor: 3)
        try db.write { tx in try tx.collection("docs").upsert(key: .int(1), tokens: docs[0]) }
        let stored = try #require(try db.read { tx in try tx.collection("docs").get(.int(1))?.tokens })
        let pooler = try TokenPooler(poolFactor: 3, protectedTokens: 1)
        #expect(pooler.pooledCount(forTokens: 9) == 1 + 8 / 3)
        let pooled = try docs[0].flatMap { $0 }.withUnsafeBufferPointer { try pooler.pool($0, count: 9, dimensions: Self.dimensions) }
        #expect(pooled == stored.flatMap { $0 })
        // One token, or fewer than the protected ones: kept as they are.
        #expect(try [Float](repeating: 0.5, count: Self.dimensions).withUnsafeBufferPointer { try pooler.pool($0, count: 1, dimensions: Self.dimensions) }
                == [Float](repeating: 0.5, count: Self.dimensions))
        #expect(throws: QuiverError.self) { try TokenPooler(poolFactor: 0) }
        #expect(throws: QuiverError.self) { try TokenPooler(poolFactor: 2, protectedTokens: -1) }
        #expect(throws: QuiverError.self) { try [Float](repeating: 1, count: 5).withUnsafeBufferPointer { try pooler.pool($0, count: 2, dimensions: 3) } }
        #expect(throws: QuiverError.self) { try [Float.nan, 1, 1].withUnsafeBufferPointer { try pooler.pool($0, count: 1, dimensions: 3) } }
    }
}

/// The fuzz target's workload on seeded random bytes and on every saved seed and failure.
@Suite("Multi-vector invariants under random workloads")
struct MultiVectorWorkloadTests {
    @Test(arguments: 0..<4)
    func randomWorkloadKeepsInvariants(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(2_000 + seed))
        let bytes = (0..<8_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let store = TemporaryStore()
        try MultiVectorWorkload.run(bytes, storePath: store.path)
    }

    @Test func fuzzFailCasesAndSeedsReplay() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for folder in ["Fuzz/FailCases/FuzzMultiVector", "Fuzz/Corpus/FuzzMultiVector"] {
            let url = root.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where !name.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
                let store = TemporaryStore()
                try MultiVectorWorkload.run(bytes, storePath: store.path)
            }
        }
    }
}
