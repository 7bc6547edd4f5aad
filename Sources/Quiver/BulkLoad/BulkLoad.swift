import Foundation
import QuiverKernels
import QuiverStorage

/// The keys of a bulk load, one per vector.
public enum BulkKeys: Sendable {
    /// Consecutive integer keys `start, start + 1, …` (the vectors' positions in a file).
    case sequential(start: UInt64)
    /// Integer keys, one per vector.
    case integers([UInt64])
    /// String keys, one per vector.
    case strings([String])

    func key(_ i: Int) -> RecordKey {
        switch self {
        case .sequential(let start): .int(start + UInt64(i))
        case .integers(let keys): .int(keys[i])
        case .strings(let keys): .string(keys[i])
        }
    }

    func count(or fallback: Int) -> Int {
        switch self {
        case .sequential: fallback
        case .integers(let keys): keys.count
        case .strings(let keys): keys.count
        }
    }
}

/// Progress of a bulk load, reported after each committed batch.
public struct BulkLoadProgress: Sendable {
    /// Vectors committed so far.
    public var committedRows: Int
    /// Vectors in the whole load.
    public var totalRows: Int
    /// Bytes of raw vectors committed so far.
    public var committedBytes: Int
    /// Seconds since the load started.
    public var elapsedSeconds: Double
}

extension CollectionWriter {
    /// Writes `count` records from contiguous buffers in this transaction.
    ///
    /// When the keys are integers, ascending, all above the collection's largest key, and no
    /// deleted row waits for reuse, the records go to consecutive new rows and every table is
    /// written in key order (LMDB: `MDB_APPEND` where the collection is the last in its table):
    /// no per-vector lookup or allocation. Otherwise each record is upserted.
    ///
    /// - Parameters:
    ///   - count: the number of records.
    ///   - floats: `count × dimensions` components, row-major, for collections that store floats.
    ///   - bits: `count × ⌈dimensions / 8⌉` packed bytes, for binary collections without floats
    ///     (which also take `floats`, binarised by sign).
    ///   - keys: one key per record.
    ///   - metadata: one dictionary per record, or `nil`.
    /// - Throws: the errors of ``upsert(key:vector:metadata:)``, naming the first bad record;
    ///   nothing of the batch is written then.
    public func appendBatch(count: Int, floats: UnsafeBufferPointer<Float>?, bits: UnsafeBufferPointer<UInt8>?, keys: BulkKeys, metadata: [[String: MetadataValue]]?) throws {
        let descriptor = state.descriptor
        let dimensions = descriptor.dimensions
        let validator = RecordValidator(descriptor: descriptor, fieldIndex: state.fieldIndex)
        guard state.tokens == nil else {
            throw QuiverError(.invalidArgument, "this collection holds multi-vector documents: appendDocuments(tokens:tokenCounts:keys:metadata:threads:)", collection: name)
        }
        guard keys.count(or: count) == count, metadata.map({ $0.count == count }) ?? true else {
            throw QuiverError(.invalidArgument, "keys and metadata must have one entry per vector (\(count))", collection: name)
        }
        // Floats are required where they are stored, and accepted for a bits-only binary
        // collection (the bits are derived by sign, as upsert(key:vector:) does).
        let usesFloats = descriptor.schema.vectors.storesFloats || (bits == nil && floats != nil)
        if usesFloats {
            guard let floats, floats.count == count * dimensions else {
                throw QuiverError(.dimensionMismatch, "expected \(count) × \(dimensions) floats, got \(floats?.count ?? 0)", collection: name)
            }
        } else {
            guard let bits, bits.count == count * ((dimensions + 7) / 8) else {
                throw QuiverError(.dimensionMismatch, "expected \(count) × \((dimensions + 7) / 8) bytes of packed bits, got \(bits?.count ?? 0)", collection: name)
            }
        }
        // Validate everything first: nothing is written when one record is bad.
        var fields: [[(Int, MetadataValue)]] = []
        if let metadata {
            fields.reserveCapacity(count)
            for i in 0..<count { fields.append(try validator.metadata(metadata[i], key: keys.key(i))) }
        }
        for i in 0..<count {
            if let floats {
                try validator.checkFloats(UnsafeBufferPointer(rebasing: floats[i * dimensions ..< (i + 1) * dimensions]), key: keys.key(i))
            }
        }
        if case .strings(let list) = keys { for s in list { _ = try validator.checkKey(.string(s)) } }
        if case .integers = keys, descriptor.schema.keyKind != .uint64 { _ = try validator.checkKey(keys.key(0)) }
        if case .sequential = keys, descriptor.schema.keyKind != .uint64 { _ = try validator.checkKey(keys.key(0)) }

        if try canAppend(count: count, keys: keys) {
            try appendNewRows(count: count, floats: floats, bits: bits, keys: keys, fields: fields)
            return
        }
        let bytesPerRow = (dimensions + 7) / 8
        for i in 0..<count {
            let key = keys.key(i)
            let keyBytes = try validator.checkKey(key)
            let row = try rowForWrite(keyBytes: keyBytes)
            try writeVector(
                row: row,
                floats: floats.map { UnsafeBufferPointer(rebasing: $0[i * dimensions ..< (i + 1) * dimensions]) },
                bits: bits.map { UnsafeBufferPointer(rebasing: $0[i * bytesPerRow ..< (i + 1) * bytesPerRow]) })
            try writeRecord(row: row, keyBytes: keyBytes, fields: fields.isEmpty ? [] : fields[i])
        }
    }

