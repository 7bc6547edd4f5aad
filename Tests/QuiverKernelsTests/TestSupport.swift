import CQuiverKernels
import QuiverKernels

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator, so every failure can be
/// replayed from the seed printed in its message.
struct SplitMix64: RandomNumberGenerator {
    let seed: UInt64
    private var state: UInt64

    init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Floats uniform in [-1, 1), with 24 random bits each.
    mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(Int32(truncatingIfNeeded: next() >> 40) - (1 << 23)) / Float(1 << 23) }
    }

    mutating func words(_ count: Int) -> [UInt64] {
        (0..<count).map { _ in next() }
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next() >> 56) }
    }
}

/// One implementation of the kernels: the dispatched public API, or one instruction set's table.
struct KernelSet: Sendable, CustomStringConvertible {
    let name: String

    var description: String { name }

    /// "dispatched" (the `Kernels` wrappers) plus every table this machine can run.
    static let all: [KernelSet] = {
        let candidates: [String] = ["scalar", "sse2", "avx2", "avx512", "neon"]
        let isas = candidates.filter { unsafe qv_kernel_table_for_isa($0) != nil }
        return [KernelSet(name: "dispatched")] + isas.map { KernelSet(name: $0) }
    }()

    var table: UnsafePointer<qv_kernel_table>? {
        name == "dispatched" ? nil : unsafe qv_kernel_table_for_isa(name)
    }

    func dot(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer, _ n: Int) -> Float {
        guard let table = unsafe table else { return unsafe Kernels.dot(a, b, count: n) }
        return unsafe table.pointee.dot_f32(a, b.assumingMemoryBound(to: Float.self), n)
    }

