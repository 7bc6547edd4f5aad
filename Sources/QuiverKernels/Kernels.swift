import CQuiverKernels

/// Distance kernels over float32 vectors, packed bit codes, u8 codes and product-quantisation
/// codes (the last two in `Kernels+Codes.swift`), and the MaxSim of multi-vector (ColBERT)
/// queries (`Kernels+MaxSim.swift`), run with the widest instruction set the CPU offers.
///
/// Each function is a thin wrapper over one C function of `CQuiverKernels` (named in its
/// documentation). The C side picks AVX-512, AVX2+FMA, SSE2 or plain C once per process, on the
/// first call, from `__builtin_cpu_supports`; ``isa`` tells which. Hot loops call these
/// wrappers directly, so they are `@inlinable` and check only their counts.
///
/// Memory rules shared by all kernels:
/// - Stored vectors are read through `UnsafeRawPointer` and may be unaligned (LMDB values
///   are); the kernels use unaligned loads. Queries are Swift-owned `Float` or `UInt64` buffers.
/// - Row kernels read `rowCount` vectors at `rows + i * byteStride`. The stride is in bytes, a
///   multiple of 4, and at least the size of one vector.
/// - Outputs are written, never read, and must not overlap the inputs.
///
/// Results may differ between instruction sets in the last bits, since each sums in a different
/// order. The `…Reference` twins below sum in `Double` and serve as the tests' oracle.
///
/// ```swift
/// let distances = UnsafeMutablePointer<Float>.allocate(capacity: rowCount)
/// Kernels.squaredL2Rows(query: query, rows: block, byteStride: 1_536, rowCount: rowCount,
///                       dimensions: 384, into: distances)
/// ```
public enum Kernels {
    /// The instruction set the float kernels run with: `"avx512"`, `"avx2"`, `"sse2"`, `"neon"`
    /// or `"scalar"`.
    ///
    /// Setting the environment variable `QUIVER_KERNEL_ISA` to a narrower set before the first
    /// kernel call forces that set (for benchmarks); a set the CPU cannot run is ignored.
    /// The C call is `qv_kernel_isa`.
    public static let isa: String = unsafe String(cString: qv_kernel_isa())

    // MARK: One pair

    /// Returns the dot product of a query and a stored vector.
    ///
    /// The C call is `qv_dot_f32`.
    ///
    /// - Parameters:
    ///   - query: `count` floats.
    ///   - vector: `count` floats, possibly unaligned.
    ///   - count: The number of dimensions.
    /// - Returns: The sum of `query[i] * vector[i]`.
    /// - Precondition: `count >= 0`.
    @inlinable
    public static func dot(_ query: UnsafePointer<Float>, _ vector: UnsafeRawPointer, count: Int) -> Float {
        precondition(count >= 0, "negative dimension count")
        // Safety: the C kernel reads `count` floats from each pointer with unaligned loads only.
        return unsafe qv_dot_f32(query, vector.assumingMemoryBound(to: Float.self), count)
    }

    /// Returns the squared Euclidean distance between a query and a stored vector.
    ///
    /// The squares of the differences are summed. Deriving the distance from dot products
    /// (`|q|² + |x|² - 2 q·x`) would cancel catastrophically for near neighbours, which are the
    /// ones a top-k keeps, and it would not be faster here. The C call is `qv_l2sq_f32`.
    ///
    /// - Parameters:
    ///   - query: `count` floats.
    ///   - vector: `count` floats, possibly unaligned.
    ///   - count: The number of dimensions.
    /// - Returns: The sum of `(query[i] - vector[i])²`.
    /// - Precondition: `count >= 0`.
    @inlinable
    public static func squaredL2(_ query: UnsafePointer<Float>, _ vector: UnsafeRawPointer, count: Int) -> Float {
        precondition(count >= 0, "negative dimension count")
        // Safety: the C kernel reads `count` floats from each pointer with unaligned loads only.
        return unsafe qv_l2sq_f32(query, vector.assumingMemoryBound(to: Float.self), count)
    }

