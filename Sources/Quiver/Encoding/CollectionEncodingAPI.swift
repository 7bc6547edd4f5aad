import Foundation

extension CollectionWriter {
    /// Trains an encoding on a sample of the live rows and encodes every row; later upserts
    /// are encoded as they are written. Building an encoding the collection already has (same
    /// kind and prefix) retrains it: use this when the data has drifted.
    ///
    /// Searches use the encoding for candidates (see ``SearchOptions/candidates``) and rescore
    /// them on the float vectors.
    ///
    /// - Parameters:
    ///   - parameters: the encoding, an optional Matryoshka prefix, the sample size and seed.
    ///   - threads: threads for training; `0` uses every core.
    ///   - progress: called now and then with (stage, done, total), stage `"training"` or
    ///     `"encoding"`.
    /// - Returns: what was built.
    /// - Throws: ``QuiverError/Code/invalidArgument`` for parameters the collection cannot
    ///   take (binary codes of an L2 collection, a PQ `m` that does not divide the dimensions,
    ///   an undeclared prefix, no rows to train on).
    @discardableResult
    public func buildEncoding(_ parameters: EncodingParameters, threads: Int = 0,
                              progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws -> EncodingInfo {
        guard threads >= 0, threads <= 256 else { throw QuiverError(.invalidArgument, "threads must be in 0...256, got \(threads)", collection: name) }
        try state.flush()
        let count = threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads
        let codebook = try EncodingMaintenance(snapshot: state.vectorState.snapshot).build(parameters, threads: count, progress: progress)
        state.vectorState.encodingsChanged()
        return codebook.info
    }

    /// Builds `encoding` of the full vector with default training settings. See
    /// ``buildEncoding(_:threads:progress:)``.
    @discardableResult
    public func buildEncoding(_ encoding: VectorEncoding) throws -> EncodingInfo {
        try buildEncoding(EncodingParameters(encoding))
    }

    /// Retrains encodings with the parameters they were built with, on a fresh sample of the
    /// current rows, and re-encodes every row: for when the data has drifted. The int8 codes
    /// that keep a collection's floats (``keepFloatsOnlyAsInt8(threads:progress:)``) are not
    /// retrained: asking for them throws ``QuiverError/Code/invalidArgument``.
    /// - Parameters:
    ///   - encoding: the encoding to retrain (with `prefix`), or `nil` for all of them.
    /// - Returns: what was rebuilt.
    /// - Throws: ``QuiverError/Code/encodingNotFound`` when the collection does not have it.
    @discardableResult
    public func retrainEncodings(_ encoding: VectorEncoding? = nil, prefix: Int? = nil, threads: Int = 0,
                                 progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws -> [EncodingInfo] {
        try state.flush()
        var codebooks = try EncodingMaintenance.codebooks(state.vectorState.snapshot)
        if let encoding {
            let dimensions = prefix ?? state.descriptor.dimensions
            codebooks = codebooks.filter { $0.encoding == encoding && $0.dimensions == dimensions }
            guard !codebooks.isEmpty else {
                throw QuiverError(.encodingNotFound, "the collection has no \(encoding) encoding\(prefix.map { " of prefix \($0)" } ?? "")", collection: name)
            }
        } else {
            // All of them but the int8 codes that keep the floats (they have no floats to learn from).
            codebooks.removeAll { $0.id == state.vectorState.descriptor.floatCodesID }
        }
        return try codebooks.map { try buildEncoding($0.parameters, threads: threads, progress: progress) }
    }

    /// Deletes an encoding and its codes.
    /// - Throws: ``QuiverError/Code/encodingNotFound`` when the collection does not have it;
    ///   ``QuiverError/Code/invalidArgument`` for the int8 codes that keep the floats.
    public func dropEncoding(_ encoding: VectorEncoding, prefix: Int? = nil) throws {
        try state.flush()
        guard let codebook = try EncodingMaintenance.codebook(state.vectorState.snapshot, encoding: encoding, prefix: prefix) else {
            throw QuiverError(.encodingNotFound, "the collection has no \(encoding) encoding\(prefix.map { " of prefix \($0)" } ?? "")", collection: name)
        }
        try EncodingMaintenance.checkReplaceable(codebook, snapshot: state.vectorState.snapshot)
        try EncodingMaintenance(snapshot: state.vectorState.snapshot).drop(codebook)
        state.vectorState.encodingsChanged()
    }
}

extension CollectionReader {
    /// The collection's encodings.
    public var encodings: [EncodingInfo] {
        get throws { try EncodingMaintenance.codebooks(snapshot.vectorSnapshot()).map(\.info) }
    }
}

extension Database {
    /// Builds (or retrains) an encoding in its own write transaction. See
    /// ``CollectionWriter/buildEncoding(_:threads:progress:)``.
    @discardableResult
    public func buildEncoding(collection: String, _ parameters: EncodingParameters, threads: Int = 0,
                              progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws -> EncodingInfo {
        try write { tx in try tx.collection(collection).buildEncoding(parameters, threads: threads, progress: progress) }
    }
}