    func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer, _ n: Int) -> Float {
        guard let table = unsafe table else { return unsafe Kernels.squaredL2(a, b, count: n) }
        return unsafe table.pointee.l2sq_f32(a, b.assumingMemoryBound(to: Float.self), n)
    }

    func dotAndSquaredNorm(_ a: UnsafePointer<Float>, _ b: UnsafeRawPointer, _ n: Int) -> (dot: Float, squaredNorm: Float) {
        guard let table = unsafe table else { return unsafe Kernels.dotAndSquaredNorm(a, b, count: n) }
        var dot: Float = 0
        var norm: Float = 0
        unsafe table.pointee.dot_norm_f32(a, b.assumingMemoryBound(to: Float.self), n, &dot, &norm)
        return (dot, norm)
    }

    func dotGather(_ q: UnsafePointer<Float>, _ rows: UnsafePointer<UnsafeRawPointer?>, _ count: Int, _ n: Int,
                   _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.dotGather(query: q, rows: rows, count: count, dimensions: n, into: out)
        }
        unsafe table.pointee.dot_f32_gather(q, rows, count, n, out)
    }

    func squaredL2Gather(_ q: UnsafePointer<Float>, _ rows: UnsafePointer<UnsafeRawPointer?>, _ count: Int, _ n: Int,
                         _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.squaredL2Gather(query: q, rows: rows, count: count, dimensions: n, into: out)
        }
        unsafe table.pointee.l2sq_f32_gather(q, rows, count, n, out)
    }

    func hamming(_ a: UnsafePointer<UInt64>, _ b: UnsafeRawPointer, _ words: Int) -> UInt32 {
        guard let table = unsafe table else { return unsafe Kernels.hamming(a, b, words: words) }
        return unsafe table.pointee.hamming_u64(a, b.assumingMemoryBound(to: UInt64.self), words)
    }

    func dotRows(_ q: UnsafePointer<Float>, _ rows: RowBuffer, _ n: Int, _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.dotRows(query: q, rows: rows.base, byteStride: rows.stride, rowCount: rows.count,
                                          dimensions: n, into: out)
        }
        unsafe table.pointee.dot_f32_rows(q, rows.base, rows.stride, rows.count, n, out)
    }

    func squaredL2Rows(_ q: UnsafePointer<Float>, _ rows: RowBuffer, _ n: Int, _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.squaredL2Rows(query: q, rows: rows.base, byteStride: rows.stride,
                                                rowCount: rows.count, dimensions: n, into: out)
        }
        unsafe table.pointee.l2sq_f32_rows(q, rows.base, rows.stride, rows.count, n, out)
    }

    func dotAndSquaredNormRows(_ q: UnsafePointer<Float>, _ rows: RowBuffer, _ n: Int,
                               _ dots: UnsafeMutablePointer<Float>, _ norms: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.dotAndSquaredNormRows(query: q, rows: rows.base, byteStride: rows.stride,
                                                        rowCount: rows.count, dimensions: n, dots: dots,
                                                        squaredNorms: norms)
        }
        unsafe table.pointee.dot_norm_f32_rows(q, rows.base, rows.stride, rows.count, n, dots, norms)
    }

    func hammingRows(_ q: UnsafePointer<UInt64>, _ rows: RowBuffer, _ words: Int, _ out: UnsafeMutablePointer<UInt32>) {
        guard let table = unsafe table else {
            return unsafe Kernels.hammingRows(query: q, rows: rows.base, byteStride: rows.stride,
                                              rowCount: rows.count, words: words, into: out)
        }
        unsafe table.pointee.hamming_rows(q, rows.base, rows.stride, rows.count, words, out)
    }

    func batch(l2: Bool, _ queries: UnsafePointer<Float>, _ queryCount: Int, _ queryStride: Int,
               _ rows: RowBuffer, _ n: Int, _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            if l2 {
                unsafe Kernels.squaredL2Batch(queries: queries, queryCount: queryCount, queryStride: queryStride,
                                              rows: rows.base, byteStride: rows.stride, rowCount: rows.count,
                                              dimensions: n, into: out)
            } else {
                unsafe Kernels.dotBatch(queries: queries, queryCount: queryCount, queryStride: queryStride,
                                        rows: rows.base, byteStride: rows.stride, rowCount: rows.count,
                                        dimensions: n, into: out)
            }
            return
        }
        let kernel = unsafe l2 ? table.pointee.l2sq_f32_batch : table.pointee.dot_f32_batch
        unsafe kernel(queries, queryCount, queryStride, rows.base, rows.stride, rows.count, n, out)
    }

    func dotU8(_ q: UnsafePointer<Float>, _ codes: UnsafeRawPointer, _ n: Int) -> Float {
        guard let table = unsafe table else { return unsafe Kernels.dotU8(q, codes, count: n) }
        return unsafe table.pointee.dot_u8(q, codes.assumingMemoryBound(to: UInt8.self), n)
    }

    func dotU8Rows(_ q: UnsafePointer<Float>, _ rows: RowBuffer, _ n: Int, _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.dotU8Rows(query: q, rows: rows.base, byteStride: rows.stride, rowCount: rows.count,
                                            dimensions: n, into: out)
        }
        unsafe table.pointee.dot_u8_rows(q, rows.base, rows.stride, rows.count, n, out)
    }

    func dotU8Gather(_ q: UnsafePointer<Float>, _ rows: UnsafePointer<UnsafeRawPointer?>, _ count: Int, _ n: Int,
                     _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.dotU8Gather(query: q, rows: rows, count: count, dimensions: n, into: out)
        }
        unsafe table.pointee.dot_u8_gather(q, rows, count, n, out)
    }

    func pqDistance(_ t: UnsafePointer<Float>, _ m: Int, _ code: UnsafeRawPointer) -> Float {
        guard let table = unsafe table else { return unsafe Kernels.pqDistance(table: t, m: m, code: code) }
        return unsafe table.pointee.pq_distance(t, m, code.assumingMemoryBound(to: UInt8.self))
    }

    func pqScanRows(_ t: UnsafePointer<Float>, _ m: Int, _ rows: RowBuffer, _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.pqScanRows(table: t, m: m, rows: rows.base, byteStride: rows.stride,
                                             rowCount: rows.count, into: out)
        }
        unsafe table.pointee.pq_scan_rows(t, m, rows.base, rows.stride, rows.count, out)
    }

    func pqGather(_ t: UnsafePointer<Float>, _ m: Int, _ rows: UnsafePointer<UnsafeRawPointer?>, _ count: Int,
                  _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            return unsafe Kernels.pqGather(table: t, m: m, rows: rows, count: count, into: out)
        }
        unsafe table.pointee.pq_gather(t, m, rows, count, out)
    }

    /// The PQ table kernels (no Swift wrapper: ProductQuantizer calls them).
    func pqTable(l2: Bool, _ query: UnsafePointer<Float>, _ columns: UnsafePointer<Float>, _ m: Int, _ sub: Int,
                 _ out: UnsafeMutablePointer<Float>) {
        guard let table = unsafe table else {
            if l2 { unsafe qv_pq_table_l2sq(query, columns, m, sub, out) } else { unsafe qv_pq_table_dot(query, columns, m, sub, out) }
            return
        }
        let kernel = unsafe l2 ? table.pointee.pq_table_l2sq : table.pointee.pq_table_dot
        unsafe kernel(query, columns, m, sub, out)
    }

    func argmin(_ values: UnsafePointer<Float>, _ count: Int) -> Int {
        guard let table = unsafe table else { return unsafe Kernels.argmin(values, count: count) }
        return unsafe Int(table.pointee.argmin_f32(values, count))
    }

    func selectAtMost(_ values: UnsafePointer<Float>, _ limits: UnsafePointer<Float>, _ count: Int, _ indices: UnsafeMutablePointer<UInt32>) -> Int {
        guard let table = unsafe table else { return unsafe Kernels.selectAtMost(values, limits: limits, count: count, into: indices) }
        return unsafe Int(table.pointee.select_at_most(values, limits, count, indices))
    }

    func maxSim(_ q: UnsafePointer<Float>, _ queryCount: Int, _ tokens: UnsafePointer<UnsafeRawPointer>,
                _ tokenCount: Int, _ n: Int, _ best: UnsafeMutablePointer<Float>) -> Float {
        guard let table = unsafe table else {
            return unsafe Kernels.maxSim(query: q, queryCount: queryCount, tokens: tokens, tokenCount: tokenCount,
                                         dimensions: n, best: best)
        }
        return unsafe table.pointee.maxsim_f32(q, queryCount, tokens, tokenCount, n, best)
    }

    func centroidInteraction(_ scores: UnsafePointer<Float>, _ queryCount: Int, _ lists: UnsafeRawPointer, _ count: Int,
                             _ listCount: UInt32) -> Float {
        guard let table = unsafe table else {
            return unsafe Kernels.centroidInteraction(scores: scores, queryCount: queryCount, lists: lists, count: count,
                                                      listCount: listCount)
        }
        return unsafe table.pointee.centroid_interaction(scores, queryCount, lists, count, listCount)
    }

    func bestLists(_ scores: UnsafePointer<Float>, _ queryCount: Int, _ listCount: Int, _ probes: Int,
                   _ values: UnsafeMutablePointer<Float>, _ lists: UnsafeMutablePointer<UInt32>) {
        guard let table = unsafe table else {
            return unsafe Kernels.bestLists(scores: scores, queryCount: queryCount, listCount: listCount, probes: probes,
                                            values: values, lists: lists)
        }
        unsafe table.pointee.best_lists(scores, queryCount, listCount, probes, values, lists)
    }

    func poolDistances(_ coordinates: UnsafePointer<Double>, _ count: Int, _ dimensions: Int,
                       _ norms: UnsafeMutablePointer<Double>, _ transposed: UnsafeMutablePointer<Double>,
                       _ out: UnsafeMutablePointer<Double>) {
        guard let table = unsafe table else {
            return unsafe Kernels.poolDistances(coordinates: coordinates, count: count, dimensions: dimensions, norms: norms,
                                                transposed: transposed, into: out)
        }
        unsafe table.pointee.pool_distances(coordinates, count, dimensions, norms, transposed, out)
    }

    func readBandwidth(_ bytes: UnsafeRawBufferPointer) -> Double {
        guard let table = unsafe table else { return unsafe Kernels.readBandwidth(bytes) }
        return unsafe table.pointee.read_bandwidth(bytes.baseAddress!, bytes.count)
    }
}

