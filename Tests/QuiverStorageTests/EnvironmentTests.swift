import Foundation
import QuiverStorage
import Testing

@Suite("Environment")
struct EnvironmentTests {
    func temporaryPath() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-storage-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("env.mdb").path
    }

    @Test func writeThenReadInPlace() throws {
        let env = try Environment(path: temporaryPath(), options: .init())
        let table = try #require(try env.table("t"))
        try env.write { txn in
            for i in 0..<100 as Range<UInt64> {
                var v = i * 3
                try withUnsafeBytes(of: &v) { try txn.put(table, key: i, value: $0, append: true) }
            }
        }
        let values: [UInt64] = try env.read { txn in
            try txn.withCursor(table) { cursor in
                var out: [UInt64] = []
                var entry = try cursor.first()
                while let e = entry {
                    out.append(e.value.loadUnaligned(as: UInt64.self))
                    entry = try cursor.next()
                }
                return out
            }
        }
        #expect(values == (0..<100).map { $0 * 3 })
        #expect(try env.read { try $0.statistics(table).entries } == 100)
    }

    @Test func aThrowingWriteCommitsNothing() throws {
        struct Stop: Error {}
        let env = try Environment(path: temporaryPath(), options: .init())
        let table = try #require(try env.table("t"))
        #expect(throws: Stop.self) {
            try env.write { txn in
                var v: UInt64 = 1
                try withUnsafeBytes(of: &v) { try txn.put(table, key: 1, value: $0) }
                throw Stop()
            }
        }
        #expect(try env.read { try $0.unsafeGet(table, key: 1) } == nil)
    }

    /// A map of 1 MiB takes 40 MiB of values: the write is retried after growth, never failing.
    @Test func mapGrowsAndTheWriteIsRetried() throws {
        var options = Environment.Options()
        options.mapSize = 1 << 20
        let env = try Environment(path: temporaryPath(), options: options)
        let table = try #require(try env.table("t"))
        let block = [UInt8](repeating: 7, count: 1 << 20)
        var attempts = 0
        try env.write { txn in
            attempts += 1
            for i in 0..<40 as Range<UInt64> { try block.withUnsafeBytes { try txn.put(table, key: i, value: $0) } }
        }
        #expect(attempts > 1)
        #expect(env.info().mapSize > 40 << 20)
        #expect(try env.read { try $0.unsafeGet(table, key: 39)?.count } == 1 << 20)
    }

    @Test func readOnlyEnvironmentsSeeCommittedTables() throws {
        let path = temporaryPath()
        do {
            let env = try Environment(path: path, options: .init())
            let table = try #require(try env.table("t"))
            try env.write { txn in
                var v: UInt64 = 42
                try withUnsafeBytes(of: &v) { try txn.put(table, key: 5, value: $0) }
            }
        }
        var options = Environment.Options()
        options.readOnly = true
        let env = try Environment(path: path, options: options)
        let table = try #require(try env.table("t"))
        #expect(try env.read { try $0.unsafeGet(table, key: 5)?.loadUnaligned(as: UInt64.self) } == 42)
        #expect(try env.table("missing") == nil)
    }

    @Test func notAnEnvironmentIsAClassifiedError() throws {
        let path = temporaryPath()
        try Data(repeating: 0xAB, count: 16_384).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StorageError.self) { try Environment(path: path, options: .init()) }
        #expect(error?.code == .corrupted)
    }

    @Test func returnCodesAreClassified() {
        #expect(StorageError(returnCode: ENOSPC, operation: "x").code == .diskFull)
        #expect(StorageError(returnCode: EFBIG, operation: "x").code == .diskFull)
        #expect(StorageError(returnCode: EACCES, operation: "x").code == .permissionDenied)
        #expect(StorageError(returnCode: -30792, operation: "x").code == .mapFull)  // MDB_MAP_FULL
        #expect(StorageError(returnCode: -30793, operation: "x").code == .corrupted)  // MDB_INVALID
    }
}

@Suite("Compression")
struct CompressionTests {
    @Test func roundTripsWhatCompressesAndDeclinesWhatDoesNot() throws {
        let text = Array(String(repeating: "{\"section\": \"libs\", \"size\": 12} ", count: 50).utf8)
        let packed = try #require(text.withUnsafeBytes { Compression.compress($0) })
        #expect(packed.count < text.count / 2)
        #expect(packed.withUnsafeBytes { Compression.decompress($0, originalCount: text.count) } == text)
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<4_096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(noise.withUnsafeBytes { Compression.compress($0) } == nil)
        // Hostile input never reads or writes out of bounds; it just does not decode.
        #expect(packed.withUnsafeBytes { Compression.decompress($0, originalCount: text.count + 1) } == nil)
        #expect([UInt8]([0xFF, 0xFF, 0xFF]).withUnsafeBytes { Compression.decompress($0, originalCount: 100) } == nil)
    }
}