    /// Whether every key is a new integer above the collection's largest, ascending, and no
    /// row is free.
    private func canAppend(count: Int, keys: BulkKeys) throws -> Bool {
        guard state.snapshot.counters.liveCount == state.snapshot.counters.rowCount, count > 0 else { return false }
        let first: UInt64
        switch keys {
        case .strings: return false
        case .sequential(let start):
            guard start <= UInt64.max - UInt64(count) else { return false }
            first = start
        case .integers(let list):
            for i in 1..<max(1, list.count) where list[i] <= list[i - 1] { return false }
            first = list[0]
        }
        guard let largest = try largestIntegerKey() else { return true }
        return first > largest
    }

    /// The collection's largest integer key, or `nil` when it has none.
    func largestIntegerKey() throws -> UInt64? {
        let id = state.descriptor.id
        return try state.txn.withCursor(state.tables.keys) { cursor in
            // The first key of the next collection, then one step back.
            var next: [UInt8] = []
            next.appendBigEndian(id + 1)
            let after = try next.withUnsafeBytes { try cursor.seek($0) }
            let entry = after == nil ? try cursor.last() : try cursor.previous()
            guard let e = entry, e.key.count == 12, e.key.bigEndianUInt32(at: 0) == id else { return nil }
            return e.key.bigEndianUInt64(at: 4)
        }
    }

