import CQuiverKernels

extension Kernels {
    /// Computes the dot product of a query with `count` rows at arbitrary addresses.
    ///
    /// Four rows at a time share each query load and keep four streams of reads in flight:
    /// the shape of a graph search, which scores a node's scattered neighbours together. The C
    /// call is `qv_dot_f32_gather`.
    ///
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - rows: `count` addresses of `dimensions` floats each, possibly unaligned.
    ///   - out: receives `count` results.
    @inlinable
    public static func dotGather(query: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer?>, count: Int,
                                 dimensions: Int, into out: UnsafeMutablePointer<Float>) {
        unsafe qv_dot_f32_gather(query, rows, count, dimensions, out)
    }

    /// Squared Euclidean distances of a query to `count` rows at arbitrary addresses; see
    /// ``dotGather(query:rows:count:dimensions:into:)``. The C call is `qv_l2sq_f32_gather`.
    @inlinable
    public static func squaredL2Gather(query: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer?>, count: Int,
                                       dimensions: Int, into out: UnsafeMutablePointer<Float>) {
        unsafe qv_l2sq_f32_gather(query, rows, count, dimensions, out)
    }

    /// Asks the CPU to bring `lines` cache lines at `pointer` into cache; never faults.
    ///
    /// A graph search calls it for the next neighbour's vector while it scores the current one,
    /// so that the memory latency of a hop overlaps the arithmetic. The C call is `qv_prefetch`.
    @inlinable
    public static func prefetch(_ pointer: UnsafeRawPointer, lines: Int) {
        unsafe qv_prefetch(pointer, lines)
    }
}

/// A fixed array of one-byte spin locks, for the per-node locks of a parallel graph build.
///
/// One byte per node keeps a million locks in a megabyte; each is held for the few hundred
/// nanoseconds it takes to copy or rewrite one neighbour list, which is why spinning beats a
/// mutex here. Not `Sendable` by itself: share it between threads that the caller joins.
public final class SpinLocks: @unchecked Sendable {
    // Safety: every access to `bytes` after init goes through atomic C builtins.
    @usableFromInline let bytes: UnsafeMutablePointer<UInt8>
    /// The number of locks.
    public let count: Int

    /// Creates `count` unlocked locks.
    public init(count: Int) {
        self.count = max(count, 1)
        bytes = .allocate(capacity: self.count)
        bytes.initialize(repeating: 0, count: self.count)
    }

    deinit { bytes.deallocate() }

    /// Runs `body` holding lock `index`.
    @inlinable
    public func withLock<R>(_ index: Int, _ body: () throws -> R) rethrows -> R {
        unsafe qv_spin_lock(bytes + index)
        defer { unsafe qv_spin_unlock(bytes + index) }
        return try body()
    }
}

/// A 64-bit counter shared by threads (work sharing: each thread takes the next chunk).
public final class AtomicCounter: @unchecked Sendable {
    // Safety: accessed only through atomic C builtins.
    @usableFromInline let value: UnsafeMutablePointer<UInt64>

    /// Creates a counter holding `initial`.
    public init(_ initial: UInt64 = 0) {
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
    }

    deinit { value.deallocate() }

    /// Adds `amount` and returns the value before the addition.
    @inlinable
    public func fetchAdd(_ amount: UInt64) -> UInt64 {
        unsafe qv_fetch_add(value, amount)
    }
}
