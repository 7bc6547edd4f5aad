import QuiverStorage

/// One broken invariant found by ``Database/verify()``.
public struct Violation: Sendable, Hashable, CustomStringConvertible {
    /// The collection concerned, or `nil` for the store as a whole.
    public var collection: String?
    /// What is wrong, naming the table and key or row.
    public var message: String
    /// `collection: message`.
    public var description: String { collection.map { "\(quoted($0)): \(message)" } ?? message }
}

extension Database {
    /// Checks every invariant of the store and lists what is broken (empty when sound).
    ///
    /// For each collection: its record and counters decode; the live bitmaps count
    /// `liveCount` rows, all below the high-water mark; each live row has a record that
    /// decodes, a key that maps back to it, and its vector blocks (of the right size, floats
    /// finite); every key maps to a live row whose record holds that key; no record, block or
    /// posting lies outside the live rows; the secondary indexes hold exactly the filterable
    /// values of the live records; an HNSW index keeps the invariants listed at
    /// `GraphInspector` (links to live rows on their level, lists within bounds, the entry
    /// point on the top level, every live row reachable); each encoding's codebook decodes and
    /// every live row has its code block. Keys of unknown collections are orphans.
    ///
    /// - Complexity: reads every entry of the store once.
    public func verify() throws -> [Violation] {
        try read { tx in
            var violations: [Violation] = []
            var ids = Set<UInt32>()
            for name in try tx.collectionNames() {
                do {
                    let snapshot = try CollectionSnapshot(database: self, txn: tx.txn, name: name)
                    ids.insert(snapshot.id)
                    try CollectionVerifier(snapshot: snapshot).run(into: &violations)
                    let vectors = try snapshot.tokenSnapshot() ?? snapshot
                    if vectors.id != snapshot.id {
                        ids.insert(vectors.id)
                        try CollectionVerifier(snapshot: vectors, isTokenSpace: true).run(into: &violations)
                        for problem in try TokenSpaceVerifier(documents: snapshot, tokens: vectors).violations() {
                            violations.append(Violation(collection: name, message: problem))
                        }
                    }
                    if let header = try HNSWMaintenance.header(vectors) {
                        for problem in try GraphInspector(snapshot: vectors, header: header).violations() {
                            violations.append(Violation(collection: name, message: problem))
                        }
                    }
                    for problem in try EncodingInspector(snapshot: vectors).violations() {
                        violations.append(Violation(collection: name, message: problem))
                    }
                } catch let error as QuiverError {
                    violations.append(Violation(collection: name, message: error.message))
                }
            }
            for table in tables.all where table != tables.meta {
                try tx.txn.withCursor(table) { cursor in
                    var entry = try cursor.first()
                    var reported = Set<UInt32>()
                    while let e = entry {
                        if e.key.count < 4 {
                            violations.append(Violation(collection: nil, message: "\(table.name): key of \(e.key.count) bytes"))
                        } else {
                            let id = e.key.bigEndianUInt32(at: 0)
                            if !ids.contains(id), reported.insert(id).inserted {
                                violations.append(Violation(collection: nil, message: "\(table.name): orphan entries of unknown collection \(id)"))
                            }
                        }
                        entry = try cursor.next()
                    }
                }
            }
            return violations
        }
    }
}

/// The checks of one collection (see ``Database/verify()``).
struct CollectionVerifier {
    let snapshot: CollectionSnapshot
    /// A multi-vector collection's token space: rows without keys or records (their owners
    /// are checked by ``TokenSpaceVerifier``).
    var isTokenSpace = false

    func run(into violations: inout [Violation]) throws {
        let name = snapshot.name
        func report(_ message: String) { violations.append(Violation(collection: name, message: message)) }
        let descriptor = snapshot.descriptor
        let schema = descriptor.schema
        let rowCount = Int(snapshot.counters.rowCount)
        let id = snapshot.id
        let txn = snapshot.txn
        let tables = snapshot.tables

        // Live rows.
        let live: RowSet
        do { live = try FilterEvaluator.liveRows(snapshot) } catch let e as QuiverError {
            report(e.message)
            return
        }
        if live.count != Int(snapshot.counters.liveCount) {
            report("counters say \(snapshot.counters.liveCount) live rows, the live bitmaps hold \(live.count)")
        }
        try forEachEntry(tables.live) { key, value in
            let chunk = Int(key.bigEndianUInt32(at: 4))
            if value.count != PostingContainer.chunkRows / 8 { report("live bitmap \(chunk) has \(value.count) bytes") }
            for w in 0..<value.count / 8 {
                let word = value.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)
                if word == 0 { continue }
                let top = chunk * PostingContainer.chunkRows + w * 64 + 63 - word.leadingZeroBitCount
                if top >= rowCount { report("row \(top) is live but above the high-water mark \(rowCount)") ; break }
            }
        }

