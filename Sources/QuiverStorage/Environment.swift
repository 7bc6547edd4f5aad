import CLMDB

#if canImport(Glibc)
import Glibc
#endif

/// One LMDB environment: a data file plus its lock file, shared by threads and processes.
///
/// Opened with `MDB_NOSUBDIR | MDB_NOTLS`, so a read transaction is not tied to its thread and
/// Swift tasks may hold several on one thread. Reads run in synchronous closures
/// (``read(_:)``), writes too (``write(_:)``): a write transaction must begin and commit on one
/// OS thread, so a write closure must never suspend.
///
/// The memory map grows by itself. A write that hits `MDB_MAP_FULL` is rolled back, the map is
/// doubled, and the write closure runs again from the start; callers never see the error. Growth
/// needs every transaction of this process closed, so it waits for open read transactions
/// (a read/write lock, shared by transactions, exclusive for growth).
public final class Environment: @unchecked Sendable {
    // Safety: the LMDB env handle is thread-safe (lmdb.h: "an environment may be shared by
    // threads"); map resizing, the only operation that is not, is serialised by `mapLock`.
    let handle: OpaquePointer
    /// The path of the data file.
    public let path: String
    /// Whether the environment was opened read-only.
    public let isReadOnly: Bool
    private let mapLock: UnsafeMutablePointer<pthread_rwlock_t>
    private var tables: [String: Table] = [:]
    /// Bumped (under the exclusive map lock) every time the map is resized, which may move it.
    private let mapGenerationCounter = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private let tablesLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// How commits reach the disk.
    public enum SyncMode: String, Sendable, CaseIterable {
        /// Every commit is flushed (`fsync`) before it returns: durable. The default.
        case durable
        /// The data is flushed, the meta page is not (LMDB: `MDB_NOMETASYNC`): a crash may lose
        /// the last commit but never corrupts the store.
        case noMetaSync
        /// Nothing is flushed (LMDB: `MDB_NOSYNC`): a system crash may lose recent commits;
        /// call ``sync()`` to make everything durable.
        case noSync
    }

    /// Options for opening an environment.
    public struct Options: Sendable {
        /// Open read-only (LMDB: `MDB_RDONLY`).
        public var readOnly = false
        /// How commits reach the disk.
        public var syncMode = SyncMode.durable
        /// The initial size of the memory map in bytes; it grows when full.
        public var mapSize = 1 << 30
        /// The largest number of named tables.
        public var maxTables: UInt32 = 32
        /// The largest number of concurrent read transactions across all processes.
        public var maxReaders: UInt32 = 510
        /// Creates the default options.
        public init() {}
    }

