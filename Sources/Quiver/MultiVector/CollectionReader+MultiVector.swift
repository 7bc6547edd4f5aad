import QuiverKernels

extension CollectionReader {
    /// The most query tokens a multi-vector search takes.
    public static let maximumQueryTokens = 4_096

    /// Returns the `k` documents of a multi-vector collection with the highest MaxSim score
    /// for `tokens` among those that pass `filter`, best first; each result's distance is the
    /// negated score (smaller is closer).
    ///
    /// MaxSim (ColBERT): the sum over the query tokens of the largest dot product with the
    /// document's stored tokens (cosine collections normalise query tokens; stored tokens are
    /// unit length). With ``SearchStrategy/exact``, or without a token index, every passing
    /// document is scored exactly. Two indexes over all stored tokens find candidates instead:
    ///
    /// - IVF lists (``CollectionWriter/buildEncoding(_:threads:progress:)`` with
    ///   ``VectorEncoding/ivfpq(nlist:m:)``; about 4,096 lists for 100,000 tokens), used when
    ///   ``SearchOptions/candidates`` names that encoding, or by default when there is no HNSW
    ///   index. PLAID's centroid interaction: each query token probes its
    ///   ``SearchOptions/nprobe`` best lists (by dot product with their centroids), the owners of
    ///   their tokens are the candidates, and each candidate is estimated by the sum over query
    ///   tokens of the best centroid score among its tokens' lists.
    /// - HNSW (``CollectionWriter/buildIndex(_:threads:progress:)``): each query token retrieves
    ///   its ``SearchOptions/tokenCandidates`` nearest stored tokens, and their documents are
    ///   ranked by the similarities retrieved.
    ///
    /// Either way the best `k × oversample` candidates are rescored by exact MaxSim. Measured
    /// on 94,256 MiniLM tokens (docs/benchmarks.md, "Multi-vector"): IVF lists with the
    /// defaults reach recall@10 0.96 against the exact scan at about 8× its speed; the HNSW
    /// path ranks candidates less well and needs `oversample` 10 for 0.95 (0.80 at the
    /// default 4), so prefer IVF lists for multi-vector collections. A filter
    /// that few documents pass is scored exactly (unless ``SearchStrategy/index``); looser ones
    /// restrict the candidates to the passing documents.
    ///
    /// - Throws: ``QuiverError/Code/invalidArgument`` for a collection that is not multi-vector
    ///   or bad options (an `nprobe` past the lists); ``QuiverError/Code/encodingNotFound`` for
    ///   candidates from an encoding the collection lacks; ``QuiverError/Code/indexNotFound``
    ///   for ``SearchStrategy/index`` without a token index or IVF lists;
    ///   ``QuiverError/Code/dimensionMismatch``, ``QuiverError/Code/invalidVector`` for bad
    ///   query tokens; the filter errors of ``search(_:k:filter:options:)``.
    public func search(tokens: [[Float]], k: Int, filter: Filter? = nil, options: SearchOptions = SearchOptions()) throws -> [SearchResult] {
        guard let tokenSnapshot = try snapshot.tokenSnapshot() else {
            throw QuiverError(.invalidArgument, "token queries are for multi-vector collections", collection: name)
        }
        try checkK(k, options)
        if let n = options.tokenCandidates, !(1...10_000).contains(n) {
            throw QuiverError(.invalidArgument, "tokenCandidates must be in 1...10000, got \(n)", collection: name)
        }
        let query = try queryTokens(tokens)
        let filterRows = try filter.map { try selectedRows($0) }
        let hits = try query.withUnsafeBufferPointer { q in
            try MaxSimSearch(documents: snapshot, tokens: tokenSnapshot, query: q.baseAddress!, queryCount: tokens.count)
                .run(k: k, filterRows: filterRows, options: options, reader: self)
        }
        return try results(hits, includeMetadata: options.includeMetadata)
    }

