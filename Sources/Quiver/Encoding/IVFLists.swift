import QuiverKernels
import QuiverStorage

/// The inverted lists of an IVF-PQ encoding (`ivf.lists`, docs/file-format.md): per list its
/// rows, then one entry per row — the PQ code of the row's residual to the list's centroid and
/// the correction term `|r̂|² + 2 c·r̂` that L2 distances need. Kept current at flush; each row's
/// list is also in the encoding's row plane (`codes`, 4 bytes a row) so a removed row is found.
struct IVFLists {
    let snapshot: CollectionSnapshot
    let codebook: Codebook
    let listsTable: Table
    let codesTable: Table
    let coarse: [Float]
    let nlist: Int
    let pq: ProductQuantizer

    /// A row's list in the row plane when it is in no list.
    static let noList = UInt32.max
    static let headerSize = 16

    init(snapshot: CollectionSnapshot, codebook: Codebook) throws {
        guard case .ivfpq(let coarse, let nlist, let pq) = codebook.model else { preconditionFailure("not an IVF-PQ codebook") }
        guard let lists = snapshot.tables.ivfLists, let codes = snapshot.tables.codes else {
            throw QuiverError(.readOnly, "this store predates encodings (format 1.2) and is open read-only", collection: snapshot.name)
        }
        self.snapshot = snapshot
        self.codebook = codebook
        listsTable = lists
        codesTable = codes
        self.coarse = coarse
        self.nlist = nlist
        self.pq = pq
    }

    var entryStride: Int { pq.m + 4 }
    var dimensions: Int { codebook.dimensions }

    static func listKey(collection: UInt32, encoding: UInt8, list: Int) -> UInt64 {
        compositeKey(collection, UInt32(encoding) << 24 | UInt32(list))
    }

    /// The nearest list of `vector` by squared L2 distance to the centroids.
    func assign(_ vector: UnsafePointer<Float>) -> Int {
        coarse.withUnsafeBufferPointer { KMeans.nearest(point: vector, centroids: $0.baseAddress!, count: nlist, dimensions: dimensions).index }
    }

    /// The entry of `vector` in `list`: its residual's PQ code and the L2 correction term.
    func entry(_ vector: UnsafePointer<Float>, list: Int, residual: UnsafeMutablePointer<Float>, into out: UnsafeMutableRawPointer) {
        coarse.withUnsafeBufferPointer { c in
            let centroid = c.baseAddress! + list * dimensions
            for d in 0..<dimensions { residual[d] = vector[d] - centroid[d] }
            let code = out.assumingMemoryBound(to: UInt8.self)
            pq.encode(UnsafePointer(residual), into: code)
            pq.decode(code, into: residual)
            var term: Float = 0
            for d in 0..<dimensions { term += residual[d] * (residual[d] + 2 * centroid[d]) }
            out.storeBytes(of: term, toByteOffset: pq.m, as: Float.self)
        }
    }

    /// A list's rows and entries from its stored value.
    func read(list: Int) throws -> (rows: [UInt32], entries: [UInt8]) {
        guard let value = try snapshot.txn.unsafeGet(listsTable, key: Self.listKey(collection: snapshot.id, encoding: codebook.id, list: list)) else {
            return ([], [])
        }
        let (count, rowsAt, entriesAt) = try layout(value, list: list)
        let rows = (0..<count).map { UInt32(littleEndian: value.loadUnaligned(fromByteOffset: rowsAt + 4 * $0, as: UInt32.self)) }
        return (rows, Array(value[entriesAt..<entriesAt + count * entryStride]))
    }

