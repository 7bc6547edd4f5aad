import QuiverStorage

/// The changes one write transaction has made to one collection and not yet written.
///
/// Vector blocks, live bitmaps and postings are buffered and written once at flush (before
/// any read through the writer, and at commit), so a transaction of many small upserts copies
/// each touched block once instead of once per record. Keys and records are written at once.
final class CollectionWriteState {
    unowned let transaction: WriteTransaction
    var snapshot: CollectionSnapshot
    let fieldIndex: [String: Int]
    /// Block number → the whole block's bytes.
    private var floatBlocks: [UInt32: [UInt8]] = [:]
    private var bitBlocks: [UInt32: [UInt8]] = [:]
    /// Live chunk number → 1,024 words (65,536 rows).
    private var liveChunks: [UInt32: [UInt64]] = [:]
    /// Posting key (value prefix · chunk u16) → rows added (true) or removed (false), in the
    /// order the transaction made the changes (chunk-relative rows).
    private var postingChanges: [[UInt8]: [(row: UInt16, add: Bool)]] = [:]
    /// No row below this is free (a hint for row reuse).
    private var freeSearchStart: UInt32 = 0
    private var countersDirty = false
    /// Rows the HNSW graph must drop (deleted or replaced) and add (new or replaced) at flush;
    /// tracked only when the collection has an index.
    private var graphRemoved = Set<UInt32>()
    private var graphInserted = Set<UInt32>()
    /// Whether the collection has an index (read once, kept up to date by build and drop).
    private var indexed: Bool?
    /// Rows whose vectors changed, to re-encode at flush; tracked only when the collection has
    /// encodings.
    private var codeRows = Set<UInt32>()
    /// Rows deleted, to take out of IVF lists at flush (tracked with ``codeRows``).
    private var codeRemoved = Set<UInt32>()
    /// The collection's codebooks (read once per transaction, forgotten by build and drop).
    private var codebooks: [Codebook]?
    /// A multi-vector collection's token space (its rows, owners and index), `nil` otherwise.
    let tokens: TokenSpaceWriter?

    static let liveChunkWords = PostingContainer.chunkRows / 64

    init(transaction: WriteTransaction, snapshot: CollectionSnapshot) throws {
        self.transaction = transaction
        self.snapshot = snapshot
        self.fieldIndex = snapshot.descriptor.schema.fieldIndex()
        tokens = try snapshot.tokenSnapshot().map { TokenSpaceWriter(state: try CollectionWriteState(transaction: transaction, snapshot: $0)) }
    }

    /// The state whose rows hold the vectors an index or encoding is built on: the token space
    /// of a multi-vector collection, else this one.
    var vectorState: CollectionWriteState { tokens?.state ?? self }

    var descriptor: CollectionDescriptor { snapshot.descriptor }
    var txn: Transaction { snapshot.txn }
    var tables: StoreTables { snapshot.tables }
    var isClean: Bool {
        floatBlocks.isEmpty && bitBlocks.isEmpty && liveChunks.isEmpty && postingChanges.isEmpty && !countersDirty
            && graphRemoved.isEmpty && graphInserted.isEmpty && codeRows.isEmpty && codeRemoved.isEmpty
    }

    // MARK: index upkeep

    func hasIndex() throws -> Bool {
        if let indexed { return indexed }
        let found = try HNSWMaintenance.header(snapshot) != nil
        indexed = found
        return found
    }

    func setIndexed(_ value: Bool) { indexed = value }

    func hasEncodings() throws -> Bool { try !currentCodebooks().isEmpty }

    /// The codebooks, decoded once per transaction (a PQ or IVF codebook is hundreds of KB).
    private func currentCodebooks() throws -> [Codebook] {
        if let codebooks { return codebooks }
        let found = try EncodingMaintenance.codebooks(snapshot)
        codebooks = found
        return found
    }

    /// Forgets the codebooks (after a build or drop changed them).
    func encodingsChanged() { codebooks = nil }

