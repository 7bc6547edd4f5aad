import Foundation
import QuiverStorage

/// The token lists of a multi-vector collection's documents (`multivector.docs` values) by
/// document row, each looked up once per snapshot and then read by address: what
/// ``VectorRows`` does for blocks of vectors, for the values a MaxSim search reads for every
/// document it scores or estimates. A B-tree lookup costs about 0.1 µs, a few hundred of them a
/// sixth of a fast-path query (docs/benchmarks.md).
///
/// Holds one address per document row (8 bytes) for the first ``cachedRows`` rows, zero-filled
/// by `calloc`, so that the pages of rows never looked up are never touched; rows past them are
/// looked up each time (a context per concurrent searcher keeps its own table: at most 32 MiB
/// each). Kept by the search context while the snapshot is the same (LMDB values do not move
/// within a snapshot and map).
final class DocumentLists {
    /// The transaction lookups read through; a reader reusing the lists for a later
    /// transaction on the same snapshot sets it first.
    var txn: Transaction
    let table: Table
    let collection: UInt32
    let name: String
    private let values: UnsafeMutablePointer<UnsafeRawPointer?>
    private let capacity: Int
    /// Document rows whose addresses are kept: 4 Mi (32 MiB of addresses).
    static let cachedRows = 1 << 22

    /// The lists of `snapshot`, a multi-vector collection, or `nil` when the store has no
    /// `multivector.docs` table.
    init?(snapshot: CollectionSnapshot) {
        guard let table = snapshot.tables.documents else { return nil }
        txn = snapshot.txn
        self.table = table
        collection = snapshot.id
        name = snapshot.name
        capacity = max(1, min(Int(snapshot.counters.rowCount), Self.cachedRows))
        guard let zeroed = calloc(capacity, MemoryLayout<UnsafeRawPointer?>.stride) else { return nil }
        values = zeroed.bindMemory(to: UnsafeRawPointer?.self, capacity: capacity)
    }

    deinit { free(values) }

    /// The token list of the document in `row`, `nil` when the row holds none.
    @inline(__always)
    private func tokens(_ row: UInt32) throws -> DocumentTokens? {
        let r = Int(row)
        if r < capacity, let value = values[r] { return DocumentTokens(checked: value) }
        return try lookUp(row)
    }

    /// The token list of the live document in `row`.
    /// - Throws: ``QuiverError/Code/corrupted`` when the row holds none.
    @inline(__always)
    func live(_ row: UInt32) throws -> DocumentTokens {
        guard let document = try tokens(row) else {
            throw QuiverError(.corrupted, "live document row \(row) has no token list", collection: name)
        }
        return document
    }

    private func lookUp(_ row: UInt32) throws -> DocumentTokens? {
        guard let stored = try txn.unsafeGet(table, key: compositeKey(collection, row)) else { return nil }
        let document: DocumentTokens
        do throws(FormatError) { document = try DocumentTokens(stored) } catch {
            throw QuiverError(.corrupted, "token list of document row \(row): \(error)", collection: name)
        }
        if Int(row) < capacity { values[Int(row)] = stored.baseAddress }
        return document
    }
}
