import Dispatch
import Foundation
import QuiverKernels

/// A multi-vector document checked, normalised and pooled, ready to write.
struct PreparedDocument {
    var keyBytes: [UInt8]
    var fields: [(Int, MetadataValue)]
    /// The tokens to store, `count × dimensions` floats.
    var tokens: [Float]
    var count: Int
    /// The tokens the document had before pooling.
    var originalCount: Int
}

extension CollectionWriter {
    /// Inserts or replaces a multi-vector document: one vector per token.
    ///
    /// For cosine collections each token is stored normalised. With a pool factor above 1 the
    /// tokens are pooled first (see ``VectorKind/multiVector(dimensions:poolFactor:protectedTokens:)``);
    /// ``Record/tokens`` then returns the pooled tokens.
    ///
    /// - Parameters:
    ///   - tokens: the document's token vectors, each of the collection's dimensions; at least
    ///     one, at most ``CollectionSchema/maximumTokensPerDocument``.
    /// - Throws: ``QuiverError/Code/invalidArgument`` for a collection that is not multi-vector;
    ///   ``QuiverError/Code/dimensionMismatch`` for a token of the wrong length;
    ///   ``QuiverError/Code/invalidVector`` for no tokens, too many, a NaN or infinite
    ///   component, or a zero token in a cosine collection; the key and metadata errors of
    ///   ``upsert(key:vector:metadata:)``. Nothing is written when it throws.
    public func upsert(key: RecordKey, tokens: [[Float]], metadata: [String: MetadataValue] = [:]) throws {
        let dimensions = schema.vectors.dimensions
        try requireMultiVector(key: key)
        var flat: [Float] = []
        flat.reserveCapacity(tokens.count * dimensions)
        for (i, token) in tokens.enumerated() {
            guard token.count == dimensions else {
                throw QuiverError(.dimensionMismatch, "token \(i) has \(token.count) components, expected \(dimensions)", collection: name, key: key)
            }
            flat.append(contentsOf: token)
        }
        let prepared = try flat.withUnsafeBufferPointer {
            try prepareDocument(key: key, tokens: $0, count: tokens.count, metadata: metadata, workspace: TokenPoolingWorkspace())
        }
        try write(prepared)
    }

