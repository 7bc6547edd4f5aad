import Foundation
import Quiver
import QuiverTestSupport
import Synchronization
import Testing

@Suite("Concurrency")
struct ConcurrencyTests {
    /// Readers on several threads see consistent snapshots while one writer commits batches.
    @Test func readersAlongsideAWriter() throws {
        let store = TemporaryStore()
        let db = try store.open(.init(initialMapSize: 1 << 20))  // small: the map grows under readers
        try db.createCollection("c", schema: CollectionSchema(vectors: .float32(dimensions: 16), metric: .l2, fields: [FieldDefinition("batch", .int64)]))
        let batches = 40
        let perBatch = 250
        let failures = Mutex<[String]>([])
        let done = Atomic<Bool>(false)
        let readers = (0..<3).map { r in
            Thread {
                var lastCount = 0
                while !done.load(ordering: .acquiring) {
                    do {
                        try db.read { tx in
                            let c = try tx.collection("c")
                            let count = c.count
                            // A snapshot holds whole batches only, and never goes backwards.
                            if count % perBatch != 0 || count < lastCount { failures.withLock { $0.append("reader \(r) saw \(count) after \(lastCount)") } }
                            lastCount = count
                            let filtered = try c.count(where: Field("batch") < 1_000)
                            if filtered != count { failures.withLock { $0.append("filter saw \(filtered) of \(count)") } }
                            if count > 0 {
                                let hits = try c.search([Float](repeating: 0, count: 16), k: 5)
                                if hits.count != min(5, count) { failures.withLock { $0.append("search gave \(hits.count)") } }
                            }
                        }
                    } catch {
                        failures.withLock { $0.append("reader \(r): \(error)") }
                    }
                }
            }
        }
        readers.forEach { $0.start() }
        for b in 0..<batches {
            let vectors = (0..<perBatch * 16).map { Float(($0 + b) % 13) }
            let metadata = [[String: MetadataValue]](repeating: ["batch": .int64(Int64(b))], count: perBatch)
            try vectors.withUnsafeBufferPointer {
                try db.bulkLoad(into: "c", count: perBatch, floats: $0, keys: .sequential(start: UInt64(b * perBatch)), metadata: metadata)
            }
        }
        done.store(true, ordering: .releasing)
        while readers.contains(where: { $0.isExecuting }) { usleep(1_000) }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
        #expect(try db.read { try $0.collection("c").count } == batches * perBatch)
        #expect(try db.verify().isEmpty)
    }

    /// Two handles on one store (as two processes would have) see each other's commits.
    @Test func twoHandlesShareOneStore() throws {
        let store = TemporaryStore()
        let first = try store.open()
        try first.createCollection("c", schema: CollectionSchema(vectors: .float32(dimensions: 2), metric: .l2))
        let second = try store.open()
        try second.write { try $0.collection("c").upsert(key: 1, vector: [1, 2]) }
        #expect(try first.read { try $0.collection("c").get(1)?.vector } == [1, 2])
    }
}
