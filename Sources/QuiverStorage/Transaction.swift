import CLMDB

/// A protocol for error types that may carry a ``StorageError`` inside, so that
/// ``Environment/write(_:)`` can recognise a full map behind another module's error type.
public protocol StorageErrorWrapping: Error {
    /// The storage error inside, if any.
    var storageError: StorageError? { get }
}

/// A named LMDB database (a sorted key-value table) inside an ``Environment``.
public struct Table: Sendable, Hashable {
    let dbi: MDB_dbi
    /// The table's name.
    public let name: String
}

/// Counts of one table's B-tree (LMDB: `mdb_stat`).
public struct TableStatistics: Sendable, Hashable {
    /// The depth of the B-tree.
    public var depth: Int
    /// Branch (internal) pages.
    public var branchPages: Int
    /// Leaf pages.
    public var leafPages: Int
    /// Overflow pages (values larger than about half a page).
    public var overflowPages: Int
    /// Key-value entries.
    public var entries: Int
    /// Pages in all, times the page size.
    public func bytes(pageSize: Int) -> Int { (branchPages + leafPages + overflowPages) * pageSize }
}

/// A transaction handle, lent to a closure by ``Environment/read(_:)`` or
/// ``Environment/write(_:)``. It must not escape the closure.
///
/// Buffers returned by reads point into the memory map (or, for pages this write transaction
/// changed, into LMDB's dirty pages) and are valid until the next write in this transaction or
/// its end; that is why they are `unsafe` and why callers use them at once.
public struct Transaction {
    let handle: OpaquePointer
    /// Whether this is a read-only transaction.
    public let isReadOnly: Bool

    /// The snapshot this transaction reads (LMDB: `mdb_txn_id`): the id of the last committed
    /// write transaction for a reader. Two read transactions with the same id see the same
    /// pages at the same addresses (while ``Environment/mapGeneration`` is unchanged).
    public var snapshotID: Int { mdb_txn_id(handle) }

    /// Opens a table in this transaction (LMDB: `mdb_dbi_open`), creating it when `create`
    /// is set in a write transaction. The handle stays valid after the transaction commits,
    /// and dies with it if it aborts.
    /// - Returns: the table, or `nil` if it does not exist and was not created.
    public func openTable(_ name: String, create: Bool) throws(StorageError) -> Table? {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_dbi_open(\(name))")
        return Table(dbi: dbi, name: name)
    }

    /// Reads the value stored under `key` (LMDB: `mdb_get`), in place: no bytes are copied.
    /// - Returns: the value's bytes, valid until the next write or the end of the transaction;
    ///   `nil` if the key is absent.
    public func unsafeGet(_ table: Table, key: UnsafeRawBufferPointer) throws(StorageError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle, table.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get(\(table.name))")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Reads the value under a big-endian 8-byte key. See ``unsafeGet(_:key:)``.
    public func unsafeGet(_ table: Table, key: UInt64) throws(StorageError) -> UnsafeRawBufferPointer? {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws(StorageError) in try unsafeGet(table, key: k) }
    }

    /// Stores `value` under `key`, replacing any value (LMDB: `mdb_put`).
    /// - Parameter append: the key sorts after every key in the table (LMDB: `MDB_APPEND`);
    ///   much faster for ascending bulk writes and keeps pages full.
    public func put(_ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, append: Bool = false) throws(StorageError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, table.dbi, &k, &v, append ? UInt32(MDB_APPEND) : 0), "mdb_put(\(table.name))")
    }

    /// Stores `value` under a big-endian 8-byte key. See ``put(_:key:value:append:)``.
    public func put(_ table: Table, key: UInt64, value: UnsafeRawBufferPointer, append: Bool = false) throws(StorageError) {
        var be = key.bigEndian
        try withUnsafeBytes(of: &be) { k throws(StorageError) in try put(table, key: k, value: value, append: append) }
    }

    /// Reserves `count` bytes for the value under `key` and returns them for the caller to fill
    /// (LMDB: `MDB_RESERVE`), saving a copy for large values.
    /// - Returns: writable bytes, valid until the next write or the end of the transaction.
    public func unsafeReserve(_ table: Table, key: UnsafeRawBufferPointer, count: Int, append: Bool = false) throws(StorageError) -> UnsafeMutableRawBufferPointer {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: count, mv_data: nil)
        var flags = UInt32(MDB_RESERVE)
        if append { flags |= UInt32(MDB_APPEND) }
        try check(mdb_put(handle, table.dbi, &k, &v, flags), "mdb_put(\(table.name), reserve)")
        return UnsafeMutableRawBufferPointer(start: v.mv_data, count: count)
    }

    /// Reserves bytes under a big-endian 8-byte key. See ``unsafeReserve(_:key:count:append:)``.
    public func unsafeReserve(_ table: Table, key: UInt64, count: Int, append: Bool = false) throws(StorageError) -> UnsafeMutableRawBufferPointer {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws(StorageError) in
            try unsafeReserve(table, key: k, count: count, append: append)
        }
    }

    /// Deletes `key` (LMDB: `mdb_del`).
    /// - Returns: whether the key was present.
    @discardableResult
    public func delete(_ table: Table, key: UnsafeRawBufferPointer) throws(StorageError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(handle, table.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "mdb_del(\(table.name))")
        return true
    }

    /// Deletes a big-endian 8-byte key. See ``delete(_:key:)``.
    @discardableResult
    public func delete(_ table: Table, key: UInt64) throws(StorageError) -> Bool {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws(StorageError) in try delete(table, key: k) }
    }

    /// Opens a cursor over `table` (LMDB: `mdb_cursor_open`), closed when `body` returns.
    public func withCursor<R>(_ table: Table, _ body: (inout Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, table.dbi, &cursor), "mdb_cursor_open(\(table.name))")
        var c = Cursor(handle: cursor!, table: table)
        defer { mdb_cursor_close(cursor) }
        return try body(&c)
    }

    /// The B-tree counts of `table` (LMDB: `mdb_stat`).
    public func statistics(_ table: Table) throws(StorageError) -> TableStatistics {
        var s = MDB_stat()
        try check(mdb_stat(handle, table.dbi, &s), "mdb_stat(\(table.name))")
        return TableStatistics(
            depth: Int(s.ms_depth), branchPages: s.ms_branch_pages, leafPages: s.ms_leaf_pages,
            overflowPages: s.ms_overflow_pages, entries: s.ms_entries)
    }

    /// Deletes every entry of `table`, keeping the table (LMDB: `mdb_drop` with `del = 0`).
    public func clear(_ table: Table) throws(StorageError) {
        try check(mdb_drop(handle, table.dbi, 0), "mdb_drop(\(table.name))")
    }
}

