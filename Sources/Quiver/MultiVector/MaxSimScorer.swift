import QuiverKernels
import QuiverStorage

/// Scores documents of a multi-vector collection against one query by exact MaxSim, reading
/// their token lists and token vectors in place from the memory map.
///
/// MaxSim (Khattab & Zaharia 2020, ColBERT): the sum over the query's tokens of the largest
/// dot product with the document's tokens. The token rows of a document are scattered over the
/// token space (rows are reused after deletes), so the scorer gathers their addresses (block
/// addresses are resolved once per snapshot by ``VectorRows``) and hands the kernel the list.
final class MaxSimScorer {
    let documents: Table
    let collection: UInt32
    let name: String
    let txn: Transaction
    let tokenRows: VectorRows
    let query: UnsafePointer<Float>
    let queryCount: Int
    let dimensions: Int
    private var pointers: UnsafeMutablePointer<UnsafeRawPointer>
    private var capacity: Int
    private let best: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - snapshot: the multi-vector collection.
    ///   - tokenRows: the float rows of its token space.
    ///   - query: `queryCount × dimensions` floats (normalised for cosine), kept alive by the caller.
    init(snapshot: CollectionSnapshot, tokenRows: VectorRows, query: UnsafePointer<Float>, queryCount: Int) throws {
        guard let documents = snapshot.tables.documents else {
            throw QuiverError(.corrupted, "the store has no multivector.docs table", collection: snapshot.name)
        }
        self.documents = documents
        collection = snapshot.id
        name = snapshot.name
        txn = snapshot.txn
        self.tokenRows = tokenRows
        self.query = query
        self.queryCount = queryCount
        dimensions = snapshot.descriptor.dimensions
        capacity = 256
        pointers = .allocate(capacity: capacity)
        best = .allocate(capacity: max(queryCount, 1))
    }

    deinit {
        pointers.deallocate()
        best.deallocate()
    }

    /// The MaxSim score of the document in `row` (one lookup: for rows in no order).
    func score(_ row: UInt32) throws -> Float {
        try score(row, stored: try txn.unsafeGet(documents, key: compositeKey(collection, row)))
    }

    /// The MaxSim score of the document in `row`, its token list read through `cursor`
    /// (ascending rows through one cursor: LMDB looks in the current leaf page first).
    func score(_ row: UInt32, cursor: inout Cursor) throws -> Float {
        try score(row, stored: try cursor.find(compositeKey(collection, row))?.value)
    }

    private func score(_ row: UInt32, stored: UnsafeRawBufferPointer?) throws -> Float {
        guard let stored else {
            throw QuiverError(.corrupted, "live document row \(row) has no token list", collection: name)
        }
        let document: DocumentTokens
        do { document = try DocumentTokens(stored) } catch {
            throw QuiverError(.corrupted, "token list of document row \(row): \(error)", collection: name)
        }
        return score(document)
    }

    /// The MaxSim score of a document whose token list is already read.
    func score(_ document: DocumentTokens) -> Float {
        let n = document.count
        if n > capacity {
            pointers.deallocate()
            capacity = n
            pointers = .allocate(capacity: n)
        }
        for i in 0..<n { pointers[i] = tokenRows.pointer(document.row(i)) }
        return Kernels.maxSim(query: query, queryCount: queryCount, tokens: pointers, tokenCount: n, dimensions: dimensions, best: best)
    }

    /// The best `k` of `rows` by MaxSim, as hits of distance `-score`.
    func top(_ rows: RowSet, k: Int) throws -> [Hit] {
        var top = TopK(k: k)
        try txn.withCursor(documents) { cursor in
            try rows.forEach { row in top.push(distance: -(try score(row, cursor: &cursor)), row: row) }
        }
        return top.sortedResults()
    }

    /// The best `k` of `candidates` by MaxSim.
    func top(_ candidates: [UInt32], k: Int) throws -> [Hit] {
        var top = TopK(k: k)
        try txn.withCursor(documents) { cursor in
            for row in candidates.sorted() { top.push(distance: -(try score(row, cursor: &cursor)), row: row) }
        }
        return top.sortedResults()
    }
}
