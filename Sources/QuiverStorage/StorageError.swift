import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the storage layer: an LMDB or I/O failure, classified once.
///
/// `StorageError` is what LMDB said, with the operation that said it. The engine wraps it into
/// its public error type; the LMDB return code is kept for diagnostics.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable category to switch on.
    public enum Code: Sendable, Hashable {
        /// LMDB: `MDB_MAP_FULL`. Handled inside ``Environment/write(_:)``; never seen by callers.
        case mapFull
        /// LMDB: `MDB_MAP_RESIZED`. Another process grew the map; handled by retrying.
        case mapResized
        /// LMDB: `MDB_READERS_FULL`. Too many concurrent read transactions.
        case readersFull
        /// LMDB: `MDB_TXN_FULL`. A single transaction touched too many pages.
        case transactionFull
        /// `ENOSPC`, `EDQUOT` or `EFBIG`: the disk (or the file size limit) is full. The
        /// transaction was rolled back.
        case diskFull
        /// LMDB: `MDB_CORRUPTED`, `MDB_PAGE_NOTFOUND`, `MDB_INVALID`: the file is damaged or not
        /// an LMDB environment.
        case corrupted
        /// LMDB: `MDB_VERSION_MISMATCH`: the file was written by an incompatible LMDB.
        case versionMismatch
        /// `ENOENT`: the store does not exist (opening read-only).
        case notFound
        /// `EACCES`, `EROFS`, `EPERM`: no permission, or a read-only file system.
        case permissionDenied
        /// `EAGAIN` or `EBUSY` from the lock file: another process holds a conflicting lock.
        case busy
        /// Any other failure; see ``StorageError/returnCode``.
        case other
    }

    /// The classified failure.
    public var code: Code
    /// The raw LMDB or errno return code.
    public var returnCode: Int32
    /// The storage operation that failed, such as `mdb_put(vectors)`.
    public var operation: String
    /// LMDB's own message for the return code (`mdb_strerror`).
    public var message: String

    /// Creates an error from an LMDB return code.
    public init(returnCode: Int32, operation: String) {
        self.returnCode = returnCode
        self.operation = operation
        self.message = String(cString: mdb_strerror(returnCode))
        self.code = StorageError.classify(returnCode)
    }

    /// Creates an error that did not come from LMDB, such as a size check.
    public init(code: Code, operation: String, message: String) {
        self.code = code
        self.returnCode = 0
        self.operation = operation
        self.message = message
    }

    /// `operation: message (code)`.
    public var description: String { "\(operation): \(message) (\(returnCode))" }

    static func classify(_ rc: Int32) -> Code {
        switch rc {
        case MDB_MAP_FULL: .mapFull
        case MDB_MAP_RESIZED: .mapResized
        case MDB_READERS_FULL: .readersFull
        case MDB_TXN_FULL: .transactionFull
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_BAD_VALSIZE: .corrupted
        case MDB_VERSION_MISMATCH: .versionMismatch
        case ENOSPC, EDQUOT, EFBIG: .diskFull
        case ENOENT: .notFound
        case EACCES, EROFS, EPERM: .permissionDenied
        case EAGAIN, EBUSY: .busy
        default: .other
        }
    }
}

/// Checks an LMDB return code: success returns, codes that only a bug in Quiver can cause trap,
/// everything else throws a classified ``StorageError``.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(StorageError) {
    if rc == MDB_SUCCESS { return }
    try fail(rc, operation())
}

@inline(never)
func fail(_ rc: Int32, _ operation: String) throws(StorageError) -> Never {
    switch rc {
    case MDB_BAD_TXN, MDB_BAD_DBI:
        // Only a bug in Quiver (a handle used after its transaction ended) can cause these.
        preconditionFailure("\(operation): \(String(cString: mdb_strerror(rc)))")
    default:
        throw StorageError(returnCode: rc, operation: operation)
    }
}
