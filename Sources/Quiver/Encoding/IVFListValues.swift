import QuiverStorage

/// The stored lists of one IVF encoding by address: each list's value looked up once per
/// snapshot, then read in place, as ``DocumentLists`` keeps documents' token lists (LMDB values
/// do not move within a snapshot and map). A lookup is a B-tree descent of 0.1-0.4 µs; a dense
/// query probes up to 64 lists, a multi-vector query a few dozen.
///
/// Kept by the search context while the snapshot is the same; one slot (24 bytes) per list.
final class IVFListValues {
    /// The transaction lookups read through; a reader reusing the values for a later
    /// transaction on the same snapshot sets it first.
    var txn: Transaction
    let lists: IVFLists
    /// Per list: `nil` until looked up, then its value (empty when the list is).
    private var values: [UnsafeRawBufferPointer?]

    init(lists: IVFLists) {
        txn = lists.snapshot.txn
        self.lists = lists
        values = Array(repeating: nil, count: lists.nlist)
    }

    /// The stored value of `list` (layout checked), empty when the list has no entries.
    /// - Throws: ``QuiverError/Code/corrupted`` for a value whose layout is wrong.
    @inline(__always)
    func value(_ list: Int) throws -> UnsafeRawBufferPointer {
        if let value = values[list] { return value }
        return try lookUp(list)
    }

    /// The row numbers of `list`'s entries: `count` little-endian `UInt32` at `rows`.
    @inline(__always)
    func rows(_ list: Int) throws -> (rows: UnsafeRawPointer?, count: Int) {
        let value = try value(list)
        guard let base = value.baseAddress else { return (nil, 0) }
        return (base + IVFLists.headerSize, Int(UInt32(littleEndian: base.loadUnaligned(as: UInt32.self))))
    }

    private func lookUp(_ list: Int) throws -> UnsafeRawBufferPointer {
        let key = IVFLists.listKey(collection: lists.snapshot.id, encoding: lists.codebook.id, list: list)
        var value = UnsafeRawBufferPointer(start: nil, count: 0)
        if let stored = try txn.unsafeGet(lists.listsTable, key: key), stored.count > 0 {
            _ = try lists.layout(stored, list: list)
            value = stored
        }
        values[list] = value
        return value
    }
}
