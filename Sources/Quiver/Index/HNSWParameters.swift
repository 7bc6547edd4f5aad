/// How an HNSW index is built and searched (Malkov & Yashunin 2018).
///
/// ```swift
/// try db.write { tx in
///     try tx.collection("docs").buildIndex(HNSWParameters(m: 16, efConstruction: 200))
/// }
/// ```
public struct HNSWParameters: Sendable, Hashable {
    /// Links per node on the upper levels; level 0 keeps up to `2 × m`. 2...64.
    public var m: Int
    /// The candidate list size while inserting: larger builds slower and finds better links.
    /// At least `m`, at most 4,096.
    public var efConstruction: Int
    /// The default candidate list size of a search (``SearchOptions/efSearch`` overrides it).
    /// 1...100,000; a search uses at least `k`.
    public var efSearch: Int
    /// Seeds the level of every node, so one seed and one insertion order give one graph.
    public var seed: UInt64
    /// For Matryoshka collections: build the graph on this declared prefix (candidates are
    /// rescored on the full vector). `nil` builds on the full vector.
    public var prefix: Int?

    /// Creates parameters; the defaults are those of hnswlib's examples and the benchmarks.
    public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 0x5155_4956_4552, prefix: Int? = nil) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
        self.prefix = prefix
    }

    func validate(schema: CollectionSchema, collection: String) throws {
        func fail(_ message: String) -> QuiverError { QuiverError(.invalidArgument, message, collection: collection) }
        guard (2...64).contains(m) else { throw fail("m must be in 2...64, got \(m)") }
        guard efConstruction >= m, efConstruction <= 4_096 else { throw fail("efConstruction must be in m...4096, got \(efConstruction)") }
        guard (1...100_000).contains(efSearch) else { throw fail("efSearch must be in 1...100000, got \(efSearch)") }
        if let prefix {
            guard case .matryoshka(let dimensions, let prefixes) = schema.vectors else {
                throw fail("an index on a prefix needs a Matryoshka collection")
            }
            guard prefixes.contains(prefix) || prefix == dimensions else {
                throw fail("prefix \(prefix) is not declared; declared: \(prefixes)")
            }
        }
    }
}

/// What `quiver index stats` reports about an HNSW index.
public struct HNSWStatistics: Sendable, Hashable {
    /// The parameters the index was built with.
    public var parameters: HNSWParameters
    /// Nodes in the graph (the live rows).
    public var nodes: Int
    /// Nodes per level, level 0 first.
    public var nodesPerLevel: [Int]
    /// The entry point's level (the top level).
    public var entryLevel: Int
    /// How many level-0 nodes have 0, 1, 2, ... out-links (index = degree).
    public var level0DegreeHistogram: [Int]
    /// Live rows that a search from the entry point cannot reach on level 0.
    public var unreachableNodes: Int
    /// Bytes the graph occupies in the store (link blocks, node records and header), counted
    /// in whole LMDB pages.
    public var graphBytes: Int
    /// `graphBytes / nodes`.
    public var bytesPerVector: Double { nodes == 0 ? 0 : Double(graphBytes) / Double(nodes) }
}
