import Foundation

/// A small deterministic data set: clustered vectors and a metadata table aligned with them.
struct Fixture {
    static let sections = ["a", "b", "c"]
    let rows: Int
    let dimensions: Int
    /// Row-major floats.
    let vectors: [Float]
    let sections: [String]
    let sizes: [Int64]
    let tags: [[String]]

    init(rows: Int = 300, dimensions: Int = 16, seed: UInt64 = 42) {
        var state = seed
        func next() -> UInt64 {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func unit() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
        self.rows = rows
        self.dimensions = dimensions
        var centers: [[Float]] = []
        for _ in 0..<4 { centers.append((0..<dimensions).map { _ in unit() * 4 }) }
        var vectors: [Float] = []
        for row in 0..<rows {
            for c in 0..<dimensions { vectors.append(centers[row % 4][c] + unit()) }
        }
        self.vectors = vectors
        sections = (0..<rows).map { _ in Self.sections[Int(next() % 3)] }
        sizes = (0..<rows).map { _ in Int64(next() % 100) }
        tags = (0..<rows).map { row in row % 5 == 0 ? [] : row % 2 == 0 ? ["x", "y"] : ["x"] }
    }

    func vector(_ row: Int) -> [Float] { Array(vectors[row * dimensions..<(row + 1) * dimensions]) }

    /// `.fvecs` bytes of rows `range`: per row an int32 dimension, then the floats.
    func fvecs(_ range: Range<Int>? = nil) -> Data {
        var data = Data()
        for row in range ?? 0..<rows {
            withUnsafeBytes(of: Int32(dimensions).littleEndian) { data.append(contentsOf: $0) }
            for value in vector(row) {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// A TSV table with a header: section, size, tags (joined by `|`).
    func tsv(overriding: [Int: String] = [:]) -> Data {
        var text = "section\tsize\ttags\n"
        for row in 0..<rows {
            text +=
                overriding[row]
                ?? "\(sections[row])\t\(sizes[row])\t\(tags[row].joined(separator: "|"))"
            text += "\n"
        }
        return Data(text.utf8)
    }

    /// `.ivecs` ground truth: for each of the `queries` rows (used as queries), the `k` rows
    /// nearest by squared L2 among all rows.
    func ivecs(queries: [Int], k: Int) -> Data {
        var data = Data()
        for q in queries {
            let query = vector(q)
            var scored: [(row: Int, distance: Float)] = []
            for row in 0..<rows {
                var sum: Float = 0
                for (a, b) in zip(vector(row), query) { sum += (a - b) * (a - b) }
                scored.append((row, sum))
            }
            scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.row < $1.row) }
            withUnsafeBytes(of: Int32(k).littleEndian) { data.append(contentsOf: $0) }
            for entry in scored.prefix(k) { withUnsafeBytes(of: Int32(entry.row).littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// Rows passing `section == s and size < limit`, nearest first by squared L2 to `query`.
    func nearest(to query: [Float], section: String, sizeBelow limit: Int64, k: Int) -> [Int] {
        var scored: [(row: Int, distance: Float)] = []
        for row in 0..<rows where sections[row] == section && sizes[row] < limit {
            var sum: Float = 0
            for (a, b) in zip(vector(row), query) { sum += (a - b) * (a - b) }
            scored.append((row, sum))
        }
        scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.row < $1.row) }
        return scored.prefix(k).map(\.row)
    }
}

extension CLIHarness {
    /// Writes `data` to a file in the temporary folder and returns its path.
    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let path = self.path(name)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Creates collection `docs` (l2, section/size/tags) in `store.quiver` and imports the
    /// fixture with its TSV metadata, checking that both succeed.
    func createAndImport(
        _ fixture: Fixture,
        collection: String = "docs",
        store: String = "store.quiver"
    ) throws {
        try write("base.fvecs", fixture.fvecs())
        try write("meta.tsv", fixture.tsv())
        let create = try run([
            "create", collection, "--store", store, "--dimensions", "\(fixture.dimensions)",
            "--metric", "l2",
            "--field", "section:string", "--field", "size:int64", "--field", "tags:stringList",
        ])
        guard create.status == 0 else { throw HarnessError("create failed: \(create.stderr)") }
        let load = try run([
            "import", collection, "base.fvecs", "--store", store, "--metadata", "meta.tsv",
            "--batch-rows", "64",
        ])
        guard load.status == 0 else { throw HarnessError("import failed: \(load.stderr)") }
    }
}
