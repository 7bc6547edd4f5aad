import Foundation
import QuiverStorage
import Synchronization

/// A Quiver store: one LMDB environment holding collections of vectors with metadata.
///
/// Open it once per process and share it across threads; it is `Sendable`. Reads run in
/// ``read(_:)`` on a consistent snapshot, writes in ``write(_:)``, one writer at a time,
/// committed when the closure returns. Several processes may open the same store.
///
/// ```swift
/// let db = try Database(path: "store.quiver")
/// try db.createCollection("docs", schema: CollectionSchema(
///     vectors: .float32(dimensions: 3), metric: .cosine,
///     fields: [FieldDefinition("section", .string)]))
/// try db.write { tx in
///     try tx.collection("docs").upsert(key: 1, vector: [0.1, 0.2, 0.3], metadata: ["section": "libs"])
/// }
/// let hits = try db.read { tx in
///     try tx.collection("docs").search([0.1, 0.2, 0.25], k: 10, filter: Field("section") == "libs")
/// }
/// ```
public final class Database: Sendable {
    let environment: Environment
    let tables: StoreTables
    /// Reusable scratch and resolved block addresses for index searches.
    let searchContexts = SearchContextPool()
    private let descriptorCache = Mutex<[String: (bytes: [UInt8], descriptor: CollectionDescriptor)]>([:])

    /// How a store is opened.
    public struct Configuration: Sendable {
        /// Open read-only: writes throw ``QuiverError/Code/readOnly``.
        public var readOnly = false
        /// How commits reach the disk; durable by default.
        public var syncMode = Environment.SyncMode.durable
        /// The initial size of the memory map in bytes. It grows by itself when full, so
        /// this only saves a few early remaps.
        public var initialMapSize = 1 << 30
        /// Creates the default configuration.
        public init() {}
        /// Creates a configuration.
        public init(readOnly: Bool = false, syncMode: Environment.SyncMode = .durable, initialMapSize: Int = 1 << 30) {
            self.readOnly = readOnly
            self.syncMode = syncMode
            self.initialMapSize = initialMapSize
        }
    }

    /// The store's path.
    public var path: String { environment.path }
    /// Whether the store was opened read-only.
    public let isReadOnly: Bool

    /// Opens the store at `path`, creating it (unless read-only) when it does not exist.
    ///
    /// - Throws: ``QuiverError/Code/unsupportedFormat`` for a file that is not a Quiver store or
    ///   was written by a newer format; ``QuiverError/Code/corrupted`` for a damaged or
    ///   truncated file; ``QuiverError/Code/storage`` when LMDB cannot open it.
    public init(path: String, configuration: Configuration = Configuration()) throws {
        let existingSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if configuration.readOnly && existingSize == nil {
            throw QuiverError(.storage, "no store at \(path)")
        }
        var options = Environment.Options()
        options.readOnly = configuration.readOnly
        options.syncMode = configuration.syncMode
        options.mapSize = max(configuration.initialMapSize, (existingSize ?? 0) + (64 << 20))
        environment = try Self.sharedEnvironment(path: path, options: options)
        isReadOnly = configuration.readOnly
        // A data file shorter than the pages LMDB's meta page claims would fault (SIGBUS) when
        // those pages are read: refuse it here with a clear error.
        let info = environment.info()
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int,
           existingSize != nil, size < (info.lastPage + 1) * info.pageSize {
            throw QuiverError(.corrupted, "store file is truncated: \(size) bytes, its pages need \((info.lastPage + 1) * info.pageSize)")
        }
        do {
            try Self.checkOrInitializeFormat(environment)
            tables = try StoreTables(environment: environment)
        } catch let e as StorageError {
            throw QuiverError(e)
        }
    }

