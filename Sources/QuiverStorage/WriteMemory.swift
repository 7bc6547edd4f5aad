import CLMDB

extension Environment {
    /// Has glibc's allocator keep the memory that write transactions free, for the next ones:
    /// for a process that bulk-loads. Process-wide and not undone; returns whether the
    /// allocator took the settings (`false` off glibc, where it does nothing).
    ///
    /// LMDB allocates a write transaction's dirty pages with `malloc` and frees them when it
    /// commits. The pages of one large value (a vector block, 192-256 KiB) are past glibc's
    /// threshold for mapping an allocation on its own (128 KiB at first), and a freed heap
    /// top is handed back to the system, so every commit of an import filled fresh pages and
    /// copied them into the page cache, where the copy then ran at about 0.5 GB/s. With the
    /// threshold at 64 MiB and heap tops kept up to 256 MiB the same pages are reused. The
    /// cost: the process may keep up to 256 MiB of freed memory.
    @discardableResult
    public static func keepFreedWriteMemory() -> Bool {
        quiver_keep_freed_memory(64 << 20, 256 << 20) == 1
    }
}
