import QuiverStorage

/// The link blocks of one HNSW graph, addressed so that a hop is pointer arithmetic.
///
/// Per level, a table of block addresses is filled lazily: the first touch of a block costs one
/// `mdb_get`, every later one a load. For a reader the addresses point into LMDB's memory map
/// and stay valid for the snapshot (``SearchContext`` keeps a store across transactions that
/// read the same snapshot). A writer copies a block into memory it owns the first time it
/// changes it (copy-on-write at block granularity) and writes the changed blocks back at the
/// end; a full build starts from owned, empty blocks and never touches LMDB until then.
final class GraphStore {
    let geometry: GraphGeometry
    let collection: UInt32
    let table: Table
    var txn: Transaction
    let writable: Bool

    /// Block addresses per level; `nil` means not resolved yet.
    private var tables: [UnsafeMutablePointer<UnsafeMutableRawPointer?>]
    private var capacities: [Int]
    /// Level 0's table, duplicated out of `tables` for the hot path.
    private var table0: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private var capacity0: Int
    private let stride0: Int
    private let rows0: Int
    /// Blocks this store owns (copied or new), by `hnsw.links` key.
    private(set) var owned: [UInt64: UnsafeMutableRawPointer] = [:]
    /// The block that stands for a block absent from the store: every list empty.
    private let emptyBlock: UnsafeMutableRawPointer

    init(geometry: GraphGeometry, collection: UInt32, table: Table, txn: Transaction, writable: Bool) {
        self.geometry = geometry
        self.collection = collection
        self.table = table
        self.txn = txn
        self.writable = writable
        stride0 = geometry.stride0
        rows0 = geometry.rows0
        let blockBytes = max(geometry.rows0 * geometry.stride0, geometry.rowsUpper * geometry.strideUpper)
        emptyBlock = .allocate(byteCount: blockBytes, alignment: 64)
        emptyBlock.initializeMemory(as: UInt8.self, repeating: 0xFF, count: blockBytes)
        tables = (0..<HNSWHeader.maximumLevels).map { _ in .allocate(capacity: 1) }
        capacities = [Int](repeating: 1, count: HNSWHeader.maximumLevels)
        for t in tables { t.initialize(to: nil) }
        table0 = tables[0]
        capacity0 = 1
    }

    deinit {
        for (i, t) in tables.enumerated() {
            t.deinitialize(count: capacities[i])
            t.deallocate()
        }
        for block in owned.values { block.deallocate() }
        emptyBlock.deallocate()
    }

