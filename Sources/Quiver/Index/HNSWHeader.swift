import Foundation
import QuiverKernels

/// The `hnsw.meta` value of one collection: the index's parameters, its entry point and the
/// high-water mark of node slots per level. 128 bytes, little-endian (docs/file-format.md).
struct HNSWHeader: Hashable {
    static let formatVersion: UInt16 = 1
    static let encodedSize = 128
    /// Levels 0...15: a node reaches level 16 with probability 16^-16 at m = 16; the level
    /// draw is capped here.
    static let maximumLevels = 16
    /// The entry row of an empty graph.
    static let noEntry = UInt32.max

    /// What the graph's distances are computed on.
    enum Space: UInt8 {
        /// The full float vector.
        case floats = 0
        /// A Matryoshka prefix of the float vector (`components` floats).
        case prefix = 1
        /// The packed bits (`components` 64-bit words).
        case bits = 2
    }

    var space: Space
    var m: Int
    var efConstruction: Int
    var efSearch: Int
    var seed: UInt64
    /// Floats (full or prefix) or 64-bit words the distance reads.
    var components: Int
    var entryRow: UInt32 = noEntry
    var entryLevel: Int = 0
    /// The entry point's slot on `entryLevel` (its row when that is level 0).
    var entrySlot: UInt32 = noEntry
    /// Slots used so far on each level (index 0 unused: level 0 is addressed by row).
    var slotCounts = [UInt32](repeating: 0, count: maximumLevels)

    var m0: Int { 2 * m }
    var isEmpty: Bool { entryRow == Self.noEntry }
    var geometry: GraphGeometry { GraphGeometry(m: m) }

    var parameters: HNSWParameters {
        HNSWParameters(m: m, efConstruction: efConstruction, efSearch: efSearch, seed: seed, prefix: space == .prefix ? components : nil)
    }

    init(parameters: HNSWParameters, descriptor: CollectionDescriptor) {
        m = parameters.m
        efConstruction = parameters.efConstruction
        efSearch = parameters.efSearch
        seed = parameters.seed
        if descriptor.bitStride > 0 {
            // Binary collections: the graph runs on the bits (Hamming); when the floats are
            // kept too, searches rescore its candidates on them.
            space = .bits
            components = descriptor.bitStride / 8
        } else if let prefix = parameters.prefix, prefix != descriptor.dimensions {
            space = .prefix
            components = prefix
        } else {
            space = .floats
            components = descriptor.dimensions
        }
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.encodedSize)
        out.appendLittleEndian(Self.formatVersion)
        out.append(space.rawValue)
        out.append(0)
        out.appendLittleEndian(UInt16(m))
        out.appendLittleEndian(UInt16(m0))
        out.appendLittleEndian(UInt32(efConstruction))
        out.appendLittleEndian(UInt32(efSearch))
        out.appendLittleEndian(seed)
        out.appendLittleEndian(UInt32(components))
        out.appendLittleEndian(entryRow)
        out.appendLittleEndian(entrySlot)
        out.append(UInt8(entryLevel))
        out.append(contentsOf: [0, 0, 0])
        for count in slotCounts { out.appendLittleEndian(count) }
        out.append(contentsOf: [UInt8](repeating: 0, count: Self.encodedSize - out.count))
        return out
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        guard bytes.count == Self.encodedSize else { throw FormatError.invalid("HNSW header of \(bytes.count) bytes", at: 0) }
        var r = ByteReader(bytes)
        let version = try r.littleEndian(UInt16.self)
        guard version == Self.formatVersion else { throw FormatError.invalid("HNSW header version \(version)", at: 0) }
        guard let space = Space(rawValue: try r.byte()) else { throw FormatError.invalid("HNSW space", at: 2) }
        self.space = space
        _ = try r.byte()
        m = Int(try r.littleEndian(UInt16.self))
        let m0 = Int(try r.littleEndian(UInt16.self))
        guard (2...64).contains(m), m0 == 2 * m else { throw FormatError.invalid("HNSW m \(m), m0 \(m0)", at: 4) }
        efConstruction = Int(try r.littleEndian(UInt32.self))
        efSearch = Int(try r.littleEndian(UInt32.self))
        seed = try r.littleEndian(UInt64.self)
        components = Int(try r.littleEndian(UInt32.self))
        entryRow = try r.littleEndian(UInt32.self)
        entrySlot = try r.littleEndian(UInt32.self)
        entryLevel = Int(try r.byte())
        guard entryLevel < Self.maximumLevels, components > 0, efSearch > 0 else { throw FormatError.invalid("HNSW header fields", at: 24) }
        _ = try r.take(3)
        for level in 0..<Self.maximumLevels { slotCounts[level] = try r.littleEndian(UInt32.self) }
    }

    /// The level of `row`'s node: drawn from a hash of the seed and the row, so a row keeps its
    /// level (and its upper slots) when it is deleted and reused, and a parallel build draws
    /// the same levels as a serial one. `-ln(u) / ln(m)` as in the paper (mL = 1/ln m).
    func level(of row: UInt32) -> Int {
        let z = SplitMix64.hash(seed: seed, UInt64(row))
        let u = (Double(z >> 11) + 1) * 0x1p-53  // (0, 1]
        let level = Int(-Foundation.log(u) / Foundation.log(Double(m)))
        return min(level, Self.maximumLevels - 1)
    }
}

/// The byte layout of link blocks (docs/file-format.md, `hnsw.links`).
///
/// Level 0 is addressed by row: `2m` neighbour rows (u32) per row, `UInt32.max`-terminated
/// when shorter, `rows0` rows per block. Level ℓ ≥ 1 is addressed by slot: per slot the row,
/// the slot one level down (the row itself on level 1; `UInt32.max` when the slot's node is not
/// in the graph), then `m` neighbour slots. Blocks hold as many records as fit in whole
/// 4 KiB pages after LMDB's 16-byte overflow header, so no page is wasted.
struct GraphGeometry: Hashable {
    let m: Int
    var m0: Int { 2 * m }
    /// Bytes per level-0 record.
    var stride0: Int { m0 * 4 }
    /// Bytes per upper record.
    var strideUpper: Int { (m + 2) * 4 }
    /// Level-0 records per block.
    var rows0: Int { Self.recordsPerBlock(stride: stride0) }
    /// Upper-level records per block.
    var rowsUpper: Int { Self.recordsPerBlock(stride: strideUpper) }

    /// Four 4 KiB pages less LMDB's overflow page header: a one-record update copies 16 KiB
    /// per touched block (measured in docs/benchmarks.md).
    static let blockPages = 4
    static func recordsPerBlock(stride: Int) -> Int { (blockPages * 4096 - 16) / stride }

    func stride(level: Int) -> Int { level == 0 ? stride0 : strideUpper }
    func perBlock(level: Int) -> Int { level == 0 ? rows0 : rowsUpper }
    func capacity(level: Int) -> Int { level == 0 ? m0 : m }
    /// The u32 offset of the neighbour list inside a record.
    func listOffset(level: Int) -> Int { level == 0 ? 0 : 2 }

    /// The `hnsw.links` key of a block: `collection u32 · level u8 · block u24`, big-endian.
    static func key(collection: UInt32, level: Int, block: Int) -> UInt64 {
        compositeKey(collection, UInt32(level) << 24 | UInt32(block))
    }
    static let maximumBlocks = 1 << 24
}
