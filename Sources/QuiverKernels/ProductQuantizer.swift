import CQuiverKernels

/// A product quantiser: `m` sub-quantisers of 256 centroids each, one byte per sub-vector.
///
/// Product quantisation (Jégou, Douze & Schmid 2011) cuts a vector of `dimensions` floats into
/// `m` sub-vectors of ``subDimensions`` floats and replaces sub-vector `j` by the index of the
/// nearest of the 256 centroids of sub-quantiser `j`: a code of `m` bytes. A query is compared
/// with codes through a per-query table of `m × 256` floats (``squaredL2Table(query:into:)``,
/// ``innerProductTable(query:into:)``), summed over a code's bytes by
/// ``Kernels/pqScanRows(table:m:rows:byteStride:rowCount:into:)`` (asymmetric distance
/// computation: the query stays exact, only the stored vectors are quantised).
///
/// ```swift
/// let pq = ProductQuantizer.train(points: sample, count: 65_536, dimensions: 384, m: 48, seed: 7)
/// pq.encode(points: vectors, count: n, into: codes, byteStride: 48)
/// pq.squaredL2Table(query: query, into: table)          // 48 × 256 floats
/// Kernels.pqScanRows(table: table, m: 48, rows: codes, byteStride: 48, rowCount: n, into: out)
/// ```
public struct ProductQuantizer: Sendable, Hashable {
    /// The number of centroids of each sub-quantiser (8-bit codes).
    public static let codebookSize = 256

    /// Floats per full vector.
    public let dimensions: Int
    /// The number of sub-quantisers, which is the number of bytes per code.
    public let m: Int
    /// The centroids, sub-quantiser major: centroid `c` of sub-quantiser `j` is the
    /// ``subDimensions`` floats at `(j * 256 + c) * subDimensions`.
    public let centroids: [Float]
    /// The centroids again, component major within each sub-quantiser: component `k` of centroid
    /// `c` of sub-quantiser `j` at `(j * subDimensions + k) * 256 + c`, the layout the table
    /// kernels read. Derived from `centroids`; not part of equality.
    let columns: [Float]

    /// Floats per sub-vector: `dimensions / m`.
    public var subDimensions: Int { dimensions / m }

    /// Creates a quantiser from trained centroids (for example as read back from storage).
    ///
    /// - Parameters:
    ///   - dimensions: Floats per full vector.
    ///   - m: The number of sub-quantisers.
    ///   - centroids: `m * 256 * (dimensions / m)` floats, sub-quantiser major (see
    ///     ``centroids``).
    /// - Precondition: `m >= 1`, `m <= 256`, `dimensions` a positive multiple of `m`, and
    ///   `centroids.count == m * 256 * (dimensions / m)`.
    public init(dimensions: Int, m: Int, centroids: [Float]) {
        precondition(m >= 1 && m <= 256, "m must be in 1...256")
        precondition(dimensions >= m && dimensions % m == 0, "m must divide dimensions")
        precondition(centroids.count == m * Self.codebookSize * (dimensions / m), "wrong centroid count")
        self.dimensions = dimensions
        self.m = m
        self.centroids = centroids
        let sub = dimensions / m
        var columns = [Float](repeating: 0, count: centroids.count)
        for j in 0..<m {
            for c in 0..<Self.codebookSize {
                for k in 0..<sub {
                    columns[(j * sub + k) * Self.codebookSize + c] = centroids[(j * Self.codebookSize + c) * sub + k]
                }
            }
        }
        self.columns = columns
    }

