import QuiverStorage

/// The `multivector.docs` value of one document: which token rows hold its (pooled) tokens.
///
/// `tokens before pooling u32 · token count u32 · token row u32 × count`, little-endian
/// (docs/file-format.md). Read in place: ``rows`` points into the memory map.
struct DocumentTokens {
    /// The tokens the document had when it was written, before pooling.
    var originalCount: Int
    /// The stored token rows, as unaligned little-endian `u32`s in the map.
    var rows: UnsafeRawBufferPointer

    static let headerBytes = 8

    var count: Int { rows.count / 4 }

    @inline(__always)
    func row(_ i: Int) -> UInt32 { UInt32(littleEndian: rows.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }

    /// Decodes a stored value, checking its length.
    init(_ stored: UnsafeRawBufferPointer) throws(FormatError) {
        guard stored.count >= Self.headerBytes else { throw FormatError.invalid("document value of \(stored.count) bytes", at: 0) }
        originalCount = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let count = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard count >= 1, stored.count == Self.headerBytes + count * 4, originalCount >= count else {
            throw FormatError.invalid("document value of \(stored.count) bytes for \(count) tokens (\(originalCount) before pooling)", at: 4)
        }
        rows = UnsafeRawBufferPointer(rebasing: stored[Self.headerBytes...])
    }

    static func encode(originalCount: Int, rows: [UInt32]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerBytes + rows.count * 4)
        out.appendLittleEndian(UInt32(originalCount))
        out.appendLittleEndian(UInt32(rows.count))
        for row in rows { out.appendLittleEndian(row) }
        return out
    }

    /// The document stored in `row` of `snapshot`'s collection, `nil` when it has none.
    static func read(_ snapshot: CollectionSnapshot, row: UInt32) throws -> DocumentTokens? {
        guard let table = snapshot.tables.documents,
              let stored = try snapshot.txn.unsafeGet(table, key: compositeKey(snapshot.id, row)) else { return nil }
        do { return try DocumentTokens(stored) } catch { throw snapshot.corrupted("token list of document row \(row)", error) }
    }
}

/// The `multivector.tokens` plane of a token space: the document row of every token row, in
/// blocks of the token space's rows per block (`u32` little-endian each), read in place.
struct TokenOwners {
    let snapshot: CollectionSnapshot
    let table: Table

    init(tokenSpace snapshot: CollectionSnapshot) throws {
        guard let table = snapshot.tables.tokenOwners else {
            throw QuiverError(.corrupted, "the store has no multivector.tokens table", collection: snapshot.name)
        }
        self.snapshot = snapshot
        self.table = table
    }

    var blockBytes: Int { snapshot.descriptor.rowsPerBlock * 4 }

    /// The stored owner block `block`, in place.
    func block(_ block: UInt32) throws -> UnsafeRawBufferPointer? {
        guard let stored = try snapshot.txn.unsafeGet(table, key: compositeKey(snapshot.id, block)) else { return nil }
        guard stored.count == blockBytes else {
            throw QuiverError(.corrupted, "token owner block \(block) has \(stored.count) bytes, expected \(blockBytes)", collection: snapshot.name)
        }
        return stored
    }

    /// The document row that owns token `row`.
    func owner(_ row: UInt32) throws -> UInt32 {
        let shift = UInt32(snapshot.descriptor.blockShift)
        guard let stored = try block(row >> shift) else {
            throw QuiverError(.corrupted, "token row \(row) has no owner block", collection: snapshot.name)
        }
        return UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: Int(row & ((1 << shift) - 1)) * 4, as: UInt32.self))
    }
}