    /// Opens or creates the environment at `path` (a file; LMDB adds `path-lock`).
    ///
    /// - Throws: ``StorageError`` when the file cannot be opened or is not an LMDB environment.
    public init(path: String, options: Options) throws(StorageError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw StorageError(code: .other, operation: "mdb_env_create", message: "no handle") }
        do {
            try check(mdb_env_set_maxdbs(env, options.maxTables), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, max(options.mapSize, 1 << 20)), "mdb_env_set_mapsize")
            var flags = UInt32(MDB_NOSUBDIR | MDB_NOTLS | MDB_NORDAHEAD)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            switch options.syncMode {
            case .durable: break
            case .noMetaSync: flags |= UInt32(MDB_NOMETASYNC)
            case .noSync: flags |= UInt32(MDB_NOSYNC)
            }
            try check(mdb_env_open(env, path, flags, 0o644), "mdb_env_open(\(path))")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.isReadOnly = options.readOnly
        mapLock = .allocate(capacity: 1)
        pthread_rwlock_init(mapLock, nil)
        mapGenerationCounter.initialize(to: 0)
        pthread_mutex_init(tablesLock, nil)
    }

    deinit {
        mdb_env_close(handle)
        pthread_rwlock_destroy(mapLock)
        mapLock.deallocate()
        pthread_mutex_destroy(tablesLock)
        tablesLock.deallocate()
        mapGenerationCounter.deallocate()
    }

    /// Opens (creating it in a writable environment) the named table.
    ///
    /// Handles are opened once and cached: LMDB's `mdb_dbi_open` must not race with itself.
    /// - Returns: the table, or `nil` if it does not exist in a read-only environment.
    public func table(_ name: String) throws -> Table? {
        try tables([name])[0]
    }

    /// Opens several tables at once: existing ones in one read transaction (no writer lock, so
    /// opening a store never waits for another process's long write), missing ones created in
    /// one write transaction (writable environments only).
    /// - Parameter create: whether a writable environment creates missing tables.
    /// - Returns: one table per name, `nil` where it does not exist (and was not created).
    public func tables(_ names: [String], create: Bool = true) throws -> [Table?] {
        var found: [String: Table] = [:]
        pthread_mutex_lock(tablesLock)
        for name in names { found[name] = tables[name] }
        pthread_mutex_unlock(tablesLock)
        var missing = names.filter { found[$0] == nil }
        if !missing.isEmpty {
            // A handle opened in a read transaction survives only if that transaction commits
            // (lmdb.h, mdb_dbi_open), so this one is committed rather than aborted.
            let txn = try beginTransaction(readOnly: true)
            do {
                for name in missing { found[name] = try txn.openTable(name, create: false) }
            } catch {
                end(txn, commit: false)
                throw error
            }
            try check(end(txn, commit: true), "mdb_txn_commit(read)")
            missing = names.filter { found[$0] == nil }
        }
        if !missing.isEmpty && !isReadOnly && create {
            let created = try write { txn in try missing.map { try txn.openTable($0, create: true) } }
            for (name, table) in zip(missing, created) { found[name] = table }
        }
        pthread_mutex_lock(tablesLock)
        for (name, table) in found { tables[name] = table }
        pthread_mutex_unlock(tablesLock)
        return names.map { found[$0] }
    }

    /// Runs `body` in a read-only transaction: a consistent snapshot of the last commit.
    ///
    /// Bytes read inside are valid until `body` returns; the transaction must not escape it.
    /// Never start a ``write(_:)`` from inside `body` on the same thread: a write that must
    /// grow the map waits for every reader of this process to finish.
    public func read<R>(_ body: (Transaction) throws -> R) throws -> R {
        let txn = try beginTransaction(readOnly: true)
        defer { end(txn, commit: false) }
        return try body(txn)
    }

    /// Runs `body` in the write transaction and commits when it returns; rolls back when it
    /// throws.
    ///
    /// When the map is full (at a put or at commit) the transaction is rolled back, the map
    /// grows, and `body` runs again: it must be safe to run more than once (derive everything
    /// it writes from its inputs, not from effects of an earlier attempt). An error thrown by
    /// `body` counts as map-full when it is a ``StorageError`` with code ``StorageError/Code/mapFull``
    /// or wraps one (``StorageErrorWrapping``).
    public func write<R>(_ body: (Transaction) throws -> R) throws -> R {
        precondition(!isReadOnly, "write on a read-only environment")
        var attempt = 0
        while true {
            attempt += 1
            let txn = try beginTransaction(readOnly: false)
            let result: R
            do {
                result = try body(txn)
            } catch where isMapFull(error) && attempt < 64 {
                end(txn, commit: false)
                try grow()
                continue
            } catch {
                end(txn, commit: false)
                throw error
            }
            let rc = end(txn, commit: true)
            if rc == MDB_MAP_FULL && attempt < 64 {
                try grow()
                continue
            }
            if rc == EIO, isOutOfSpace() {
                // LMDB reports a short write as EIO; here the cause is a full disk or file-size
                // limit. The commit did not happen (the meta page is written last).
                throw StorageError(code: .diskFull, operation: "mdb_txn_commit", message: "no space left for the commit (disk or file-size limit full)")
            }
            try check(rc, "mdb_txn_commit")
            return result
        }
    }

    /// Whether the file system holding the store has under 64 MiB free, or the process's
    /// file-size limit (`RLIMIT_FSIZE`) is within 64 MiB of the data file's size.
    private func isOutOfSpace() -> Bool {
        let margin: UInt64 = 64 << 20
        var fs = statvfs()
        if statvfs(path, &fs) == 0, UInt64(fs.f_bavail) * UInt64(fs.f_frsize) < margin { return true }
        var limit = rlimit()
        var info = stat()
        if getrlimit(RLIMIT_FSIZE_VALUE, &limit) == 0, limit.rlim_cur != rlim_t.max, stat(path, &info) == 0,
           UInt64(info.st_size) + margin >= UInt64(limit.rlim_cur) {
            return true
        }
        return false
    }

    private func isMapFull(_ error: any Error) -> Bool {
        if let e = error as? StorageError { return e.code == .mapFull }
        if let e = error as? any StorageErrorWrapping { return e.storageError?.code == .mapFull }
        return false
    }

    /// Commits or aborts `txn` (both free it) and releases the shared map lock.
    @discardableResult
    private func end(_ txn: Transaction, commit: Bool) -> Int32 {
        var rc: Int32 = 0
        if commit { rc = mdb_txn_commit(txn.handle) } else { mdb_txn_abort(txn.handle) }
        pthread_rwlock_unlock(mapLock)
        return rc
    }

    /// Begins a transaction holding the map lock shared; adopts a map grown by another process.
    private func beginTransaction(readOnly: Bool) throws(StorageError) -> Transaction {
        while true {
            pthread_rwlock_rdlock(mapLock)
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
            if rc == MDB_SUCCESS, let txn { return Transaction(handle: txn, isReadOnly: readOnly) }
            pthread_rwlock_unlock(mapLock)
            if rc == MDB_MAP_RESIZED {
                try resizeMap(to: 0)
                continue
            }
            try fail(rc, readOnly ? "mdb_txn_begin(read)" : "mdb_txn_begin(write)")
        }
    }

    /// Doubles the map (at least +64 MiB).
    private func grow() throws(StorageError) {
        let current = info().mapSize
        let target = max(current * 2, current + (64 << 20))
        try resizeMap(to: target)
    }

    private func resizeMap(to bytes: Int) throws(StorageError) {
        pthread_rwlock_wrlock(mapLock)
        defer { pthread_rwlock_unlock(mapLock) }
        // LMDB: "may only be called if no transactions are active in this process" — the
        // exclusive lock guarantees it. 0 adopts the size another process set.
        try check(mdb_env_set_mapsize(handle, bytes), "mdb_env_set_mapsize(\(bytes))")
        mapGenerationCounter.pointee &+= 1
    }

    /// A number that changes whenever the memory map may have moved (it is resized).
    ///
    /// Pointers into the map that a caller keeps across transactions (for example a table of
    /// block addresses for one snapshot) stay valid while this number and the snapshot's
    /// ``Transaction/snapshotID`` are unchanged. Read it inside a transaction: resizing waits
    /// for every open transaction of this process, so it cannot change during one.
    public var mapGeneration: UInt64 { mapGenerationCounter.pointee }

    /// Runs `body` with commits that flush data pages but not the meta page (LMDB:
    /// `MDB_NOMETASYNC`, set with `mdb_env_set_flags`), then flushes everything: one `fsync`
    /// per commit instead of two, still never corrupting on a system crash (which may undo the
    /// last commits made inside `body`), and durable when it returns. For bulk loads.
    public func withDeferredMetaSync<R>(_ body: () throws -> R) throws -> R {
        var flags: UInt32 = 0
        mdb_env_get_flags(handle, &flags)
        guard !isReadOnly, flags & UInt32(MDB_NOSYNC | MDB_NOMETASYNC) == 0 else { return try body() }
        try check(mdb_env_set_flags(handle, UInt32(MDB_NOMETASYNC), 1), "mdb_env_set_flags")
        defer { mdb_env_set_flags(handle, UInt32(MDB_NOMETASYNC), 0) }
        let result = try body()
        try sync()
        return result
    }

    /// Flushes everything to disk (LMDB: `mdb_env_sync` with force).
    public func sync() throws(StorageError) {
        try check(mdb_env_sync(handle, 1), "mdb_env_sync")
    }

    /// Writes a compacted copy of the environment to `path` (LMDB: `mdb_env_copy2` with
    /// `MDB_CP_COMPACT`): free pages are omitted and pages renumbered. The destination must
    /// not exist.
    public func copyCompacted(to path: String) throws(StorageError) {
        try check(mdb_env_copy2(handle, path, UInt32(MDB_CP_COMPACT)), "mdb_env_copy2(\(path))")
    }

    /// Sizes of the environment (LMDB: `mdb_env_info`, `mdb_env_stat`).
    public struct Info: Sendable, Hashable {
        /// The size of the memory map in bytes.
        public var mapSize: Int
        /// The page size in bytes.
        public var pageSize: Int
        /// The number of the last page used, so `(lastPage + 1) * pageSize` bytes are in use.
        public var lastPage: Int
        /// The last committed transaction id.
        public var lastTransaction: Int
        /// The largest number of reader slots.
        public var maxReaders: Int
        /// The number of reader slots in use.
        public var readers: Int
    }

    /// Sizes of the environment.
    public func info() -> Info {
        var i = MDB_envinfo()
        mdb_env_info(handle, &i)
        var s = MDB_stat()
        mdb_env_stat(handle, &s)
        return Info(
            mapSize: i.me_mapsize, pageSize: Int(s.ms_psize), lastPage: i.me_last_pgno,
            lastTransaction: i.me_last_txnid, maxReaders: Int(i.me_maxreaders),
            readers: Int(i.me_numreaders))
    }

    /// The reader lock table as LMDB prints it (`mdb_reader_list`): one line per open reader
    /// with its process, thread and the transaction it pins.
    public func readerList() -> [String] {
        final class Lines { var lines: [String] = [] }
        let box = Lines()
        let context = Unmanaged.passUnretained(box).toOpaque()
        mdb_reader_list(handle, { message, context in
            guard let message, let context else { return 0 }
            let box = Unmanaged<Lines>.fromOpaque(context).takeUnretainedValue()
            box.lines.append(String(cString: message).trimmingTrailingNewline())
            return 0
        }, context)
        return box.lines
    }

    /// Clears reader slots left by dead processes (LMDB: `mdb_reader_check`).
    /// - Returns: the number of slots cleared.
    public func clearStaleReaders() -> Int {
        var dead: Int32 = 0
        mdb_reader_check(handle, &dead)
        return Int(dead)
    }
}

#if canImport(Glibc)
private let RLIMIT_FSIZE_VALUE = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
#else
private let RLIMIT_FSIZE_VALUE = RLIMIT_FSIZE
#endif

extension String {
    fileprivate func trimmingTrailingNewline() -> String {
        var s = self
        while s.last == "\n" { s.removeLast() }
        return s
    }
}