    /// Makes room for `records` records on `level` (rows on level 0, slots above).
    func reserve(level: Int, records: Int) {
        let blocks = (records + geometry.perBlock(level: level) - 1) / geometry.perBlock(level: level)
        guard blocks > capacities[level] else { return }
        let grown = max(blocks, capacities[level] * 2)
        let table = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: grown)
        table.moveInitialize(from: tables[level], count: capacities[level])
        (table + capacities[level]).initialize(repeating: nil, count: grown - capacities[level])
        tables[level].deallocate()
        tables[level] = table
        capacities[level] = grown
        if level == 0 {
            table0 = table
            capacity0 = grown
        }
    }

    // MARK: reading

    /// Level 0's addressing as plain values, for a search's hot loop (no class access per hop).
    /// Valid until the level-0 table grows (``reserve(level:records:)``), which searches never do.
    var level0View: Level0View {
        Level0View(table: table0, capacity: capacity0, perBlock: rows0, stride: stride0, graph: self)
    }

    /// Resolves a level-0 block (the slow path of ``Level0View``).
    func resolveLevel0(_ block: Int) -> UnsafeMutableRawPointer { resolve(level: 0, block: block) }

    /// The level-0 neighbour list of `row`: up to `2m` rows, `UInt32.max`-terminated.
    @inline(__always)
    func list0(_ row: UInt32) -> UnsafeMutablePointer<UInt32> {
        let r = Int(row)
        let block = r / rows0
        let base = block < capacity0 ? (table0[block] ?? resolve(level: 0, block: block)) : emptyBlock
        return (base + (r - block * rows0) * stride0).assumingMemoryBound(to: UInt32.self)
    }

    /// The record of `index` on `level`: on level 0 the neighbour list of row `index`; above,
    /// `[row, down, m neighbour slots]` of slot `index`.
    @inline(__always)
    func record(level: Int, _ index: UInt32) -> UnsafeMutablePointer<UInt32> {
        if level == 0 { return list0(index) }
        let per = geometry.rowsUpper
        let i = Int(index)
        let block = i / per
        let base = block < capacities[level] ? (tables[level][block] ?? resolve(level: level, block: block)) : emptyBlock
        return (base + (i - block * per) * geometry.strideUpper).assumingMemoryBound(to: UInt32.self)
    }

    /// The neighbour list inside a record.
    @inline(__always)
    func list(level: Int, _ index: UInt32) -> UnsafeMutablePointer<UInt32> {
        record(level: level, index) + geometry.listOffset(level: level)
    }

    private func resolve(level: Int, block: Int) -> UnsafeMutableRawPointer {
        let key = GraphGeometry.key(collection: collection, level: level, block: block)
        let bytes = geometry.perBlock(level: level) * geometry.stride(level: level)
        var base = emptyBlock
        if let stored = try? txn.unsafeGet(table, key: key), stored.count == bytes, let address = stored.baseAddress {
            base = UnsafeMutableRawPointer(mutating: address)
        }
        tables[level][block] = base
        return base
    }

    /// Resolves every block below `records` on `level` (before threads share the store).
    func resolveAll(level: Int, records: Int) {
        reserve(level: level, records: records)
        let per = geometry.perBlock(level: level)
        for block in 0..<(records + per - 1) / per where tables[level][block] == nil {
            _ = resolve(level: level, block: block)
        }
    }

    // MARK: writing

    /// Set when every block is owned (a full build): writes then skip the ownership check,
    /// which also makes them safe from several threads.
    var allOwned = false

    /// The neighbour list of `index` on `level`, in an owned block, for the caller to change.
    @inline(__always)
    func writableList(level: Int, _ index: UInt32) -> UnsafeMutablePointer<UInt32> {
        if !allOwned { makeOwned(level: level, block: Int(index) / geometry.perBlock(level: level)) }
        return list(level: level, index)
    }

    /// The record of `index` on `level`, in a block this store owns, for the caller to change.
    func mutableRecord(level: Int, _ index: UInt32) -> UnsafeMutablePointer<UInt32> {
        precondition(writable, "graph store opened for reading")
        let per = geometry.perBlock(level: level)
        let block = Int(index) / per
        makeOwned(level: level, block: block)
        return record(level: level, index)
    }

    /// Copies `block` of `level` into owned memory unless it is owned already.
    func makeOwned(level: Int, block: Int) {
        let key = GraphGeometry.key(collection: collection, level: level, block: block)
        guard owned[key] == nil else { return }
        reserve(level: level, records: (block + 1) * geometry.perBlock(level: level))
        let bytes = geometry.perBlock(level: level) * geometry.stride(level: level)
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        let source = tables[level][block] ?? resolve(level: level, block: block)
        copy.copyMemory(from: source, byteCount: bytes)
        owned[key] = copy
        tables[level][block] = copy
    }

    /// Owns empty blocks for `records` records of `level` (a full build).
    func ownEmpty(level: Int, records: Int) {
        let per = geometry.perBlock(level: level)
        reserve(level: level, records: records)
        let bytes = per * geometry.stride(level: level)
        for block in 0..<(records + per - 1) / per {
            let key = GraphGeometry.key(collection: collection, level: level, block: block)
            if let existing = owned[key] { existing.deallocate() }
            let fresh = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            fresh.initializeMemory(as: UInt8.self, repeating: 0xFF, count: bytes)
            owned[key] = fresh
            tables[level][block] = fresh
        }
    }

    /// Writes every owned block to `hnsw.links` (appending past the table's last key).
    /// Addresses read before this call are invalid after it.
    func writeOwnedBlocks() throws {
        guard !owned.isEmpty else { return }
        var lastKey = try txn.withCursor(table) { cursor in try cursor.last().map { $0.key.bigEndianUInt64(at: 0) } } ?? 0
        for key in owned.keys.sorted() {
            let level = Int((key >> 24) & 0xFF)
            let bytes = geometry.perBlock(level: level) * geometry.stride(level: level)
            let append = key > lastKey
            let target = try txn.unsafeReserve(table, key: key, count: bytes, append: append)
            target.copyMemory(from: UnsafeRawBufferPointer(start: owned[key]!, count: bytes))
            if append { lastKey = key }
        }
    }
}

