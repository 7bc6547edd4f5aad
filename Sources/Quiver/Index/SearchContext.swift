import Foundation
import QuiverStorage
import QuiverKernels

/// What one index search reuses from the last: heaps, the visited set, the query buffer, and
/// for a reader the graph's resolved block addresses while the snapshot is the same.
///
/// Taken from the database's ``SearchContextPool`` for one search and given back after, so a
/// steady stream of queries allocates nothing and resolves each block once per snapshot.
final class SearchContext: WalkScratch {
    private(set) var query = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 64)
    private var queryCapacity = 4096

    /// The snapshot the cached state belongs to.
    private struct Key: Equatable {
        var collection: UInt32
        var snapshot: Int
        var mapGeneration: UInt64
    }
    private var key: Key?
    private(set) var header: HNSWHeader?
    private(set) var graph: GraphStore?
    private(set) var space: GraphSpace?
    /// The float rows, for rescoring candidates found on a prefix or on bits (or multi-vector
    /// candidates by exact MaxSim).
    private(set) var floatRows: VectorRows?
    /// The collection's encodings, and the spaces that walk the graph on their codes (made on
    /// first use).
    private(set) var codebooks: [Codebook] = []
    /// The int8 encoding that keeps the floats of a collection that keeps them only so.
    private(set) var floatCodes: Codebook?
    private var codeSpaces: [UInt8: GraphSpace] = [:]
    /// Marks reused by multi-vector searches through IVF lists (made on first use).
    private(set) lazy var maxSim = MaxSimScratch()
    /// A token space's owner plane and encodings' row planes (made on first use).
    private var ownerRows: VectorRows?
    private var rowPlanes: [UInt8: VectorRows] = [:]
    /// A multi-vector collection's token lists by document row (made on first use; the
    /// context is bound to its token space, whose snapshot is the same).
    private var documentLists: DocumentLists?
    /// IVF encodings' centroids packed as int8 panels for the centroid interaction (made on
    /// first use, once per snapshot: 1.2 ms for 4,096 × 128 on Zen 3).
    private var panels: [UInt8: Int8Panels] = [:]
    /// IVF encodings' list values by address (made on first use).
    private var listValues: [UInt8: IVFListValues] = [:]
    /// Whether rescoring asks for its rows' pages ahead: on while they fault (a store larger
    /// than memory), kept from search to search with the context.
    var rescoreAdvice = PageAdvice.Adaptive()
    /// The same for the lists an IVF-PQ search probes.
    var listAdvice = PageAdvice.Adaptive()

    deinit { query.deallocate() }

    /// A query buffer of at least `bytes` bytes.
    func queryBuffer(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > queryCapacity {
            query.deallocate()
            queryCapacity = bytes
            query = .allocate(byteCount: bytes, alignment: 64)
        }
        return query
    }

    /// Points the context at `snapshot`'s index and encodings: reuses what it resolved for the
    /// same read snapshot (same LMDB transaction id and map), else starts over. Write
    /// transactions never reuse or leave state: their pages move with every write.
    /// - Returns: the index header, or `nil` when the collection has none.
    @discardableResult
    func bind(_ snapshot: CollectionSnapshot) throws -> HNSWHeader? {
        let txn = snapshot.txn
        let current = Key(collection: snapshot.id, snapshot: txn.snapshotID, mapGeneration: snapshot.database.environment.mapGeneration)
        if txn.isReadOnly, key == current {
            graph?.txn = txn
            space?.rows.txn = txn
            floatRows?.txn = txn
            for space in codeSpaces.values { space.rows.txn = txn }
            ownerRows?.txn = txn
            for plane in rowPlanes.values { plane.txn = txn }
            documentLists?.txn = txn
            for values in listValues.values { values.txn = txn }
            return header
        }
        key = txn.isReadOnly ? current : nil
        codebooks = try EncodingMaintenance.codebooks(snapshot)
        floatCodes = try EncodingMaintenance.floatCodes(snapshot, among: codebooks)
        codeSpaces = [:]
        ownerRows = nil
        rowPlanes = [:]
        documentLists = nil
        panels = [:]
        listValues = [:]
        header = try HNSWMaintenance.header(snapshot)
        guard let header, let links = snapshot.tables.hnswLinks else {
            graph = nil
            space = nil
            floatRows = snapshot.descriptor.storesFloatRows ? VectorRows(snapshot: snapshot, bits: false) : nil
            return nil
        }
        graph = GraphStore(geometry: header.geometry, collection: snapshot.id, table: links, txn: txn, writable: false)
        graph!.reserve(level: 0, records: Int(snapshot.counters.rowCount))
        for level in 1..<HNSWHeader.maximumLevels where header.slotCounts[level] > 0 {
            graph!.reserve(level: level, records: Int(header.slotCounts[level]))
        }
        space = GraphSpace(index: header, snapshot: snapshot, floatCodes: floatCodes.flatMap { codeSpace($0, snapshot: snapshot) })
        let storesFloatRows = snapshot.descriptor.storesFloatRows
        floatRows = header.space == .floats && storesFloatRows ? space!.rows : (storesFloatRows ? VectorRows(snapshot: snapshot, bits: false) : nil)
        return header
    }

    /// The space that walks the graph on `codebook`'s codes.
    func codeSpace(_ codebook: Codebook, snapshot: CollectionSnapshot) -> GraphSpace? {
        if let space = codeSpaces[codebook.id] { return space }
        guard let rows = EncodingMaintenance.rows(snapshot, codebook) else { return nil }
        let space = GraphSpace(codebook: codebook, metric: snapshot.descriptor.schema.metric, rows: rows)
        codeSpaces[codebook.id] = space
        return space
    }

    /// The owner plane of a token space (`multivector.tokens`), by address.
    func ownerRows(_ snapshot: CollectionSnapshot) -> VectorRows? {
        if let ownerRows { return ownerRows }
        guard let table = snapshot.tables.tokenOwners else { return nil }
        ownerRows = VectorRows(snapshot: snapshot, table: table, keyBase: 0, stride: 4)
        return ownerRows
    }

    /// The token lists of `documents`, the multi-vector collection whose token space the
    /// context is bound to.
    func documentLists(_ documents: CollectionSnapshot) -> DocumentLists? {
        if let documentLists, documentLists.collection == documents.id { return documentLists }
        documentLists = DocumentLists(snapshot: documents)
        return documentLists
    }

    /// The row plane of an encoding (its codes, or an IVF encoding's list of each row), by
    /// address.
    func rowPlane(_ codebook: Codebook, snapshot: CollectionSnapshot) -> VectorRows? {
        if let plane = rowPlanes[codebook.id] { return plane }
        guard let plane = EncodingMaintenance.rows(snapshot, codebook) else { return nil }
        rowPlanes[codebook.id] = plane
        return plane
    }

    /// The coarse centroids of the IVF encoding `codebook` as int8 panels.
    func interactionPanels(_ codebook: Codebook, coarse: [Float], dimensions: Int) -> Int8Panels {
        if let packed = panels[codebook.id] { return packed }
        let packed = Int8Panels(rows: coarse, dimensions: dimensions)
        panels[codebook.id] = packed
        return packed
    }

    /// The list values of the IVF encoding `lists` reads.
    func listValues(_ lists: IVFLists) -> IVFListValues {
        if let values = listValues[lists.codebook.id] { return values }
        let values = IVFListValues(lists: lists)
        listValues[lists.codebook.id] = values
        return values
    }

    /// Drops state that must not outlive a write transaction.
    func unbindIfWriting(_ snapshot: CollectionSnapshot) {
        guard !snapshot.txn.isReadOnly else { return }
        key = nil
        codebooks = []
        floatCodes = nil
        codeSpaces = [:]
        ownerRows = nil
        rowPlanes = [:]
        documentLists = nil
        panels = [:]
        listValues = [:]
        header = nil
        graph = nil
        space = nil
        floatRows = nil
    }
}

/// The database's idle ``SearchContext``s: one per concurrent searcher at most.
final class SearchContextPool: @unchecked Sendable {
    // Safety: `idle` is only touched under `lock`.
    private var idle: [SearchContext] = []
    private let lock = NSLock()

    func take() -> SearchContext {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast() ?? SearchContext()
    }

    func give(_ context: SearchContext) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < 64 { idle.append(context) }
    }
}
