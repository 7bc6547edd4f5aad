import Foundation
import QuiverKernels
import QuiverStorage

/// One collection's HNSW index inside the write transaction: the full build, and the upkeep
/// after upserts and deletes (repair, then insert), applied when the transaction's buffered
/// changes are flushed.
struct HNSWMaintenance {
    let snapshot: CollectionSnapshot
    let metaTable: Table
    let linksTable: Table
    let nodesTable: Table

    init(snapshot: CollectionSnapshot) throws {
        guard let meta = snapshot.tables.hnswMeta, let links = snapshot.tables.hnswLinks, let nodes = snapshot.tables.hnswNodes else {
            throw QuiverError(.readOnly, "this store predates indexes (format 1.0) and is open read-only", collection: snapshot.name)
        }
        self.snapshot = snapshot
        metaTable = meta
        linksTable = links
        nodesTable = nodes
    }

    var txn: Transaction { snapshot.txn }
    var id: UInt32 { snapshot.id }

    /// The stored header, or `nil` when the collection has no index.
    static func header(_ snapshot: CollectionSnapshot) throws -> HNSWHeader? {
        guard let table = snapshot.tables.hnswMeta, let raw = try snapshot.txn.unsafeGet(table, key: compositeKey(snapshot.id, 0)) else { return nil }
        do { return try HNSWHeader(raw) } catch { throw snapshot.corrupted("HNSW header", error) }
    }

    func writeHeader(_ header: HNSWHeader) throws {
        try header.encoded.withUnsafeBytes { try txn.put(metaTable, key: compositeKey(id, 0), value: $0) }
    }

    /// Deletes the index: header, link blocks and node records.
    func drop() throws {
        _ = try txn.delete(metaTable, key: compositeKey(id, 0))
        try deleteCollectionKeys(linksTable)
        try deleteCollectionKeys(nodesTable)
    }

    private func deleteCollectionKeys(_ table: Table) throws {
        try txn.deleteKeys(in: table, startingWith: keyPrefix(compositeKey(id, 0), length: 4))
    }

    // MARK: node records

