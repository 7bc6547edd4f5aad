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

    /// Creates options; the defaults search the full vector and rescore 4× oversampled
    /// shortlists.
    public init(prefix: Int? = nil, rescore: Bool = true, oversample: Int = 4, includeMetadata: Bool = false) {
        self.prefix = prefix
        self.rescore = rescore
        self.oversample = oversample
        self.includeMetadata = includeMetadata
    }
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