        // Records: one per live row, decodable, key mapping back.
        var expectedPostings: [[UInt8]: Set<UInt16>] = [:]
        var recordRows = 0
        let fieldTypes = schema.fields.map(\.type)
        try forEachEntry(tables.records) { key, value in
            let row = key.bigEndianUInt32(at: 4)
            recordRows += 1
            guard live.contains(row) else { report("records: row \(row) is not live (orphan record)"); return }
            let decoded: (key: [UInt8], metadata: [(Int, MetadataValue)])
            do { decoded = try RecordCodec.decode(value, fieldTypes: fieldTypes) } catch {
                report("records: row \(row) does not decode: \(error)")
                return
            }
            let keysKey = KeyCodec.keysKey(collection: id, key: decoded.key)
            let mapped = try keysKey.withUnsafeBytes { try txn.unsafeGet(tables.keys, key: $0) }
            if mapped?.count != 4 || mapped.map({ UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }) != row {
                report("keys: the key of row \(row) does not map back to it")
            }
            for (index, value) in decoded.metadata where schema.fields[index].filterable {
                let elements: [MetadataValue]
                if case .stringList(let list) = value { elements = Set(list).map(MetadataValue.string) } else { elements = [value] }
                for element in elements {
                    var pk = KeyCodec.postingValuePrefix(collection: id, field: index, value: element)
                    pk.appendBigEndian(UInt16(row >> 16))
                    expectedPostings[pk, default: []].insert(UInt16(row & 0xFFFF))
                }
            }
        }
        if recordRows < live.count && !isTokenSpace { report("\(live.count - recordRows) live rows have no record") }

        // Keys: each maps to a live row.
        var keyCount = 0
        try forEachEntry(tables.keys, prefixLength: 4) { key, value in
            keyCount += 1
            guard value.count == 4 else { report("keys: value of \(value.count) bytes"); return }
            let row = UInt32(littleEndian: value.loadUnaligned(as: UInt32.self))
            if !live.contains(row) { report("keys: a key maps to row \(row), which is not live") }
        }
        if keyCount != live.count && !isTokenSpace { report("\(keyCount) keys for \(live.count) live rows") }

        // Vector blocks (none of floats kept only as int8: their codes are checked with the
        // encodings, and the descriptor must name an int8 encoding of the full vector).
        let floatStride = descriptor.storesFloatRows ? descriptor.floatStride : 0
        if descriptor.floatCodesID != nil {
            do { _ = try EncodingMaintenance.floatCodes(snapshot) } catch let error as QuiverError { report(error.message) }
        }
        for (table, stride) in [(tables.floatBlocks, floatStride), (tables.bitBlocks, descriptor.bitStride)] {
            var present = Set<Int>()
            try forEachEntry(table) { key, value in
                let block = Int(key.bigEndianUInt32(at: 4))
                present.insert(block)
                if stride == 0 { report("\(table.name): block \(block) in a collection without this plane"); return }
                if value.count != stride * descriptor.rowsPerBlock { report("\(table.name): block \(block) has \(value.count) bytes") }
                if block * descriptor.rowsPerBlock >= rowCount { report("\(table.name): block \(block) lies above the high-water mark (orphan)") }
                if table == tables.floatBlocks, value.count == stride * descriptor.rowsPerBlock {
                    for local in 0..<descriptor.rowsPerBlock where live.contains(UInt32(block * descriptor.rowsPerBlock + local)) {
                        for c in 0..<descriptor.dimensions where !value.loadUnaligned(fromByteOffset: local * stride + c * 4, as: Float.self).isFinite {
                            report("\(table.name): row \(block * descriptor.rowsPerBlock + local) component \(c) is not finite")
                            break
                        }
                    }
                }
            }
            if stride > 0 {
                var missing = Set<Int>()
                live.forEach { row in
                    let block = Int(row) / descriptor.rowsPerBlock
                    if !present.contains(block) { missing.insert(block) }
                }
                for block in missing.sorted() { report("\(table.name): live rows of block \(block) have no vectors") }
            }
        }

        // Postings: exactly the expected (value, row) pairs.
        try forEachEntry(tables.postings) { key, value in
            let k = Array(key)
            guard let expected = expectedPostings.removeValue(forKey: k) else {
                report("postings: an entry no live record accounts for (field \(key.count >= 6 ? Int(key.loadUnaligned(fromByteOffset: 4, as: UInt16.self).bigEndian) : -1))")
                return
            }
            do {
                let rows = Set(try PostingContainer.decode(value))
                if rows != expected { report("postings: an entry holds \(rows.count) rows, the records \(expected.count)") }
            } catch {
                report("postings: an entry does not decode: \(error)")
            }
        }
        if !expectedPostings.isEmpty { report("postings: \(expectedPostings.count) indexed values are missing") }
    }

    private func forEachEntry(_ table: Table, prefixLength: Int = 8, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        var prefix: [UInt8] = []
        prefix.appendBigEndian(snapshot.id)
        try snapshot.txn.withCursor(table) { cursor in
            var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
            while let e = entry, e.key.starts(with: prefix) {
                if e.key.count >= prefixLength { try body(e.key, e.value) }
                entry = try cursor.next()
            }
        }
    }
}
