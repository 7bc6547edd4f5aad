import Foundation
import Quiver
import QuiverTestSupport
import Testing

@Suite("Records")
struct RecordTests {
    let schema = CollectionSchema(
        vectors: .float32(dimensions: 3), metric: .l2,
        fields: [
            FieldDefinition("section", .string), FieldDefinition("size", .int64), FieldDefinition("score", .double),
            FieldDefinition("ok", .bool), FieldDefinition("tags", .stringList), FieldDefinition("note", .string, filterable: false),
        ])

    func makeStore() throws -> (TemporaryStore, Database) {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("c", schema: schema)
        return (store, db)
    }

    @Test func upsertGetReplaceDelete() throws {
        let (_, db) = try makeStore()
        let metadata: [String: MetadataValue] = ["section": "libs", "size": 12, "score": 0.5, "ok": true, "tags": ["a", "b"], "note": "n"]
        try db.write { try $0.collection("c").upsert(key: 1, vector: [1, 2, 3], metadata: metadata) }
        var record = try db.read { try $0.collection("c").get(1) }
        #expect(record == Record(key: 1, vector: [1, 2, 3], bits: nil, metadata: metadata))
        try db.write { try $0.collection("c").upsert(key: 1, vector: [4, 5, 6], metadata: ["section": "devel"]) }
        record = try db.read { try $0.collection("c").get(1) }
        #expect(record?.vector == [4, 5, 6])
        #expect(record?.metadata == ["section": "devel"])
        #expect(try db.read { try $0.collection("c").count(where: Field("section") == "libs") } == 0)
        #expect(try db.read { try $0.collection("c").count(where: Field("section") == "devel") } == 1)
        #expect(try db.write { try $0.collection("c").delete(key: 1) })
        #expect(try db.write { try $0.collection("c").delete(key: 1) } == false)
        #expect(try db.read { try $0.collection("c").get(1) } == nil)
        #expect(try db.read { try $0.collection("c").count } == 0)
        #expect(try db.verify().isEmpty)
    }

    @Test func deletedRowsAreReused() throws {
        let (_, db) = try makeStore()
        try db.write { tx in for i in 0..<100 { try tx.collection("c").upsert(key: .int(UInt64(i)), vector: [Float(i), 0, 0]) } }
        try db.write { tx in for i in 10..<20 { try tx.collection("c").delete(key: .int(UInt64(i))) } }
        #expect(try db.read { try $0.collection("c").rowCount } == 100)
        try db.write { tx in for i in 100..<110 { try tx.collection("c").upsert(key: .int(UInt64(i)), vector: [Float(i), 0, 0]) } }
        // The ten new records took the ten freed rows: the high-water mark did not move.
        #expect(try db.read { try $0.collection("c").rowCount } == 100)
        #expect(try db.read { try $0.collection("c").count } == 100)
        let hits = try db.read { try $0.collection("c").search([105, 0, 0], k: 1) }
        #expect(hits.first?.key == 105)
        #expect(try db.verify().isEmpty)
    }

    @Test func changesInOneTransactionAreSeenByItsReads() throws {
        let (_, db) = try makeStore()
        try db.write { tx in
            let c = try tx.collection("c")
            try c.upsert(key: 1, vector: [1, 1, 1], metadata: ["section": "a"])
            try c.upsert(key: 1, vector: [2, 2, 2], metadata: ["section": "b"])
            try c.upsert(key: 1, vector: [3, 3, 3], metadata: ["section": "a"])
            #expect(try c.get(1)?.vector == [3, 3, 3])
            #expect(try c.reader().count(where: Field("section") == "b") == 0)
        }
        #expect(try db.read { try $0.collection("c").count(where: Field("section") == "a") } == 1)
        #expect(try db.verify().isEmpty)
    }

