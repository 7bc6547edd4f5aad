import QuiverKernels

/// The kernels that score codes: int8 codes against a prepared float query (one u8 dot
/// product), and PQ codes by table lookups. One place that the scans and the graph walks call.
enum CodeKernels {
    /// `Σ q[i] × c[i]` over `count` u8 codes.
    @inline(__always)
    static func dotU8(_ q: UnsafePointer<Float>, _ code: UnsafeRawPointer, count: Int) -> Float {
        let c = code.assumingMemoryBound(to: UInt8.self)
        var s: Float = 0
        for i in 0..<count { s += q[i] * Float(c[i]) }
        return s
    }

    static func dotU8Rows(_ q: UnsafePointer<Float>, _ rows: UnsafeRawPointer, stride: Int, rowCount: Int, dimensions: Int,
                          into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rowCount { out[r] = dotU8(q, rows + r * stride, count: dimensions) }
    }

    static func dotU8Gather(_ q: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<UnsafeRawPointer?>, count: Int, dimensions: Int,
                            into out: UnsafeMutablePointer<Float>) {
        for r in 0..<count { out[r] = dotU8(q, rows[r]!, count: dimensions) }
    }

    /// `Σ_j table[j × 256 + code[j]]`.
    @inline(__always)
    static func pq(_ table: UnsafePointer<Float>, m: Int, _ code: UnsafeRawPointer) -> Float {
        let c = code.assumingMemoryBound(to: UInt8.self)
        var s: Float = 0
        for j in 0..<m { s += table[j &* 256 &+ Int(c[j])] }
        return s
    }

    static func pqRows(_ table: UnsafePointer<Float>, m: Int, _ rows: UnsafeRawPointer, stride: Int, rowCount: Int,
                       into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rowCount { out[r] = pq(table, m: m, rows + r * stride) }
    }

    static func pqGather(_ table: UnsafePointer<Float>, m: Int, _ rows: UnsafeMutablePointer<UnsafeRawPointer?>, count: Int,
                         into out: UnsafeMutablePointer<Float>) {
        for r in 0..<count { out[r] = pq(table, m: m, rows[r]!) }
    }
}
