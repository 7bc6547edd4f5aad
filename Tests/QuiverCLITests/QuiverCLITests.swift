import Foundation
import Testing

/// End-to-end tests of the `quiver` executable: each runs the built binary on files in a
/// fresh temporary folder and checks exit status, output and the store it leaves.
@Suite("quiver CLI")
struct QuiverCLITests {
    @Test func createImportQueryWithFilterAndVerify() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.write("base.fvecs", fixture.fvecs())
        try cli.write("meta.tsv", fixture.tsv())

        let create = try cli.run([
            "create", "docs", "--store", "store.quiver", "--dimensions", "16", "--metric", "l2",
            "--field", "section:string", "--field", "size:int64", "--field", "tags:stringList",
        ])
        #expect(create.status == 0, "\(create.stderr)")

        let load = try cli.run([
            "import", "docs", "base.fvecs", "--store", "store.quiver", "--metadata", "meta.tsv",
            "--batch-rows", "64",
        ])
        #expect(load.status == 0, "\(load.stderr)")
        let summary = try #require(try load.json() as? [String: Any])
        #expect(summary["rows"] as? Int == 300)
        #expect(summary["records"] as? Int == 300)
        #expect(summary["batches"] as? Int == 5)
        #expect(summary["vectors_per_second"] is Double || summary["vectors_per_second"] is Int)

        // A row that passes the filter is its own nearest neighbour at distance 0.
        let row = (0..<fixture.rows).first {
            fixture.sections[$0] == "b" && fixture.sizes[$0] < 50
        }!
        let query = try cli.run([
            "query", "docs", "--store", "store.quiver", "--vector-file", "base.fvecs", "--row",
            "\(row)",
            "--k", "5", "--filter", #"section == "b" and size < 50"#,
        ])
        #expect(query.status == 0, "\(query.stderr)")
        let hits = try #require(try query.json() as? [[String: Any]])
        let expected = fixture.nearest(to: fixture.vector(row), section: "b", sizeBelow: 50, k: 5)
        #expect(hits.compactMap { $0["key"] as? Int } == expected)
        #expect(hits.first?["distance"] as? Double == 0)
        for hit in hits {
            let metadata = try #require(hit["metadata"] as? [String: Any])
            #expect(metadata["section"] as? String == "b")
            #expect((metadata["size"] as? Int).map { $0 < 50 } == true)
        }
        let first = try #require(hits.first?["metadata"] as? [String: Any])
        #expect(first["tags"] as? [String] ?? [] == fixture.tags[row])

