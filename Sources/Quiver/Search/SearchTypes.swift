import QuiverKernels

/// Settings of one search beyond `k` and the filter.
public struct SearchOptions: Sendable, Hashable {
    /// For Matryoshka collections: search on this declared prefix size instead of the full
    /// vector (re-normalised for cosine). `nil` searches the full vector.
    public var prefix: Int?
    /// Whether a shortlist (from an encoding's codes, a Matryoshka prefix, or Hamming
    /// distances of a binary collection that keeps floats) is rescored on the full float
    /// vectors. With `false` the shortlist's own distances are returned.
    public var rescore: Bool
    /// The shortlist holds `k × oversample` candidates before rescoring. 1...1,000. For a
    /// multi-vector collection whose tokens also have an int8 encoding, a shortlist of at least
    /// `3 × (k + ⌈k/2⌉)` documents (oversample 5 and up at k = 10) is first scored by MaxSim on
    /// the int8 codes and only its best `k` on the floats, with those of the next `⌈k/2⌉` within
    /// the codes' error margin of the `k`-th (docs/architecture.md, "Multi-vector collections").
    /// `nil` uses ``defaultOversample``, or for such a multi-vector collection
    /// ``defaultCodedTokenOversample``.
    public var oversample: Int?
    /// Where candidates come from: the collection's encoding (by default, when it has one) or
    /// the float vectors.
    public var candidates: CandidateSource
    /// Whether results carry their metadata.
    public var includeMetadata: Bool
    /// The candidate list size of an index search (HNSW's efSearch): larger finds more of the
    /// true nearest neighbours and is slower. `nil` uses the index's default. 1...100,000.
    public var efSearch: Int?
    /// Whether the search may use the collection's index.
    public var strategy: SearchStrategy
    /// IVF-PQ lists probed (the nearest to the query); `nil` uses a sixteenth of the lists
    /// (at least 1, at most 64). More finds more of the true neighbours and is slower. For
    /// multi-vector collections searched through IVF lists of their tokens: the lists each
    /// query token probes (its best by dot product with the centroids); `nil` uses
    /// ``defaultTokenProbes``.
    public var nprobe: Int?
    /// For Matryoshka collections: score through these stages (prefixes and encodings, each
    /// keeping a shortlist) instead of one scan; see ``Funnel``. The funnel runs as an exact
    /// plan over the rows that pass the filter.
    public var funnel: Funnel?
    /// For multi-vector collections with a token index: how many stored tokens each query
    /// token retrieves; their documents are the candidates, of which `k × oversample` are
    /// rescored by exact MaxSim. `nil` uses ``defaultTokenCandidates``. 1...10,000.
    public var tokenCandidates: Int?
    /// The stored tokens each query token retrieves by default (measured in
    /// docs/benchmarks.md, "Multi-vector").
    public static let defaultTokenCandidates = 32
    /// The IVF lists each query token of a multi-vector search probes by default (measured in
    /// docs/architecture.md, "Multi-vector collections").
    public static let defaultTokenProbes = 2
    /// The oversampling of a shortlist by default.
    public static let defaultOversample = 4
    /// The oversampling of a multi-vector collection's shortlist by default when its tokens have
    /// an int8 encoding: scored on the codes first, twice the shortlist of the plain default
    /// costs little (at most 14% of the queries/s, mostly within the noise) and finds more of
    /// the exact top k (recall@10 0.90-0.96 at 4 against 0.95-0.99 at 8 on three token sets,
    /// pool factors 1-4; docs/benchmarks.md, "Multi-vector").
    public static let defaultCodedTokenOversample = 8

    /// Creates options; the defaults search the full vector, take candidates from the
    /// collection's encoding when it has one, rescore shortlists oversampled by default
    /// (``oversample``), and let the planner use the index when there is one.
    public init(prefix: Int? = nil, candidates: CandidateSource = .automatic, rescore: Bool = true, oversample: Int? = nil,
                includeMetadata: Bool = false, efSearch: Int? = nil, strategy: SearchStrategy = .automatic) {
        self.prefix = prefix
        self.candidates = candidates
        self.rescore = rescore
        self.oversample = oversample
        self.includeMetadata = includeMetadata
        self.efSearch = efSearch
        self.strategy = strategy
        self.funnel = nil
        self.nprobe = nil
        self.tokenCandidates = nil
    }

    /// The shortlist's oversampling for a dense collection: ``oversample`` or its default.
    var denseOversample: Int { oversample ?? Self.defaultOversample }

    /// Options that search through `funnel` (Matryoshka collections).
    public init(funnel: Funnel, includeMetadata: Bool = false) {
        self.init(includeMetadata: includeMetadata, strategy: .exact)
        self.funnel = funnel
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
