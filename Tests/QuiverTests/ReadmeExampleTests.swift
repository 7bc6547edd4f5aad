import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// Keeps README.md's example honest: the code between the markers below is the README's Swift
/// block, compiled and run here, and the README must contain it verbatim.
@Suite("README example")
struct ReadmeExampleTests {
    @Test func exampleRunsAndMatchesTheReadme() throws {
        let store = TemporaryStore()
        let path = store.path
        // README-BEGIN
        let db = try Database(path: path)
        try db.createCollection("docs", schema: CollectionSchema(
            vectors: .float32(dimensions: 3), metric: .cosine,
            fields: [FieldDefinition("section", .string), FieldDefinition("size", .int64)]))

        try db.write { tx in
            let docs = try tx.collection("docs")
            try docs.upsert(key: 1, vector: [0.1, 0.9, 0.0], metadata: ["section": "libs", "size": 120])
            try docs.upsert(key: 2, vector: [0.8, 0.1, 0.1], metadata: ["section": "devel", "size": 4000])
        }

        let hits = try db.read { tx in
            try tx.collection("docs").search(
                [0.2, 0.8, 0.0], k: 10,
                filter: try Filter.parse(#"section == "libs" and size < 1000"#))
        }
        for hit in hits { print(hit.key, hit.distance) }
        // README-END
        #expect(hits.map(\.key) == [1])

        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = source.range(of: "// README-BEGIN\n")!.upperBound
        let end = source.range(of: "        // README-END")!.lowerBound
        let example = source[start..<end].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.count >= 8 ? String($0.dropFirst(8)) : String($0) }.joined(separator: "\n")
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.contains(example), "README.md's example differs from ReadmeExampleTests.swift")
        try indexExample(db)
    }

    /// The README's second block: an index on the same store.
    func indexExample(_ db: Database) throws {
        // README-INDEX-BEGIN
        try db.buildIndex(collection: "docs", HNSWParameters(m: 16, efConstruction: 200))
        let near = try db.read { tx in
            try tx.collection("docs").search([0.2, 0.8, 0.0], k: 10, options: SearchOptions(efSearch: 64))
        }
        // README-INDEX-END
        #expect(near.map(\.key) == [1, 2])
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let start = source.range(of: "// README-INDEX-BEGIN\n")!.upperBound
        let end = source.range(of: "        // README-INDEX-END")!.lowerBound
        let example = source[start..<end].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.count >= 8 ? String($0.dropFirst(8)) : String($0) }.joined(separator: "\n")
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        #expect(try String(contentsOf: readme, encoding: .utf8).contains(example), "README.md's index example differs")
    }
}
