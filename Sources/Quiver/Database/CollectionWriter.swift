import QuiverKernels
import QuiverStorage

/// A collection inside the write transaction: upsert, delete, and everything a reader can do.
///
/// Obtained from ``WriteTransaction/collection(_:)``. Changes are visible to reads through
/// this writer at once and to other transactions after commit.
public struct CollectionWriter {
    let state: CollectionWriteState

    /// The collection's name.
    public var name: String { state.descriptor.name }
    /// The collection's schema.
    public var schema: CollectionSchema { state.descriptor.schema }

    /// A reader over this transaction's current state (buffered changes are written first).
    public func reader() throws -> CollectionReader {
        try state.flush()
        return CollectionReader(snapshot: state.snapshot)
    }

    /// Inserts a record or replaces the record with the same key.
    ///
    /// For cosine collections the vector is stored normalised. For binary collections that keep
    /// floats the bits are derived by sign.
    ///
    /// - Throws: ``QuiverError/Code/dimensionMismatch``, ``QuiverError/Code/invalidVector``
    ///   (NaN, infinite, empty, or zero for cosine), ``QuiverError/Code/invalidKey``,
    ///   ``QuiverError/Code/unknownField``, ``QuiverError/Code/typeMismatch``. Nothing is
    ///   written when it throws.
    /// - Complexity: O(dimensions + metadata) plus one B-tree update per table.
    public func upsert(key: RecordKey, vector: [Float], metadata: [String: MetadataValue] = [:]) throws {
        guard state.tokens == nil else {
            throw QuiverError(.invalidArgument, "this collection holds multi-vector documents: upsert(key:tokens:metadata:)", collection: name, key: key)
        }
        try vector.withUnsafeBufferPointer { v in
            try upsert(key: key, metadata: metadata, floats: v, bits: nil)
        }
    }

    /// Inserts or replaces a record of a binary collection given as packed bits
    /// (`numpy.packbits` order). Collections that keep floats need ``upsert(key:vector:metadata:)``.
    public func upsert(key: RecordKey, bits: [UInt8], metadata: [String: MetadataValue] = [:]) throws {
        guard case .binary(_, let keepsFloats) = schema.vectors else {
            throw QuiverError(.invalidArgument, "packed bits are for binary collections", collection: name, key: key)
        }
        guard !keepsFloats else {
            throw QuiverError(.invalidArgument, "this binary collection keeps floats: upsert the float vector", collection: name, key: key)
        }
        try bits.withUnsafeBufferPointer { b in try upsert(key: key, metadata: metadata, floats: nil, bits: b) }
    }

    func upsert(key: RecordKey, metadata: [String: MetadataValue], floats: UnsafeBufferPointer<Float>?, bits: UnsafeBufferPointer<UInt8>?) throws {
        let validator = RecordValidator(descriptor: state.descriptor, fieldIndex: state.fieldIndex)
        let keyBytes = try validator.checkKey(key)
        if let floats { try validator.checkFloats(floats, key: key) }
        if let bits { try validator.checkBits(bits, key: key) }
        let fields = try validator.metadata(metadata, key: key)
        let row = try rowForWrite(keyBytes: keyBytes)
        try writeVector(row: row, floats: floats, bits: bits)
        try writeRecord(row: row, keyBytes: keyBytes, fields: fields)
    }