    /// `count`, and the offsets of the rows and of the entries in a list value.
    func layout(_ value: UnsafeRawBufferPointer, list: Int) throws -> (Int, Int, Int) {
        guard value.count >= Self.headerSize else { throw QuiverError(.corrupted, "IVF list \(list) of \(value.count) bytes", collection: snapshot.name) }
        let count = Int(UInt32(littleEndian: value.loadUnaligned(as: UInt32.self)))
        let stride = Int(UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        let entriesAt = Self.headerSize + (count * 4 + 15) / 16 * 16
        guard stride == entryStride, value.count == entriesAt + count * stride else {
            throw QuiverError(.corrupted, "IVF list \(list) of \(value.count) bytes holds no \(count) entries of \(entryStride) bytes", collection: snapshot.name)
        }
        return (count, Self.headerSize, entriesAt)
    }

    /// Writes a list (deletes it when empty).
    func write(list: Int, rows: [UInt32], entries: [UInt8], append: Bool = false) throws {
        let key = Self.listKey(collection: snapshot.id, encoding: codebook.id, list: list)
        guard !rows.isEmpty else {
            _ = try snapshot.txn.delete(listsTable, key: key)
            return
        }
        let entriesAt = Self.headerSize + (rows.count * 4 + 15) / 16 * 16
        let target = try snapshot.txn.unsafeReserve(listsTable, key: key, count: entriesAt + entries.count, append: append)
        target.initializeMemory(as: UInt8.self, repeating: 0)
        target.storeBytes(of: UInt32(rows.count).littleEndian, as: UInt32.self)
        target.storeBytes(of: UInt32(entryStride).littleEndian, toByteOffset: 4, as: UInt32.self)
        for (i, row) in rows.enumerated() { target.storeBytes(of: row.littleEndian, toByteOffset: Self.headerSize + 4 * i, as: UInt32.self) }
        entries.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: target[entriesAt...]).copyMemory(from: $0) }
    }

    // MARK: build and upkeep

    /// Assigns and encodes every live row, writes every list and the row plane.
    func build(live: RowSet, floats: StoredFloats, progress: (@Sendable (String, Int, Int) -> Void)?) throws {
        let rowCount = Int(snapshot.counters.rowCount)
        let metric = snapshot.descriptor.schema.metric
        var listRows = [[UInt32]](repeating: [], count: nlist)
        var listEntries = [[UInt8]](repeating: [], count: nlist)
        var listOfRow = [UInt32](repeating: Self.noList, count: rowCount)
        let residual = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
        let decoded = UnsafeMutablePointer<Float>.allocate(capacity: snapshot.descriptor.dimensions)
        var entry = [UInt8](repeating: 0, count: entryStride)
        defer { residual.deallocate(); input.deallocate(); decoded.deallocate() }
        var done = 0
        live.forEach { row in
            let vector = codebook.input(floats.vector(row, scratch: decoded), metric: metric, fullDimensions: snapshot.descriptor.dimensions, scratch: input)
            let list = assign(vector)
            entry.withUnsafeMutableBytes { self.entry(vector, list: list, residual: residual, into: $0.baseAddress!) }
            listRows[list].append(row)
            listEntries[list].append(contentsOf: entry)
            listOfRow[Int(row)] = UInt32(list)
            done += 1
            if done % 4_096 == 0 { progress?("encoding", done, live.count) }
        }
        var lastKey = try snapshot.txn.withCursor(listsTable) { cursor in try cursor.last().map { $0.key.bigEndianUInt64(at: 0) } } ?? 0
        for list in 0..<nlist where !listRows[list].isEmpty {
            let key = Self.listKey(collection: snapshot.id, encoding: codebook.id, list: list)
            try write(list: list, rows: listRows[list], entries: listEntries[list], append: key > lastKey)
            lastKey = max(lastKey, key)
        }
        try writeRowPlane(listOfRow.enumerated().map { (UInt32($0.offset), $0.element) }, fresh: true)
        progress?("encoding", live.count, live.count)
    }

    /// Moves `written` rows (their floats are current) into their lists and takes `removed`
    /// rows out of theirs.
    func update(written: [UInt32], removed: [UInt32]) throws {
        guard !written.isEmpty || !removed.isEmpty else { return }
        var leaving: [Int: Set<UInt32>] = [:]
        for row in written + removed {
            if let old = try storedList(of: row) { leaving[old, default: []].insert(row) }
        }
        let floats = VectorRows(snapshot: snapshot, bits: false)
        let metric = snapshot.descriptor.schema.metric
        let residual = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
        defer { residual.deallocate(); input.deallocate() }
        var arriving: [Int: [(UInt32, [UInt8])]] = [:]
        var planeChanges: [(UInt32, UInt32)] = removed.map { ($0, Self.noList) }
        for row in written {
            let vector = codebook.input(floats.pointer(row), metric: metric, fullDimensions: snapshot.descriptor.dimensions, scratch: input)
            let list = assign(vector)
            var entry = [UInt8](repeating: 0, count: entryStride)
            entry.withUnsafeMutableBytes { self.entry(vector, list: list, residual: residual, into: $0.baseAddress!) }
            arriving[list, default: []].append((row, entry))
            planeChanges.append((row, UInt32(list)))
        }
        for list in Set(leaving.keys).union(arriving.keys).sorted() {
            var (rows, entries) = try read(list: list)
            if let gone = leaving[list] {
                var keptRows: [UInt32] = []
                var keptEntries: [UInt8] = []
                for (i, row) in rows.enumerated() where !gone.contains(row) {
                    keptRows.append(row)
                    keptEntries.append(contentsOf: entries[i * entryStride..<(i + 1) * entryStride])
                }
                (rows, entries) = (keptRows, keptEntries)
            }
            for (row, entry) in arriving[list] ?? [] {
                rows.append(row)
                entries.append(contentsOf: entry)
            }
            try write(list: list, rows: rows, entries: entries)
        }
        try writeRowPlane(planeChanges, fresh: false)
    }

    /// The list the row plane puts `row` in, `nil` for none (or a row never encoded).
    func storedList(of row: UInt32) throws -> Int? {
        let rowsPerBlock = snapshot.descriptor.rowsPerBlock
        let key = EncodingMaintenance.blockKey(collection: snapshot.id, encoding: codebook.id, block: row / UInt32(rowsPerBlock))
        guard let stored = try snapshot.txn.unsafeGet(codesTable, key: key), stored.count == rowsPerBlock * 4 else { return nil }
        let list = UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: Int(row) % rowsPerBlock * 4, as: UInt32.self))
        return list == Self.noList || Int(list) >= nlist ? nil : Int(list)
    }

    /// Sets rows' lists in the row plane: whole new blocks when `fresh` (rows not named read
    /// as in no list), else read-modify-write of the touched blocks.
    private func writeRowPlane(_ changes: [(UInt32, UInt32)], fresh: Bool) throws {
        let rowsPerBlock = snapshot.descriptor.rowsPerBlock
        let blockBytes = rowsPerBlock * 4
        var blocks: [UInt32: [UInt32]] = [:]
        for (row, list) in changes {
            let block = row / UInt32(rowsPerBlock)
            if blocks[block] == nil {
                var words = [UInt32](repeating: Self.noList, count: rowsPerBlock)
                let key = EncodingMaintenance.blockKey(collection: snapshot.id, encoding: codebook.id, block: block)
                if !fresh, let stored = try snapshot.txn.unsafeGet(codesTable, key: key), stored.count == blockBytes {
                    words.withUnsafeMutableBytes { $0.copyMemory(from: stored) }
                }
                blocks[block] = words
            }
            blocks[block]![Int(row) % rowsPerBlock] = list.littleEndian
        }
        for block in blocks.keys.sorted() {
            let key = EncodingMaintenance.blockKey(collection: snapshot.id, encoding: codebook.id, block: block)
            try blocks[block]!.withUnsafeBytes { try snapshot.txn.put(codesTable, key: key, value: $0) }
        }
    }

    /// Deletes every list of the encoding.
    func drop() throws {
        let first = Self.listKey(collection: snapshot.id, encoding: codebook.id, list: 0)
        try snapshot.txn.deleteKeys(in: listsTable, startingWith: keyPrefix(first, length: 5))
    }
}
