/// Token pooling at ingest for multi-vector (ColBERT-style) documents: clusters a document's
/// token vectors and keeps one vector per cluster (Clavie, Chaffin & Adams 2024, "Reducing the
/// Footprint of Multi-Vector Retrieval with Minimal Performance Impact via Token Pooling").
///
/// The semantics are the ones pinned by Quiver's design brief (section 5), and they match
/// SciPy's `linkage(method='ward')` followed by `cut_tree(n_clusters:)`:
/// - The first ``protectedTokens`` tokens (the `[CLS]` position by default) are kept as they are.
/// - The other `n - p` tokens are agglomerated by Ward linkage on Euclidean distance, merges
///   applied in order of height (equal heights in the order SciPy's nearest-neighbour chain
///   finds them), until `max(1, (n - p) / poolFactor)` clusters remain; each cluster becomes
///   its mean, re-normalised to unit length (a zero mean stays zero).
/// - With `poolFactor == 1`, or when `n <= protectedTokens`, the tokens come back unchanged
///   (not re-normalised).
///
/// Pooling keeps exactly ``pooledCount(forTokens:)`` vectors, even when merge heights tie at the
/// cut; SciPy's `fcluster(criterion='maxclust')` would then merge every tied pair and may keep
/// fewer (see ``TokenPoolingWorkspace`` for the ties and for how each SciPy step is mirrored).
///
/// ```swift
/// let pooling = TokenPooling(poolFactor: 2)           // keeps [CLS], halves the rest
/// let workspace = TokenPoolingWorkspace()             // one per thread, reused per document
/// let pooled = unsafe tokens.withUnsafeBufferPointer { buffer in
///     unsafe pooling.pool(buffer, count: tokenCount, dimensions: 128, workspace: workspace)
/// }
/// // pooled.count == pooling.pooledCount(forTokens: tokenCount) * 128
/// ```
public struct TokenPooling: Sendable, Hashable {
    /// The pool factor `f`: the unprotected tokens are reduced to about `1/f` of their number.
    ///
    /// `1` means no pooling. Must be at least 1.
    public var poolFactor: Int

    /// The number of leading tokens kept unchanged, outside the clustering (`p`).
    ///
    /// The default, 1, protects the `[CLS]` position of ColBERT-style encoders. Must not be
    /// negative.
    public var protectedTokens: Int

    /// Creates pooling settings.
    ///
    /// - Parameters:
    ///   - poolFactor: The pool factor `f`; 1 keeps every token.
    ///   - protectedTokens: The number of leading tokens kept unchanged.
    /// - Precondition: `poolFactor >= 1` and `protectedTokens >= 0`.
    public init(poolFactor: Int, protectedTokens: Int = 1) {
        precondition(poolFactor >= 1, "poolFactor must be at least 1")
        precondition(protectedTokens >= 0, "protectedTokens must not be negative")
        self.poolFactor = poolFactor
        self.protectedTokens = protectedTokens
    }

    /// Returns the number of vectors ``pool(_:count:dimensions:workspace:)`` keeps for a
    /// document of `n` tokens.
    ///
    /// `n` when `poolFactor == 1` or `n <= protectedTokens`, otherwise
    /// `protectedTokens + max(1, (n - protectedTokens) / poolFactor)` (integer division).
    ///
    /// - Parameter n: The number of tokens of the document.
    /// - Returns: The number of pooled vectors, at most `n`.
    /// - Precondition: `n >= 0`, `poolFactor >= 1` and `protectedTokens >= 0`.
    public func pooledCount(forTokens n: Int) -> Int {
        precondition(n >= 0, "negative token count")
        checkSettings()
        if poolFactor == 1 || n <= protectedTokens { return n }
        return protectedTokens + Swift.max(1, (n - protectedTokens) / poolFactor)
    }

