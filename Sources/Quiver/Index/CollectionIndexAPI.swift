import Foundation

extension CollectionWriter {
    /// Builds an HNSW index over every live record, replacing any index the collection has.
    /// For a multi-vector collection the graph is built over every stored token (the token
    /// index of ``CollectionReader/search(tokens:k:filter:options:)``).
    ///
    /// The graph is built in memory from vectors read in place, with `threads` threads, and
    /// written as link blocks when done; readers keep the last committed state (with or without
    /// the old index) until the transaction commits. Later upserts and deletes in any
    /// transaction keep the graph up to date. Builds in the same transaction as a bulk load
    /// see the loaded rows.
    ///
    /// - Parameters:
    ///   - parameters: `m`, `efConstruction`, the default `efSearch`, the seed, and for
    ///     Matryoshka collections an optional prefix to build on.
    ///   - threads: build threads; `0` uses every core.
    ///   - progress: called now and then with (rows inserted, rows in all), from a build thread.
    /// - Throws: ``QuiverError/Code/invalidArgument`` for out-of-range parameters.
    /// - Complexity: about O(n · log n · efConstruction) distance computations.
    public func buildIndex(_ parameters: HNSWParameters = HNSWParameters(), threads: Int = 0,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws {
        let target = state.vectorState
        try parameters.validate(schema: target.descriptor.schema, collection: name)
        guard threads >= 0, threads <= 256 else { throw QuiverError(.invalidArgument, "threads must be in 0...256, got \(threads)", collection: name) }
        target.discardGraphChanges()
        try state.flush()
        let count = threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads
        try HNSWMaintenance(snapshot: target.snapshot).build(parameters: parameters, threads: count, progress: progress)
        target.setIndexed(true)
    }

    /// Deletes the collection's index; searches scan exactly from then on.
    /// - Throws: ``QuiverError/Code/indexNotFound`` when it has none.
    public func dropIndex() throws {
        let target = state.vectorState
        guard try target.hasIndex() else { throw QuiverError(.indexNotFound, "the collection has no index", collection: name) }
        target.discardGraphChanges()
        try state.flush()
        try HNSWMaintenance(snapshot: target.snapshot).drop()
        target.setIndexed(false)
    }
}

extension CollectionReader {
    /// The parameters of the collection's HNSW index, or `nil` when it has none.
    public var indexParameters: HNSWParameters? {
        get throws { try HNSWMaintenance.header(snapshot.vectorSnapshot())?.parameters }
    }

    /// Levels, degrees, reachability and size of the collection's HNSW index.
    /// - Throws: ``QuiverError/Code/indexNotFound`` when it has none.
    /// - Complexity: reads every link once.
    public func indexStatistics() throws -> HNSWStatistics {
        let vectors = try snapshot.vectorSnapshot()
        guard let header = try HNSWMaintenance.header(vectors) else {
            throw QuiverError(.indexNotFound, "the collection has no index", collection: name)
        }
        return try GraphInspector(snapshot: vectors, header: header).statistics()
    }
}

extension Database {
    /// Builds an HNSW index on a collection in its own write transaction. See
    /// ``CollectionWriter/buildIndex(_:threads:progress:)``.
    public func buildIndex(collection: String, _ parameters: HNSWParameters = HNSWParameters(), threads: Int = 0,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws {
        try write { tx in try tx.collection(collection).buildIndex(parameters, threads: threads, progress: progress) }
    }

    /// Drops a collection's index. See ``CollectionWriter/dropIndex()``.
    public func dropIndex(collection: String) throws {
        try write { tx in try tx.collection(collection).dropIndex() }
    }
}
