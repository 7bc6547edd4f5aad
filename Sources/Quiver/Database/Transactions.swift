import Foundation
import QuiverStorage

/// A read-only snapshot of the store, lent to a closure by ``Database/read(_:)``.
///
/// Everything read through it, and the transaction itself, must not escape the closure.
public struct ReadTransaction {
    let database: Database
    let txn: Transaction

    /// The collection named `name`.
    /// - Throws: ``QuiverError/Code/collectionNotFound``.
    public func collection(_ name: String) throws -> CollectionReader {
        CollectionReader(snapshot: try CollectionSnapshot(database: database, txn: txn, name: name))
    }

    /// The names of all collections, sorted.
    public func collectionNames() throws -> [String] {
        try listCollectionNames(database: database, txn: txn)
    }
}

/// The write transaction, lent to a closure by ``Database/write(_:)``.
///
/// Changes become visible to other transactions when the closure returns and the transaction
/// commits; a thrown error rolls every change back.
public final class WriteTransaction {
    let database: Database
    let txn: Transaction
    private var states: [UInt32: CollectionWriteState] = [:]

    init(database: Database, txn: Transaction) {
        self.database = database
        self.txn = txn
    }

    /// The collection named `name`, for reading and writing.
    /// - Throws: ``QuiverError/Code/collectionNotFound``.
    public func collection(_ name: String) throws -> CollectionWriter {
        let snapshot = try CollectionSnapshot(database: database, txn: txn, name: name)
        if let state = states[snapshot.descriptor.id] { return CollectionWriter(state: state) }
        let state = try CollectionWriteState(transaction: self, snapshot: snapshot)
        states[snapshot.descriptor.id] = state
        return CollectionWriter(state: state)
    }

    /// The names of all collections, sorted.
    public func collectionNames() throws -> [String] {
        try listCollectionNames(database: database, txn: txn)
    }

    /// Creates a collection. See ``Database/createCollection(_:schema:)``.
    public func createCollection(_ name: String, schema: CollectionSchema) throws {
        guard !name.isEmpty, name.utf8.count <= 200, !name.contains("\0") else {
            throw QuiverError(.invalidSchema, "a collection name has 1 to 200 bytes and no NUL", collection: name)
        }
        try schema.validate(collection: name)
        let tables = database.tables
        let metaKey = CollectionDescriptor.metaKey(name)
        if try metaKey.withUnsafeBytes({ try txn.unsafeGet(tables.meta, key: $0) }) != nil {
            throw QuiverError(.collectionExists, "a collection with this name exists", collection: name)
        }
        var nextID: UInt32 = 1
        if let raw = try StoreTables.nextCollectionKey.withUnsafeBytes({ try txn.unsafeGet(tables.meta, key: $0) }) {
            guard raw.count == 4 else { throw QuiverError(.corrupted, "next-collection-id has \(raw.count) bytes") }
            nextID = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
        }
        // A multi-vector collection takes two ids: its documents' and its token space's.
        let isMultiVector = schema.vectors.tokenPooling != nil
        let idsTaken: UInt32 = isMultiVector ? 2 : 1
        guard nextID < UInt32.max - idsTaken else { throw QuiverError(.invalidArgument, "collection ids are exhausted") }
        let descriptor = CollectionDescriptor(id: nextID, name: name, schema: schema, tokenSpace: isMultiVector ? nextID + 1 : nil)
        if isMultiVector {
            guard tables.documents != nil, tables.tokenOwners != nil else {
                throw QuiverError(.readOnly, "the store predates multi-vector collections; open it writable once to add their tables", collection: name)
            }
            try Database.raiseFormat(txn, meta: tables.meta, to: .withMultiVector)
            try CollectionCounters().encoded.withUnsafeBytes { try txn.put(tables.counters, key: compositeKey(nextID + 1, 0), value: $0) }
        }
        let json = try descriptor.encodedJSON
        try metaKey.withUnsafeBytes { k in try json.withUnsafeBytes { try txn.put(tables.meta, key: k, value: $0) } }
        var next: [UInt8] = []
        next.appendLittleEndian(nextID + idsTaken)
        try StoreTables.nextCollectionKey.withUnsafeBytes { k in try next.withUnsafeBytes { try txn.put(tables.meta, key: k, value: $0) } }
        try CollectionCounters().encoded.withUnsafeBytes { try txn.put(tables.counters, key: compositeKey(nextID, 0), value: $0) }
    }

