import QuiverStorage

extension Database {
    /// Has glibc's allocator keep the memory that write transactions free, for the next
    /// ones: call it once in a process that bulk-loads, before the load. Process-wide and not
    /// undone; returns whether the allocator took the settings (`false` off glibc, where it
    /// does nothing).
    ///
    /// LMDB allocates each commit's dirty pages with `malloc` and frees them after it; with
    /// glibc's defaults a vector block's pages are mapped afresh for every commit and copying
    /// them into the page cache bounds an import. Kept for reuse, 1M × 128 floats through
    /// `quiver bench import` went from a median of 329 to 685 MB/s (five alternated pairs, 2
    /// cores; docs/benchmarks.md). The `quiver` tool does this at start. The cost: the process
    /// may keep up to 256 MiB of freed memory.
    @discardableResult
    public static func tuneAllocatorForBulkWrites() -> Bool {
        Environment.keepFreedWriteMemory()
    }
}
