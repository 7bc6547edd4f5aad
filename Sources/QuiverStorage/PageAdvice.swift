import CLMDB

/// Advice to the kernel about pages of the memory map a search is about to read.
public enum PageAdvice {
    /// Starts reading the pages under `count` ranges of `bytes` bytes (range `i` at
    /// `starts[i]`), all at once: a shortlist's rows, before they are scored.
    ///
    /// When the store is larger than memory, the rows a rescoring reads are scattered pages
    /// that are often on disk; read by faults, each waits for the one before. Asked for
    /// together (one vectored `MADV_WILLNEED` on Linux), their reads overlap. Pages already in
    /// memory still cost a lookup each (about half a microsecond), which is why searches ask
    /// through ``Adaptive``. Where the kernel refuses the advice, or off Linux, nothing happens
    /// and the rows are read as before.
    /// - Returns: whether the kernel took the advice.
    @discardableResult
    public static func willNeed(_ starts: UnsafePointer<UnsafeRawPointer?>, count: Int, bytes: Int) -> Bool {
        guard count > 0 else { return true }
        #if os(Linux)
        // Safety: the ranges are only advised, never dereferenced by the call.
        return unsafe quiver_will_need(starts, nil, count, bytes) == 0
        #else
        return false
        #endif
    }

    /// ``willNeed(_:count:bytes:)`` for ranges of different lengths: range `i` is
    /// `lengths[i]` bytes at `starts[i]` (an IVF search's probed lists).
    @discardableResult
    public static func willNeed(_ starts: UnsafePointer<UnsafeRawPointer?>, lengths: UnsafePointer<Int>, count: Int) -> Bool {
        guard count > 0 else { return true }
        #if os(Linux)
        // Safety: as above (size_t is Int in Swift).
        return unsafe quiver_will_need(starts, lengths, count, 0) == 0
        #else
        return false
        #endif
    }

    /// Major page faults (pages read from disk) of the calling thread so far; 0 where unknown.
    public static func threadMajorFaults() -> Int {
        #if os(Linux)
        max(0, quiver_thread_major_faults())
        #else
        0
        #endif
    }

    /// Advice only while it pays: a read that faulted turns it on for the next ``span`` reads,
    /// after which one read goes without it to see whether its pages still fault. A store that
    /// fits in memory pays two `getrusage` calls per read; one that does not has 1 read in
    /// ``span`` + 1 waiting on its faults in turn. Keep one per kind of read (rescoring rows,
    /// IVF lists), in the state a reader reuses from search to search.
    ///
    /// Measured on debian (IVF-PQ, 128 lists probed and 80 rows rescored per query): advice on
    /// every rescoring cost 10% of the queries/s with the store in memory, this costs nothing
    /// measurable; with the store's pages limited to 1/8 of the float vectors, the rows and
    /// lists advised this way give 3.4 times the queries/s of faulting (docs/benchmarks.md).
    public struct Adaptive: Sendable {
        /// Reads advised after one that faulted.
        public static let span = 64
        /// Reads still to advise; 0 means the next read goes without advice and is watched.
        var remaining = 0

        /// Whether the next read is advised.
        public var isAdvising: Bool { remaining > 0 }

        /// Creates an advisor that starts with the advice off.
        public init() {}

        /// Runs `read`; first `advise` (a ``PageAdvice/willNeed(_:count:bytes:)`` for the
        /// pages `read` will touch) when the advice is on.
        public mutating func read<R>(advising advise: () -> Void, _ read: () throws -> R) rethrows -> R {
            if remaining > 0 {
                remaining -= 1
                advise()
                return try read()
            }
            let before = threadMajorFaults()
            let result = try read()
            if threadMajorFaults() > before { remaining = Self.span }
            return result
        }
    }
}
