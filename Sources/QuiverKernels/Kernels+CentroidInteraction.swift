import CQuiverKernels

// PLAID's centroid interaction: a multi-vector document's MaxSim estimated from its tokens' lists.
extension Kernels {
    /// Floats a score table needs past its last row: the kernels read whole vectors of query
    /// tokens (up to 16 floats), past a row's end, in lanes they leave out of the sum.
    public static let centroidInteractionSlack = 16

    /// Returns `Σ_i max_j scores[list(j) * queryCount + i]` over the query tokens `i` and the
    /// document tokens `j`, where `list(j)` is the little-endian `UInt32` at `lists + 4 j` (any
    /// alignment), or `listCount` when it is not below it.
    ///
    /// `scores` is list-major: row `l` holds the query tokens' scores against list `l`'s
    /// centroid. Row `listCount` is the caller's row for tokens without a list (fill it with
    /// `-infinity`: they then add nothing). A NaN score never counts as the largest; the maxima
    /// are summed in `Float` in query order, so every kernel set returns the same value. The C
    /// call is `qv_centroid_interaction`.
    ///
    /// - Parameters:
    ///   - scores: `(listCount + 1) * queryCount + centroidInteractionSlack` floats.
    ///   - queryCount: The query tokens.
    ///   - lists: `count` little-endian `UInt32` list numbers.
    ///   - count: The document's tokens.
    ///   - listCount: The lists (`nlist`).
    /// - Returns: 0 when `queryCount` or `count` is 0.
    @inlinable
    public static func centroidInteraction(
        scores: UnsafePointer<Float>, queryCount: Int, lists: UnsafeRawPointer, count: Int, listCount: UInt32
    ) -> Float {
        precondition(queryCount >= 0 && count >= 0, "negative count")
        // Safety: reads 4 * count bytes at `lists` and, per token, whole vectors of one row of
        // `scores` within the documented extent.
        return unsafe qv_centroid_interaction(scores, queryCount, lists, count, listCount)
    }

    /// The oracle for ``centroidInteraction(scores:queryCount:lists:count:listCount:)``: the
    /// same sum, one query token and one list at a time.
    public static func centroidInteractionReference(scores: [Float], queryCount: Int, lists: [UInt32], listCount: UInt32) -> Float {
        guard queryCount > 0, !lists.isEmpty else { return 0 }
        var sum: Float = 0
        for i in 0..<queryCount {
            var largest = -Float.infinity
            for list in lists {
                let value = scores[Int(Swift.min(list, listCount)) * queryCount + i]
                if value > largest { largest = value }
            }
            sum += largest
        }
        return sum
    }

    /// Writes each query token's `probes` best lists: for every query token `i`, the largest
    /// `scores[l * queryCount + i]` over lists `l < listCount` in descending order at
    /// `values[i * probes ...]` and their lists at `lists[i * probes ...]`. Of equal scores the
    /// lower list comes first; NaN and `-infinity` are never chosen, and slots left over hold
    /// `-infinity` and `UInt32.max`. Every kernel set returns the same lists. The C call is
    /// `qv_best_lists`.
    ///
    /// - Parameters:
    ///   - scores: list-major, `listCount * queryCount + centroidInteractionSlack` floats (whole
    ///     vectors are read past a row's end).
    ///   - values: `queryCount * probes` floats, written.
    ///   - lists: `queryCount * probes` list numbers, written.
    @inlinable
    public static func bestLists(
        scores: UnsafePointer<Float>, queryCount: Int, listCount: Int, probes: Int,
        values: UnsafeMutablePointer<Float>, lists: UnsafeMutablePointer<UInt32>
    ) {
        precondition(queryCount >= 0 && listCount >= 0 && probes >= 0, "negative count")
        // Safety: reads the documented extent of `scores`, writes queryCount * probes of each output.
        unsafe qv_best_lists(scores, queryCount, listCount, probes, values, lists)
    }

    /// The oracle for ``bestLists(scores:queryCount:listCount:probes:values:lists:)``: per query
    /// token, its lists ordered by score (descending, lower list first), the first `probes` of
    /// those with a score above `-infinity`.
    public static func bestListsReference(scores: [Float], queryCount: Int, listCount: Int, probes: Int) -> [[UInt32]] {
        (0..<queryCount).map { i in
            let ranked = (0..<listCount)
                .filter { scores[$0 * queryCount + i] > -.infinity }
                .sorted { a, b in
                    let x = scores[a * queryCount + i], y = scores[b * queryCount + i]
                    return x > y || (x == y && a < b)
                }
            return ranked.prefix(probes).map { UInt32($0) } + Array(repeating: .max, count: max(0, probes - ranked.count))
        }
    }
}
