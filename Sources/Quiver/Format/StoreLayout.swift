import QuiverStorage

/// The on-disk format version, written at creation and checked at open.
///
/// A store whose major version differs from ``current``'s, or whose minor version is newer,
/// is refused with ``QuiverError/Code/unsupportedFormat``. See `docs/file-format.md`.
public struct FormatVersion: Sendable, Hashable, CustomStringConvertible {
    /// Incompatible layout changes bump the major version.
    public var major: UInt16
    /// Compatible additions bump the minor version.
    public var minor: UInt16
    /// The version this build writes.
    public static let current = FormatVersion(major: 1, minor: 5)
    /// The first version with HNSW indexes; a store is marked with it when it gets its first
    /// index, so that a build that knows only 1.0 refuses it instead of ignoring the graph.
    static let withIndexes = FormatVersion(major: 1, minor: 1)
    /// The first version with encodings (`codes.meta`, `codes`); raised when a collection
    /// gets its first encoding, so that older builds refuse a store whose codes they would
    /// not keep up to date.
    static let withEncodings = FormatVersion(major: 1, minor: 2)
    /// The first version with multi-vector collections (`multivector.docs`,
    /// `multivector.tokens`); raised when the first one is created.
    static let withMultiVector = FormatVersion(major: 1, minor: 3)
    /// The first version whose documents may store their token rows as a run (first row and
    /// count, `multivector.docs`); raised when the first such document is written.
    static let withTokenRuns = FormatVersion(major: 1, minor: 4)
    /// The first version in which a collection may keep its floats only as int8 codes
    /// (`floatCodesID` in its descriptor, no float blocks); raised when the first one does.
    static let withFloatCodes = FormatVersion(major: 1, minor: 5)
    /// What a new store is marked with (indexes raise it, see ``withIndexes``).
    static let created = FormatVersion(major: 1, minor: 0)
    /// `major.minor`.
    public var description: String { "\(major).\(minor)" }
}

/// The LMDB tables of a store (docs/file-format.md has one section per table).
///
/// Changing a name breaks stores.
struct StoreTables: Sendable {
    static let metaName = "meta"
    /// UTF-8 keys: `format`, `next-collection-id`, `collection/<name>`.
    let meta: Table
    /// `collection u32` → counters (row high-water mark, live rows).
    let counters: Table
    /// `collection u32 · block u32` → a block of float32 rows.
    let floatBlocks: Table
    /// `collection u32 · block u32` → a block of packed-bit rows.
    let bitBlocks: Table
    /// `collection u32 · chunk u32` → 8 KiB bitmap of the live rows among 65,536.
    let live: Table
    /// `collection u32 · key bytes` → row u32.
    let keys: Table
    /// `collection u32 · row u32` → record (key + metadata).
    let records: Table
    /// `collection u32 · field u16 · value · chunk u16` → row container.
    let postings: Table

    /// `collection u32` → HNSW header (format 1.1; `nil` in a read-only 1.0 store).
    let hnswMeta: Table?
    /// `collection u32 · level u8 · block u24` → a block of fixed-width neighbour lists.
    let hnswLinks: Table?
    /// `collection u32 · row u32` → the row's level and its slots on levels 1...level.
    let hnswNodes: Table?
    /// `collection u32 · encoding u32` → a trained codebook (format 1.2).
    let codesMeta: Table?
    /// `collection u32 · encoding u8 · block u24` → a block of codes (format 1.2).
    let codes: Table?
    /// `collection u32 · encoding u8 · list u24` → an IVF-PQ list (format 1.2).
    let ivfLists: Table?
    /// `collection u32 · document row u32` → the document's token rows (format 1.3).
    let documents: Table?
    /// `token space u32 · block u32` → the document row of each token row of the block (format 1.3).
    let tokenOwners: Table?

    /// Tables added by format 1.1: created when a store is opened writable, absent from a 1.0
    /// store opened read-only (which then has no index).
    static let indexNames = ["hnsw.meta", "hnsw.links", "hnsw.nodes"]
    /// Tables added by format 1.2, likewise.
    static let encodingNames = ["codes.meta", "codes", "ivf.lists"]
    /// Tables added by format 1.3, likewise.
    static let multiVectorNames = ["multivector.docs", "multivector.tokens"]

    static let names = [metaName, "counters", "vectors.f32", "vectors.bits", "live", "keys", "records", "postings"]

    init(environment: Environment) throws {
        let opened = try environment.tables(Self.names)
        var byName: [String: Table] = [:]
        for (name, table) in zip(Self.names, opened) {
            guard let table else {
                throw QuiverError(.unsupportedFormat, "the store has no table \(quoted(name)); it is not a Quiver store")
            }
            byName[name] = table
        }
        meta = byName[Self.metaName]!
        counters = byName["counters"]!
        floatBlocks = byName["vectors.f32"]!
        bitBlocks = byName["vectors.bits"]!
        live = byName["live"]!
        keys = byName["keys"]!
        records = byName["records"]!
        postings = byName["postings"]!
        let index = try environment.tables(Self.indexNames)
        hnswMeta = index[0]
        hnswLinks = index[1]
        hnswNodes = index[2]
        let encodings = try environment.tables(Self.encodingNames)
        codesMeta = encodings[0]
        codes = encodings[1]
        ivfLists = encodings[2]
        let multiVector = try environment.tables(Self.multiVectorNames)
        documents = multiVector[0]
        tokenOwners = multiVector[1]
    }

    var all: [Table] { [meta] + perCollection }
    /// The tables whose keys start with a collection id (dropped range by range).
    var perCollection: [Table] {
        [counters, floatBlocks, bitBlocks, live, keys, records, postings] + [hnswMeta, hnswLinks, hnswNodes, codesMeta, codes, ivfLists, documents, tokenOwners].compactMap { $0 }
    }
}

/// A big-endian `collection · n` key, as used by every row- and block-addressed table.
@inline(__always)
func compositeKey(_ collection: UInt32, _ n: UInt32) -> UInt64 {
    UInt64(collection) << 32 | UInt64(n)
}

/// The first `length` bytes of the big-endian key `key`: 4 for a collection's keys, 5 for the
/// keys of one of its encodings.
func keyPrefix(_ key: UInt64, length: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.appendBigEndian(key)
    return Array(bytes.prefix(length))
}

extension Transaction {
    /// Deletes every entry of `table` whose key starts with `prefix` (one contiguous range).
    func deleteKeys(in table: Table, startingWith prefix: [UInt8]) throws {
        try withCursor(table) { cursor in
            var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
            while let e = entry, e.key.starts(with: prefix) {
                try cursor.deleteCurrent()
                // After a delete the cursor stands on the next entry (LMDB), re-read it.
                entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
            }
        }
    }
}

/// Bytes helpers for little-endian values (every stored value is little-endian).
extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var le = value.littleEndian
        Swift.withUnsafeBytes(of: &le) { append(contentsOf: $0) }
    }
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var be = value.bigEndian
        Swift.withUnsafeBytes(of: &be) { append(contentsOf: $0) }
    }
    /// LEB128 unsigned varint.
    mutating func appendVarint(_ value: Int) {
        var v = UInt64(value)
        while v >= 0x80 {
            append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }
}