    private func appendNewRows(count: Int, floats: UnsafeBufferPointer<Float>?, bits: UnsafeBufferPointer<UInt8>?, keys: BulkKeys, fields: [[(Int, MetadataValue)]]) throws {
        let descriptor = state.descriptor
        let id = descriptor.id
        let txn = state.txn
        let tables = state.tables
        let firstRow = state.snapshot.counters.rowCount
        guard UInt64(firstRow) + UInt64(count) < UInt64(UInt32.max) else {
            throw QuiverError(.invalidArgument, "the collection would exceed \(UInt32.max) rows", collection: name)
        }
        let appendKeys = try isLast(tables.keys)
        let appendRecords = try isLast(tables.records)
        var keyBuffer = [UInt8](repeating: 0, count: 12)
        var recordKeyBuffer = [UInt8](repeating: 0, count: 8)
        var rowValue = [UInt8](repeating: 0, count: 4)
        // A record without metadata: flags 0, key length 8, the key, metadata count 0.
        var bareRecord: [UInt8] = [0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let schema = descriptor.schema
        try txn.withCursor(tables.keys) { keysCursor in
            try txn.withCursor(tables.records) { recordsCursor in
                for i in 0..<count {
                    let row = firstRow + UInt32(i)
                    guard case .int(let key) = keys.key(i) else { preconditionFailure("append path takes integer keys") }
                    keyBuffer.withUnsafeMutableBytes {
                        $0.storeBytes(of: id.bigEndian, toByteOffset: 0, as: UInt32.self)
                        $0.storeBytes(of: key.bigEndian, toByteOffset: 4, as: UInt64.self)
                    }
                    rowValue.withUnsafeMutableBytes { $0.storeBytes(of: row.littleEndian, as: UInt32.self) }
                    try keyBuffer.withUnsafeBytes { k in try rowValue.withUnsafeBytes { try keysCursor.put(key: k, value: $0, append: appendKeys) } }
                    var recordKey = compositeKey(id, row).bigEndian
                    let metadata = fields.isEmpty ? [] : fields[i]
                    try withUnsafeBytes(of: &recordKey) { rk in
                        if metadata.isEmpty {
                            bareRecord.withUnsafeMutableBytes { $0.storeBytes(of: key.bigEndian, toByteOffset: 2, as: UInt64.self) }
                            try bareRecord.withUnsafeBytes { try recordsCursor.put(key: rk, value: $0, append: appendRecords) }
                        } else {
                            recordKeyBuffer.withUnsafeMutableBytes { $0.storeBytes(of: key.bigEndian, as: UInt64.self) }
                            let encoded = RecordCodec.encode(key: recordKeyBuffer, metadata: metadata)
                            guard encoded.count <= RecordCodec.maximumMetadataBytes else {
                                throw QuiverError(.valueTooLarge, "metadata of \(encoded.count) bytes", collection: name, key: .int(key))
                            }
                            try encoded.withUnsafeBytes { try recordsCursor.put(key: rk, value: $0, append: appendRecords) }
                        }
                    }
                    for (index, value) in metadata where schema.fields[index].filterable {
                        state.addPosting(field: index, value: value, row: row)
                    }
                }
            }
        }
        state.snapshot.counters.rowCount += UInt32(count)
        state.snapshot.counters.liveCount += UInt32(count)
        state.markCountersDirty()
        try state.setLive(firstRow: firstRow, count: count)
        for row in firstRow..<firstRow + UInt32(count) { try state.vectorWritten(row) }
        let dimensions = descriptor.dimensions
        let normalise = schema.metric == .cosine
        if let floats, descriptor.floatStride > 0 {
            try state.writeNewRows(firstRow: firstRow, count: count, bits: false) { i, target in
                let out = target.bindMemory(to: Float.self)
                let source = floats.baseAddress! + i * dimensions
                out.baseAddress!.update(from: source, count: dimensions)
                if dimensions < out.count { (out.baseAddress! + dimensions).update(repeating: 0, count: out.count - dimensions) }
                if normalise { _ = VectorMath.normalize(out.baseAddress!, count: dimensions) }
            }
        }
        if descriptor.bitStride > 0 {
            let bytesPerRow = (dimensions + 7) / 8
            try state.writeNewRows(firstRow: firstRow, count: count, bits: true) { i, target in
                target.initializeMemory(as: UInt8.self, repeating: 0)
                if let bits {
                    for b in 0..<bytesPerRow { target[b] = bits[i * bytesPerRow + b] }
                } else if let floats {
                    packSignBits(UnsafeBufferPointer(rebasing: floats[i * dimensions ..< (i + 1) * dimensions]), into: target)
                }
            }
        }
    }

    /// Whether this collection's keys sort after every key of `table` (so appends are legal).
    private func isLast(_ table: Table) throws -> Bool {
        let id = state.descriptor.id
        return try state.txn.withCursor(table) { cursor in
            guard let last = try cursor.last() else { return true }
            return last.key.count >= 4 && last.key.bigEndianUInt32(at: 0) <= id
        }
    }
}

extension Database {
    /// Loads `count` vectors into a collection in batches of `batchSize`, each its own
    /// transaction, reporting progress after each commit.
    ///
    /// Batches commit with `MDB_NOMETASYNC` (one `fsync` each) and the load ends with a full
    /// sync, so it is durable when this returns.
    ///
    /// An interruption (a crash, a kill) leaves the store as of the last committed batch: the
    /// first `committedRows` records of the load are in, none of the rest. With sequential or
    /// ascending integer keys, resume by loading from the first missing key.
    ///
    /// A process that bulk-loads should call ``tuneAllocatorForBulkWrites()`` once before (the
    /// `quiver` tool does): it about halves the time LMDB's commits spend copying their pages.
    ///
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - count: the number of vectors.
    ///   - floats: `count × dimensions` floats (collections that store floats).
    ///   - bits: `count × ⌈dimensions / 8⌉` packed bytes (binary collections without floats).
    ///   - keys: the records' keys.
    ///   - metadata: per-record metadata, or `nil`.
    ///   - batchSize: records per transaction; by default about 256 MiB of vectors.
    ///   - progress: called after each committed batch.
    public func bulkLoad(
        into collection: String, count: Int, floats: UnsafeBufferPointer<Float>? = nil, bits: UnsafeBufferPointer<UInt8>? = nil,
        keys: BulkKeys = .sequential(start: 0), metadata: [[String: MetadataValue]]? = nil, batchSize: Int? = nil,
        progress: ((BulkLoadProgress) -> Void)? = nil
    ) throws {
        let schema = try self.schema(of: collection)
        let dimensions = schema.vectors.dimensions
        let rowBytes = schema.vectors.storesFloats ? dimensions * 4 : (dimensions + 7) / 8
        let batch = max(1, batchSize ?? (256 << 20) / max(rowBytes, 1))
        let start = Date()
        var done = 0
        try environment.withDeferredMetaSync {
            while done < count {
                let n = min(batch, count - done)
                let range = done ..< done + n
                let batchKeys: BulkKeys
                switch keys {
                case .sequential(let s): batchKeys = .sequential(start: s + UInt64(done))
                case .integers(let list): batchKeys = .integers(Array(list[range]))
                case .strings(let list): batchKeys = .strings(Array(list[range]))
                }
                try write { tx in
                    try tx.collection(collection).appendBatch(
                        count: n,
                        floats: floats.map { UnsafeBufferPointer(rebasing: $0[range.lowerBound * dimensions ..< range.upperBound * dimensions]) },
                        bits: bits.map { UnsafeBufferPointer(rebasing: $0[range.lowerBound * ((dimensions + 7) / 8) ..< range.upperBound * ((dimensions + 7) / 8)]) },
                        keys: batchKeys, metadata: metadata.map { Array($0[range]) })
                }
                done += n
                progress?(BulkLoadProgress(committedRows: done, totalRows: count, committedBytes: done * rowBytes, elapsedSeconds: Date().timeIntervalSince(start)))
            }
        }
    }
}

extension Database {
    /// Runs `body` — typically many large write transactions of an import — with commits that
    /// flush data but not the meta page (LMDB: `MDB_NOMETASYNC`), then flushes everything.
    ///
    /// One `fsync` per commit instead of two. A system crash inside `body` may undo the last
    /// commits made in it but never corrupts the store; a killed process loses nothing
    /// committed. Everything is durable when this returns. ``bulkLoad(into:count:floats:bits:keys:metadata:batchSize:progress:)``
    /// uses it.
    public func withDeferredSync<R>(_ body: () throws -> R) throws -> R {
        guard !isReadOnly else { return try body() }
        do { return try environment.withDeferredMetaSync(body) } catch let e as StorageError { throw QuiverError(e) }
    }
}
