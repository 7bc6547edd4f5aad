import QuiverStorage

extension Database {
    /// Has glibc's allocator keep the memory that write transactions free, for the next
    /// ones: call it once in a process that bulk-loads, before the load. Process-wide and not
    /// undone; returns whether the allocator took the settings (`false` off glibc, where it
    /// does nothing). Why it matters and what it costs: ``Environment/keepFreedWriteMemory()``.
    ///
    /// The `quiver` tool does this at start: 1M × 128 floats through `quiver bench import`, five
    /// alternated pairs of the binaries before and after, went from a median of 327 to 488 MB/s
    /// (2 cores; docs/benchmarks.md).
    @discardableResult
    public static func tuneAllocatorForBulkWrites() -> Bool {
        Environment.keepFreedWriteMemory()
    }
}
