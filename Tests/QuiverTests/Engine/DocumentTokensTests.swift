@testable import Quiver
import QuiverTestSupport
import Testing

/// The two forms of a document's `multivector.docs` value (docs/file-format.md): a run of
/// consecutive token rows (format 1.4) or the rows listed.
@Suite("Multi-vector document values")
struct DocumentTokensTests {
    @Test("token rows are stored as a run when consecutive, listed otherwise; both read back, bad runs are refused")
    func documentValueForms() throws {
        // Values: a run, listed rows, and one listed token (never a run).
        let run = DocumentTokens.encode(originalCount: 9, rows: [40, 41, 42, 43])
        #expect(run.count == 12)
        let listed = DocumentTokens.encode(originalCount: 4, rows: [7, 3, 8])
        #expect(listed.count == 8 + 12)
        #expect(DocumentTokens.encode(originalCount: 1, rows: [5]).count == 12)
        try run.withUnsafeBytes { raw in
            let d = try DocumentTokens(raw)
            #expect(d.runStart == 40 && d.count == 4 && d.originalCount == 9 && d.allRows == [40, 41, 42, 43])
        }
        try listed.withUnsafeBytes { raw in
            let d = try DocumentTokens(raw)
            #expect(d.runStart == nil && d.count == 3 && d.allRows == [7, 3, 8])
        }
        // A run of one token, a run past the last row, a run with listed bytes after it, and a
        // run of more tokens than before pooling are corrupt values.
        func value(_ words: [UInt32]) -> [UInt8] { words.flatMap { w in withUnsafeBytes(of: w.littleEndian, Array.init) } }
        for bad in [value([1, 1 | DocumentTokens.runFlag, 3]), value([5, 5 | DocumentTokens.runFlag, UInt32.max - 2]),
                    value([5, 2 | DocumentTokens.runFlag, 3, 4]), value([1, 2 | DocumentTokens.runFlag, 3])] {
            _ = bad.withUnsafeBytes { raw in #expect(throws: (any Error).self) { try DocumentTokens(raw) } }
        }

        // In a store: documents written into fresh rows are runs; after a delete, a document
        // that reuses the freed rows and new ones is listed, and searches read both alike.
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("docs", schema: CollectionSchema(vectors: .multiVector(dimensions: MultiVectorTests.dimensions), metric: .dot))
        let docs = MultiVectorTests.documents(6, seed: 12, minTokens: 4, maxTokens: 8)
        try db.write { tx in
            let c = try tx.collection("docs")
            for (i, d) in docs.prefix(5).enumerated() { try c.upsert(key: .int(UInt64(i)), tokens: d) }
            try c.delete(key: .int(1))
            try c.upsert(key: .int(5), tokens: docs[1] + docs[5])
        }
        #expect(try db.verify().isEmpty)
        #expect(try store.open().formatVersion.description == "1.4")
        try db.read { tx in
            let c = try tx.collection("docs")
            var runs: [RecordKey: Bool] = [:]
            for row in 0..<UInt32(c.rowCount) {
                guard let d = try DocumentTokens.read(c.snapshot, row: row) else { continue }
                runs[try c.record(row: row).key] = d.runStart != nil
            }
            #expect(runs == [.int(0): true, .int(2): true, .int(3): true, .int(4): true, .int(5): false])
            for (key, query) in [(0, docs[0]), (5, docs[1] + docs[5])] {
                let hits = try c.search(tokens: query, k: 1, options: SearchOptions(strategy: .exact))
                #expect(hits.first?.key == .int(UInt64(key)))
                #expect(try c.get(.int(UInt64(key)))?.tokens?.count == query.count)
            }
        }
    }
}