    /// Returns the dot product of a query and a stored vector, and the squared norm of the
    /// stored vector, in one pass.
    ///
    /// Cosine on a Matryoshka prefix needs the norm of the prefix, which is not stored.
    /// The C call is `qv_dot_norm_f32`.
    ///
    /// - Parameters:
    ///   - query: `count` floats.
    ///   - vector: `count` floats, possibly unaligned.
    ///   - count: The number of dimensions (the prefix length).
    /// - Returns: `dot` = Σ `query[i] * vector[i]`, `squaredNorm` = Σ `vector[i]²`.
    /// - Precondition: `count >= 0`.
    @inlinable
    public static func dotAndSquaredNorm(
        _ query: UnsafePointer<Float>, _ vector: UnsafeRawPointer, count: Int
    ) -> (dot: Float, squaredNorm: Float) {
        precondition(count >= 0, "negative dimension count")
        var dot: Float = 0
        var squaredNorm: Float = 0
        // Safety: the C kernel reads `count` floats from each pointer and writes the two results.
        unsafe qv_dot_norm_f32(query, vector.assumingMemoryBound(to: Float.self), count, &dot, &squaredNorm)
        return (dot, squaredNorm)
    }

    /// Returns the number of bits that differ between two packed bit codes.
    ///
    /// The C call is `qv_hamming_u64`.
    ///
    /// - Parameters:
    ///   - query: `words` 64-bit words.
    ///   - code: `words` 64-bit words, possibly unaligned.
    ///   - words: The code length in 64-bit words.
    /// - Returns: The Hamming distance.
    /// - Precondition: `words >= 0`.
    @inlinable
    public static func hamming(_ query: UnsafePointer<UInt64>, _ code: UnsafeRawPointer, words: Int) -> UInt32 {
        precondition(words >= 0, "negative word count")
        // Safety: the C kernel reads `words` words from each pointer with unaligned loads only.
        return unsafe qv_hamming_u64(query, code.assumingMemoryBound(to: UInt64.self), words)
    }

    // MARK: One query, many rows

    /// Computes the dot product of a query with each of `rowCount` consecutive rows.
    ///
    /// Memory bound on large scans: it reads rows at close to memory bandwidth. The C call is
    /// `qv_dot_f32_rows`.
    ///
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - rows: The first row; row `i` starts at `rows + i * byteStride`, possibly unaligned.
    ///   - byteStride: Bytes from one row to the next, a multiple of 4.
    ///   - rowCount: The number of rows.
    ///   - dimensions: Floats per row that take part (a prefix of the row is allowed).
    ///   - out: Receives `rowCount` results, `out[i]` for row `i`.
    /// - Precondition: `rowCount >= 0`, `dimensions >= 0`, `byteStride >= 0`.
    @inlinable
    public static func dotRows(
        query: UnsafePointer<Float>, rows: UnsafeRawPointer, byteStride: Int, rowCount: Int,
        dimensions: Int, into out: UnsafeMutablePointer<Float>
    ) {
        precondition(rowCount >= 0 && dimensions >= 0 && byteStride >= 0, "negative count")
        // Safety: reads rowCount rows of `dimensions` floats, writes rowCount floats to `out`.
        unsafe qv_dot_f32_rows(query, rows, byteStride, rowCount, dimensions, out)
    }

    /// Computes the squared Euclidean distance from a query to each of `rowCount` consecutive
    /// rows.
    ///
    /// Sums squared differences, like ``squaredL2(_:_:count:)``. The C call is `qv_l2sq_f32_rows`.
    ///
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - rows: The first row; row `i` starts at `rows + i * byteStride`, possibly unaligned.
    ///   - byteStride: Bytes from one row to the next, a multiple of 4.
    ///   - rowCount: The number of rows.
    ///   - dimensions: Floats per row that take part.
    ///   - out: Receives `rowCount` results, `out[i]` for row `i`.
    /// - Precondition: `rowCount >= 0`, `dimensions >= 0`, `byteStride >= 0`.
    @inlinable
    public static func squaredL2Rows(
        query: UnsafePointer<Float>, rows: UnsafeRawPointer, byteStride: Int, rowCount: Int,
        dimensions: Int, into out: UnsafeMutablePointer<Float>
    ) {
        precondition(rowCount >= 0 && dimensions >= 0 && byteStride >= 0, "negative count")
        // Safety: reads rowCount rows of `dimensions` floats, writes rowCount floats to `out`.
        unsafe qv_l2sq_f32_rows(query, rows, byteStride, rowCount, dimensions, out)
    }

