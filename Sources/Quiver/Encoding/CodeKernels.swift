import QuiverKernels

/// The kernels that score codes, named for what the engine does with them: int8 codes against
/// a prepared float query (one u8 dot product), and PQ codes and binary codes by table lookups.
/// One place that the scans and the graph walks call; each forwards to its SIMD kernel.
enum CodeKernels {
    /// `Σ q[i] × c[i]` over `count` u8 codes.
    @inline(__always)
    static func dotU8(_ q: UnsafePointer<Float>, _ code: UnsafeRawPointer, count: Int) -> Float {
        Kernels.dotU8(q, code, count: count)
    }

    @inline(__always)
    static func dotU8Rows(_ q: UnsafePointer<Float>, _ rows: UnsafeRawPointer, stride: Int, rowCount: Int, dimensions: Int,
                          into out: UnsafeMutablePointer<Float>) {
        Kernels.dotU8Rows(query: q, rows: rows, byteStride: stride, rowCount: rowCount, dimensions: dimensions, into: out)
    }

    @inline(__always)
    static func dotU8Gather(_ q: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<UnsafeRawPointer?>, count: Int, dimensions: Int,
                            into out: UnsafeMutablePointer<Float>) {
        Kernels.dotU8Gather(query: q, rows: rows, count: count, dimensions: dimensions, into: out)
    }

    /// `Σ_j table[j × 256 + code[j]]`.
    @inline(__always)
    static func pq(_ table: UnsafePointer<Float>, m: Int, _ code: UnsafeRawPointer) -> Float {
        Kernels.pqDistance(table: table, m: m, code: code)
    }

    @inline(__always)
    static func pqRows(_ table: UnsafePointer<Float>, m: Int, _ rows: UnsafeRawPointer, stride: Int, rowCount: Int,
                       into out: UnsafeMutablePointer<Float>) {
        Kernels.pqScanRows(table: table, m: m, rows: rows, byteStride: stride, rowCount: rowCount, into: out)
    }

    @inline(__always)
    static func pqGather(_ table: UnsafePointer<Float>, m: Int, _ rows: UnsafeMutablePointer<UnsafeRawPointer?>, count: Int,
                         into out: UnsafeMutablePointer<Float>) {
        Kernels.pqGather(table: table, m: m, rows: rows, count: count, into: out)
    }
}