    /// The record's row: its existing row (old postings removed) or a newly allocated one.
    func rowForWrite(keyBytes: [UInt8]) throws -> UInt32 {
        let txn = state.txn
        let tables = state.tables
        let keysKey = KeyCodec.keysKey(collection: state.descriptor.id, key: keyBytes)
        if let existing = try keysKey.withUnsafeBytes({ try txn.unsafeGet(tables.keys, key: $0) }) {
            guard existing.count == 4 else { throw QuiverError(.corrupted, "keys entry of \(existing.count) bytes", collection: name) }
            let row = UInt32(littleEndian: existing.loadUnaligned(as: UInt32.self))
            try removePostings(row: row)
            try state.vectorRemoved(row)
            try state.vectorWritten(row)
            return row
        }
        let row = try state.allocateRow()
        try state.vectorWritten(row)
        var value: [UInt8] = []
        value.appendLittleEndian(row)
        try keysKey.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(tables.keys, key: k, value: $0) } }
        try state.setLive(row, true)
        return row
    }

    func writeVector(row: UInt32, floats: UnsafeBufferPointer<Float>?, bits: UnsafeBufferPointer<UInt8>?) throws {
        let descriptor = state.descriptor
        if let floats, descriptor.floatStride > 0 {
            try state.withRowBytes(row, bits: false) { target in
                let out = target.bindMemory(to: Float.self)
                for i in 0..<floats.count { out[i] = floats[i] }
                for i in floats.count..<out.count { out[i] = 0 }
                if descriptor.schema.metric == .cosine {
                    _ = VectorMath.normalize(out.baseAddress!, count: floats.count)
                }
            }
        }
        if descriptor.bitStride > 0 {
            try state.withRowBytes(row, bits: true) { target in
                for i in 0..<target.count { target[i] = 0 }
                if let bits {
                    for i in 0..<bits.count { target[i] = bits[i] }
                } else if let floats {
                    packSignBits(floats, into: target)
                }
            }
        }
    }

    func writeRecord(row: UInt32, keyBytes: [UInt8], fields: [(Int, MetadataValue)], append: Bool = false) throws {
        let encoded = RecordCodec.encode(key: keyBytes, metadata: fields)
        guard encoded.count <= RecordCodec.maximumMetadataBytes else {
            throw QuiverError(.valueTooLarge, "metadata of \(encoded.count) bytes", collection: name)
        }
        try encoded.withUnsafeBytes {
            try state.txn.put(state.tables.records, key: compositeKey(state.descriptor.id, row), value: $0, append: append)
        }
        for (index, value) in fields where state.descriptor.schema.fields[index].filterable {
            state.addPosting(field: index, value: value, row: row)
        }
    }

    private func removePostings(row: UInt32) throws {
        guard let stored = try state.txn.unsafeGet(state.tables.records, key: compositeKey(state.descriptor.id, row)) else {
            throw QuiverError(.corrupted, "row \(row) has a key but no record", collection: name)
        }
        let schema = state.descriptor.schema
        let decoded: [(Int, MetadataValue)]
        do { decoded = try RecordCodec.decode(stored, fieldTypes: schema.fields.map(\.type)).metadata } catch {
            throw state.snapshot.corrupted("record of row \(row)", error)
        }
        for (index, value) in decoded where schema.fields[index].filterable {
            state.removePosting(field: index, value: value, row: row)
        }
    }

    /// Deletes the record with `key`.
    ///
    /// The record leaves every result at once; its row is reused by a later insert.
    /// - Returns: whether a record was deleted.
    @discardableResult
    public func delete(key: RecordKey) throws -> Bool {
        let validator = RecordValidator(descriptor: state.descriptor, fieldIndex: state.fieldIndex)
        let keyBytes = try validator.checkKey(key)
        let keysKey = KeyCodec.keysKey(collection: state.descriptor.id, key: keyBytes)
        let txn = state.txn
        guard let existing = try keysKey.withUnsafeBytes({ try txn.unsafeGet(state.tables.keys, key: $0) }) else {
            return false
        }
        guard existing.count == 4 else { throw QuiverError(.corrupted, "keys entry of \(existing.count) bytes", collection: name) }
        let row = UInt32(littleEndian: existing.loadUnaligned(as: UInt32.self))
        try removePostings(row: row)
        try state.vectorRemoved(row)
        try removeDocument(row: row)
        try txn.delete(state.tables.records, key: compositeKey(state.descriptor.id, row))
        _ = try keysKey.withUnsafeBytes { try txn.delete(state.tables.keys, key: $0) }
        try state.releaseRow(row)
        return true
    }

    /// The record with `key`, or `nil`.
    public func get(_ key: RecordKey) throws -> Record? { try reader().get(key) }

    /// The number of live records.
    public var count: Int { Int(state.snapshot.counters.liveCount) }

    /// Searches as ``CollectionReader/search(_:k:filter:options:)`` does, seeing this
    /// transaction's changes.
    public func search(_ query: [Float], k: Int, filter: Filter? = nil, options: SearchOptions = SearchOptions()) throws -> [SearchResult] {
        try reader().search(query, k: k, filter: filter, options: options)
    }
}
