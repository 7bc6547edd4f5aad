import QuiverKernels

/// Pools a document's token vectors exactly as a multi-vector collection does at ingest, for
/// callers that want the pooled tokens themselves (or to time pooling apart from writing).
///
/// The first `protectedTokens` tokens are kept as they are; the rest are agglomerated by Ward
/// linkage on Euclidean distance into `max(1, (n - protectedTokens) / poolFactor)` clusters,
/// and each cluster becomes its mean re-normalised to unit length (Clavie, Chaffin, Adams
/// 2024; the semantics are pinned in docs/architecture.md, "Multi-vector collections").
/// Deterministic. One pooler reuses its scratch memory across calls; it is not thread-safe,
/// so give each thread its own.
public final class TokenPooler {
    /// Each document keeps about `1 / poolFactor` of its unprotected tokens.
    public let poolFactor: Int
    /// Leading tokens kept as they are.
    public let protectedTokens: Int
    private let pooling: TokenPooling
    private let workspace = TokenPoolingWorkspace()

    /// - Throws: ``QuiverError/Code/invalidArgument`` unless `poolFactor` is in
    ///   1...``CollectionSchema/maximumPoolFactor`` and `protectedTokens` in
    ///   0...``CollectionSchema/maximumTokensPerDocument``.
    public init(poolFactor: Int, protectedTokens: Int = 1) throws(QuiverError) {
        guard (1...CollectionSchema.maximumPoolFactor).contains(poolFactor) else {
            throw QuiverError(.invalidArgument, "poolFactor must be in 1...\(CollectionSchema.maximumPoolFactor), got \(poolFactor)")
        }
        guard (0...CollectionSchema.maximumTokensPerDocument).contains(protectedTokens) else {
            throw QuiverError(.invalidArgument, "protectedTokens must be in 0...\(CollectionSchema.maximumTokensPerDocument), got \(protectedTokens)")
        }
        self.poolFactor = poolFactor
        self.protectedTokens = protectedTokens
        pooling = TokenPooling(poolFactor: poolFactor, protectedTokens: protectedTokens)
    }

    /// The number of tokens a document of `n` tokens keeps.
    public func pooledCount(forTokens n: Int) -> Int { pooling.pooledCount(forTokens: max(0, n)) }

    /// The pooled tokens of a document: `pooledCount(forTokens: count) × dimensions` floats.
    /// - Parameters:
    ///   - tokens: `count × dimensions` floats, row-major; unit vectors as the semantics assume.
    /// - Throws: ``QuiverError/Code/dimensionMismatch`` when `tokens` is not `count × dimensions`
    ///   floats; ``QuiverError/Code/invalidVector`` for a non-finite component.
    public func pool(_ tokens: UnsafeBufferPointer<Float>, count: Int, dimensions: Int) throws(QuiverError) -> [Float] {
        guard count >= 0, dimensions >= 1, tokens.count == count * dimensions else {
            throw QuiverError(.dimensionMismatch, "expected \(count) tokens × \(dimensions) components, got \(tokens.count) floats")
        }
        if let bad = tokens.firstIndex(where: { !$0.isFinite }) {
            throw QuiverError(.invalidVector, "token \(bad / dimensions) component \(bad % dimensions) is \(tokens[bad])")
        }
        return pooling.pool(tokens, count: count, dimensions: dimensions, workspace: workspace)
    }
}
