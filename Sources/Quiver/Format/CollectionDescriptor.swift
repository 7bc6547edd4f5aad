import Foundation

/// What the store records about a collection under `meta` key `collection/<name>`, as JSON.
///
/// The schema and the block geometry are fixed at creation. JSON keeps the record readable
/// with `mdb_dump` and lets later versions add keys; it is read once per transaction
/// (decoded descriptors are cached by their bytes, see `DescriptorCache`).
struct CollectionDescriptor: Codable, Sendable, Hashable {
    /// The collection's number, the first 4 bytes of all its keys in every table.
    var id: UInt32
    var name: String
    var schema: CollectionSchema
    /// Rows per vector block: a power of two in 64...4,096.
    var rowsPerBlock: Int
    /// Bytes per row in float blocks (dimensions × 4, rounded up to 16), 0 without floats.
    var floatStride: Int
    /// Bytes per row in bit blocks (dimensions / 8, rounded up to 16), 0 without bits.
    var bitStride: Int
    /// For multi-vector collections: the id of the token space, the rows that hold every
    /// document's token vectors (see ``tokenDescriptor``); `nil` for the other kinds.
    var tokenSpace: UInt32?
    /// For a float32 collection whose floats are kept only as int8 codes
    /// (``CollectionWriter/keepFloatsOnlyAsInt8(threads:progress:)``, format 1.5): the id of
    /// that int8 encoding, whose codes stand in for the float rows everywhere. Float blocks are
    /// then written only for the length of a flush (the codes are made from them) and deleted
    /// before it ends. `nil` for every other collection (and absent from its JSON).
    var floatCodesID: UInt8?

    /// The byte size one block aims at: small enough that a one-record upsert copies little
    /// (LMDB copies a whole value on first write in a transaction), large enough that a scan
    /// walks long contiguous runs of the map. Measured in docs/benchmarks.md.
    static let targetBlockBytes = 256 << 10

    init(id: UInt32, name: String, schema: CollectionSchema, tokenSpace: UInt32? = nil) {
        self.id = id
        self.name = name
        self.schema = schema
        self.tokenSpace = tokenSpace
        let d = schema.vectors.dimensions
        floatStride = schema.vectors.storesFloats ? (d * 4 + 15) / 16 * 16 : 0
        bitStride = schema.vectors.storesBits ? ((d + 7) / 8 + 15) / 16 * 16 : 0
        let widest = max(floatStride, bitStride)
        var rows = 64
        while rows < 4096 && rows * 2 * widest <= Self.targetBlockBytes { rows *= 2 }
        rowsPerBlock = rows
    }

    /// The token space of a multi-vector collection, described as a collection of its own: one
    /// float32 row per stored token, scored by dot product (cosine collections store unit
    /// tokens), under the id ``tokenSpace``. It is not listed under a name; its rows, live
    /// bitmaps, counters, HNSW index and encodings use the same tables as any collection's.
    var tokenDescriptor: CollectionDescriptor? {
        guard let tokenSpace, case .multiVector(let d, _, _) = schema.vectors else { return nil }
        return CollectionDescriptor(id: tokenSpace, name: name, schema: CollectionSchema(vectors: .float32(dimensions: d), metric: .dot))
    }

    /// Whether `vectors.f32` holds the collection's float rows (it has floats, and they are not
    /// kept only as int8 codes).
    var storesFloatRows: Bool { floatStride > 0 && floatCodesID == nil }

    /// The record stored under ``metaKey(_:)``: sorted-key JSON.
    var encodedJSON: [UInt8] {
        get throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(self))
        }
    }

    var blockShift: Int { rowsPerBlock.trailingZeroBitCount }
    var dimensions: Int { schema.vectors.dimensions }

    static func metaKey(_ name: String) -> [UInt8] { Array(("collection/" + name).utf8) }
    static let metaPrefix = Array("collection/".utf8)
}

/// The `counters` value of a collection: `row high-water u32 · live rows u32`, little-endian.
///
/// Rows below the high-water mark have been used; a row is live when its bit is set in the
/// `live` table. `live rows` is kept equal to the number of set bits (checked by verify).
struct CollectionCounters: Sendable, Hashable {
    var rowCount: UInt32 = 0
    var liveCount: UInt32 = 0

    var encoded: [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(rowCount)
        out.appendLittleEndian(liveCount)
        return out
    }

    init() {}
    init(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        var reader = ByteReader(bytes)
        rowCount = try reader.littleEndian(UInt32.self)
        liveCount = try reader.littleEndian(UInt32.self)
        guard reader.isAtEnd, liveCount <= rowCount else { throw FormatError.invalid("bad counters", at: 0) }
    }
}
