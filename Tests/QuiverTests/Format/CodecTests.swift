import Foundation
@_spi(Fuzzing) @testable import Quiver
import QuiverTestSupport
import Testing

@Suite("Stored-value codecs")
struct CodecTests {
    let types: [FieldType] = [.string, .int64, .double, .bool, .stringList]

    @Test func recordsRoundTripRawAndCompressed() throws {
        for note in ["short", String(repeating: "compressible text ", count: 200)] {
            let metadata: [(Int, MetadataValue)] = [(0, .string(note)), (1, .int64(-7)), (2, .double(2.5)), (3, .bool(true)), (4, .stringList(["a", "", "ü"]))]
            let encoded = RecordCodec.encode(key: [1, 2, 3], metadata: metadata)
            if note.count > 100 { #expect(encoded[0] == 1, "long metadata is LZ4-compressed") }
            let decoded = try encoded.withUnsafeBytes { try RecordCodec.decode($0, fieldTypes: types) }
            #expect(decoded.key == [1, 2, 3])
            #expect(decoded.metadata.map(\.0) == metadata.map(\.0))
            #expect(decoded.metadata.map(\.1) == metadata.map(\.1))
        }
    }

    @Test func truncatedOrGarbageRecordsThrow() throws {
        let encoded = RecordCodec.encode(key: [9], metadata: [(0, .string("hello")), (1, .int64(5))])
        for cut in 0..<encoded.count {
            #expect(throws: FormatError.self) { try Array(encoded.prefix(cut)).withUnsafeBytes { try RecordCodec.decode($0, fieldTypes: types) } }
        }
        #expect(throws: FormatError.self) { try [UInt8]([7, 0, 0]).withUnsafeBytes { try RecordCodec.decode($0, fieldTypes: types) } }
        #expect(throws: FormatError.self) { try [UInt8]([1, 0, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2]).withUnsafeBytes { try RecordCodec.decode($0, fieldTypes: types) } }
    }

    @Test(arguments: [0, 1, 100, 4_096, 4_097, 30_000])
    func postingContainersRoundTrip(count: Int) throws {
        var rng = SeededGenerator(seed: UInt64(count))
        let rows = Array(Set((0..<count).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) })).sorted()
        let encoded = PostingContainer.encode(rows)
        #expect(encoded[0] == (rows.count > 4_096 ? 1 : 0))
        #expect(try encoded.withUnsafeBytes { try PostingContainer.decode($0) } == rows)
    }

    @Test func postingGarbageThrows() {
        for bad: [UInt8] in [[], [2], [0, 1], [0, 5, 0, 3, 0], [1, 0, 0]] {
            #expect(throws: FormatError.self) { try bad.withUnsafeBytes { try PostingContainer.decode($0) } }
        }
    }

    @Test func postingKeysSortLikeTheirValues() {
        var rng = SeededGenerator(seed: 99)
        func bytes(_ v: MetadataValue) -> [UInt8] {
            var out: [UInt8] = []
            KeyCodec.valueBytes(v, into: &out)
            return out
        }
        let ints = (0..<300).map { _ in Int64.random(in: Int64.min...Int64.max, using: &rng) } + [0, -1, 1, .min, .max]
        let doubles = (0..<300).map { _ in Double.random(in: -1e9...1e9, using: &rng) } + [0, -0.0, .infinity, -.infinity, 1e-300, -1e-300]
        let strings = (0..<300).map { _ in String((0..<Int.random(in: 0...4, using: &rng)).map { _ in ["a", "b", "\u{0}", "é", "z"].randomElement(using: &rng)! }) }
        for _ in 0..<2_000 {
            let (a, b) = (ints.randomElement(using: &rng)!, ints.randomElement(using: &rng)!)
            #expect((a < b) == bytes(.int64(a)).lexicographicallyPrecedes(bytes(.int64(b))))
            let (x, y) = (doubles.randomElement(using: &rng)!, doubles.randomElement(using: &rng)!)
            #expect((x < y) == bytes(.double(x)).lexicographicallyPrecedes(bytes(.double(y))), "\(x) \(y)")
            let (s, t) = (strings.randomElement(using: &rng)!, strings.randomElement(using: &rng)!)
            #expect(Array(s.utf8).lexicographicallyPrecedes(Array(t.utf8)) == bytes(.string(s)).lexicographicallyPrecedes(bytes(.string(t))), "\(s) \(t)")
        }
        #expect(bytes(.double(0)) == bytes(.double(-0.0)))
    }

    /// Every input a fuzzer ever crashed on stays a test: it must decode or throw, never trap.
    @Test func fuzzFailCasesReplay() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Fuzz/FailCases/FuzzRecordCodec")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        for file in files {
            let data = Array(try Data(contentsOf: file))
            for t in [[], types] { _ = try? data.withUnsafeBytes { try RecordCodec.decode($0, fieldTypes: t) } }
            _ = try? data.withUnsafeBytes { try PostingContainer.decode($0) }
        }
        let filterFolder = root.appendingPathComponent("Fuzz/FailCases/FuzzFilter")
        for file in (try? FileManager.default.contentsOfDirectory(at: filterFolder, includingPropertiesForKeys: nil)) ?? [] {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            if let parsed = try? Filter.parse(text) { #expect(try Filter.parse(parsed.description) == parsed) }
        }
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path))
    }
}