    /// Checks query tokens and flattens them (normalised for cosine).
    private func queryTokens(_ tokens: [[Float]]) throws -> [Float] {
        let dimensions = snapshot.descriptor.dimensions
        guard !tokens.isEmpty else { throw QuiverError(.invalidVector, "the query has no tokens", collection: name) }
        guard tokens.count <= Self.maximumQueryTokens else {
            throw QuiverError(.invalidVector, "\(tokens.count) query tokens; at most \(Self.maximumQueryTokens)", collection: name)
        }
        var flat: [Float] = []
        flat.reserveCapacity(tokens.count * dimensions)
        let cosine = snapshot.descriptor.schema.metric == .cosine
        for (t, token) in tokens.enumerated() {
            guard token.count == dimensions else {
                throw QuiverError(.dimensionMismatch, "query token \(t) has \(token.count) components, expected \(dimensions)", collection: name)
            }
            for (i, x) in token.enumerated() where !x.isFinite {
                throw QuiverError(.invalidVector, "query token \(t) component \(i) is \(x)", collection: name)
            }
            flat.append(contentsOf: token)
            if cosine {
                let norm = flat.withUnsafeMutableBufferPointer { VectorMath.normalize($0.baseAddress! + t * dimensions, count: dimensions) }
                guard norm > 0 else { throw QuiverError(.invalidVector, "query token \(t) is zero", collection: name) }
            }
        }
        return flat
    }

    /// The stored tokens of the document in `row` (`nil` for other kinds of collection).
    func documentTokens(row: UInt32) throws -> [[Float]]? {
        guard let tokenSnapshot = try snapshot.tokenSnapshot() else { return nil }
        guard let document = try DocumentTokens.read(snapshot, row: row) else {
            throw QuiverError(.corrupted, "document row \(row) has no token list", collection: name)
        }
        let blocks = BlockReader(snapshot: tokenSnapshot, bits: false)
        let dimensions = snapshot.descriptor.dimensions
        return try (0..<document.count).map { i in
            let pointer = try blocks.row(document.row(i))
            return (0..<dimensions).map { pointer.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
    }
}

/// What a multi-vector collection stores (``CollectionReader/tokenStatistics()``).
public struct TokenStatistics: Sendable, Hashable {
    /// Live documents.
    public var documents: Int
    /// Token vectors stored (after pooling).
    public var storedTokens: Int
    /// Token vectors the documents had when written, before pooling.
    public var tokensBeforePooling: Int
    /// Token rows ever used: stored tokens plus freed rows waiting for reuse.
    public var tokenRows: Int
    /// Bytes of stored token vectors (`storedTokens × dimensions × 4`).
    public var vectorBytes: Int
    /// Bytes the token space occupies in its blocks: float rows (padded to 16 bytes) and the
    /// 4-byte owner of each row, for every row ever used.
    public var storedBytes: Int
}

extension CollectionReader {
    /// Documents, tokens before and after pooling, and bytes of a multi-vector collection.
    /// - Throws: ``QuiverError/Code/invalidArgument`` for other kinds of collection.
    /// - Complexity: reads every document's token list header once.
    public func tokenStatistics() throws -> TokenStatistics {
        guard let tokens = try snapshot.tokenSnapshot(), let table = snapshot.tables.documents else {
            throw QuiverError(.invalidArgument, "token statistics are for multi-vector collections", collection: name)
        }
        var before = 0
        var prefix: [UInt8] = []
        prefix.appendBigEndian(snapshot.id)
        try snapshot.txn.withCursor(table) { cursor in
            var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
            while let e = entry, e.key.starts(with: prefix) {
                let document: DocumentTokens
                do throws(FormatError) { document = try DocumentTokens(e.value) } catch {
                    throw snapshot.corrupted("a token list", error)
                }
                before += document.originalCount
                entry = try cursor.next()
            }
        }
        let stored = Int(tokens.counters.liveCount)
        let rows = Int(tokens.counters.rowCount)
        let descriptor = tokens.descriptor
        let blocks = (rows + descriptor.rowsPerBlock - 1) / descriptor.rowsPerBlock
        return TokenStatistics(documents: count, storedTokens: stored, tokensBeforePooling: before, tokenRows: rows,
                               vectorBytes: stored * descriptor.dimensions * 4,
                               storedBytes: blocks * descriptor.rowsPerBlock * (descriptor.floatStride + 4))
    }
}
