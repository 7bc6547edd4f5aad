import Foundation
import Quiver
import QuiverTestSupport
import Testing

@Suite("Store")
struct StoreTests {
    let schema = CollectionSchema(vectors: .float32(dimensions: 4), metric: .l2, fields: [FieldDefinition("tag", .string)])

    @Test func reopenKeepsCollectionsAndRecords() throws {
        let store = TemporaryStore()
        do {
            let db = try store.open()
            try db.createCollection("a", schema: schema)
            try db.write { tx in try tx.collection("a").upsert(key: 7, vector: [1, 2, 3, 4], metadata: ["tag": "x"]) }
        }
        let db = try store.open()
        #expect(try db.collectionNames() == ["a"])
        let record = try db.read { tx in try tx.collection("a").get(7) }
        #expect(record?.vector == [1, 2, 3, 4])
        #expect(record?.metadata["tag"] == .string("x"))
        #expect(try db.schema(of: "a") == schema)
    }

    @Test func readOnlyRefusesWritesAndMissingStores() throws {
        let store = TemporaryStore()
        #expect(throws: QuiverError.self) { try store.open(.init(readOnly: true)) }
        do { _ = try store.open() }
        let db = try store.open(.init(readOnly: true))
        let error = #expect(throws: QuiverError.self) { try db.createCollection("a", schema: schema) }
        #expect(error?.code == .readOnly)
    }

    @Test func newerFormatIsRefused() throws {
        let store = TemporaryStore()
        do { _ = try store.open() }
        // Rewrite the format record as 2.0 through a raw LMDB handle of the same layout.
        try TestHooks.overwriteFormatVersion(path: store.path, major: 2, minor: 0)
        let error = #expect(throws: QuiverError.self) { try store.open() }
        #expect(error?.code == .unsupportedFormat)
    }

    @Test func garbageFileIsRefused() throws {
        let store = TemporaryStore()
        try Data(repeating: 0x5A, count: 64 * 1024).write(to: URL(fileURLWithPath: store.path))
        #expect(throws: QuiverError.self) { try store.open() }
    }

    @Test func truncatedStoreIsRefused() throws {
        let store = TemporaryStore()
        do {
            let db = try store.open()
            try db.createCollection("a", schema: CollectionSchema(vectors: .float32(dimensions: 256), metric: .dot))
            let vectors = [Float](repeating: 0.5, count: 2_000 * 256)
            try vectors.withUnsafeBufferPointer { try db.bulkLoad(into: "a", count: 2_000, floats: $0) }
        }
        let url = URL(fileURLWithPath: store.path)
        let size = try FileManager.default.attributesOfItem(atPath: store.path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let error = #expect(throws: QuiverError.self) { try store.open() }
        #expect(error?.code == .corrupted)
    }

    @Test("with the allocator set for bulk writes (glibc), a bulk load still reads back whole")
    func bulkLoadAfterAllocatorTuning() throws {
        #if canImport(Glibc)
        #expect(Database.tuneAllocatorForBulkWrites(), "glibc takes both settings")
        #else
        #expect(!Database.tuneAllocatorForBulkWrites())
        #endif
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("a", schema: CollectionSchema(vectors: .float32(dimensions: 128), metric: .l2))
        // Blocks of pages past glibc's default mmap threshold, over several commits.
        let count = 6_000
        let vectors = (0..<count * 128).map { Float($0 % 251) }
        try vectors.withUnsafeBufferPointer { try db.bulkLoad(into: "a", count: count, floats: $0, batchSize: 1_000) }
        try db.read { tx in
            let c = try tx.collection("a")
            #expect(try c.count == count)
            for key in [0, 999, 1_000, 5_999] {
                let record = try c.get(.int(UInt64(key)))
                #expect(record?.vector == Array(vectors[key * 128 ..< (key + 1) * 128]))
            }
        }
        #expect(try db.verify().isEmpty)
    }

    @Test func mapGrowsWithoutTheCallerSeeingIt() throws {
        let store = TemporaryStore()
        let db = try store.open(.init(initialMapSize: 1 << 20))
        try db.createCollection("a", schema: CollectionSchema(vectors: .float32(dimensions: 128), metric: .l2))
        let count = 20_000  // 10 MB of vectors into a 1 MiB map
        let vectors = (0..<count * 128).map { Float($0 % 97) }
        try vectors.withUnsafeBufferPointer { try db.bulkLoad(into: "a", count: count, floats: $0, batchSize: 5_000) }
        #expect(try db.read { try $0.collection("a").count } == count)
        #expect(try db.verify().isEmpty)
    }

    @Test func compactedCopyOpensWithTheSameRecords() throws {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("a", schema: schema)
        try db.write { tx in
            let c = try tx.collection("a")
            for i in 0..<200 { try c.upsert(key: .int(UInt64(i)), vector: [Float(i), 1, 2, 3]) }
        }
        try db.write { tx in for i in 0..<150 { try tx.collection("a").delete(key: .int(UInt64(i))) } }
        let copy = store.directory.appendingPathComponent("copy.quiver").path
        try db.compact(to: copy)
        let reopened = try Database(path: copy, configuration: .init(readOnly: true))
        #expect(try reopened.read { try $0.collection("a").count } == 50)
        #expect(try reopened.read { try $0.collection("a").get(199)?.vector } == [199, 1, 2, 3])
        #expect(try reopened.verify().isEmpty)
    }
}
