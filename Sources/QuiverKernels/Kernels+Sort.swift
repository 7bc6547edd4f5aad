import CQuiverKernels

extension Kernels {
    /// Sorts `values` ascending: a radix sort in C (`qv_sort_u32`), several times faster than
    /// the standard library's sort on the few hundred to few thousand rows a search gathers.
    public static func sort(_ values: inout [UInt32]) {
        let count = values.count
        guard count > 1 else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { scratch in
                // Safety: both buffers hold `count` elements.
                unsafe qv_sort_u32(buffer.baseAddress!, count, scratch.baseAddress!)
            }
        }
    }
}