    @Test func aFailedWriteCommitsNothing() throws {
        let (_, db) = try makeStore()
        #expect(throws: QuiverError.self) {
            try db.write { tx in
                try tx.collection("c").upsert(key: 1, vector: [1, 2, 3])
                try tx.collection("c").upsert(key: 2, vector: [1, 2])  // wrong dimensions
            }
        }
        #expect(try db.read { try $0.collection("c").count } == 0)
    }

    @Test func stringKeys() throws {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("s", schema: CollectionSchema(vectors: .float32(dimensions: 2), metric: .dot, keyKind: .string))
        try db.write { tx in
            try tx.collection("s").upsert(key: "doc-1", vector: [1, 0])
            try tx.collection("s").upsert(key: "doc-2", vector: [0, 1])
        }
        let hits = try db.read { try $0.collection("s").search([0, 1], k: 1) }
        #expect(hits.map(\.key) == ["doc-2"])
        let error = #expect(throws: QuiverError.self) { try db.write { try $0.collection("s").upsert(key: 5, vector: [1, 1]) } }
        #expect(error?.code == .invalidKey)
    }

    @Test(arguments: [
        ([Float](), QuiverError.Code.invalidVector),
        ([1, 2], .dimensionMismatch),
        ([1, .nan, 2], .invalidVector),
        ([1, .infinity, 2], .invalidVector),
    ])
    func badVectorsAreTypedErrors(vector: [Float], code: QuiverError.Code) throws {
        let (_, db) = try makeStore()
        let error = #expect(throws: QuiverError.self) { try db.write { try $0.collection("c").upsert(key: 9, vector: vector) } }
        #expect(error?.code == code)
        #expect(error?.collection == "c")
        #expect(error?.key == 9)
    }

    /// The check sums the squares with the SIMD kernel and searches components only when the
    /// sum is not finite: the component is still named, and finite components whose squares
    /// overflow are valid except under cosine (which needs the length).
    @Test func finitenessNamesTheComponentAndAllowsHugeFiniteValues() throws {
        let (_, db) = try makeStore()
        let error = #expect(throws: QuiverError.self) { try db.write { try $0.collection("c").upsert(key: 1, vector: [1, 2, .nan]) } }
        #expect(error?.message.contains("component 2 is nan") == true, "\(String(describing: error))")
        let huge: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1]
        try db.write { try $0.collection("c").upsert(key: 2, vector: huge) }
        #expect(try db.read { try $0.collection("c").get(2)?.vector } == huge)
        try db.createCollection("cos", schema: CollectionSchema(vectors: .float32(dimensions: 3), metric: .cosine))
        let cosine = #expect(throws: QuiverError.self) { try db.write { try $0.collection("cos").upsert(key: 1, vector: huge) } }
        #expect(cosine?.code == .invalidVector)
    }

    @Test func badMetadataIsATypedError() throws {
        let (_, db) = try makeStore()
        var error = #expect(throws: QuiverError.self) { try db.write { try $0.collection("c").upsert(key: 1, vector: [1, 2, 3], metadata: ["nope": 1]) } }
        #expect(error?.code == .unknownField)
        #expect(error?.field == "nope")
        error = #expect(throws: QuiverError.self) { try db.write { try $0.collection("c").upsert(key: 1, vector: [1, 2, 3], metadata: ["size": "big"]) } }
        #expect(error?.code == .typeMismatch)
        error = #expect(throws: QuiverError.self) {
            try db.write { try $0.collection("c").upsert(key: 1, vector: [1, 2, 3], metadata: ["section": .string(String(repeating: "x", count: 500))]) }
        }
        #expect(error?.code == .valueTooLarge)
        // An int64 for a double field is converted.
        try db.write { try $0.collection("c").upsert(key: 1, vector: [1, 2, 3], metadata: ["score": 3]) }
        #expect(try db.read { try $0.collection("c").get(1)?.metadata["score"] } == .double(3))
    }

    @Test func unknownCollectionAndSchemaErrors() throws {
        let (_, db) = try makeStore()
        var error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("missing").count } }
        #expect(error?.code == .collectionNotFound)
        error = #expect(throws: QuiverError.self) { try db.createCollection("c", schema: schema) }
        #expect(error?.code == .collectionExists)
        for bad in [
            CollectionSchema(vectors: .float32(dimensions: 0), metric: .l2),
            CollectionSchema(vectors: .float32(dimensions: 8), metric: .hamming),
            CollectionSchema(vectors: .binary(dimensions: 8, keepsFloats: false), metric: .cosine),
            CollectionSchema(vectors: .matryoshka(dimensions: 8, prefixes: [4, 2]), metric: .cosine),
            CollectionSchema(vectors: .matryoshka(dimensions: 8, prefixes: [16]), metric: .cosine),
            CollectionSchema(vectors: .float32(dimensions: 8), metric: .l2, fields: [FieldDefinition("a", .int64), FieldDefinition("a", .string)]),
            CollectionSchema(vectors: .float32(dimensions: 8), metric: .l2, fields: [FieldDefinition("9lives", .int64)]),
        ] {
            error = #expect(throws: QuiverError.self) { try db.createCollection("bad", schema: bad) }
            #expect(error?.code == .invalidSchema)
        }
    }

    @Test func dropRemovesEverything() throws {
        let (_, db) = try makeStore()
        try db.write { tx in for i in 0..<50 { try tx.collection("c").upsert(key: .int(UInt64(i)), vector: [1, 2, 3], metadata: ["section": "x"]) } }
        try db.dropCollection("c")
        #expect(try db.collectionNames().isEmpty)
        #expect(try db.verify().isEmpty)
        try db.createCollection("c", schema: schema)
        #expect(try db.read { try $0.collection("c").count(where: Field("section") == "x") } == 0)
    }
}