        let verify = try cli.run(["verify", "--store", "store.quiver"])
        #expect(verify.status == 0)
        #expect(verify.stdout == "ok\n")
    }

    @Test func exportRoundTripsVectorsKeysAndMetadata() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.createAndImport(fixture)

        let export = try cli.run([
            "export", "docs", "out", "--store", "store.quiver", "--format", "fvecs",
        ])
        #expect(export.status == 0, "\(export.stderr)")
        // l2 stores vectors as given, so the exported file equals the imported one byte for byte.
        let exported = try Data(contentsOf: URL(fileURLWithPath: cli.path("out.fvecs")))
        #expect(exported == fixture.fvecs())

        let lines = try String(contentsOfFile: cli.path("out.jsonl"), encoding: .utf8).split(
            separator: "\n"
        )
        #expect(lines.count == fixture.rows)
        for (row, line) in lines.enumerated() {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            )
            #expect(object["id"] as? Int == row)
            let metadata = try #require(object["metadata"] as? [String: Any])
            #expect(metadata["section"] as? String == fixture.sections[row])
            #expect(metadata["size"] as? Int == Int(fixture.sizes[row]))
            #expect((metadata["tags"] as? [String]) ?? [] == fixture.tags[row])
        }

        // The export imports back into a new store and answers the same query identically.
        let reimport = try cli.run([
            "import", "copy", "out.fvecs", "--store", "copy.quiver", "--metadata", "out.jsonl",
            "--key-column", "id",
            "--create", "--metric", "l2", "--field", "section:string", "--field", "size:int64",
            "--field", "tags:stringList",
        ])
        #expect(reimport.status == 0, "\(reimport.stderr)")
        let filter = #"section == "a" and tags contains "y""#
        let original = try cli.run([
            "query", "docs", "--store", "store.quiver", "--vector-file", "base.fvecs", "--row", "3",
            "--filter", filter,
        ])
        let copy = try cli.run([
            "query", "copy", "--store", "copy.quiver", "--vector-file", "base.fvecs", "--row", "3",
            "--filter", filter,
        ])
        #expect(original.status == 0 && copy.status == 0)
        #expect(!original.stdout.isEmpty && original.stdout != "[]\n")
        #expect(original.stdout == copy.stdout)
    }

    @Test func badFilterExitsTwoWithCaret() throws {
        let cli = try CLIHarness()
        try cli.createAndImport(Fixture())
        let result = try cli.run([
            "query", "docs", "--store", "store.quiver", "--vector",
            "[" + Array(repeating: "0.5", count: 16).joined(separator: ",") + "]",
            "--filter", #"section == "b and size < 3"#,
        ])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init
        )
        #expect(
            lines.first?.hasPrefix("error: invalidFilter: line 1, column 12: unterminated string")
                == true,
            "\(result.stderr)"
        )
        #expect(lines.count >= 3 && lines[1].contains(#"section == "b and size < 3"#))
        // The caret stands under the opening quote (column 12).
        #expect(
            lines.count >= 3 && lines[2] == String(repeating: " ", count: 4 + 11) + "^",
            "\(result.stderr)"
        )

        // A well-formed filter on an undeclared field is bad input too.
        let unknown = try cli.run([
            "query", "docs", "--store", "store.quiver", "--vector-file", "base.fvecs", "--filter",
            "colour == 3",
        ])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("error: "))
        #expect(unknown.stderr.contains("colour"))
    }

    @Test func truncatedFvecsImportFailsCleanly() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        var bytes = fixture.fvecs(0..<10)
        bytes.removeLast(6)  // row 9 ends early
        try cli.write("cut.fvecs", bytes)
        let result = try cli.run([
            "import", "docs", "cut.fvecs", "--store", "store.quiver", "--create", "--metric",
            "cosine",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(result.stderr.contains("cut.fvecs"))
        #expect(result.stderr.contains("row 9"), "\(result.stderr)")
        #expect(
            result.stderr.split(separator: "\n").count == 1,
            "one line, no backtrace: \(result.stderr)"
        )
        // Nothing half-written: the store is consistent and the collection empty.
        #expect(try cli.run(["verify", "--store", "store.quiver"]).status == 0)
        let inspect = try cli.run(["inspect", "--store", "store.quiver", "--json"])
        let report = try #require(try inspect.json() as? [String: Any])
        let collections = try #require(report["collections"] as? [[String: Any]])
        #expect(collections.allSatisfy { ($0["records"] as? Int) == 0 })
    }

    @Test func resumeSkipsTheRowsAlreadyCommitted() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        // An import that stopped after 128 rows is like one of the first 128 rows.
        try cli.write("head.fvecs", fixture.fvecs(0..<128))
        try cli.write("base.fvecs", fixture.fvecs())
        let first = try cli.run([
            "import", "docs", "head.fvecs", "--store", "s.quiver", "--create", "--metric", "l2",
            "--batch-rows", "64",
        ])
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try cli.run([
            "import", "docs", "base.fvecs", "--store", "s.quiver", "--resume", "--batch-rows", "64",
        ])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = try #require(try resumed.json() as? [String: Any])
        #expect(summary["skipped_rows"] as? Int == 128)
        #expect(summary["rows"] as? Int == 172)
        #expect(summary["records"] as? Int == 300)
        let hit = try cli.run([
            "query", "docs", "--store", "s.quiver", "--vector-file", "base.fvecs", "--row", "250",
            "--k", "1",
        ])
        let hits = try #require(try hit.json() as? [[String: Any]])
        #expect(hits.first?["key"] as? Int == 250)
        #expect(try cli.run(["verify", "--store", "s.quiver"]).stdout == "ok\n")
    }

    @Test func badMetadataCellNamesLineAndColumn() throws {
        let cli = try CLIHarness()
        let fixture = Fixture()
        try cli.write("base.fvecs", fixture.fvecs())
        try cli.write("meta.tsv", fixture.tsv(overriding: [3: "a\tlots\tx"]))
        let result = try cli.run([
            "import", "docs", "base.fvecs", "--store", "s.quiver", "--metadata", "meta.tsv",
            "--create", "--metric", "l2", "--field", "section:string", "--field", "size:int64",
            "--field", "tags:stringList",
        ])
        #expect(result.status == 2)
        // Row 3 is on line 5 (after the header); size is column 2.
        #expect(result.stderr.hasPrefix("error: typeMismatch: meta.tsv:5:2:"), "\(result.stderr)")
        #expect(result.stderr.contains(#""lots""#) && result.stderr.contains("int64"))

        try cli.write("extra.tsv", Data("section\tcolour\n".utf8))
        let unknown = try cli.run([
            "import", "docs", "base.fvecs", "--store", "s.quiver", "--metadata", "extra.tsv",
        ])
        #expect(unknown.status == 2)
        #expect(
            unknown.stderr.contains("colour")
                && unknown.stderr.contains("--ignore-unknown-columns"),
            "\(unknown.stderr)"
        )
    }

    @Test func nonFiniteVectorIsRejectedNamingTheRow() throws {
        let cli = try CLIHarness()
        var fixture = Fixture(rows: 20).fvecs()
        // Row 13, component 2: a NaN.
        let offset = 13 * (4 + 16 * 4) + 4 + 2 * 4
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) {
            fixture.replaceSubrange(offset..<offset + 4, with: $0)
        }
        try cli.write("nan.fvecs", fixture)
        let result = try cli.run([
            "import", "docs", "nan.fvecs", "--store", "s.quiver", "--create", "--metric", "dot",
        ])
        #expect(result.status == 2)
        #expect(
            result.stderr.hasPrefix("error: invalidVector: nan.fvecs: row 13 component 2 is nan"),
            "\(result.stderr)"
        )
    }

    /// Batches commit on a background thread while the next is read: a bad row found while
    /// reading (a NaN) or only by the engine during the commit (a zero vector under cosine)
    /// must leave exactly the batches before it, and say so.
    @Test(arguments: [(Float.nan, "row 13 component 2 is nan"), (Float(0), "a cosine vector needs a finite, non-zero length")])
    func aBadRowInALaterBatchKeepsTheBatchesBeforeIt(bad: Float, message: String) throws {
        let cli = try CLIHarness()
        var fixture = Fixture(rows: 24).fvecs()
        for component in (bad.isNaN ? 2..<3 : 0..<16) {
            let offset = 13 * (4 + 16 * 4) + 4 + component * 4
            withUnsafeBytes(of: bad.bitPattern.littleEndian) { fixture.replaceSubrange(offset..<offset + 4, with: $0) }
        }
        try cli.write("bad.fvecs", fixture)
        let result = try cli.run([
            "import", "docs", "bad.fvecs", "--store", "s.quiver", "--create", "--metric", "cosine",
            "--batch-rows", "4", "--quiet",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains("rows 0..<12 of bad.fvecs were committed before the error"), "\(result.stderr)")
        let inspect = try #require(try cli.run(["inspect", "--store", "s.quiver", "--json"]).json() as? [String: Any])
        let collections = try #require(inspect["collections"] as? [[String: Any]])
        #expect(collections.first?["records"] as? Int == 12)
        #expect(try cli.run(["verify", "--store", "s.quiver"]).stdout == "ok\n")
    }

    @Test func verifyReportsACorruptedVectorAndExitsOne() throws {
        let cli = try CLIHarness()
        // Row 7 holds a value that occurs nowhere else, so its bytes locate the row in the file.
        var vectors = Fixture(rows: 10, dimensions: 4).vectors
        vectors[7 * 4 + 3] = 12345.678
        var data = Data()
        for row in 0..<10 {
            withUnsafeBytes(of: Int32(4).littleEndian) { data.append(contentsOf: $0) }
            for value in vectors[row * 4..<row * 4 + 4] {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        try cli.write("v.fvecs", data)
        #expect(
            try cli.run([
                "import", "v", "v.fvecs", "--store", "v.store", "--create", "--metric", "l2",
            ]).status == 0
        )
        #expect(try cli.run(["verify", "--store", "v.store"]).status == 0)

        // LMDB keeps no checksums: overwrite the component in place with a NaN.
        let url = URL(fileURLWithPath: cli.path("v.store"))
        var store = try Data(contentsOf: url)
        let needle = withUnsafeBytes(of: Float(12345.678).bitPattern.littleEndian) { Data($0) }
        #expect(store.range(of: needle) != nil)
        // Every copy, in case a free page still holds an older one.
        while let range = store.range(of: needle) {
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) {
                store.replaceSubrange(range, with: $0)
            }
        }
        try store.write(to: url)

        let verify = try cli.run(["verify", "--store", "v.store"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("row 7 component 3 is not finite"), "\(verify.stdout)")
        #expect(verify.stderr == "error: 1 violation found\n")
    }

    @Test func usageErrorsExitTwo() throws {
        let cli = try CLIHarness()
        let unknownOption = try cli.run(["verify", "--no-such-option"])
        #expect(unknownOption.status == 2)
        let missingStore = try cli.run(["inspect", "--store", "absent.quiver"])
        #expect(missingStore.status == 2)
        #expect(missingStore.stderr.hasPrefix("error: no store at absent.quiver"))
        let badSchema = try cli.run([
            "create", "docs", "--store", "s.quiver", "--dimensions", "8", "--metric", "hamming",
        ])
        #expect(badSchema.status == 2)
        #expect(badSchema.stderr.hasPrefix("error: invalidSchema: "), "\(badSchema.stderr)")
    }
}