    /// Writes multi-vector documents from one contiguous token buffer in this transaction,
    /// pooling them on `threads` threads.
    ///
    /// Document `i` is the next `tokenCounts[i]` tokens of `tokens`. Every document is checked
    /// and pooled before anything is written, so a bad one leaves the transaction unchanged.
    ///
    /// - Parameters:
    ///   - tokens: all tokens, row-major, `tokenCounts.reduce(0, +) × dimensions` floats.
    ///   - tokenCounts: the tokens of each document (each at least 1).
    ///   - keys: one key per document.
    ///   - metadata: one dictionary per document, or `nil`.
    ///   - threads: pooling threads; `0` uses every core.
    /// - Throws: the errors of ``upsert(key:tokens:metadata:)``, naming the first bad document.
    /// - Returns: the number of tokens stored (after pooling).
    @discardableResult
    public func appendDocuments(tokens: UnsafeBufferPointer<Float>, tokenCounts: [Int], keys: BulkKeys,
                                metadata: [[String: MetadataValue]]? = nil, threads: Int = 0) throws -> Int {
        try requireMultiVector(key: nil)
        let dimensions = schema.vectors.dimensions
        let count = tokenCounts.count
        guard keys.count(or: count) == count, metadata.map({ $0.count == count }) ?? true else {
            throw QuiverError(.invalidArgument, "keys and metadata must have one entry per document (\(count))", collection: name)
        }
        guard threads >= 0, threads <= 256 else { throw QuiverError(.invalidArgument, "threads must be in 0...256, got \(threads)", collection: name) }
        var starts = [Int](repeating: 0, count: count + 1)
        for (i, n) in tokenCounts.enumerated() {
            guard n >= 1, n <= CollectionSchema.maximumTokensPerDocument else {
                throw QuiverError(.invalidVector, "document \(i) has \(n) tokens; a document has 1...\(CollectionSchema.maximumTokensPerDocument)",
                                  collection: name, key: keys.key(i))
            }
            starts[i + 1] = starts[i] + n
        }
        guard tokens.count == starts[count] * dimensions else {
            throw QuiverError(.dimensionMismatch, "expected \(starts[count]) tokens × \(dimensions) components, got \(tokens.count) floats", collection: name)
        }
        let offsets = starts
        let workers = max(1, min(threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads, count))
        let prepared = UnsafeMutablePointer<Result<PreparedDocument, Error>>.allocate(capacity: count)
        defer { prepared.deinitialize(count: count); prepared.deallocate() }
        // Safety: worker w initialises exactly the slots i ≡ w (mod workers); everything is
        // read after concurrentPerform has returned. `tokens` outlives the call.
        nonisolated(unsafe) let slots = prepared
        nonisolated(unsafe) let input = tokens
        // Safety: preparing reads only the descriptor and field index, which nothing changes.
        nonisolated(unsafe) let writer = self
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let workspace = TokenPoolingWorkspace()
            for i in Swift.stride(from: worker, to: count, by: workers) {
                let slice = UnsafeBufferPointer(rebasing: input[(offsets[i] * dimensions)..<(offsets[i + 1] * dimensions)])
                (slots + i).initialize(to: Result {
                    try writer.prepareDocument(key: keys.key(i), tokens: slice, count: tokenCounts[i], metadata: metadata?[i] ?? [:], workspace: workspace)
                })
            }
        }
        var stored = 0
        for i in 0..<count { stored += try prepared[i].get().count }
        for i in 0..<count { try write(try prepared[i].get()) }
        return stored
    }

    private func requireMultiVector(key: RecordKey?) throws {
        guard state.tokens != nil else {
            throw QuiverError(.invalidArgument, "token matrices are for multi-vector collections", collection: name, key: key)
        }
    }

    /// Checks a document, normalises its tokens (cosine) and pools them.
    func prepareDocument(key: RecordKey, tokens: UnsafeBufferPointer<Float>, count: Int, metadata: [String: MetadataValue],
                         workspace: TokenPoolingWorkspace) throws -> PreparedDocument {
        let descriptor = state.descriptor
        let dimensions = descriptor.dimensions
        let validator = RecordValidator(descriptor: descriptor, fieldIndex: state.fieldIndex)
        let keyBytes = try validator.checkKey(key)
        guard count >= 1 else { throw QuiverError(.invalidVector, "a document needs at least one token", collection: name, key: key) }
        guard count <= CollectionSchema.maximumTokensPerDocument else {
            throw QuiverError(.invalidVector, "\(count) tokens; a document has at most \(CollectionSchema.maximumTokensPerDocument)", collection: name, key: key)
        }
        var floats = Array(tokens)
        let cosine = descriptor.schema.metric == .cosine
        for t in 0..<count {
            var normSquared: Float = 0
            for i in 0..<dimensions {
                let x = floats[t * dimensions + i]
                guard x.isFinite else {
                    throw QuiverError(.invalidVector, "token \(t) component \(i) is \(x)", collection: name, key: key)
                }
                normSquared += x * x
            }
            if cosine {
                guard normSquared > 0 && normSquared.isFinite else {
                    throw QuiverError(.invalidVector, "token \(t) is zero; cosine tokens need a finite, non-zero length", collection: name, key: key)
                }
                floats.withUnsafeMutableBufferPointer { _ = VectorMath.normalize($0.baseAddress! + t * dimensions, count: dimensions) }
            }
        }
        let fields = try validator.metadata(metadata, key: key)
        let pooling = descriptor.schema.vectors.tokenPooling!
        let pooled = floats.withUnsafeBufferPointer { pooling.pool($0, count: count, dimensions: dimensions, workspace: workspace) }
        return PreparedDocument(keyBytes: keyBytes, fields: fields, tokens: pooled, count: pooling.pooledCount(forTokens: count), originalCount: count)
    }

    /// Writes a prepared document: its row, its tokens (replacing the old ones), its record.
    func write(_ document: PreparedDocument) throws {
        guard let tokens = state.tokens, let table = state.tables.documents else { return }
        let row = try rowForWrite(keyBytes: document.keyBytes)
        let key = compositeKey(state.descriptor.id, row)
        if let old = try DocumentTokens.read(state.snapshot, row: row) {
            try tokens.remove(old.allRows)
        }
        let rows = try document.tokens.withUnsafeBufferPointer { try tokens.add($0, count: document.count, document: row) }
        if DocumentTokens.isRun(rows) {
            // Older builds (format 1.3) read only listed rows: they must refuse the store.
            try Database.raiseFormat(state.txn, meta: state.tables.meta, to: .withTokenRuns)
        }
        try DocumentTokens.encode(originalCount: document.originalCount, rows: rows).withUnsafeBytes { try state.txn.put(table, key: key, value: $0) }
        try writeRecord(row: row, keyBytes: document.keyBytes, fields: document.fields)
    }

    /// Frees the tokens of the document in `row` (deleted).
    func removeDocument(row: UInt32) throws {
        guard let tokens = state.tokens, let table = state.tables.documents else { return }
        guard let old = try DocumentTokens.read(state.snapshot, row: row) else {
            throw QuiverError(.corrupted, "document row \(row) has no token list", collection: name)
        }
        try tokens.remove(old.allRows)
        _ = try state.txn.delete(table, key: compositeKey(state.descriptor.id, row))
    }
}

extension DocumentTokens {
    /// The token rows, copied out of the map.
    var allRows: [UInt32] { (0..<count).map(row) }
}
