import CQuiverKernels

// Kernels over byte codes: u8 scalar-quantised vectors and product-quantisation (PQ) codes.
extension Kernels {
    // MARK: u8 codes

    /// Returns the dot product of a float query and a vector of `UInt8` codes.
    ///
    /// For int8 scalar quantisation, where a stored component is `offset[i] + scale[i] * code[i]`:
    /// fold the scales into the query (`query[i] = q[i] * scale[i]`) and add `Σ q[i] * offset[i]`
    /// once per query. Each code is widened to a float exactly and multiplied in float, so the
    /// result differs from the exact sum only by float rounding, like ``dot(_:_:count:)``.
    /// The C call is `qv_dot_u8`.
    ///
    /// - Parameters:
    ///   - query: `count` floats.
    ///   - codes: `count` bytes, at any address.
    ///   - count: The number of dimensions.
    /// - Returns: The sum of `query[i] * Float(codes[i])`.
    /// - Precondition: `count >= 0`.
    @inlinable
    public static func dotU8(_ query: UnsafePointer<Float>, _ codes: UnsafeRawPointer, count: Int) -> Float {
        precondition(count >= 0, "negative dimension count")
        // Safety: the C kernel reads `count` floats from `query` and `count` bytes from `codes`.
        return unsafe qv_dot_u8(query, codes.assumingMemoryBound(to: UInt8.self), count)
    }

    /// Computes the dot product of a float query with each of `rowCount` consecutive rows of
    /// `UInt8` codes.
    ///
    /// A row of codes is a quarter of the bytes of a float row, so a scan from memory runs about
    /// 2.6 times as many rows per second as ``dotRows(query:rows:byteStride:rowCount:dimensions:into:)``
    /// (384 dimensions, AVX2 on Zen 3: 36-43 against 96-113 ns per row); from cache only about
    /// 1.2 times (26-32 against 32-35 ns: the widening costs most of what the smaller loads
    /// save). The C call is `qv_dot_u8_rows`.
    ///
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - rows: The first row; row `i` starts at `rows + i * byteStride`, at any address.
    ///   - byteStride: Bytes from one row to the next (any value; at least `dimensions`).
    ///   - rowCount: The number of rows.
    ///   - dimensions: Codes per row that take part.
    ///   - out: Receives `rowCount` results, `out[i]` for row `i`.
    /// - Precondition: `rowCount >= 0`, `dimensions >= 0`, `byteStride >= 0`.
    @inlinable
    public static func dotU8Rows(
        query: UnsafePointer<Float>, rows: UnsafeRawPointer, byteStride: Int, rowCount: Int,
        dimensions: Int, into out: UnsafeMutablePointer<Float>
    ) {
        precondition(rowCount >= 0 && dimensions >= 0 && byteStride >= 0, "negative count")
        // Safety: reads rowCount rows of `dimensions` bytes, writes rowCount floats to `out`.
        unsafe qv_dot_u8_rows(query, rows, byteStride, rowCount, dimensions, out)
    }

    /// Computes the dot product of a float query with `count` rows of `UInt8` codes at
    /// arbitrary addresses.
    ///
    /// Four rows at a time share each query load, and the next four rows are prefetched
    /// meanwhile, as in ``dotGather(query:rows:count:dimensions:into:)``. The C call is
    /// `qv_dot_u8_gather`.
    ///
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - rows: `count` addresses of `dimensions` bytes each.
    ///   - count: The number of rows.
    ///   - dimensions: Codes per row.
    ///   - out: Receives `count` results.
    /// - Precondition: `count >= 0`, `dimensions >= 0`.
    @inlinable
    public static func dotU8Gather(
        query: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer?>, count: Int, dimensions: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(count >= 0 && dimensions >= 0, "negative count")
        // Safety: reads `count` row addresses, `dimensions` bytes at each, writes `count` floats.
        unsafe qv_dot_u8_gather(query, rows, count, dimensions, out)
    }

    // MARK: Product quantisation (asymmetric distance computation)

    /// Returns the distance a per-query table gives one PQ code: `Σ_j table[j * 256 + code[j]]`.
    ///
    /// A PQ code has one byte per sub-quantiser: byte `j` is the index of the centroid of
    /// sub-quantiser `j`. The table holds, for the query, one float per sub-quantiser and
    /// centroid (see ``ProductQuantizer/squaredL2Table(query:into:)`` and
    /// ``ProductQuantizer/innerProductTable(query:into:)``).
    ///
    /// Summation order (the same in every instruction set, so results are bit-identical): the
    /// terms of even `j` are summed in increasing `j`, those of odd `j` likewise, and the result
    /// is the even sum plus the odd sum; ``pqDistanceReference(table:code:)`` spells it out.
    /// The C call is `qv_pq_distance`.
    ///
    /// - Parameters:
    ///   - table: `m * 256` floats, `table[j * 256 + c]`.
    ///   - m: The number of sub-quantisers (bytes per code).
    ///   - code: `m` bytes, at any address.
    /// - Returns: The table distance of the code.
    /// - Precondition: `m >= 0`.
    @inlinable
    public static func pqDistance(table: UnsafePointer<Float>, m: Int, code: UnsafeRawPointer) -> Float {
        precondition(m >= 0, "negative sub-quantiser count")
        // Safety: reads `m` bytes of `code` and one float per byte from `table`'s m * 256.
        return unsafe qv_pq_distance(table, m, code.assumingMemoryBound(to: UInt8.self))
    }

