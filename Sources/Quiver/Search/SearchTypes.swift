import QuiverKernels

/// Settings of one search beyond `k` and the filter.
public struct SearchOptions: Sendable, Hashable {
    /// For Matryoshka collections: search on this declared prefix size instead of the full
    /// vector (re-normalised for cosine). `nil` searches the full vector.
    public var prefix: Int?
    /// Whether a shortlist (from a Matryoshka prefix, or from Hamming distances of a binary
    /// collection that keeps floats) is rescored on the full float vectors. With `false` the
    /// shortlist's own distances are returned.
    public var rescore: Bool
    /// The shortlist holds `k × oversample` candidates before rescoring.
    public var oversample: Int
    /// Whether results carry their metadata.
    public var includeMetadata: Bool
    /// The candidate list size of an index search (HNSW's efSearch): larger finds more of the
    /// true nearest neighbours and is slower. `nil` uses the index's default. 1...100,000.
    public var efSearch: Int?
    /// Whether the search may use the collection's index.
    public var strategy: SearchStrategy

    /// Creates options; the defaults search the full vector, rescore 4× oversampled
    /// shortlists, and let the planner use the index when there is one.
    public init(prefix: Int? = nil, rescore: Bool = true, oversample: Int = 4, includeMetadata: Bool = false,
                efSearch: Int? = nil, strategy: SearchStrategy = .automatic) {
        self.prefix = prefix
        self.rescore = rescore
        self.oversample = oversample
        self.includeMetadata = includeMetadata
        self.efSearch = efSearch
        self.strategy = strategy
    }
}

/// Whether a search scans exactly or walks the collection's index.
public enum SearchStrategy: String, Sendable, Hashable, CaseIterable {
    /// The index when the collection has one and the planner expects it to pay (a filter that
    /// few rows pass is scanned exactly); otherwise the exact scan.
    case automatic
    /// Always the exact scan: the oracle.
    case exact
    /// Always the index (throws ``QuiverError/Code/indexNotFound`` without one), even for
    /// filters the planner would scan.
    case index
}

/// One hit of a search.
public struct SearchResult: Sendable, Hashable {
    /// The record's key.
    public var key: RecordKey
    /// The distance to the query under the collection's metric; smaller is closer (see
    /// ``Metric``).
    public var distance: Float
    /// The record's metadata, when ``SearchOptions/includeMetadata`` was set.
    public var metadata: [String: MetadataValue]?
}

/// A row and its distance, as the scans rank them.
typealias Hit = TopK.Element

/// How a search runs, as the planner chose it (``CollectionReader/plan(filter:options:)``).
public enum SearchPlan: String, Sendable, Hashable, CaseIterable {
    /// The exact scan of the rows that pass.
    case exact
    /// The HNSW index, unfiltered.
    case index = "hnsw"
    /// The HNSW index with a tight filter: only passing rows are scored, reached through
    /// failing neighbours' neighbours (ACORN's two-hop expansion).
    case indexTwoHop = "hnsw-two-hop"
    /// The HNSW index with a loose filter: the whole graph is walked, only passing rows are kept.
    case indexPostFilter = "hnsw-post-filter"
}
