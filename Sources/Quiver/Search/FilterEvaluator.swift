import QuiverStorage

/// Evaluates a validated ``Filter`` to the exact set of live rows it matches, from the
/// secondary indexes alone: no record's metadata is read.
///
/// Semantics: a comparison matches records whose field is present; `!=` is `not ==`, so
/// records without the field match it; `not` complements against the live rows.
struct FilterEvaluator {
    let snapshot: CollectionSnapshot
    let fieldIndex: [String: Int]
    let live: RowSet

    init(snapshot: CollectionSnapshot) throws {
        self.snapshot = snapshot
        self.fieldIndex = snapshot.descriptor.schema.fieldIndex()
        self.live = try Self.liveRows(snapshot)
    }

    /// The live rows, from the `live` bitmaps.
    static func liveRows(_ snapshot: CollectionSnapshot) throws -> RowSet {
        let rowCount = Int(snapshot.counters.rowCount)
        var set = RowSet(capacity: rowCount)
        let chunkWords = PostingContainer.chunkRows / 64
        var chunk: UInt32 = 0
        while Int(chunk) * PostingContainer.chunkRows < rowCount {
            if let stored = try snapshot.txn.unsafeGet(snapshot.tables.live, key: compositeKey(snapshot.id, chunk)) {
                guard stored.count == chunkWords * 8 else {
                    throw QuiverError(.corrupted, "live bitmap \(chunk) has \(stored.count) bytes", collection: snapshot.name)
                }
                let base = Int(chunk) * chunkWords
                for w in 0..<min(chunkWords, set.words.count - base) {
                    set.words[base + w] = UInt64(littleEndian: stored.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self))
                }
            }
            chunk += 1
        }
        // Bits past the high-water mark cannot be live.
        if rowCount % 64 != 0, !set.words.isEmpty { set.words[set.words.count - 1] &= (1 << UInt64(rowCount % 64)) - 1 }
        return set
    }

    /// Checks `filter` against the schema (fields exist, are filterable, literals fit) and
    /// returns it with literals converted to each field's type.
    static func validate(_ filter: Filter, descriptor: CollectionDescriptor) throws -> Filter {
        let schema = descriptor.schema
        var types: [String: FieldType] = [:]
        for field in schema.fields { types[field.name] = field.type }
        let validated: Filter
        do { validated = try filter.validated(against: types) } catch {
            let code: QuiverError.Code = error.code == .unknownField ? .unknownField : (error.code == .typeMismatch ? .typeMismatch : .invalidFilter)
            throw QuiverError(code, error.message, collection: descriptor.name, field: error.field)
        }
        for name in validated.fields {
            if let field = schema.fields.first(where: { $0.name == name }), !field.filterable {
                throw QuiverError(.invalidFilter, "the field is not filterable (declare it filterable to index it)", collection: descriptor.name, field: name)
            }
        }
        return validated
    }

    func evaluate(_ filter: Filter) throws -> RowSet {
        var result = try node(filter)
        result.formIntersection(live)
        return result
    }

    private func empty() -> RowSet { RowSet(capacity: live.words.count * 64) }

    private func node(_ filter: Filter) throws -> RowSet {
        switch filter {
        case .all:
            return live
        case .and(let operands):
            guard let first = operands.first else { return live }
            var set = try node(first)
            for operand in operands.dropFirst() {
                if set.isEmpty { break }
                set.formIntersection(try node(operand))
            }
            return set
        case .or(let operands):
            var set = empty()
            for operand in operands { set.formUnion(try node(operand)) }
            return set
        case .not(let operand):
            var set = live
            set.subtract(try node(operand))
            return set
        case .comparison(let field, let op, let value):
            let f = fieldIndex[field]!
            switch op {
            case .equal: return try equal(field: f, value)
            case .notEqual:
                var set = live
                set.subtract(try equal(field: f, value))
                return set
            case .less: return try range(field: f, lower: nil, lowerInclusive: false, upper: value, upperInclusive: false)
            case .lessOrEqual: return try range(field: f, lower: nil, lowerInclusive: false, upper: value, upperInclusive: true)
            case .greater: return try range(field: f, lower: value, lowerInclusive: false, upper: nil, upperInclusive: false)
            case .greaterOrEqual: return try range(field: f, lower: value, lowerInclusive: true, upper: nil, upperInclusive: false)
            }
        case .oneOf(let field, let values):
            var set = empty()
            for value in Set(values) { set.formUnion(try equal(field: fieldIndex[field]!, value)) }
            return set
        case .contains(let field, let value):
            return try equal(field: fieldIndex[field]!, .string(value))
        case .range(let field, let lower, let lowerInclusive, let upper, let upperInclusive):
            return try range(field: fieldIndex[field]!, lower: lower, lowerInclusive: lowerInclusive, upper: upper, upperInclusive: upperInclusive)
        }
    }

    /// Rows whose field holds `value`: the union of that value's chunks.
    private func equal(field: Int, _ value: MetadataValue) throws -> RowSet {
        let prefix = KeyCodec.postingValuePrefix(collection: snapshot.id, field: field, value: value)
        var set = empty()
        try snapshot.txn.withCursor(snapshot.tables.postings) { cursor in
            var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
            while let e = entry, e.key.count == prefix.count + 2, e.key.starts(with: prefix) {
                try unionChunk(e, into: &set)
                entry = try cursor.next()
            }
        }
        return set
    }

    /// Rows whose field lies within the bounds: a walk over the field's postings in value
    /// order (the key encoding preserves it) from the lower bound to the upper.
    private func range(field: Int, lower: MetadataValue?, lowerInclusive: Bool, upper: MetadataValue?, upperInclusive: Bool) throws -> RowSet {
        let fieldPrefix = KeyCodec.postingFieldPrefix(collection: snapshot.id, field: field)
        var start = fieldPrefix
        var lowerBytes: [UInt8]?
        if let lower {
            var bytes: [UInt8] = []
            KeyCodec.valueBytes(lower, into: &bytes)
            lowerBytes = bytes
            start += bytes
        }
        var upperBytes: [UInt8]?
        if let upper {
            var bytes: [UInt8] = []
            KeyCodec.valueBytes(upper, into: &bytes)
            upperBytes = bytes
        }
        var set = empty()
        try snapshot.txn.withCursor(snapshot.tables.postings) { cursor in
            var entry = try start.withUnsafeBytes { try cursor.seek($0) }
            while let e = entry, e.key.count >= fieldPrefix.count + 2, e.key.starts(with: fieldPrefix) {
                let value = UnsafeRawBufferPointer(rebasing: e.key[fieldPrefix.count ..< e.key.count - 2])
                if let lowerBytes, !lowerInclusive, value.elementsEqual(lowerBytes) {
                    entry = try cursor.next()
                    continue
                }
                if let upperBytes {
                    let order = compareBytes(value, upperBytes)
                    if order > 0 || (order == 0 && !upperInclusive) { break }
                }
                try unionChunk(e, into: &set)
                entry = try cursor.next()
            }
        }
        return set
    }

    private func unionChunk(_ entry: Cursor.Entry, into set: inout RowSet) throws {
        let chunk = Int(entry.key.loadUnaligned(fromByteOffset: entry.key.count - 2, as: UInt16.self).bigEndian)
        let base = chunk * (PostingContainer.chunkRows / 64)
        guard base < set.words.count else { return }
        let count = min(PostingContainer.chunkRows / 64, set.words.count - base)
        do {
            try set.words.withUnsafeMutableBufferPointer { words throws(FormatError) in
                try PostingContainer.union(entry.value, into: UnsafeMutableBufferPointer(rebasing: words[base ..< base + count]))
            }
        } catch {
            throw snapshot.corrupted("posting", error)
        }
    }
}

/// Lexicographic byte comparison: negative, zero or positive.
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
    let n = min(a.count, b.count)
    for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
    return a.count - b.count
}