/// Level 0's block table and geometry, copied out of a ``GraphStore`` for a search.
struct Level0View {
    let table: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let capacity: Int
    let perBlock: Int
    let stride: Int
    unowned(unsafe) let graph: GraphStore

    /// The neighbour list of `row`.
    @inline(__always)
    func list(_ row: UInt32) -> UnsafeMutablePointer<UInt32> {
        let r = Int(row)
        let block = r / perBlock
        guard block < capacity else { return graph.list0(row) }
        let base = table[block] ?? graph.resolveLevel0(block)
        return (base + (r - block * perBlock) * stride).assumingMemoryBound(to: UInt32.self)
    }
}

/// Rows of one row-addressed plane (floats, bits, or an encoding's codes) by address: a lazily
/// filled table of block addresses, so reading row `r` is a shift, a load and an add.
final class VectorRows {
    /// The transaction lazy resolution reads through; a reader reusing these rows for a later
    /// transaction on the same snapshot sets it first.
    var txn: Transaction
    let table: Table
    let collection: UInt32
    /// Or-ed into the block number to form the key's second word (an encoding's id << 24).
    let keyBase: UInt32
    let stride: Int
    let shift: Int
    let mask: Int
    /// Block addresses, `nil` until first used; sized for the snapshot's rows and never moved,
    /// so a search can keep the address of this table.
    let blocks: UnsafeMutablePointer<UnsafeRawPointer?>
    let capacity: Int
    private let blockBytes: Int
    /// Stands for a missing block (a damaged store): zeros, so distances stay finite.
    private let zeros: UnsafeMutableRawPointer

    convenience init(snapshot: CollectionSnapshot, bits: Bool) {
        let descriptor = snapshot.descriptor
        self.init(snapshot: snapshot, table: bits ? snapshot.tables.bitBlocks : snapshot.tables.floatBlocks, keyBase: 0,
                  stride: bits ? descriptor.bitStride : descriptor.floatStride)
    }

    init(snapshot: CollectionSnapshot, table: Table, keyBase: UInt32, stride: Int) {
        let descriptor = snapshot.descriptor
        txn = snapshot.txn
        self.table = table
        collection = descriptor.id
        self.keyBase = keyBase
        self.stride = stride
        shift = descriptor.blockShift
        mask = descriptor.rowsPerBlock - 1
        blockBytes = stride * descriptor.rowsPerBlock
        capacity = max(1, (Int(snapshot.counters.rowCount) + mask) >> shift)
        blocks = .allocate(capacity: capacity)
        blocks.initialize(repeating: nil, count: capacity)
        zeros = .allocate(byteCount: max(stride, 16), alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: max(stride, 16))
    }

    deinit {
        blocks.deallocate()
        zeros.deallocate()
        missing?.deallocate()
    }

    /// The stored vector of `row`, in place (a row past the snapshot's rows reads zeros).
    @inline(__always)
    func pointer(_ row: UInt32) -> UnsafeRawPointer {
        let r = Int(row)
        let block = r >> shift
        guard block < capacity else { return UnsafeRawPointer(zeros) }
        let base = blocks[block] ?? resolve(block)
        return base + (r & mask) * stride
    }

    /// Resolves a block on its first use.
    func resolve(_ block: Int) -> UnsafeRawPointer {
        if let stored = try? txn.unsafeGet(table, key: compositeKey(collection, keyBase | UInt32(block))),
           stored.count == blockBytes, let base = stored.baseAddress {
            blocks[block] = base
            return base
        }
        // A missing block (a damaged store; verify reports it): its rows read as zeros.
        if missing == nil {
            missing = .allocate(byteCount: blockBytes, alignment: 64)
            missing!.initializeMemory(as: UInt8.self, repeating: 0, count: blockBytes)
        }
        blocks[block] = UnsafeRawPointer(missing!)
        return UnsafeRawPointer(missing!)
    }

    private var missing: UnsafeMutableRawPointer?

    /// Resolves the blocks of rows `0..<rows` (before threads share these rows).
    func resolveAll(rows: Int) {
        for row in Swift.stride(from: 0, to: rows, by: mask + 1) { _ = pointer(UInt32(row)) }
    }
}
