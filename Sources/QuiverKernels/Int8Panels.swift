import CQuiverKernels

/// A fixed float matrix (a collection's IVF centroids) packed once as int8 panels, so that a
/// batch of float queries scores every row by byte multiply-adds: about twice the speed of
/// ``Kernels/dotBatch(queries:queryCount:queryStride:rows:byteStride:rowCount:dimensions:into:)``
/// from a quarter of the bytes, for scores that are approximate.
///
/// Each row is stored as bytes in -127...127 with its own scale, each query as 7 bits with its
/// own scale; the products are exact integer sums. The error is that of the two
/// quantisations, a few thousandths of `|q| |row|` at 128 dimensions: good for choosing and
/// ranking candidates that are then scored exactly, not for final scores. Every kernel set
/// returns the same bits. The C calls are `qv_i8_panels_pack` and `qv_dot_i8_panels`.
// Safety: the class owns its three buffers, writes them only in init, frees them in deinit,
// and hands them only to the C kernel, which reads within the extents the layout defines.
@safe public final class Int8Panels: @unchecked Sendable {
    /// The rows packed.
    public let rowCount: Int
    /// Floats per row.
    public let dimensions: Int
    private let panels: UnsafeMutablePointer<Int8>
    private let scales: UnsafeMutablePointer<Float>
    private let sums: UnsafeMutablePointer<Int32>

    /// Packs `rowCount` rows of `dimensions` floats, row `r` at `rows + r * stride`.
    /// A row that is zero or holds a non-finite value scores 0 against every query.
    /// - Precondition: counts are non-negative and `stride >= dimensions`.
    public init(rows: UnsafePointer<Float>, rowCount: Int, dimensions: Int, stride: Int) {
        precondition(rowCount >= 0 && dimensions >= 0 && stride >= dimensions, "bad panel extent")
        self.rowCount = rowCount
        self.dimensions = dimensions
        let padded = qv_i8_panels_rows(rowCount)
        panels = .allocate(capacity: max(1, qv_i8_panels_bytes(rowCount, dimensions)))
        scales = .allocate(capacity: max(1, padded))
        sums = .allocate(capacity: max(1, padded))
        // Safety: the three buffers have the extents the C layout asks for.
        unsafe qv_i8_panels_pack(rows, rowCount, dimensions, stride, panels, scales, sums)
    }

    /// Packs `rows`: `rowCount` rows of `dimensions` floats, row-major.
    public convenience init(rows: [Float], dimensions: Int) {
        precondition(dimensions > 0 && rows.count % dimensions == 0, "rows are not whole")
        self.init(rows: rows, rowCount: rows.count / dimensions, dimensions: dimensions, stride: dimensions)
    }

    deinit {
        panels.deallocate()
        scales.deallocate()
        sums.deallocate()
    }

    /// Bytes of scratch ``dot(queries:queryCount:queryStride:scratch:into:)`` needs.
    public func scratchBytes(queryCount: Int) -> Int {
        qv_i8_panels_scratch_bytes(queryCount, dimensions)
    }

    /// Writes `out[r * queryCount + i] ≈ query i · row r` for every row `r` and query `i`
    /// (query `i` at `queries + i * queryStride` floats). A query with a non-finite component
    /// scores 0.
    /// - Parameters:
    ///   - scratch: ``scratchBytes(queryCount:)`` bytes, any alignment.
    ///   - out: `rowCount * queryCount` floats.
    public func dot(queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
                    scratch: UnsafeMutableRawPointer, into out: UnsafeMutablePointer<Float>) {
        precondition(queryCount >= 0 && queryStride >= dimensions, "bad query extent")
        // Safety: reads the queries described and the packed rows, writes the scratch and
        // rowCount * queryCount floats of `out`.
        unsafe qv_dot_i8_panels(queries, queryCount, queryStride, panels, scales, sums, rowCount, dimensions,
                                scratch, out)
    }

    /// The oracle for ``dot(queries:queryCount:queryStride:scratch:into:)``: the same
    /// quantisations and integer sums, one row and one query at a time, in Swift.
    public static func dotReference(queries: [Float], queryCount: Int, rows: [Float], dimensions: Int) -> [Float] {
        func quantised(_ v: ArraySlice<Float>, levels: Float) -> (codes: [Int32], scale: Float) {
            let largest = v.reduce(Float(0)) { max($0, abs($1)) }
            guard largest > 0, v.allSatisfy(\.isFinite) else { return (Array(repeating: 0, count: v.count), 0) }
            // Rounded as the kernel does: ±0.5, then truncated.
            let codes = v.map { x -> Int32 in
                let scaled = x * (levels / largest)
                return max(-Int32(levels), min(Int32(levels), Int32(scaled + (scaled >= 0 ? 0.5 : -0.5))))
            }
            return (codes, largest / levels)
        }
        let rowCount = dimensions == 0 ? 0 : rows.count / dimensions
        var out = [Float](repeating: 0, count: rowCount * queryCount)
        for r in 0..<rowCount {
            let row = quantised(rows[r * dimensions..<(r + 1) * dimensions], levels: 127)
            let rowSum = row.codes.reduce(0, +)
            for i in 0..<queryCount {
                let query = quantised(queries[i * dimensions..<(i + 1) * dimensions], levels: 63)
                // The kernel multiplies the offset codes (c + 64), then takes 64 × Σ row out.
                var sum: Int32 = 0
                for d in 0..<dimensions { sum += (query.codes[d] + 64) * row.codes[d] }
                out[r * queryCount + i] = (Float(sum - 64 * rowSum) * row.scale) * query.scale
            }
        }
        return out
    }
}