    /// Trains a quantiser on `count` points: one ``KMeans`` run of 256 clusters per sub-space.
    ///
    /// Sub-quantiser `j` is trained on the `j`-th sub-vectors of all points (copied out, one
    /// sub-space at a time) with ``KMeans/train(points:count:dimensions:clusters:iterations:seed:progress:concurrentPerform:)``,
    /// seeded by a SplitMix64 mix of `seed` and `j`. Same points, seed and instruction set give
    /// the same centroids, with or without `concurrentPerform`. Every point is used: pass a
    /// sample (FAISS uses at most 256 points per centroid, 65,536). With fewer than 256 points
    /// the extra centroids repeat points (see ``KMeans``).
    ///
    /// - Parameters:
    ///   - points: `count * dimensions` floats.
    ///   - count: The number of training points.
    ///   - dimensions: Floats per point.
    ///   - m: The number of sub-quantisers.
    ///   - iterations: Lloyd iterations per sub-quantiser (at most).
    ///   - seed: Seeds the random draws.
    ///   - progress: Called on the calling thread after each sub-quantiser with the number
    ///     trained and `m`.
    ///   - concurrentPerform: Spreads each k-means over threads (see ``KMeans``).
    /// - Returns: The trained quantiser.
    /// - Precondition: `count >= 1`; `m` and `dimensions` as for ``init(dimensions:m:centroids:)``.
    /// - Complexity: O(count · dimensions · 256 · (iterations + 1)).
    public static func train(
        points: UnsafePointer<Float>, count: Int, dimensions: Int, m: Int, iterations: Int = 20, seed: UInt64,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
        concurrentPerform: KMeans.ConcurrentPerform? = nil
    ) -> ProductQuantizer {
        precondition(m >= 1 && m <= 256, "m must be in 1...256")
        precondition(dimensions >= m && dimensions % m == 0, "m must divide dimensions")
        precondition(count >= 1, "training needs points")
        let sub = dimensions / m
        var centroids = [Float]()
        centroids.reserveCapacity(m * codebookSize * sub)
        // Each sub-space is copied out first: k-means reads its points twenty-odd times, and
        // reading sub-vectors in place (a few floats every `dimensions` floats) touches a new
        // cache line and, every few points, a new page each time (profiled: those strided reads
        // dominated training at 63,574 x 384, m = 48).
        var subVectors = [Float](repeating: 0, count: count * sub)
        for j in 0..<m {
            for i in 0..<count {
                for k in 0..<sub { subVectors[i * sub + k] = unsafe points[i * dimensions + j * sub + k] }
            }
            let trained = unsafe KMeans.train(
                points: subVectors, count: count, dimensions: sub, clusters: codebookSize,
                iterations: iterations, seed: SplitMix64.derive(seed, j), concurrentPerform: concurrentPerform)
            centroids += trained
            progress?(j + 1, m)
        }
        return ProductQuantizer(dimensions: dimensions, m: m, centroids: centroids)
    }

    // MARK: Encoding

