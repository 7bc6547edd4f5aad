import Foundation
import Quiver
import QuiverTestSupport
import Testing

@Suite("Verify")
struct VerifyTests {
    func populated() throws -> TemporaryStore {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("c", schema: CollectionSchema(vectors: .float32(dimensions: 4), metric: .l2, fields: [FieldDefinition("s", .string)]))
        try db.write { tx in for i in 0..<20 { try tx.collection("c").upsert(key: .int(UInt64(i)), vector: [1, 2, 3, Float(i)], metadata: ["s": i % 2 == 0 ? "even" : "odd"]) } }
        return store
    }

    @Test func cleanStoreVerifies() throws {
        let store = try populated()
        #expect(try store.open().verify().isEmpty)
    }

    @Test func aDamagedRecordIsReportedNotACrash() throws {
        let store = try populated()
        try TestHooks.overwriteFirstEntry(path: store.path, table: "records", with: [0, 200, 1])
        let db = try store.open()
        let violations = try db.verify()
        #expect(!violations.isEmpty)
        #expect(violations.contains { $0.message.contains("does not decode") })
        // Reading the damaged record is a typed error too.
        let error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("c").search([1, 2, 3, 0], k: 20, options: SearchOptions(includeMetadata: true)) } }
        #expect(error?.code == .corrupted)
    }

    @Test func aDamagedPostingIsReported() throws {
        let store = try populated()
        try TestHooks.overwriteFirstEntry(path: store.path, table: "postings", with: [0, 1])
        let db = try store.open()
        #expect(try db.verify().contains { $0.message.contains("postings") })
        let error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("c").count(where: Field("s") == "even") } }
        #expect(error?.code == .corrupted)
    }

    @Test func aDamagedLiveBitmapIsReported() throws {
        let store = try populated()
        try TestHooks.overwriteFirstEntry(path: store.path, table: "live", with: [UInt8](repeating: 0xFF, count: 8192))
        let violations = try store.open().verify()
        #expect(violations.contains { $0.message.contains("live") })
    }
}
