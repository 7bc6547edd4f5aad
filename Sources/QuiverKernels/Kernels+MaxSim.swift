import CQuiverKernels

// Late interaction (ColBERT): MaxSim between a multi-vector query and a document's tokens.
extension Kernels {
    // MARK: MaxSim

    /// Returns the MaxSim score of a query's tokens against a document's tokens: the sum over
    /// the query tokens of the largest dot product with any document token.
    ///
    /// Query token `i` is `query + i * dimensions` (contiguous, no padding). The document's
    /// tokens may lie anywhere (rows of a block are allocated one by one), hence an array of
    /// addresses. Register tiles of 3 document tokens x 4 query tokens (AVX2; 3 x 8 on AVX-512,
    /// 2 x 4 on SSE2 and NEON) load each token vector once for several query tokens and reduce
    /// horizontally once per tile: at 32 query tokens x 80 tokens of 128 dimensions (AVX2, Zen 3)
    /// about 4 times as fast as one ``dot(_:_:count:)`` per pair. A dot product that is NaN never
    /// counts as the largest. The C call is `qv_maxsim_f32`.
    ///
    /// - Parameters:
    ///   - query: `queryCount * dimensions` floats.
    ///   - queryCount: The number of query tokens.
    ///   - tokens: `tokenCount` addresses of `dimensions` floats each, possibly unaligned.
    ///   - tokenCount: The number of document tokens.
    ///   - dimensions: Floats per token.
    ///   - best: Receives `queryCount` floats, `best[i]` the largest dot product of query token
    ///     `i`; untouched when either count is 0.
    /// - Returns: The sum of `best[0 ..< queryCount]` (in that order), or 0 when either count
    ///   is 0.
    /// - Precondition: `queryCount >= 0`, `tokenCount >= 0`, `dimensions >= 0`.
    @inlinable
    public static func maxSim(
        query: UnsafePointer<Float>, queryCount: Int, tokens: UnsafePointer<UnsafeRawPointer>, tokenCount: Int,
        dimensions: Int, best: UnsafeMutablePointer<Float>
    ) -> Float {
        precondition(queryCount >= 0 && tokenCount >= 0 && dimensions >= 0, "negative count")
        // Safety: reads queryCount * dimensions query floats, tokenCount addresses and
        // `dimensions` floats at each, and writes queryCount floats to `best`.
        return unsafe qv_maxsim_f32(query, queryCount, tokens, tokenCount, dimensions, best)
    }

    // MARK: Reference twin

    /// Returns the MaxSim score and each query token's largest dot product, with every dot
    /// product summed in `Double`: the oracle for
    /// ``maxSim(query:queryCount:tokens:tokenCount:dimensions:best:)``.
    ///
    /// The maxima are rounded to `Float` and summed in `Float` in query order, as the kernels
    /// sum them. A NaN dot product never counts as the largest.
    ///
    /// - Parameters:
    ///   - query: The query tokens, each of `dimensions` floats.
    ///   - tokens: The document tokens, each of `dimensions` floats.
    /// - Returns: `(0, [])` when either array is empty.
    /// - Precondition: every token has the same number of floats.
    public static func maxSimReference(query: [[Float]], tokens: [[Float]]) -> (score: Float, best: [Float]) {
        guard let dimensions = query.first?.count, !tokens.isEmpty else { return (0, []) }
        precondition(query.allSatisfy { $0.count == dimensions } && tokens.allSatisfy { $0.count == dimensions },
                     "dimension mismatch")
        var score: Float = 0
        var best: [Float] = []
        best.reserveCapacity(query.count)
        for q in query {
            var largest = -Float.infinity
            for token in tokens {
                var sum = 0.0
                for k in 0..<dimensions { sum += Double(q[k]) * Double(token[k]) }
                let dot = Float(sum)
                if dot > largest { largest = dot }
            }
            best.append(largest)
            score += largest
        }
        return (score, best)
    }
}