    /// Records that `row` got a vector (a new record or a new vector for an existing one): it
    /// enters the graph and is encoded at flush.
    func vectorWritten(_ row: UInt32) throws {
        if try hasEncodings() {
            codeRows.insert(row)
            codeRemoved.remove(row)
        }
        guard try hasIndex() else { return }
        graphInserted.insert(row)
    }

    /// Records that `row`'s vector goes (deleted, or about to be replaced): it leaves the graph.
    func vectorRemoved(_ row: UInt32) throws {
        codeRows.remove(row)
        if try hasEncodings() { codeRemoved.insert(row) }
        guard try hasIndex() else { return }
        graphRemoved.insert(row)
        graphInserted.remove(row)
    }

    /// Forgets pending graph changes (a build or drop replaces the graph anyway).
    func discardGraphChanges() {
        graphRemoved.removeAll()
        graphInserted.removeAll()
    }

    // MARK: rows

    /// A row for a new record: the lowest free row below the high-water mark (deleted rows are
    /// reused), else the next new row.
    func allocateRow() throws -> UInt32 {
        var counters = snapshot.counters
        defer { snapshot.counters = counters; countersDirty = true }
        if counters.liveCount < counters.rowCount {
            var row = freeSearchStart
            while row < counters.rowCount {
                let chunk = row >> 16
                let words = try liveWords(chunk: chunk)
                var w = Int(row & 0xFFFF) >> 6
                let lastWord = min(Self.liveChunkWords, Int((counters.rowCount - (chunk << 16) + 63) >> 6))
                while w < lastWord {
                    let free = ~words[w]
                    if free != 0 {
                        let candidate = chunk << 16 + UInt32(w * 64 + free.trailingZeroBitCount)
                        if candidate >= row && candidate < counters.rowCount {
                            freeSearchStart = candidate + 1
                            counters.liveCount += 1
                            return candidate
                        }
                    }
                    w += 1
                }
                row = (chunk + 1) << 16
            }
        }
        precondition(counters.rowCount < UInt32.max, "row numbers exhausted")
        let row = counters.rowCount
        counters.rowCount += 1
        counters.liveCount += 1
        return row
    }

    private func liveWords(chunk: UInt32) throws -> [UInt64] {
        if let words = liveChunks[chunk] { return words }
        var words = [UInt64](repeating: 0, count: Self.liveChunkWords)
        if let stored = try txn.unsafeGet(tables.live, key: compositeKey(descriptor.id, chunk)) {
            guard stored.count == Self.liveChunkWords * 8 else {
                throw QuiverError(.corrupted, "live bitmap of \(stored.count) bytes", collection: descriptor.name)
            }
            words.withUnsafeMutableBytes { $0.copyMemory(from: stored) }
        }
        liveChunks[chunk] = words
        return words
    }

    func setLive(_ row: UInt32, _ live: Bool) throws {
        let chunk = row >> 16
        _ = try liveWords(chunk: chunk)
        let bit = Int(row & 0xFFFF)
        if live {
            liveChunks[chunk]![bit >> 6] |= 1 << UInt64(bit & 63)
        } else {
            liveChunks[chunk]![bit >> 6] &= ~(1 << UInt64(bit & 63))
            freeSearchStart = min(freeSearchStart, row)
        }
    }

    func markCountersDirty() { countersDirty = true }

    func releaseRow(_ row: UInt32) throws {
        try setLive(row, false)
        snapshot.counters.liveCount -= 1
        countersDirty = true
    }

    // MARK: blocks