    /// Computes, for each of `rowCount` consecutive rows, its dot product with a query and its
    /// squared norm, in one pass.
    ///
    /// For cosine over a Matryoshka prefix of stored vectors. The C call is
    /// `qv_dot_norm_f32_rows`.
    ///
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - rows: The first row; row `i` starts at `rows + i * byteStride`, possibly unaligned.
    ///   - byteStride: Bytes from one row to the next, a multiple of 4.
    ///   - rowCount: The number of rows.
    ///   - dimensions: Floats per row that take part (the prefix length).
    ///   - dots: Receives `rowCount` dot products.
    ///   - squaredNorms: Receives `rowCount` squared norms of the row prefixes.
    /// - Precondition: `rowCount >= 0`, `dimensions >= 0`, `byteStride >= 0`.
    @inlinable
    public static func dotAndSquaredNormRows(
        query: UnsafePointer<Float>, rows: UnsafeRawPointer, byteStride: Int, rowCount: Int,
        dimensions: Int, dots: UnsafeMutablePointer<Float>, squaredNorms: UnsafeMutablePointer<Float>
    ) {
        precondition(rowCount >= 0 && dimensions >= 0 && byteStride >= 0, "negative count")
        // Safety: reads rowCount rows of `dimensions` floats, writes rowCount floats to each output.
        unsafe qv_dot_norm_f32_rows(query, rows, byteStride, rowCount, dimensions, dots, squaredNorms)
    }

    /// Computes the Hamming distance from a query code to each of `rowCount` consecutive codes.
    ///
    /// With AVX-512 VPOPCNTDQ, eight codes are counted per step. The C call is `qv_hamming_rows`.
    ///
    /// - Parameters:
    ///   - query: `words` 64-bit words.
    ///   - rows: The first code; code `i` starts at `rows + i * byteStride`, possibly unaligned.
    ///   - byteStride: Bytes from one code to the next.
    ///   - rowCount: The number of codes.
    ///   - words: The code length in 64-bit words.
    ///   - out: Receives `rowCount` distances.
    /// - Precondition: `rowCount >= 0`, `words >= 0`, `byteStride >= 0`.
    @inlinable
    public static func hammingRows(
        query: UnsafePointer<UInt64>, rows: UnsafeRawPointer, byteStride: Int, rowCount: Int,
        words: Int, into out: UnsafeMutablePointer<UInt32>
    ) {
        precondition(rowCount >= 0 && words >= 0 && byteStride >= 0, "negative count")
        // Safety: reads rowCount codes of `words` words, writes rowCount distances to `out`.
        unsafe qv_hamming_rows(query, rows, byteStride, rowCount, words, out)
    }

    // MARK: Many queries, many rows

    /// Computes the dot product of every row with every query, reading each row once.
    ///
    /// A register-tiled, cache-blocked kernel (like the inner kernel of a GEMM): a batch of
    /// queries costs little more memory traffic than one query. The C call is
    /// `qv_dot_f32_batch`.
    ///
    /// - Parameters:
    ///   - queries: The first query; query `j` starts at `queries + j * queryStride` floats.
    ///   - queryCount: The number of queries.
    ///   - queryStride: Floats from one query to the next, at least `dimensions`.
    ///   - rows: The first row; row `r` starts at `rows + r * byteStride`, possibly unaligned.
    ///   - byteStride: Bytes from one row to the next, a multiple of 4.
    ///   - rowCount: The number of rows.
    ///   - dimensions: Floats per vector that take part.
    ///   - out: Receives `rowCount * queryCount` results, row-major:
    ///     `out[r * queryCount + j]` is the dot product of row `r` and query `j`.
    /// - Precondition: all counts and strides are non-negative.
    @inlinable
    public static func dotBatch(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        rows: UnsafeRawPointer, byteStride: Int, rowCount: Int, dimensions: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(queryCount >= 0 && queryStride >= 0 && rowCount >= 0 && byteStride >= 0
                     && dimensions >= 0, "negative count")
        // Safety: reads the queries and rows described, writes rowCount * queryCount floats.
        unsafe qv_dot_f32_batch(queries, queryCount, queryStride, rows, byteStride, rowCount,
                                dimensions, out)
    }

