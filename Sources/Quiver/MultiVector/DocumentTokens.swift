import QuiverStorage

/// The `multivector.docs` value of one document: which token rows hold its (pooled) tokens.
///
/// Listed: `tokens before pooling u32 · token count u32 · token row u32 × count`; or, when the
/// rows are consecutive (a document written at once into free rows at the end, the common case),
/// a run (format 1.4): `tokens before pooling u32 · (token count | 0x8000_0000) u32 · first row
/// u32`. Little-endian (docs/file-format.md). Read in place: ``rows`` points into the memory map.
struct DocumentTokens {
    /// The tokens the document had when it was written, before pooling.
    var originalCount: Int
    /// The stored tokens.
    let count: Int
    /// The first row of a run (rows `first ..< first + count`), `nil` for listed rows.
    let runStart: UInt32?
    /// Listed rows, as unaligned little-endian `u32`s in the map (empty for a run).
    let rows: UnsafeRawBufferPointer

    static let headerBytes = 8
    /// The flag of a run in the stored token count.
    static let runFlag: UInt32 = 0x8000_0000

    @inline(__always)
    func row(_ i: Int) -> UInt32 {
        if let runStart { return runStart &+ UInt32(truncatingIfNeeded: i) }
        return UInt32(littleEndian: rows.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
    }

    /// Decodes a stored value, checking its length.
    init(_ stored: UnsafeRawBufferPointer) throws(FormatError) {
        guard stored.count >= Self.headerBytes, let value = stored.baseAddress else {
            throw FormatError.invalid("document value of \(stored.count) bytes", at: 0)
        }
        let originalCount = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let word = UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        if word & Self.runFlag != 0 {
            let count = Int(word & ~Self.runFlag)
            guard stored.count == Self.headerBytes + 4, count >= 2, originalCount >= count else {
                throw FormatError.invalid("document run value of \(stored.count) bytes for \(count) tokens (\(originalCount) before pooling)", at: 4)
            }
            let first = UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            guard UInt64(first) + UInt64(count) <= UInt64(UInt32.max) + 1 else {
                throw FormatError.invalid("document run of \(count) tokens from row \(first) passes the last row", at: 8)
            }
        } else {
            let count = Int(word)
            guard count >= 1, stored.count == Self.headerBytes + count * 4, originalCount >= count else {
                throw FormatError.invalid("document value of \(stored.count) bytes for \(count) tokens (\(originalCount) before pooling)", at: 4)
            }
        }
        self.init(checked: value)
    }

    /// Reads a stored value that ``init(_:)`` has already checked (its length follows from its
    /// header): the decoding both share, and what ``DocumentLists`` reads by address.
    @inline(__always)
    init(checked value: UnsafeRawPointer) {
        originalCount = Int(UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let word = UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        if word & Self.runFlag != 0 {
            count = Int(word & ~Self.runFlag)
            runStart = UInt32(littleEndian: value.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            rows = UnsafeRawBufferPointer(start: nil, count: 0)
        } else {
            count = Int(word)
            runStart = nil
            rows = UnsafeRawBufferPointer(start: value + Self.headerBytes, count: count &* 4)
        }
    }

    /// Whether `rows` are written as a run: two or more consecutive rows.
    static func isRun(_ rows: [UInt32]) -> Bool {
        guard rows.count >= 2 else { return false }
        for i in 1..<rows.count where rows[i] != rows[0] &+ UInt32(i) { return false }
        return true
    }

    /// The stored value of a document: a run when ``isRun(_:)``, else the listed rows.
    static func encode(originalCount: Int, rows: [UInt32]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(UInt32(originalCount))
        if isRun(rows) {
            out.appendLittleEndian(UInt32(rows.count) | runFlag)
            out.appendLittleEndian(rows[0])
            return out
        }
        out.reserveCapacity(headerBytes + rows.count * 4)
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

/// The addresses of a document's token rows in one row plane (float rows or codes), gathered
/// into a buffer the kernels read: reused from document to document, grown when one has more
/// tokens than any before.
final class TokenAddresses {
    private var pointers: UnsafeMutablePointer<UnsafeRawPointer>
    private var capacity = 256

    init() { pointers = .allocate(capacity: capacity) }

    deinit { pointers.deallocate() }

    /// The address of each of `document`'s token rows in `plane`, valid until the next call.
    func gather(_ document: DocumentTokens, in plane: VectorRows) -> UnsafePointer<UnsafeRawPointer> {
        let n = document.count
        if n > capacity {
            pointers.deallocate()
            capacity = n
            pointers = .allocate(capacity: n)
        }
        for t in 0..<n { pointers[t] = plane.pointer(document.row(t)) }
        return UnsafePointer(pointers)
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