    /// The bytes of `row` in the float or bit blocks, for the caller to overwrite.
    func withRowBytes(_ row: UInt32, bits: Bool, _ body: (UnsafeMutableRawBufferPointer) -> Void) throws {
        let block = row >> UInt32(descriptor.blockShift)
        let stride = bits ? descriptor.bitStride : descriptor.floatStride
        let blockBytes = stride * descriptor.rowsPerBlock
        let table = bits ? tables.bitBlocks : tables.floatBlocks
        if (bits ? bitBlocks[block] : floatBlocks[block]) == nil {
            var bytes = [UInt8](repeating: 0, count: blockBytes)
            if let stored = try txn.unsafeGet(table, key: compositeKey(descriptor.id, block)) {
                guard stored.count == blockBytes else {
                    throw QuiverError(.corrupted, "vector block \(block) has \(stored.count) bytes, expected \(blockBytes)", collection: descriptor.name)
                }
                bytes.withUnsafeMutableBytes { $0.copyMemory(from: stored) }
            }
            if bits { bitBlocks[block] = bytes } else { floatBlocks[block] = bytes }
        }
        let offset = Int(row & UInt32(descriptor.rowsPerBlock - 1)) * stride
        if bits {
            bitBlocks[block]!.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[offset..<offset + stride])) }
        } else {
            floatBlocks[block]!.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[offset..<offset + stride])) }
        }
    }

    /// Writes rows `firstRow ..< firstRow + count` of one plane, all of them new rows above
    /// the old high-water mark. Blocks that hold only new rows are reserved in LMDB and filled
    /// in place (no intermediate buffer); a block shared with older rows goes through the
    /// buffered path. `fill(i, bytes)` writes row `firstRow + i` into its `stride` bytes.
    func writeNewRows(firstRow: UInt32, count: Int, bits: Bool, _ fill: (Int, UnsafeMutableRawBufferPointer) -> Void) throws {
        let rowsPerBlock = descriptor.rowsPerBlock
        let stride = bits ? descriptor.bitStride : descriptor.floatStride
        guard stride > 0, count > 0 else { return }
        let table = bits ? tables.bitBlocks : tables.floatBlocks
        var lastKey = try txn.withCursor(table) { cursor in try cursor.last().map { $0.key.bigEndianUInt64(at: 0) } } ?? 0
        var i = 0
        while i < count {
            let row = Int(firstRow) + i
            let block = UInt32(row / rowsPerBlock)
            let blockFirst = Int(block) * rowsPerBlock
            let inBlock = min(count - i, blockFirst + rowsPerBlock - row)
            let pending = bits ? bitBlocks[block] != nil : floatBlocks[block] != nil
            if blockFirst < Int(firstRow) || pending {
                for j in 0..<inBlock {
                    try withRowBytes(UInt32(row + j), bits: bits) { fill(i + j, $0) }
                }
            } else {
                let key = compositeKey(descriptor.id, block)
                let append = key > lastKey
                let target = try txn.unsafeReserve(table, key: key, count: stride * rowsPerBlock, append: append)
                if append { lastKey = key }
                for j in 0..<inBlock {
                    fill(i + j, UnsafeMutableRawBufferPointer(rebasing: target[(j * stride)..<((j + 1) * stride)]))
                }
                if inBlock < rowsPerBlock {
                    UnsafeMutableRawBufferPointer(rebasing: target[(inBlock * stride)...]).initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
            i += inBlock
        }
    }

    /// Marks rows `firstRow ..< firstRow + count` live.
    func setLive(firstRow: UInt32, count: Int) throws {
        var row = Int(firstRow)
        let end = row + count
        while row < end {
            let chunk = UInt32(row >> 16)
            _ = try liveWords(chunk: chunk)
            let chunkEnd = min(end, (Int(chunk) + 1) << 16)
            liveChunks[chunk]!.withUnsafeMutableBufferPointer { words in
                for r in row..<chunkEnd {
                    let bit = r & 0xFFFF
                    words[bit >> 6] |= 1 << UInt64(bit & 63)
                }
            }
            row = chunkEnd
        }
    }

    // MARK: postings

    func addPosting(field: Int, value: MetadataValue, row: UInt32) {
        forEachPostingKey(field: field, value: value, row: row) { key in
            postingChanges[key, default: []].append((UInt16(row & 0xFFFF), true))
        }
    }

    func removePosting(field: Int, value: MetadataValue, row: UInt32) {
        forEachPostingKey(field: field, value: value, row: row) { key in
            postingChanges[key, default: []].append((UInt16(row & 0xFFFF), false))
        }
    }

    private func forEachPostingKey(field: Int, value: MetadataValue, row: UInt32, _ body: ([UInt8]) -> Void) {
        let elements: [MetadataValue]
        if case .stringList(let list) = value { elements = Set(list).map(MetadataValue.string) } else { elements = [value] }
        for element in elements {
            var key = KeyCodec.postingValuePrefix(collection: descriptor.id, field: field, value: element)
            key.appendBigEndian(UInt16(row >> 16))
            body(key)
        }
    }

    // MARK: flush

    func flush() throws {
        try tokens?.flush()
        guard !isClean else { return }
        let id = descriptor.id
        try writeBlocks(floatBlocks, table: tables.floatBlocks)
        try writeBlocks(bitBlocks, table: tables.bitBlocks)
        floatBlocks.removeAll(keepingCapacity: true)
        bitBlocks.removeAll(keepingCapacity: true)
        for (chunk, words) in liveChunks {
            try words.withUnsafeBytes { try txn.put(tables.live, key: compositeKey(id, chunk), value: $0) }
        }
        liveChunks.removeAll(keepingCapacity: true)
        for (key, changes) in postingChanges {
            try applyPostingChanges(key: key, changes)
        }
        postingChanges.removeAll(keepingCapacity: true)
        try snapshot.counters.encoded.withUnsafeBytes { try txn.put(tables.counters, key: compositeKey(id, 0), value: $0) }
        countersDirty = false
        if !codeRows.isEmpty || !codeRemoved.isEmpty {
            // After the vectors are written: codes are made from the stored floats.
            let rows = codeRows.sorted()
            let removed = codeRemoved.sorted()
            codeRows.removeAll()
            codeRemoved.removeAll()
            try EncodingMaintenance(snapshot: snapshot).encode(rows: rows, removed: removed, codebooks: try currentCodebooks())
        }
        if !graphRemoved.isEmpty || !graphInserted.isEmpty {
            // After the vectors and live bitmaps are written: the graph reads both.
            let removed = graphRemoved.sorted()
            let inserted = graphInserted.sorted()
            discardGraphChanges()
            try HNSWMaintenance(snapshot: snapshot).apply(removed: removed, inserted: inserted)
        }
        // Floats kept only as int8: the float rows were written so that the codes (and the
        // graph) could be made from them, and go now.
        if descriptor.floatCodesID != nil { try deleteFloatBlocks() }
    }

    /// Deletes every float block of the collection.
    func deleteFloatBlocks() throws {
        try txn.deleteKeys(in: tables.floatBlocks, startingWith: keyPrefix(compositeKey(descriptor.id, 0), length: 4))
    }

    /// Writes blocks in ascending order, appending (LMDB: `MDB_APPEND`) those past the table's
    /// last key, which keeps bulk loads fast and pages full.
    private func writeBlocks(_ blocks: [UInt32: [UInt8]], table: Table) throws {
        guard !blocks.isEmpty else { return }
        var lastKey = try txn.withCursor(table) { cursor in try cursor.last().map { $0.key.bigEndianUInt64(at: 0) } } ?? 0
        for block in blocks.keys.sorted() {
            let key = compositeKey(descriptor.id, block)
            let append = key > lastKey
            try blocks[block]!.withUnsafeBytes { bytes in
                let target = try txn.unsafeReserve(table, key: key, count: bytes.count, append: append)
                target.copyMemory(from: bytes)
            }
            if append { lastKey = key }
        }
    }

    private func applyPostingChanges(key: [UInt8], _ changes: [(row: UInt16, add: Bool)]) throws {
        var rows = Set<UInt16>()
        if let stored = try key.withUnsafeBytes({ try txn.unsafeGet(tables.postings, key: $0) }) {
            do { try PostingContainer.forEachRow(stored) { rows.insert($0) } } catch {
                throw snapshot.corrupted("posting", error)
            }
        }
        for change in changes {
            if change.add { rows.insert(change.row) } else { rows.remove(change.row) }
        }
        if rows.isEmpty {
            _ = try key.withUnsafeBytes { try txn.delete(tables.postings, key: $0) }
        } else {
            let encoded = PostingContainer.encode(rows.sorted())
            try key.withUnsafeBytes { k in try encoded.withUnsafeBytes { try txn.put(tables.postings, key: k, value: $0) } }
        }
    }
}
