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
    /// `c` of sub-quantiser `j` at `(j * subDimensions + k) * 256 + c`, so that the tables are
    /// computed eight centroids at a time. Derived from `centroids`; not part of equality.
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
    /// Sub-quantiser `j` is trained on the `j`-th sub-vectors of all points (read in place, not
    /// copied) with ``KMeans/train(points:count:dimensions:clusters:iterations:seed:progress:concurrentPerform:)``,
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
        for j in 0..<m {
            let trained = unsafe KMeans.train(
                points: points + j * sub, rowStride: dimensions, count: count, dimensions: sub,
                clusters: codebookSize, iterations: iterations, seed: SplitMix64.derive(seed, j),
                progress: nil, concurrentPerform: concurrentPerform)
            centroids += trained
            progress?(j + 1, m)
        }
        return ProductQuantizer(dimensions: dimensions, m: m, centroids: centroids)
    }

    // MARK: Encoding

    /// Writes the code of one vector: for each sub-quantiser, the index of the nearest centroid
    /// by squared Euclidean distance (ties to the lower index).
    ///
    /// The same code as ``encode(points:count:into:byteStride:concurrentPerform:)`` gives the
    /// vector in a batch.
    ///
    /// - Parameters:
    ///   - vector: ``dimensions`` floats.
    ///   - code: Receives ``m`` bytes.
    public func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutablePointer<UInt8>) {
        unsafe encode(points: vector, count: 1, into: code, byteStride: m)
    }

    /// Writes the codes of `count` vectors.
    ///
    /// Blocks of 256 vectors go through the batch kernel
    /// (``Kernels/squaredL2Batch(queries:queryCount:queryStride:rows:byteStride:rowCount:dimensions:into:)``)
    /// once per sub-quantiser, with the 256 centroids as queries and the vectors' sub-vectors
    /// read in place. A vector's code does not depend on the other vectors or on
    /// `concurrentPerform`.
    ///
    /// - Parameters:
    ///   - points: `count * dimensions` floats.
    ///   - count: The number of vectors.
    ///   - codes: Receives code `i` at `codes + i * byteStride` (``m`` bytes; the bytes between
    ///     codes are not written).
    ///   - byteStride: Bytes from one code to the next, at least ``m``.
    ///   - concurrentPerform: Spreads blocks of vectors over threads; `nil` runs on the calling
    ///     thread.
    /// - Precondition: `count >= 0`, `byteStride >= m`.
    /// - Complexity: O(count · dimensions · 256).
    public func encode(
        points: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>, byteStride: Int,
        concurrentPerform: KMeans.ConcurrentPerform? = nil
    ) {
        precondition(count >= 0 && byteStride >= m, "byteStride must be at least m")
        let sub = subDimensions, m = self.m, dimensions = self.dimensions
        // Safety: each block reads the points and centroids and writes only its own codes; all
        // blocks finish before `centroids` goes out of scope.
        nonisolated(unsafe) let rows = points
        nonisolated(unsafe) let out = codes
        unsafe centroids.withUnsafeBufferPointer { buffer in
            nonisolated(unsafe) let book = buffer.baseAddress!
            let blockRows = 256
            unsafe KMeans.forEachBlock(count: count, blockRows: blockRows, scratchFloats: blockRows * Self.codebookSize,
                                       concurrentPerform: concurrentPerform) { start, end, scratch in
                for j in 0..<m {
                    unsafe Kernels.squaredL2Batch(
                        queries: book + j * Self.codebookSize * sub, queryCount: Self.codebookSize, queryStride: sub,
                        rows: rows + start * dimensions + j * sub, byteStride: dimensions * 4,
                        rowCount: end - start, dimensions: sub, into: scratch)
                    for i in start..<end {
                        let best = unsafe KMeans.argmin(scratch + (i - start) * Self.codebookSize,
                                                        count: Self.codebookSize)
                        unsafe out[i * byteStride + j] = UInt8(truncatingIfNeeded: best)
                    }
                }
            }
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
    /// scan, negate the table. Each entry is summed over the sub-vector's components in order,
    /// eight centroids at a time.
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
    /// so entries near zero are accurate.
    ///
    /// - Parameters:
    ///   - query: ``dimensions`` floats.
    ///   - table: Receives `m * 256` floats.
    /// - Complexity: O(256 · dimensions).
    public func squaredL2Table(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        unsafe fillTable(query: query, into: table, squaredL2: true)
    }

    /// Both tables, eight centroids per SIMD vector over ``columns``.
    private func fillTable(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>, squaredL2: Bool) {
        let sub = subDimensions
        unsafe columns.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            for j in 0..<m {
                var c = 0
                while c < Self.codebookSize {
                    var sum = SIMD8<Float>()
                    for k in 0..<sub {
                        let q = SIMD8<Float>(repeating: unsafe query[j * sub + k])
                        let offset = ((j * sub + k) * Self.codebookSize + c) * 4
                        let centroid = unsafe base.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        if squaredL2 {
                            let difference = q - centroid
                            sum += difference * difference
                        } else {
                            sum += q * centroid
                        }
                    }
                    unsafe UnsafeMutableRawPointer(table + j * Self.codebookSize + c).storeBytes(of: sum, as: SIMD8<Float>.self)
                    c += 8
                }
            }
        }
    }

    // MARK: Equality

    /// Quantisers are equal when their shapes and centroids are.
    public static func == (a: ProductQuantizer, b: ProductQuantizer) -> Bool {
        a.dimensions == b.dimensions && a.m == b.m && a.centroids == b.centroids
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dimensions)
        hasher.combine(m)
        hasher.combine(centroids)
    }
}
