import QuiverKernels
import QuiverStorage

extension CollectionWriter {
    /// Keeps the float vectors only as int8 codes, for stores that must be small: a float row of
    /// `4 × dimensions` bytes becomes a code of `dimensions + 4` bytes (rounded up to 16).
    ///
    /// The collection's int8 encoding of the full vector (trained now with default settings
    /// when it has none; see ``buildEncoding(_:threads:progress:)`` to choose the sample) then
    /// stands in for the floats everywhere:
    /// - a search on ``CandidateSource/floats`` scans the int8 codes, and every rescoring (of
    ///   binary, PQ or IVF-PQ candidates, or of an HNSW walk on them) scores the int8 codes;
    /// - an HNSW index is built and walked on the int8 codes;
    /// - ``CollectionReader/get(_:)`` returns the vector the code stands for
    ///   (`x_d ≈ offset_d + scale_d × c_d`), not the float written;
    /// - later upserts are written as int8 codes only (values outside the trained ranges are
    ///   clamped to them), and other encodings are trained from the decoded codes.
    ///
    /// It cannot be undone, and the int8 encoding can then be neither dropped nor retrained.
    /// The float blocks are deleted; `quiver compact` returns their pages to the file system.
    /// Calling it again does nothing.
    ///
    /// - Returns: the int8 encoding that holds the vectors.
    /// - Throws: ``QuiverError/Code/invalidArgument`` for a collection that is not
    ///   ``VectorKind/float32(dimensions:)`` (Matryoshka prefixes, kept floats of binary
    ///   collections and multi-vector tokens stay float32), or that has no rows to train on.
    @discardableResult
    public func keepFloatsOnlyAsInt8(threads: Int = 0, progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws -> EncodingInfo {
        guard case .float32 = schema.vectors else {
            throw QuiverError(.invalidArgument, "only float32 collections can keep their floats as int8 alone, this one holds \(schema.vectors.kindName) vectors",
                              collection: name)
        }
        try state.flush()
        if let kept = try EncodingMaintenance.floatCodes(state.snapshot) { return kept.info }
        let info = try EncodingMaintenance.codebook(state.snapshot, encoding: .int8, prefix: nil).map(\.info)
            ?? buildEncoding(EncodingParameters(.int8), threads: threads, progress: progress)
        guard let stored = try EncodingMaintenance.codebook(state.snapshot, encoding: .int8, prefix: nil) else {
            preconditionFailure("the int8 encoding was just built")
        }
        let snapshot = state.snapshot
        try Database.raiseFormat(snapshot.txn, meta: snapshot.tables.meta, to: .withFloatCodes)
        var descriptor = snapshot.descriptor
        descriptor.floatCodesID = stored.id
        let json = try descriptor.encodedJSON
        try CollectionDescriptor.metaKey(name).withUnsafeBytes { k in
            try json.withUnsafeBytes { try snapshot.txn.put(snapshot.tables.meta, key: k, value: $0) }
        }
        var updated = try CollectionSnapshot(database: snapshot.database, txn: snapshot.txn, descriptor: descriptor)
        updated.counters = snapshot.counters
        state.snapshot = updated
        try state.deleteFloatBlocks()
        state.encodingsChanged()
        return info
    }
}

extension VectorKind {
    /// `float32`, `binary`, `matryoshka` or `multi-vector`, for messages.
    var kindName: String {
        switch self {
        case .float32: "float32"
        case .binary: "binary"
        case .matryoshka: "Matryoshka"
        case .multiVector: "multi-vector"
        }
    }
}

extension EncodingMaintenance {
    /// The int8 encoding that keeps a collection's floats (see
    /// ``CollectionWriter/keepFloatsOnlyAsInt8(threads:progress:)``), or `nil` when the
    /// collection stores float rows (or none at all).
    /// - Throws: ``QuiverError/Code/corrupted`` when the descriptor names a codebook that is
    ///   missing or is not an int8 code of the full vector.
    static func floatCodes(_ snapshot: CollectionSnapshot) throws -> Codebook? {
        guard let id = snapshot.descriptor.floatCodesID else { return nil }
        // One codebook read by its key, not all of them decoded (a PQ codebook is hundreds of
        // KB, and records read this once per `get`).
        guard let table = snapshot.tables.codesMeta, let bytes = try snapshot.txn.unsafeGet(table, key: compositeKey(snapshot.id, UInt32(id))) else {
            return try floatCodes(snapshot, among: [])  // throws: the codebook is missing
        }
        do { return try floatCodes(snapshot, among: [try Codebook(record: bytes)]) } catch let error as FormatError {
            throw snapshot.corrupted("codebook \(id)", error)
        }
    }

