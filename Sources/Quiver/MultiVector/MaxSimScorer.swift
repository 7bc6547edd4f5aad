import QuiverKernels
import QuiverStorage

/// Scores documents of a multi-vector collection against one query by exact MaxSim, reading
/// their token lists and token vectors in place from the memory map.
///
/// MaxSim (Khattab & Zaharia 2020, ColBERT): the sum over the query's tokens of the largest
/// dot product with the document's tokens. The token rows of a document are scattered over the
/// token space (rows are reused after deletes), so the scorer gathers their addresses (block
/// addresses resolved once per snapshot by ``VectorRows``, token lists by ``DocumentLists``)
/// and hands the kernel the list.
final class MaxSimScorer {
    let lists: DocumentLists
    let tokenRows: VectorRows
    let query: UnsafePointer<Float>
    let queryCount: Int
    let dimensions: Int
    private let addresses = TokenAddresses()
    private let best: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - lists: the token lists of the multi-vector collection's documents.
    ///   - tokenRows: the float rows of its token space.
    ///   - query: `queryCount × dimensions` floats (normalised for cosine), kept alive by the caller.
    init(lists: DocumentLists, tokenRows: VectorRows, dimensions: Int, query: UnsafePointer<Float>, queryCount: Int) {
        self.lists = lists
        self.tokenRows = tokenRows
        self.query = query
        self.queryCount = queryCount
        self.dimensions = dimensions
        best = .allocate(capacity: max(queryCount, 1))
    }

    deinit { best.deallocate() }

    /// The MaxSim score of the document in `row`.
    func score(_ row: UInt32) throws -> Float {
        score(try lists.live(row))
    }

    /// The MaxSim score of a document whose token list is already read.
    func score(_ document: DocumentTokens) -> Float {
        Kernels.maxSim(query: query, queryCount: queryCount, tokens: addresses.gather(document, in: tokenRows),
                       tokenCount: document.count, dimensions: dimensions, best: best)
    }

    /// The best `k` of `rows` by MaxSim, as hits of distance `-score`.
    func top(_ rows: RowSet, k: Int) throws -> [Hit] {
        var top = TopK(k: k)
        try rows.forEach { row in top.push(distance: -(try score(row)), row: row) }
        return top.sortedResults()
    }
}