    /// Computes the squared Euclidean distance between every row and every query, reading each
    /// row once.
    ///
    /// Sums squared differences, like ``squaredL2(_:_:count:)``. The C call is
    /// `qv_l2sq_f32_batch`.
    ///
    /// - Parameters:
    ///   - queries: The first query; query `j` starts at `queries + j * queryStride` floats.
    ///   - queryCount: The number of queries.
    ///   - queryStride: Floats from one query to the next, at least `dimensions`.
    ///   - rows: The first row; row `r` starts at `rows + r * byteStride`, possibly unaligned.
    ///   - byteStride: Bytes from one row to the next, a multiple of 4.
    ///   - rowCount: The number of rows.
    ///   - dimensions: Floats per vector that take part.
    ///   - out: Receives `rowCount * queryCount` results, row-major:
    ///     `out[r * queryCount + j]` is the distance between row `r` and query `j`.
    /// - Precondition: all counts and strides are non-negative.
    @inlinable
    public static func squaredL2Batch(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        rows: UnsafeRawPointer, byteStride: Int, rowCount: Int, dimensions: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        precondition(queryCount >= 0 && queryStride >= 0 && rowCount >= 0 && byteStride >= 0
                     && dimensions >= 0, "negative count")
        // Safety: reads the queries and rows described, writes rowCount * queryCount floats.
        unsafe qv_l2sq_f32_batch(queries, queryCount, queryStride, rows, byteStride, rowCount,
                                 dimensions, out)
    }

    // MARK: Diagnostics

    /// Reads every byte of a buffer once, as fast as the CPU can, and returns a value that
    /// depends on all of them.
    ///
    /// Benchmarks time it over the bytes a scan reads, to compare the scan with the memory
    /// bandwidth. The value (the bytes summed as floats) means nothing and may be NaN. The C call
    /// is `qv_read_bandwidth`.
    ///
    /// - Parameter bytes: The bytes to read.
    /// - Returns: A value the compiler cannot predict, so the reads cannot be optimized away.
    public static func readBandwidth(_ bytes: UnsafeRawBufferPointer) -> Double {
        guard let base = bytes.baseAddress else { return 0 }
        // Safety: reads exactly bytes.count bytes from base.
        return unsafe qv_read_bandwidth(base, bytes.count)
    }

    // MARK: Scalar reference twins

    /// Returns the dot product of two vectors, summed in `Double`: the oracle for ``dot(_:_:count:)``.
    ///
    /// - Precondition: `a.count == b.count`.
    public static func dotReference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "dimension mismatch")
        var sum = 0.0
        for i in a.indices { sum += Double(a[i]) * Double(b[i]) }
        return Float(sum)
    }

    /// Returns the sum of squared differences, in `Double`: the oracle for
    /// ``squaredL2(_:_:count:)``.
    ///
    /// - Precondition: `a.count == b.count`.
    public static func squaredL2Reference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "dimension mismatch")
        var sum = 0.0
        for i in a.indices {
            let difference = Double(a[i]) - Double(b[i])
            sum += difference * difference
        }
        return Float(sum)
    }

    /// Returns the dot product of `query` and `vector` and the squared norm of `vector`, in
    /// `Double`: the oracle for ``dotAndSquaredNorm(_:_:count:)``.
    ///
    /// - Precondition: `query.count == vector.count`.
    public static func dotAndSquaredNormReference(_ query: [Float], _ vector: [Float]) -> (dot: Float, squaredNorm: Float) {
        precondition(query.count == vector.count, "dimension mismatch")
        var dot = 0.0
        var squaredNorm = 0.0
        for i in query.indices {
            dot += Double(query[i]) * Double(vector[i])
            squaredNorm += Double(vector[i]) * Double(vector[i])
        }
        return (Float(dot), Float(squaredNorm))
    }

    /// Returns the number of differing bits, one word at a time: the oracle for
    /// ``hamming(_:_:words:)``.
    ///
    /// - Precondition: `a.count == b.count`.
    public static func hammingReference(_ a: [UInt64], _ b: [UInt64]) -> UInt32 {
        precondition(a.count == b.count, "word count mismatch")
        var count: UInt32 = 0
        for i in a.indices { count += UInt32((a[i] ^ b[i]).nonzeroBitCount) }
        return count
    }
}