    /// The slots of `row` on levels 1...level, from `hnsw.nodes`; empty for a level-0 node.
    func storedSlots(of row: UInt32) throws -> [UInt32]? {
        guard let raw = try txn.unsafeGet(nodesTable, key: compositeKey(id, row)) else { return nil }
        guard raw.count >= 4, (raw.count - 4) / 4 == Int(raw[0]), raw.count % 4 == 0 else {
            throw QuiverError(.corrupted, "hnsw.nodes entry of row \(row) has \(raw.count) bytes", collection: snapshot.name)
        }
        return (0..<Int(raw[0])).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: UInt32.self)) }
    }

    static func encodeSlots(_ slots: [UInt32]) -> [UInt8] {
        var out: [UInt8] = [UInt8(slots.count), 0, 0, 0]
        for slot in slots { out.appendLittleEndian(slot) }
        return out
    }

    /// Sets the upper records of a node entering the graph: row, the slot one level down, an
    /// empty list.
    static func initialiseRecords(row: UInt32, slots: [UInt32], graph: GraphStore) {
        for (i, slot) in slots.enumerated() {
            let record = graph.mutableRecord(level: i + 1, slot)
            record[0] = row
            record[1] = i == 0 ? row : slots[i - 1]
            (record + 2).update(repeating: UInt32.max, count: graph.geometry.m)
        }
    }

    func space(_ header: HNSWHeader) throws -> GraphSpace {
        let floatCodes = try EncodingMaintenance.floatCodes(snapshot).flatMap { codebook in
            EncodingMaintenance.rows(snapshot, codebook).map { GraphSpace(codebook: codebook, metric: snapshot.descriptor.schema.metric, rows: $0) }
        }
        return GraphSpace(index: header, snapshot: snapshot, floatCodes: floatCodes)
    }

    // MARK: build

    /// Builds the graph over every live row, replacing any index, with `threads` threads.
    /// `progress(done, total)` is called from one of the build threads now and then.
    func build(parameters: HNSWParameters, threads: Int, progress: (@Sendable (Int, Int) -> Void)?) throws {
        try drop()
        try Database.raiseFormat(txn, meta: snapshot.tables.meta, to: .withIndexes)
        var header = HNSWHeader(parameters: parameters, descriptor: snapshot.descriptor)
        let live = try FilterEvaluator.liveRows(snapshot)
        let rowCount = Int(snapshot.counters.rowCount)
        let graph = GraphStore(geometry: header.geometry, collection: id, table: linksTable, txn: txn, writable: true)
        let space = try space(header)

        // Levels and slots first (drawn per row, so they do not depend on thread timing).
        var rows: [UInt32] = []
        rows.reserveCapacity(live.count)
        live.forEach { rows.append($0) }
        var slotsByRow: [UInt32: [UInt32]] = [:]
        var top: (row: UInt32, level: Int)?
        for row in rows {
            let level = header.level(of: row)
            if top == nil || level > top!.level { top = (row, level) }
            guard level > 0 else { continue }
            var slots: [UInt32] = []
            for l in 1...level {
                slots.append(header.slotCounts[l])
                header.slotCounts[l] += 1
            }
            slotsByRow[row] = slots
        }
        graph.ownEmpty(level: 0, records: rowCount)
        for l in 1..<HNSWHeader.maximumLevels where header.slotCounts[l] > 0 {
            graph.ownEmpty(level: l, records: Int(header.slotCounts[l]))
        }
        graph.allOwned = true
        for (row, slots) in slotsByRow { Self.initialiseRecords(row: row, slots: slots, graph: graph) }
        space.rows.resolveAll(rows: rowCount)

        if let top {
            let slots = slotsByRow[top.row] ?? []
            header.entryRow = top.row
            header.entryLevel = top.level
            header.entrySlot = slots.last ?? top.row
        }
        let entry = top?.row
        let frozen = header
        let locks = SpinLocks(count: max(rowCount, 1))
        let walker = GraphWalker(graph: graph, space: space, locks: threads > 1 ? locks : nil)
        let inserter = GraphInserter(walker: walker, rowBound: rowCount)
        let next = AtomicCounter()
        let done = AtomicCounter()
        let total = rows.count
        let chunk = 64
        let shared = UncheckedSendable((inserter, rows, slotsByRow, space, graph))
        let work = { @Sendable (thread: Int) in
            let (inserter, rows, slotsByRow, space, _) = shared.value
            let scratch = InsertScratch(space: space)
            while true {
                let start = Int(next.fetchAdd(UInt64(chunk)))
                if start >= total { break }
                for i in start..<min(start + chunk, total) where rows[i] != entry {
                    inserter.insert(row: rows[i], slots: slotsByRow[rows[i]] ?? [], header: frozen, efConstruction: frozen.efConstruction, scratch: scratch)
                }
                let finished = Int(done.fetchAdd(UInt64(min(chunk, total - start)))) + min(chunk, total - start)
                if thread == 0 { progress?(finished, total) }
            }
        }
        if threads > 1 {
            DispatchQueue.concurrentPerform(iterations: threads) { work($0) }
        } else {
            work(0)
        }
        progress?(total, total)
        GraphConnectivity(walker: GraphWalker(graph: graph, space: space, locks: nil), rowCount: rowCount,
                          scratch: InsertScratch(space: space))
            .ensureReachable(header: header, live: live)
        try graph.writeOwnedBlocks()
        for row in slotsByRow.keys.sorted() {
            try Self.encodeSlots(slotsByRow[row]!).withUnsafeBytes { try txn.put(nodesTable, key: compositeKey(id, row), value: $0) }
        }
        try writeHeader(header)
    }

    // MARK: upkeep

    /// Brings the graph up to date after a transaction's changes: `removed` rows (deleted, or
    /// replaced by an upsert) leave the graph and their in-neighbours are repaired; live
    /// `inserted` rows (new, or replaced) are inserted.
    func apply(removed: [UInt32], inserted: [UInt32]) throws {
        guard var header = try Self.header(snapshot) else { return }
        let rowCount = Int(snapshot.counters.rowCount)
        let graph = GraphStore(geometry: header.geometry, collection: id, table: linksTable, txn: txn, writable: true)
        graph.reserve(level: 0, records: rowCount)
        let space = try space(header)
        let live = try FilterEvaluator.liveRows(snapshot)
        let walker = GraphWalker(graph: graph, space: space, locks: nil)
        let scratch = InsertScratch(space: space)
        var newNodeRecords: [(UInt32, [UInt32])] = []
        if !removed.isEmpty {
            try GraphRepair(walker: walker, maintenance: self, live: live, rowCount: rowCount, scratch: scratch, pending: Set(inserted))
                .remove(removed, header: &header)
        }
        let inserter = GraphInserter(walker: walker, rowBound: rowCount)
        for row in inserted where live.contains(row) {
            let level = header.level(of: row)
            var slots = try storedSlots(of: row) ?? []
            if slots.count != level {
                guard slots.isEmpty else {
                    throw QuiverError(.corrupted, "row \(row) has \(slots.count) upper slots, its level is \(level)", collection: snapshot.name)
                }
                if level > 0 {
                    for l in 1...level {
                        slots.append(header.slotCounts[l])
                        header.slotCounts[l] += 1
                    }
                }
                newNodeRecords.append((row, slots))
            }
            Self.initialiseRecords(row: row, slots: slots, graph: graph)
            graph.mutableRecord(level: 0, row).update(repeating: UInt32.max, count: graph.geometry.m0)
            if header.isEmpty || inserter.insert(row: row, slots: slots, header: header, efConstruction: header.efConstruction, scratch: scratch) {
                header.entryRow = row
                header.entryLevel = level
                header.entrySlot = slots.last ?? row
            }
        }
        GraphConnectivity(walker: walker, rowCount: rowCount, scratch: scratch).ensureReachable(header: header, live: live)
        try graph.writeOwnedBlocks()
        for (row, slots) in newNodeRecords {
            try Self.encodeSlots(slots).withUnsafeBytes { try txn.put(nodesTable, key: compositeKey(id, row), value: $0) }
        }
        try writeHeader(header)
    }
}

/// Lets values that are shared read-only (or through their own locks) cross into build threads.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
