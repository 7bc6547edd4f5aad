import QuiverStorage

/// A report on a store: sizes, collections and LMDB's own statistics.
public struct StoreReport: Sendable {
    /// One LMDB table's B-tree statistics.
    public struct TableReport: Sendable {
        /// The table's name.
        public var name: String
        /// The B-tree counts.
        public var statistics: TableStatistics
        /// Pages times the page size.
        public var bytes: Int
    }

    /// One collection's figures.
    public struct CollectionReport: Sendable {
        /// The name.
        public var name: String
        /// The schema.
        public var schema: CollectionSchema
        /// Live records.
        public var count: Int
        /// Rows ever used (live plus free).
        public var rowCount: Int
        /// Rows per vector block.
        public var rowsPerBlock: Int
        /// Bytes of keys and values per table for this collection.
        public var bytesPerTable: [String: Int]
        /// Entries per table for this collection.
        public var entriesPerTable: [String: Int]
        /// The collection's encodings (int8, binary, PQ codes; of the tokens for multi-vector
        /// collections).
        public var encodings: [EncodingInfo] = []
        /// For multi-vector collections: documents, tokens before and after pooling, bytes.
        public var tokens: TokenStatistics?
        /// Whether the float vectors are kept only as int8 codes
        /// (``CollectionWriter/keepFloatsOnlyAsInt8(threads:progress:)``).
        public var floatsKeptAsInt8: Bool = false
    }

    /// The data file's path.
    public var path: String
    /// The format version.
    public var formatVersion: FormatVersion
    /// The environment's sizes.
    public var environment: Environment.Info
    /// Bytes in use: `(lastPage + 1) × pageSize`.
    public var usedBytes: Int
    /// Per table.
    public var tables: [TableReport]
    /// Per collection.
    public var collections: [CollectionReport]
    /// LMDB's reader table, one line per open reader (`mdb_reader_list`).
    public var readers: [String]
}

extension Database {
    /// Collects a ``StoreReport``.
    /// - Complexity: walks every key of every collection once (values are not read).
    public func inspect() throws -> StoreReport {
        let info = environment.info()
        let readers = environment.readerList()
        return try read { tx in
            var tableReports: [StoreReport.TableReport] = []
            for table in tables.all {
                let s = try tx.txn.statistics(table)
                tableReports.append(.init(name: table.name, statistics: s, bytes: s.bytes(pageSize: info.pageSize)))
            }
            var collections: [StoreReport.CollectionReport] = []
            for name in try tx.collectionNames() {
                let snapshot = try CollectionSnapshot(database: self, txn: tx.txn, name: name)
                var bytes: [String: Int] = [:]
                var entries: [String: Int] = [:]
                let vectors = try snapshot.vectorSnapshot()
                // A multi-vector collection's entries are under its id and its token space's.
                for id in Set([snapshot.id, vectors.id]) {
                    var prefix: [UInt8] = []
                    prefix.appendBigEndian(id)
                    for table in tables.all where table != tables.meta {
                        try tx.txn.withCursor(table) { cursor in
                            var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
                            while let e = entry, e.key.starts(with: prefix) {
                                bytes[table.name, default: 0] += e.key.count + e.value.count
                                entries[table.name, default: 0] += 1
                                entry = try cursor.next()
                            }
                        }
                    }
                }
                collections.append(.init(
                    name: name, schema: snapshot.descriptor.schema, count: Int(snapshot.counters.liveCount),
                    rowCount: Int(snapshot.counters.rowCount), rowsPerBlock: snapshot.descriptor.rowsPerBlock,
                    bytesPerTable: bytes, entriesPerTable: entries,
                    encodings: try EncodingMaintenance.codebooks(vectors).map(\.info),
                    tokens: vectors.id == snapshot.id ? nil : try CollectionReader(snapshot: snapshot).tokenStatistics(),
                    floatsKeptAsInt8: snapshot.descriptor.floatCodesID != nil))
            }
            return StoreReport(
                path: path, formatVersion: try Self.storedFormat(tx.txn, meta: tables.meta), environment: info,
                usedBytes: (info.lastPage + 1) * info.pageSize, tables: tableReports,
                collections: collections, readers: readers)
        }
    }
}

extension Database {
    /// The memory bandwidth of one pass over a collection's vector blocks, in bytes per
    /// second (see ``CollectionReader/measureScanBandwidth(passes:)``).
    public func measureScanBandwidth(collection: String) throws -> Double {
        try read { tx in try tx.collection(collection).measureScanBandwidth() }
    }
}