    /// Pools one document, with a temporary workspace.
    ///
    /// The same as ``pool(_:count:dimensions:workspace:)``; pass a ``TokenPoolingWorkspace`` when
    /// pooling many documents, so that the scratch memory is allocated once.
    ///
    /// - Parameters:
    ///   - tokens: `n × dimensions` floats, row-major: token `i` is
    ///     `tokens[i * dimensions ..< (i + 1) * dimensions]`.
    ///   - n: The number of tokens.
    ///   - dimensions: The number of floats per token.
    /// - Returns: The pooled vectors, row-major: `pooledCount(forTokens: n) × dimensions` floats.
    /// - Precondition: `n >= 0`, `dimensions >= 1`, `tokens.count == n * dimensions`, finite
    ///   values (NaN or infinity may trap), and valid settings.
    public func pool(_ tokens: UnsafeBufferPointer<Float>, count n: Int, dimensions: Int) -> [Float] {
        unsafe pool(tokens, count: n, dimensions: dimensions, workspace: TokenPoolingWorkspace())
    }

    /// Pools one document: clusters its unprotected tokens by Ward linkage and returns the
    /// protected tokens followed by one unit vector per cluster.
    ///
    /// The protected tokens come first, unchanged and in input order. Then comes one vector per
    /// cluster, ordered by the cluster's first token: the normalised mean of its tokens. A
    /// cluster whose mean is the zero vector (tokens that cancel out, such as `t` and `-t`)
    /// stays zero. The order is deterministic but not part of the contract.
    ///
    /// The input is used as given: tokens need not be exactly unit length, and their norms
    /// weigh in the means. Validation (finite values, a whole matrix) is the caller's job.
    ///
    /// The clustering runs in `Double`: the nearest-neighbour chain algorithm (Murtagh 1983;
    /// Müllner 2011, "Modern hierarchical, agglomerative clustering algorithms",
    /// arXiv:1109.2378) with the Lance–Williams update for Ward on Euclidean distances, step for
    /// step as SciPy runs it, so that ties and near-ties resolve as in SciPy. When one cluster
    /// is wanted no distance is computed.
    ///
    /// - Parameters:
    ///   - tokens: `n × dimensions` floats, row-major: token `i` is
    ///     `tokens[i * dimensions ..< (i + 1) * dimensions]`.
    ///   - n: The number of tokens.
    ///   - dimensions: The number of floats per token.
    ///   - workspace: Scratch memory, grown when a document is larger than any before it and
    ///     otherwise reused; only the returned array is allocated.
    /// - Returns: The pooled vectors, row-major: `pooledCount(forTokens: n) × dimensions` floats.
    /// - Complexity: O(m² · dimensions) time and O(m² + m · dimensions) workspace memory, where
    ///   m = n - protectedTokens; O(n · dimensions) when `poolFactor == 1`, `n <= protectedTokens`
    ///   or m < 2 · poolFactor.
    /// - Precondition: `n >= 0`, `dimensions >= 1`, `tokens.count == n * dimensions`, finite
    ///   values (NaN or infinity may trap), and valid settings.
    public func pool(
        _ tokens: UnsafeBufferPointer<Float>, count n: Int, dimensions: Int,
        workspace: TokenPoolingWorkspace
    ) -> [Float] {
        precondition(n >= 0, "negative token count")
        precondition(dimensions >= 1, "dimensions must be at least 1")
        precondition(tokens.count == n * dimensions, "tokens.count must be n * dimensions")
        let outputCount = pooledCount(forTokens: n)
        if poolFactor == 1 || n <= protectedTokens { return unsafe Array(tokens) }

        let protectedFloats = protectedTokens * dimensions
        let clustered = n - protectedTokens
        let clusterCount = outputCount - protectedTokens
        return unsafe [Float](unsafeUninitializedCapacity: outputCount * dimensions) { output, initialized in
            // Safety: output has room for outputCount * dimensions floats; the first
            // protectedFloats are copied here and the clusters fill the rest.
            _ = unsafe output.initialize(from: tokens[0..<protectedFloats])
            // Safety: the unprotected tokens are the rest of `tokens`, clustered * dimensions
            // floats; the output slice holds clusterCount * dimensions floats.
            unsafe workspace.poolClusters(
                tokens: UnsafeBufferPointer(rebasing: tokens[protectedFloats...]),
                count: clustered, dimensions: dimensions, clusterCount: clusterCount,
                into: UnsafeMutableBufferPointer(rebasing: output[protectedFloats...]))
            initialized = outputCount * dimensions
        }
    }

    private func checkSettings() {
        precondition(poolFactor >= 1, "poolFactor must be at least 1")
        precondition(protectedTokens >= 0, "protectedTokens must not be negative")
    }
}