    /// ``floatCodes(_:)`` among codebooks already read.
    static func floatCodes(_ snapshot: CollectionSnapshot, among codebooks: [Codebook]) throws -> Codebook? {
        guard let id = snapshot.descriptor.floatCodesID else { return nil }
        guard let codebook = codebooks.first(where: { $0.id == id }), codebook.encoding == .int8,
              codebook.dimensions == snapshot.descriptor.dimensions
        else {
            throw QuiverError(.corrupted, "the int8 codes that keep the floats (encoding \(id)) are missing", collection: snapshot.name)
        }
        return codebook
    }

    /// Refuses to drop or rebuild the encoding that keeps the floats.
    static func checkReplaceable(_ codebook: Codebook, snapshot: CollectionSnapshot) throws {
        guard codebook.id != snapshot.descriptor.floatCodesID else {
            throw QuiverError(.invalidArgument, "the floats are kept only as this int8 encoding; it cannot be dropped or retrained", collection: snapshot.name)
        }
    }
}

extension Codebook {
    /// The vector `row`'s code stands for (a record's vector when the floats are kept only as
    /// int8), read with one lookup of its code block.
    func decodedRow(_ row: UInt32, snapshot: CollectionSnapshot) throws -> [Float] {
        let descriptor = snapshot.descriptor
        let block = row >> UInt32(descriptor.blockShift)
        guard let table = snapshot.tables.codes,
              let bytes = try snapshot.txn.unsafeGet(table, key: EncodingMaintenance.blockKey(collection: snapshot.id, encoding: id, block: block)),
              bytes.count == stride * descriptor.rowsPerBlock, let base = bytes.baseAddress
        else {
            throw QuiverError(.corrupted, "row \(row) has no int8 code block", collection: snapshot.name)
        }
        return [Float](unsafeUninitializedCapacity: dimensions) { buffer, count in
            _ = decode(base + Int(row & UInt32(descriptor.rowsPerBlock - 1)) * stride, into: buffer.baseAddress!)
            count = dimensions
        }
    }
}

/// A collection's full-precision vectors as training and the encoding inspector read them:
/// the float rows in place, or the int8 codes that keep them, decoded.
struct StoredFloats {
    private let floats: VectorRows?
    private let codes: (codebook: Codebook, rows: VectorRows)?

    /// - Throws: ``QuiverError/Code/invalidArgument`` for a collection without float vectors.
    init(snapshot: CollectionSnapshot) throws {
        if snapshot.descriptor.storesFloatRows {
            floats = VectorRows(snapshot: snapshot, bits: false)
            codes = nil
        } else if let codebook = try EncodingMaintenance.floatCodes(snapshot), let rows = EncodingMaintenance.rows(snapshot, codebook) {
            floats = nil
            codes = (codebook, rows)
        } else {
            throw QuiverError(.invalidArgument, "the collection stores no float vectors", collection: snapshot.name)
        }
    }

    /// Whether the vectors are int8 codes decoded (not the floats written).
    var areDecoded: Bool { codes != nil }

    /// The full vector of `row`: in place in the map, or decoded into `scratch` (`dimensions`
    /// floats).
    @inline(__always)
    func vector(_ row: UInt32, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if let floats { return floats.pointer(row).assumingMemoryBound(to: Float.self) }
        _ = codes!.codebook.decode(codes!.rows.pointer(row), into: scratch)
        return UnsafePointer(scratch)
    }
}