/// Rows copied into raw memory at a chosen byte stride and misalignment, as LMDB hands them out.
// Safety: the class owns its allocation, frees it in deinit, and writes only inside it.
@safe final class RowBuffer {
    let count: Int
    let stride: Int
    private let allocation: UnsafeMutableRawPointer
    let base: UnsafeMutableRawPointer

    /// - Parameters:
    ///   - rows: The rows' contents; each must fit in `stride` bytes.
    ///   - stride: Bytes from one row to the next.
    ///   - offset: Bytes added to a 64-byte-aligned address, to misalign the rows.
    init<Element: BitwiseCopyable>(_ rows: [[Element]], stride: Int, offset: Int) {
        count = rows.count
        self.stride = stride
        let size = Swift.max(1, rows.count * stride + offset + 64)
        unsafe allocation = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        unsafe allocation.initializeMemory(as: UInt8.self, repeating: 0xA5, count: size)  // garbage padding
        unsafe base = allocation + offset
        for (r, row) in rows.enumerated() {
            precondition(row.count * MemoryLayout<Element>.stride <= stride, "row wider than stride")
            for (i, value) in row.enumerated() {
                unsafe base.storeBytes(of: value, toByteOffset: r * stride + i * MemoryLayout<Element>.stride,
                                       as: Element.self)
            }
        }
    }

    deinit { unsafe allocation.deallocate() }
}

/// Copies `values` to a 64-byte-aligned address plus `offset` bytes and lends the raw pointer.
func withMisaligned<Element: BitwiseCopyable, R>(
    _ values: [Element], offset: Int, _ body: (UnsafeRawPointer) throws -> R
) rethrows -> R {
    let buffer = RowBuffer([values], stride: Swift.max(1, values.count * MemoryLayout<Element>.stride), offset: offset)
    return try withExtendedLifetime(buffer) { try unsafe body(buffer.base) }
}

/// Whether `got` is within `relative` of `expected`, measured against `scale` (the sum of the
/// magnitudes of the terms, which bounds the rounding error of any summation order).
func isClose(_ got: Float, _ expected: Float, scale: Double, relative: Double = 1e-4) -> Bool {
    abs(Double(got) - Double(expected)) <= relative * scale + 1e-30
}

/// Σ |a[i] * b[i]|: the error scale of a dot product.
func magnitudeSum(_ a: [Float], _ b: [Float]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += abs(Double(a[i]) * Double(b[i])) }
    return sum
}