/// A position in a table (LMDB: `MDB_cursor`), lent by ``Transaction/withCursor(_:_:)``.
public struct Cursor {
    let handle: OpaquePointer
    let table: Table

    /// A key and value read in place; valid until the next write or the transaction's end.
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    private func get(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws(StorageError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get(\(table.name))")
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// Moves to the first entry (LMDB: `MDB_FIRST`).
    public mutating func first() throws(StorageError) -> Entry? { try get(MDB_FIRST) }
    /// Moves to the last entry (LMDB: `MDB_LAST`).
    public mutating func last() throws(StorageError) -> Entry? { try get(MDB_LAST) }
    /// Moves to the next entry (LMDB: `MDB_NEXT`).
    public mutating func next() throws(StorageError) -> Entry? { try get(MDB_NEXT) }
    /// Moves to the previous entry (LMDB: `MDB_PREV`).
    public mutating func previous() throws(StorageError) -> Entry? { try get(MDB_PREV) }
    /// Moves to the first entry whose key is `>= key` (LMDB: `MDB_SET_RANGE`).
    public mutating func seek(_ key: UnsafeRawBufferPointer) throws(StorageError) -> Entry? {
        try get(MDB_SET_RANGE, key: key)
    }
    /// Moves to the first entry whose key is `>=` the big-endian 8-byte `key`.
    public mutating func seek(_ key: UInt64) throws(StorageError) -> Entry? {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws(StorageError) in try seek(k) }
    }
    /// Moves to the entry of exactly `key`, `nil` when there is none (LMDB: `MDB_SET_KEY`).
    /// Looking up ascending keys through one cursor is cheaper than ``Transaction/unsafeGet(_:key:)``
    /// each: LMDB searches the current leaf page first when the key falls within it.
    public mutating func find(_ key: UnsafeRawBufferPointer) throws(StorageError) -> Entry? {
        try get(MDB_SET_KEY, key: key)
    }
    /// Moves to the entry of exactly the big-endian 8-byte `key`. See ``find(_:)-(UnsafeRawBufferPointer)``.
    public mutating func find(_ key: UInt64) throws(StorageError) -> Entry? {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws(StorageError) in try find(k) }
    }
    /// Stores `value` under `key` through the cursor (LMDB: `mdb_cursor_put`), cheaper than
    /// ``Transaction/put(_:key:value:append:)`` in long runs of writes.
    /// - Parameter append: the key sorts after every key in the table (LMDB: `MDB_APPEND`).
    public mutating func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, append: Bool) throws(StorageError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_cursor_put(handle, &k, &v, append ? UInt32(MDB_APPEND) : 0), "mdb_cursor_put(\(table.name))")
    }

    /// Deletes the entry at the cursor (LMDB: `mdb_cursor_del`).
    public mutating func deleteCurrent() throws(StorageError) {
        try check(mdb_cursor_del(handle, 0), "mdb_cursor_del(\(table.name))")
    }
}

extension UnsafeRawBufferPointer {
    /// Reads a big-endian `UInt64` at `offset`, alignment not required.
    @inlinable public func bigEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    /// Reads a big-endian `UInt32` at `offset`, alignment not required.
    @inlinable public func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension Transaction {
    /// The number of entries of LMDB's main database, which lists the named tables.
    public func mainTableEntryCount() throws(StorageError) -> Int {
        var s = MDB_stat()
        try check(mdb_stat(handle, 1, &s), "mdb_stat(main)")  // MAIN_DBI is 1
        return s.ms_entries
    }
}