    /// Writes the code of one vector: for each sub-quantiser, the index of the nearest centroid
    /// by squared Euclidean distance (ties to the lower index).
    ///
    /// Computes the vector's ``squaredL2Table(query:into:)`` and takes the ``Kernels/argmin(_:count:)``
    /// of each sub-quantiser's 256 entries: the code
    /// ``encode(points:count:into:byteStride:concurrentPerform:)`` writes for the vector.
    ///
    /// - Parameters:
    ///   - vector: ``dimensions`` floats.
    ///   - code: Receives ``m`` bytes.
    /// - Complexity: O(256 · dimensions).
    public func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutablePointer<UInt8>) {
        unsafe withUnsafeTemporaryAllocation(of: Float.self, capacity: m * Self.codebookSize) { table in
            unsafe encode(vector, into: code, table: table.baseAddress!)
        }
    }

    /// Writes the codes of `count` vectors.
    ///
    /// Each vector is encoded as ``encode(_:into:)`` does (its squared-L2 table, then an argmin
    /// per sub-quantiser: about 9 µs per vector at 384 dimensions and m = 48 on Zen 3, one
    /// thread), so a vector's code does not depend on the other vectors or on
    /// `concurrentPerform`.
    ///
    /// - Parameters:
    ///   - points: `count * dimensions` floats.
    ///   - count: The number of vectors.
    ///   - codes: Receives code `i` at `codes + i * byteStride` (``m`` bytes; the bytes between
    ///     codes are not written).
    ///   - byteStride: Bytes from one code to the next, at least ``m``.
    ///   - concurrentPerform: Spreads blocks of 256 vectors over threads; `nil` runs on the
    ///     calling thread.
    /// - Precondition: `count >= 0`, `byteStride >= m`.
    /// - Complexity: O(count · 256 · dimensions).
    public func encode(
        points: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>, byteStride: Int,
        concurrentPerform: KMeans.ConcurrentPerform? = nil
    ) {
        precondition(count >= 0 && byteStride >= m, "byteStride must be at least m")
        // Safety: each block reads its points and writes only its own codes; all blocks finish
        // before this function returns.
        nonisolated(unsafe) let rows = points
        nonisolated(unsafe) let out = codes
        let quantizer = self
        unsafe KMeans.forEachBlock(count: count, blockRows: 256, scratchFloats: m * Self.codebookSize,
                                   concurrentPerform: concurrentPerform) { start, end, table in
            for i in start..<end {
                unsafe quantizer.encode(rows + i * quantizer.dimensions, into: out + i * byteStride, table: table)
            }
        }
    }

    /// One code, with `table` (m * 256 floats) as scratch.
    private func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutablePointer<UInt8>,
                        table: UnsafeMutablePointer<Float>) {
        unsafe squaredL2Table(query: vector, into: table)
        for j in 0..<m {
            let best = unsafe Kernels.argmin(table + j * Self.codebookSize, count: Self.codebookSize)
            unsafe code[j] = UInt8(truncatingIfNeeded: best)
        }
    }

    /// Writes the vector a code stands for: the concatenated centroids.
    ///
    /// - Parameters:
    ///   - code: ``m`` bytes.
    ///   - vector: Receives ``dimensions`` floats.
    public func decode(_ code: UnsafePointer<UInt8>, into vector: UnsafeMutablePointer<Float>) {
        let sub = subDimensions
        for j in 0..<m {
            let c = Int(unsafe code[j])
            for k in 0..<sub { unsafe vector[j * sub + k] = centroids[(j * Self.codebookSize + c) * sub + k] }
        }
    }

    // MARK: Distance tables

    /// Writes the inner-product table of a query: `table[j * 256 + c]` is the dot product of the
    /// query's sub-vector `j` and centroid `c` of sub-quantiser `j`.
    ///
    /// The table distance of a code (``Kernels/pqDistance(table:m:code:)``) is then the dot
    /// product of the query with the decoded vector, up to float rounding. For a smaller-is-better
    /// scan, negate the table. Each entry is summed over the sub-vector's components in order.
    /// The C call is `qv_pq_table_dot`.
    ///
    /// - Parameters:
    ///   - query: ``dimensions`` floats.
    ///   - table: Receives `m * 256` floats.
    /// - Complexity: O(256 · dimensions).
    public func innerProductTable(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        unsafe fillTable(query: query, into: table, squaredL2: false)
    }

    /// Writes the squared-L2 table of a query: `table[j * 256 + c]` is the squared Euclidean
    /// distance between the query's sub-vector `j` and centroid `c` of sub-quantiser `j`.
    ///
    /// The table distance of a code is then the squared distance from the query to the decoded
    /// vector, up to float rounding. Squared differences are summed (no `|q|² + |c|² - 2 q·c`),
    /// so entries near zero are accurate. The C call is `qv_pq_table_l2sq`.
    ///
    /// - Parameters:
    ///   - query: ``dimensions`` floats.
    ///   - table: Receives `m * 256` floats.
    /// - Complexity: O(256 · dimensions).
    public func squaredL2Table(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        unsafe fillTable(query: query, into: table, squaredL2: true)
    }

    /// Both tables, from ``columns`` (one centroid per vector lane; `qv_pq_table_l2sq`,
    /// `qv_pq_table_dot`).
    private func fillTable(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>, squaredL2: Bool) {
        unsafe columns.withUnsafeBufferPointer { buffer in
            // Safety: reads `dimensions` query floats and the m * 256 * subDimensions columns,
            // writes m * 256 table floats.
            if squaredL2 {
                unsafe qv_pq_table_l2sq(query, buffer.baseAddress!, m, subDimensions, table)
            } else {
                unsafe qv_pq_table_dot(query, buffer.baseAddress!, m, subDimensions, table)
            }
        }
    }

    // MARK: Equality

    /// Quantisers are equal when their shapes and centroids are.
    public static func == (a: ProductQuantizer, b: ProductQuantizer) -> Bool {
        a.dimensions == b.dimensions && a.m == b.m && a.centroids == b.centroids
    }

    /// Hashes the shape and the centroids, the parts equality compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(dimensions)
        hasher.combine(m)
        hasher.combine(centroids)
    }
}