    /// Deletes a collection and everything in it. See ``Database/dropCollection(_:)``.
    public func dropCollection(_ name: String) throws {
        let snapshot = try CollectionSnapshot(database: database, txn: txn, name: name)
        let id = snapshot.descriptor.id
        states[id] = nil
        let tables = database.tables
        for owner in [id] + [snapshot.descriptor.tokenSpace].compactMap({ $0 }) {
            var prefix: [UInt8] = []
            prefix.appendBigEndian(owner)
            for table in tables.perCollection {
                try deleteRange(table, prefix: prefix)
            }
        }
        _ = try CollectionDescriptor.metaKey(name).withUnsafeBytes { try txn.delete(tables.meta, key: $0) }
    }

    /// Deletes every key of `table` that starts with `prefix`.
    func deleteRange(_ table: Table, prefix: [UInt8]) throws {
        try txn.deleteKeys(in: table, startingWith: prefix)
    }

    /// Writes every buffered change (vector blocks, live bitmaps, postings, counters).
    func flush() throws {
        for state in states.values { try state.flush() }
    }
}

func listCollectionNames(database: Database, txn: Transaction) throws -> [String] {
    let prefix = CollectionDescriptor.metaPrefix
    return try txn.withCursor(database.tables.meta) { cursor in
        var names: [String] = []
        var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
        while let e = entry, e.key.starts(with: prefix) {
            names.append(String(decoding: e.key.dropFirst(prefix.count), as: UTF8.self))
            entry = try cursor.next()
        }
        return names
    }
}

/// One collection as seen by one transaction: its descriptor and counters.
struct CollectionSnapshot {
    let database: Database
    let txn: Transaction
    let descriptor: CollectionDescriptor
    var counters: CollectionCounters

    var tables: StoreTables { database.tables }
    var name: String { descriptor.name }
    var id: UInt32 { descriptor.id }

    init(database: Database, txn: Transaction, name: String) throws {
        let tables = database.tables
        guard let bytes = try CollectionDescriptor.metaKey(name).withUnsafeBytes({ try txn.unsafeGet(tables.meta, key: $0) }) else {
            throw QuiverError(.collectionNotFound, "no collection with this name", collection: name)
        }
        try self.init(database: database, txn: txn, descriptor: try database.descriptor(named: name, bytes: bytes))
    }

    /// The snapshot of a collection whose descriptor is known (a token space).
    init(database: Database, txn: Transaction, descriptor: CollectionDescriptor) throws {
        self.database = database
        self.txn = txn
        self.descriptor = descriptor
        let tables = database.tables
        let name = descriptor.name
        guard let raw = try txn.unsafeGet(tables.counters, key: compositeKey(descriptor.id, 0)) else {
            throw QuiverError(.corrupted, "collection has no counters", collection: name)
        }
        do { counters = try CollectionCounters(raw) } catch {
            throw QuiverError(.corrupted, "counters: \(error)", collection: name)
        }
    }

    /// The token space of a multi-vector collection, `nil` for the other kinds.
    func tokenSnapshot() throws -> CollectionSnapshot? {
        try descriptor.tokenDescriptor.map { try CollectionSnapshot(database: database, txn: txn, descriptor: $0) }
    }

    /// The snapshot whose rows hold the vectors an index or encoding is built on: the token
    /// space of a multi-vector collection, else the collection itself.
    func vectorSnapshot() throws -> CollectionSnapshot { try tokenSnapshot() ?? self }

    func corrupted(_ what: String, _ error: FormatError) -> QuiverError {
        QuiverError(.corrupted, "\(what): \(error)", collection: name)
    }
}