    private static func checkOrInitializeFormat(_ environment: Environment) throws {
        let meta = try environment.tables([StoreTables.metaName], create: false)[0]
        if let meta {
            let version: [UInt8]? = try environment.read { txn in
                try StoreTables.formatKey.withUnsafeBytes { try txn.unsafeGet(meta, key: $0).map { Array($0) } }
            }
            if let version {
                guard version.count == 4 else { throw QuiverError(.unsupportedFormat, "format record has \(version.count) bytes") }
                let major = UInt16(version[0]) | UInt16(version[1]) << 8
                let minor = UInt16(version[2]) | UInt16(version[3]) << 8
                guard major == FormatVersion.current.major, minor <= FormatVersion.current.minor else {
                    throw QuiverError(.unsupportedFormat, "store format \(major).\(minor) is not supported by this build (format \(FormatVersion.current)); use a newer Quiver")
                }
                return
            }
        }
        guard !environment.isReadOnly else {
            throw QuiverError(.unsupportedFormat, "not a Quiver store (no format record)")
        }
        // A fresh environment: refuse one that already holds other data.
        let foreign = try environment.writeMainTableCount()
        if foreign > (meta == nil ? 0 : 1) {
            throw QuiverError(.unsupportedFormat, "not a Quiver store: the LMDB environment holds other tables")
        }
        // The tables and the format record in one transaction: a crash leaves all or nothing.
        try environment.write { txn in
            let tables = try (StoreTables.names + StoreTables.indexNames + StoreTables.encodingNames + StoreTables.multiVectorNames).map { try txn.openTable($0, create: true) }
            guard let meta = tables[0] else { preconditionFailure("a write transaction creates tables") }
            var v: [UInt8] = []
            v.appendLittleEndian(FormatVersion.created.major)
            v.appendLittleEndian(FormatVersion.created.minor)
            try StoreTables.formatKey.withUnsafeBytes { k in try v.withUnsafeBytes { try txn.put(meta, key: k, value: $0) } }
        }
    }

    /// Open environments of this process by file identity: LMDB forbids opening one
    /// environment twice in a process (closing the second would drop the first's locks), so a
    /// second `Database` on the same file shares the first's environment.
    private static let openEnvironments = Mutex<[FileIdentity: WeakEnvironment]>([:])

    private struct FileIdentity: Hashable { var device: UInt64; var inode: UInt64 }
    private struct WeakEnvironment { weak var environment: Environment? }

    private static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    private static func sharedEnvironment(path: String, options: Environment.Options) throws -> Environment {
        try openEnvironments.withLock { open in
            if let id = identity(of: path), let existing = open[id]?.environment {
                // A writable environment serves read-only handles too (they refuse writes
                // themselves); a read-only one cannot serve a writable handle.
                guard options.readOnly || !existing.isReadOnly else {
                    throw QuiverError(.invalidArgument, "\(path) is already open read-only in this process; close that handle to open it writable")
                }
                return existing
            }
            let environment: Environment
            do throws(StorageError) { environment = try Environment(path: path, options: options) } catch { throw QuiverError(error) }
            if let id = identity(of: path) { open[id] = WeakEnvironment(environment: environment) }
            open = open.filter { $0.value.environment != nil }
            return environment
        }
    }

    /// The format version stored in the store: 1.0, or 1.1 once it holds an index.
    public var formatVersion: FormatVersion {
        get throws {
            try read { tx in try Self.storedFormat(tx.txn, meta: tables.meta) }
        }
    }

    static func storedFormat(_ txn: Transaction, meta: Table) throws -> FormatVersion {
        guard let raw = try StoreTables.formatKey.withUnsafeBytes({ try txn.unsafeGet(meta, key: $0) }), raw.count == 4 else {
            throw QuiverError(.corrupted, "the format record is missing")
        }
        return FormatVersion(major: UInt16(raw[0]) | UInt16(raw[1]) << 8, minor: UInt16(raw[2]) | UInt16(raw[3]) << 8)
    }