    /// Computes the table distance of each of `rowCount` consecutive PQ codes.
    ///
    /// Scores four codes at a time, each read as 8-byte words whose bytes are taken off with
    /// shifts, bound by the float adds (one per byte). At m = 48 on Zen 3 (AVX2, one thread) a
    /// query costs 19-22 ns per code with its table and a top-10, about twice the codes per
    /// second of FAISS `IndexPQ.search`. The C call is `qv_pq_scan_rows`.
    ///
    /// - Parameters:
    ///   - table: `m * 256` floats, `table[j * 256 + c]`.
    ///   - m: The number of sub-quantisers (bytes per code).
    ///   - rows: The first code; code `i` starts at `rows + i * byteStride`, at any address.
    ///   - byteStride: Bytes from one code to the next (any value; at least `m`).
    ///   - rowCount: The number of codes.
    ///   - out: Receives `rowCount` distances, `out[i]` for code `i`, each equal to
    ///     ``pqDistance(table:m:code:)`` of that code.
    /// - Precondition: `m >= 0`, `rowCount >= 0`, `byteStride >= 0`.
    /// - Complexity: O(rowCount · m).
    @inlinable
    public static func pqScanRows(
        table: UnsafePointer<Float>, m: Int, rows: UnsafeRawPointer, byteStride: Int, rowCount: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && rowCount >= 0 && byteStride >= 0, "negative count")
        // Safety: reads rowCount codes of `m` bytes and the table, writes rowCount floats.
        unsafe qv_pq_scan_rows(table, m, rows, byteStride, rowCount, out)
    }

    /// Computes the table distance of `count` PQ codes at arbitrary addresses.
    ///
    /// For graph walks over PQ codes: four codes at a time, the next four prefetched meanwhile.
    /// The C call is `qv_pq_gather`.
    ///
    /// - Parameters:
    ///   - table: `m * 256` floats, `table[j * 256 + c]`.
    ///   - m: The number of sub-quantisers (bytes per code).
    ///   - rows: `count` addresses of `m`-byte codes.
    ///   - count: The number of codes.
    ///   - out: Receives `count` distances, each equal to ``pqDistance(table:m:code:)``.
    /// - Precondition: `m >= 0`, `count >= 0`.
    @inlinable
    public static func pqGather(
        table: UnsafePointer<Float>, m: Int, rows: UnsafePointer<UnsafeRawPointer?>, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && count >= 0, "negative count")
        // Safety: reads `count` addresses, `m` bytes at each and the table, writes `count` floats.
        unsafe qv_pq_gather(table, m, rows, count, out)
    }

    // MARK: Selection

    /// Returns the index of the smallest of `count` floats, the lowest index among equal ones.
    ///
    /// NaN values are skipped; the result is 0 when every value is NaN or `count` is 0. Two
    /// vector passes (the minimum, then the first element equal to it): k-means assignment and
    /// PQ encoding run it over each row of a distance block. The C call is `qv_argmin_f32`.
    ///
    /// - Parameters:
    ///   - values: `count` floats.
    ///   - count: The number of values.
    /// - Returns: The index of the first minimum.
    /// - Precondition: `count >= 0`.
    @inlinable
    public static func argmin(_ values: UnsafePointer<Float>, count: Int) -> Int {
        precondition(count >= 0, "negative count")
        // Safety: reads `count` floats.
        return unsafe Int(qv_argmin_f32(values, count))
    }

    /// Writes to `indices`, ascending, every `i < count` with `values[i] <= limits[i]` (NaN is
    /// never selected), and returns how many. The batched exact scan calls it once per block
    /// row with that row's distances to a tile of queries and each query's current k-th
    /// distance, so a row that enters no query's top k costs a few vector compares. The C call
    /// is `qv_select_at_most`.
    ///
    /// - Parameters:
    ///   - values: `count` floats.
    ///   - limits: `count` floats.
    ///   - count: The number of values.
    ///   - indices: room for `count` indices.
    /// - Returns: The number of indices written.
    @inlinable
    public static func selectAtMost(_ values: UnsafePointer<Float>, limits: UnsafePointer<Float>, count: Int, into indices: UnsafeMutablePointer<UInt32>) -> Int {
        precondition(count >= 0, "negative count")
        // Safety: reads `count` floats from each input, writes at most `count` indices.
        return unsafe Int(qv_select_at_most(values, limits, count, indices))
    }

    // MARK: Reference twins

    /// Returns the dot product of a float query and `UInt8` codes, summed in `Double`: the oracle
    /// for ``dotU8(_:_:count:)``.
    ///
    /// - Precondition: `query.count == codes.count`.
    public static func dotU8Reference(_ query: [Float], _ codes: [UInt8]) -> Float {
        precondition(query.count == codes.count, "dimension mismatch")
        var sum = 0.0
        for i in query.indices { sum += Double(query[i]) * Double(codes[i]) }
        return Float(sum)
    }

    /// Returns the table distance of one PQ code in the kernels' summation order: the oracle for
    /// ``pqDistance(table:m:code:)``, which must match it bit for bit.
    ///
    /// - Parameters:
    ///   - table: `code.count * 256` floats.
    ///   - code: One byte per sub-quantiser.
    /// - Precondition: `table.count >= code.count * 256`.
    public static func pqDistanceReference(table: [Float], code: [UInt8]) -> Float {
        precondition(table.count >= code.count * 256, "table too small")
        var even: Float = 0
        var odd: Float = 0
        for (j, c) in code.enumerated() {
            let term = table[j * 256 + Int(c)]
            if j % 2 == 0 { even += term } else { odd += term }
        }
        return even + odd
    }
}