    /// Marks the store with at least `version` (in the write transaction `txn`).
    static func raiseFormat(_ txn: Transaction, meta: Table, to version: FormatVersion) throws {
        let stored = try storedFormat(txn, meta: meta)
        guard stored.minor < version.minor else { return }
        var v: [UInt8] = []
        v.appendLittleEndian(version.major)
        v.appendLittleEndian(version.minor)
        try StoreTables.formatKey.withUnsafeBytes { k in try v.withUnsafeBytes { try txn.put(meta, key: k, value: $0) } }
    }

    /// Runs `body` in a read transaction: a consistent snapshot, never blocked by the writer.
    ///
    /// The transaction and everything read through it must not escape `body`.
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        try QuiverError.wrapping {
            try environment.read { txn in try body(ReadTransaction(database: self, txn: txn)) }
        }
    }

    /// Runs `body` in the write transaction; commits when it returns, rolls back when it throws.
    ///
    /// One writer runs at a time, across threads and processes; others wait. `body` must not
    /// suspend and may run more than once: when the memory map is full the transaction is
    /// rolled back, the map grows, and `body` runs again.
    public func write<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        guard !isReadOnly else { throw QuiverError(.readOnly, "the store was opened read-only") }
        return try QuiverError.wrapping {
            try environment.write { txn in
                let tx = WriteTransaction(database: self, txn: txn)
                let result = try body(tx)
                try tx.flush()
                return result
            }
        }
    }

    /// Creates a collection.
    /// - Throws: ``QuiverError/Code/collectionExists``, ``QuiverError/Code/invalidSchema``.
    public func createCollection(_ name: String, schema: CollectionSchema) throws {
        try write { tx in try tx.createCollection(name, schema: schema) }
    }

    /// Deletes a collection and all its records, vectors and indexes.
    /// - Throws: ``QuiverError/Code/collectionNotFound``.
    public func dropCollection(_ name: String) throws {
        try write { tx in try tx.dropCollection(name) }
    }

    /// The names of all collections, sorted.
    public func collectionNames() throws -> [String] {
        try read { tx in try tx.collectionNames() }
    }

    /// The schema of a collection.
    public func schema(of name: String) throws -> CollectionSchema {
        try read { tx in try tx.collection(name).schema }
    }

    /// Flushes every commit to disk; needed only with ``Environment/SyncMode/noSync``.
    public func sync() throws {
        do { try environment.sync() } catch { throw QuiverError(error) }
    }

    /// Writes a compacted copy of the store to `path` (LMDB: `mdb_env_copy2` with
    /// `MDB_CP_COMPACT`), omitting free pages. `path` must not exist.
    public func compact(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw QuiverError(.invalidArgument, "\(path) exists already")
        }
        do { try environment.copyCompacted(to: path) } catch { throw QuiverError(error) }
    }

    /// Decodes a collection descriptor, reusing the decoded value while its bytes are unchanged.
    func descriptor(named name: String, bytes: UnsafeRawBufferPointer) throws -> CollectionDescriptor {
        if let cached = descriptorCache.withLock({ $0[name] }), cached.bytes.elementsEqual(bytes) {
            return cached.descriptor
        }
        let copy = Array(bytes)
        let descriptor: CollectionDescriptor
        do {
            descriptor = try JSONDecoder().decode(CollectionDescriptor.self, from: Data(copy))
        } catch {
            throw QuiverError(.corrupted, "collection record does not decode: \(error)", collection: name)
        }
        descriptorCache.withLock { $0[name] = (copy, descriptor) }
        return descriptor
    }
}

extension StoreTables {
    static let formatKey: [UInt8] = Array("format".utf8)
    static let nextCollectionKey: [UInt8] = Array("next-collection-id".utf8)
}

extension Environment {
    /// The number of entries in LMDB's main (unnamed) database: one per named table.
    func writeMainTableCount() throws -> Int {
        try read { txn in try txn.mainTableEntryCount() }
    }
}
