import CQuiverKernels

/// Lloyd's k-means on squared Euclidean distance, seeded by k-means++, deterministic for a seed.
///
/// Used to train the codebooks of product quantisation and the coarse centroids of inverted
/// lists. ``train(points:count:dimensions:clusters:iterations:seed:progress:concurrentPerform:)``
/// returns the same bits for the same inputs and seed on the same instruction set (``Kernels/isa``),
/// whether it runs on one thread or several: every random choice comes from a SplitMix64
/// generator seeded by `seed`, and every sum is taken in a fixed order.
///
/// ```swift
/// let centroids = KMeans.train(points: vectors, count: 10_000, dimensions: 64, clusters: 256,
///                              seed: 42)
/// let (cluster, distance) = KMeans.nearest(point: query, centroids: centroids, count: 256,
///                                          dimensions: 64)
/// ```
///
/// Points must be finite; NaN or infinite components make the result unspecified (no trap).
public enum KMeans {
    /// Runs `body(0)`, …, `body(iterations - 1)`, possibly concurrently, and returns when all
    /// have returned.
    ///
    /// `DispatchQueue.concurrentPerform(iterations:execute:)` has this shape; this module does
    /// not import Dispatch (it depends on the standard library only), so callers pass it in.
    public typealias ConcurrentPerform = (_ iterations: Int, _ body: @Sendable (Int) -> Void) -> Void

    /// Trains `clusters` centroids on `count` points.
    ///
    /// Seeding is k-means++ (Arthur & Vassilvitskii 2007): the first centroid is a point drawn
    /// uniformly, each next one a point drawn with probability proportional to its squared
    /// distance to the nearest centroid so far. Then each of up to `iterations` Lloyd iterations
    /// assigns every point to its nearest centroid (ties to the lower index) and moves each
    /// centroid to the mean of its points, summed in `Double` in point order. It stops early when
    /// no assignment changes. A cluster left empty is re-seeded as FAISS does: a cluster is drawn
    /// with probability proportional to its size minus one and split in two, the two centroids
    /// moved apart by a relative 1/1024 in opposite directions on alternate dimensions.
    ///
    /// With `clusters >= count` there is nothing to optimise: the result is the points in order,
    /// then copies of them again from the first (point `c % count` for centroid `c`), with no
    /// random draw and no iteration.
    ///
    /// Distances come from ``Kernels/squaredL2Batch(queries:queryCount:queryStride:rows:byteStride:rowCount:dimensions:into:)``
    /// (the assignment step) and ``Kernels/squaredL2Rows(query:rows:byteStride:rowCount:dimensions:into:)``
    /// (seeding), so results can differ between instruction sets in the last bits, and hence in
    /// near-tied assignments.
    ///
    /// - Parameters:
    ///   - points: `count * dimensions` floats, point `i` at `points + i * dimensions`.
    ///   - count: The number of points.
    ///   - dimensions: Floats per point.
    ///   - clusters: The number of centroids to return.
    ///   - iterations: The maximum number of Lloyd iterations (0 returns the k-means++ seeds).
    ///   - seed: Seeds the random draws.
    ///   - progress: Called on the calling thread after each Lloyd iteration with the iterations
    ///     done and `iterations`, and once with `(iterations, iterations)` on an early stop.
    ///   - concurrentPerform: Runs the assignment and seeding passes over blocks of points on
    ///     several threads, e.g. `DispatchQueue.concurrentPerform`; `nil` runs on the calling
    ///     thread. The result does not depend on it.
    /// - Returns: `clusters * dimensions` floats, centroid `c` at `c * dimensions`.
    /// - Precondition: `count >= 1`, `dimensions >= 1`, `clusters >= 1`, `iterations >= 0`.
    /// - Complexity: O(count · clusters · dimensions · (iterations + 1)).
    public static func train(
        points: UnsafePointer<Float>, count: Int, dimensions: Int, clusters: Int, iterations: Int = 20,
        seed: UInt64, progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
        concurrentPerform: ConcurrentPerform? = nil
    ) -> [Float] {
        precondition(count >= 1 && dimensions >= 1 && clusters >= 1 && iterations >= 0,
                     "k-means needs points, dimensions and clusters")
        var centroids = [Float](repeating: 0, count: clusters * dimensions)
        if clusters >= count {
            for c in 0..<clusters {
                for k in 0..<dimensions { centroids[c * dimensions + k] = unsafe points[(c % count) * dimensions + k] }
            }
            return centroids
        }
        var random = SplitMix64(seed: seed)
        unsafe seedPlusPlus(points: points, count: count, dimensions: dimensions, clusters: clusters,
                            random: &random, into: &centroids, concurrentPerform: concurrentPerform)
        unsafe lloyd(points: points, count: count, dimensions: dimensions, clusters: clusters,
                     iterations: iterations, random: &random, centroids: &centroids, progress: progress,
                     concurrentPerform: concurrentPerform)
        return centroids
    }

    /// Returns the centroid nearest to `point` and its squared Euclidean distance.
    ///
    /// One call of ``Kernels/squaredL2Rows(query:rows:byteStride:rowCount:dimensions:into:)``
    /// over the centroids; ties go to the lower index. Because ``assign(points:count:centroids:clusters:dimensions:into:distances:concurrentPerform:)``
    /// uses the batch kernel, which sums in another order, the two can disagree on centroids
    /// tied to within float rounding.
    ///
    /// - Parameters:
    ///   - point: `dimensions` floats.
    ///   - centroids: `count * dimensions` floats.
    ///   - count: The number of centroids.
    ///   - dimensions: Floats per vector.
    /// - Returns: The index of the nearest centroid and its squared distance.
    /// - Precondition: `count >= 1`, `dimensions >= 0`.
    /// - Complexity: O(count · dimensions).
    public static func nearest(
        point: UnsafePointer<Float>, centroids: UnsafePointer<Float>, count: Int, dimensions: Int
    ) -> (index: Int, distance: Float) {
        precondition(count >= 1 && dimensions >= 0, "need at least one centroid")
        return unsafe withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buffer in
            let distances = buffer.baseAddress!
            unsafe Kernels.squaredL2Rows(query: point, rows: centroids, byteStride: dimensions * 4,
                                         rowCount: count, dimensions: dimensions, into: distances)
            let index = unsafe Kernels.argmin(distances, count: count)
            return (index, unsafe distances[index])
        }
    }

    /// Assigns each of `count` points to its nearest centroid.
    ///
    /// Blocks of points go through
    /// ``Kernels/squaredL2Batch(queries:queryCount:queryStride:rows:byteStride:rowCount:dimensions:into:)``
    /// with the centroids as queries; ties go to the lower index. The blocks are fixed by `count`
    /// and `clusters`, so the result does not depend on `concurrentPerform`, and it is the
    /// assignment ``train(points:count:dimensions:clusters:iterations:seed:progress:concurrentPerform:)``
    /// makes for the same points and centroids.
    ///
    /// - Parameters:
    ///   - points: `count * dimensions` floats.
    ///   - count: The number of points.
    ///   - centroids: `clusters * dimensions` floats.
    ///   - clusters: The number of centroids, at most 2³².
    ///   - dimensions: Floats per vector.
    ///   - assignments: Receives `count` centroid indices.
    ///   - distances: Receives `count` squared distances to the assigned centroid, if not `nil`.
    ///   - concurrentPerform: Spreads blocks of points over threads; `nil` runs on the calling
    ///     thread.
    /// - Precondition: `count >= 0`, `clusters >= 1`, `dimensions >= 0`.
    /// - Complexity: O(count · clusters · dimensions).
    public static func assign(
        points: UnsafePointer<Float>, count: Int, centroids: UnsafePointer<Float>, clusters: Int,
        dimensions: Int, into assignments: UnsafeMutablePointer<UInt32>,
        distances: UnsafeMutablePointer<Float>? = nil, concurrentPerform: ConcurrentPerform? = nil
    ) {
        precondition(count >= 0 && clusters >= 1 && dimensions >= 0, "need at least one centroid")
        precondition(UInt64(clusters) <= 1 << 32, "too many clusters for UInt32 indices")
        guard count > 0 else { return }
        // Blocks of about 65,536 distances (256 KB, which stay in L2 between the kernel and the
        // argmin), at least 64 points (to amortise the kernel's packing of the centroids) and at
        // most 4,096.
        let blockRows = max(64, min(4_096, (1 << 16) / clusters))
        // Safety: each block reads the points and centroids and writes only its own slots of
        // the outputs; all blocks finish before this function returns.
        nonisolated(unsafe) let rows = points
        nonisolated(unsafe) let queries = centroids
        nonisolated(unsafe) let out = assignments
        nonisolated(unsafe) let outDistances = distances
        unsafe forEachBlock(count: count, blockRows: blockRows, scratchFloats: blockRows * clusters,
                            concurrentPerform: concurrentPerform) { start, end, scratch in
            unsafe Kernels.squaredL2Batch(queries: queries, queryCount: clusters, queryStride: dimensions,
                                          rows: rows + start * dimensions, byteStride: dimensions * 4,
                                          rowCount: end - start, dimensions: dimensions, into: scratch)
            for i in start..<end {
                let row = unsafe scratch + (i - start) * clusters
                let best = unsafe Kernels.argmin(row, count: clusters)
                unsafe out[i] = UInt32(truncatingIfNeeded: best)
                if let d = unsafe outDistances { unsafe d[i] = row[best] }
            }
        }
    }
}

// MARK: - Implementation

extension KMeans {
    /// Relative move of the two halves of a split cluster (FAISS's `EPS`).
    static let splitEpsilon: Float = 1 / 1_024

    /// Lloyd iterations from the seeds in `centroids` (see `train`).
    static func lloyd(
        points: UnsafePointer<Float>, count: Int, dimensions: Int, clusters: Int, iterations: Int,
        random: inout SplitMix64, centroids: inout [Float], progress: ((_ done: Int, _ total: Int) -> Void)?,
        concurrentPerform: ConcurrentPerform?
    ) {
        var assignment = [UInt32](repeating: 0, count: count)
        var previous = [UInt32](repeating: .max, count: count)
        var counts = [Int](repeating: 0, count: clusters)
        var sums = [Double](repeating: 0, count: clusters * dimensions)
        var splitLastTime = true
        for iteration in 0..<iterations {
            unsafe centroids.withUnsafeBufferPointer { c in
                unsafe assignment.withUnsafeMutableBufferPointer { a in
                    unsafe assign(points: points, count: count, centroids: c.baseAddress!, clusters: clusters,
                                  dimensions: dimensions, into: a.baseAddress!, concurrentPerform: concurrentPerform)
                }
            }
            if !splitLastTime && assignment == previous {
                // The update would give the centroids we have: converged.
                progress?(iterations, iterations)
                return
            }
            swap(&assignment, &previous)  // `previous` now holds this iteration's assignment
            for c in 0..<clusters { counts[c] = 0 }
            for i in 0..<(clusters * dimensions) { sums[i] = 0 }
            for i in 0..<count {
                let c = Int(previous[i])
                counts[c] += 1
                let row = unsafe points + i * dimensions
                for k in 0..<dimensions { unsafe sums[c * dimensions + k] += Double(row[k]) }
            }
            for c in 0..<clusters where counts[c] > 0 {
                for k in 0..<dimensions {
                    centroids[c * dimensions + k] = Float(sums[c * dimensions + k] / Double(counts[c]))
                }
            }
            splitLastTime = splitEmptyClusters(&centroids, counts: &counts, dimensions: dimensions, random: &random)
            progress?(iteration + 1, iterations)
        }
    }

    /// k-means++ seeding: writes `clusters` points into `centroids`.
    ///
    /// Each round scores every point against the newest centroid, block by block, keeping each
    /// point's smallest squared distance and each block's sum of them (in `Double`, in point
    /// order). The next centroid is the first point whose running sum (block sums in block order,
    /// then points within the block) exceeds a uniform draw below the total.
    static func seedPlusPlus(
        points: UnsafePointer<Float>, count: Int, dimensions: Int, clusters: Int,
        random: inout SplitMix64, into centroids: inout [Float], concurrentPerform: ConcurrentPerform?
    ) {
        let blockRows = 4_096
        let blocks = (count + blockRows - 1) / blockRows
        var nearest = [Float](repeating: .infinity, count: count)
        var blockSums = [Double](repeating: 0, count: blocks)
        var chosen = random.below(count)
        for c in 0..<clusters {
            for k in 0..<dimensions { centroids[c * dimensions + k] = unsafe points[chosen * dimensions + k] }
            if c == clusters - 1 { break }
            unsafe nearest.withUnsafeMutableBufferPointer { best in
                unsafe blockSums.withUnsafeMutableBufferPointer { sums in
                    // Safety: each block reads the points and writes only its own slice of
                    // `nearest` and its own block sum; all blocks finish before these scopes end.
                    nonisolated(unsafe) let best = best.baseAddress!
                    nonisolated(unsafe) let sums = sums.baseAddress!
                    nonisolated(unsafe) let rows = points
                    let center = chosen
                    unsafe forEachBlock(count: count, blockRows: blockRows, scratchFloats: blockRows,
                                        concurrentPerform: concurrentPerform) { start, end, scratch in
                        unsafe Kernels.squaredL2Rows(query: rows + center * dimensions, rows: rows + start * dimensions,
                                                     byteStride: dimensions * 4, rowCount: end - start,
                                                     dimensions: dimensions, into: scratch)
                        var sum = 0.0
                        for i in start..<end {
                            let d = unsafe min(scratch[i - start], best[i])
                            unsafe best[i] = d
                            sum += Double(d)
                        }
                        unsafe sums[start / blockRows] = sum
                    }
                }
            }
            var total = 0.0
            for sum in blockSums { total += sum }
            guard total > 0 && total.isFinite else {
                chosen = random.below(count)  // every point is a centroid already (duplicates)
                continue
            }
            let target = random.unitInterval() * total
            var running = 0.0
            var block = 0
            while block < blocks - 1 && running + blockSums[block] <= target {
                running += blockSums[block]
                block += 1
            }
            chosen = -1
            for i in (block * blockRows)..<min(count, (block + 1) * blockRows) where nearest[i] > 0 {
                running += Double(nearest[i])
                chosen = i
                if running > target { break }
            }
            if chosen < 0 { chosen = nearest.firstIndex { $0 > 0 }! }  // rounding left the block empty
        }
    }

    /// FAISS's `split_clusters`: gives each empty cluster half of a cluster drawn with
    /// probability proportional to its size minus one. Returns whether any cluster was empty.
    static func splitEmptyClusters(
        _ centroids: inout [Float], counts: inout [Int], dimensions: Int, random: inout SplitMix64
    ) -> Bool {
        var split = false
        for empty in counts.indices where counts[empty] == 0 {
            // Σ (size - 1) over non-empty clusters is at least 1: count > clusters, and fewer
            // than `clusters` clusters hold points, so one of them holds two.
            var total = 0
            for size in counts where size > 0 { total += size - 1 }
            var draw = random.below(total)
            var donor = 0
            while counts[donor] == 0 || draw >= counts[donor] - 1 {
                if counts[donor] > 0 { draw -= counts[donor] - 1 }
                donor += 1
            }
            for k in 0..<dimensions {
                let value = centroids[donor * dimensions + k]
                let up = value * (1 + splitEpsilon), down = value * (1 - splitEpsilon)
                centroids[empty * dimensions + k] = k % 2 == 0 ? up : down
                centroids[donor * dimensions + k] = k % 2 == 0 ? down : up
            }
            counts[empty] = counts[donor] / 2
            counts[donor] -= counts[empty]
            split = true
        }
        return split
    }

    /// Calls `body(start, end, scratch)` for the blocks `[start, end)` of `blockRows` points
    /// that cover `0..<count`, on the calling thread or through `concurrentPerform`. `scratch`
    /// holds `scratchFloats` floats, reused by the blocks one worker runs.
    static func forEachBlock(
        count: Int, blockRows: Int, scratchFloats: Int, concurrentPerform: ConcurrentPerform?,
        _ body: @escaping @Sendable (_ start: Int, _ end: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void
    ) {
        let blocks = (count + blockRows - 1) / blockRows
        let work: @Sendable (AtomicCounter) -> Void = { next in
            var scratch: UnsafeMutablePointer<Float>? = nil
            while true {
                let block = Int(next.fetchAdd(1))
                if block >= blocks { break }
                if unsafe scratch == nil { unsafe scratch = .allocate(capacity: scratchFloats) }
                let start = block * blockRows
                unsafe body(start, min(count, start + blockRows), scratch!)
            }
            unsafe scratch?.deallocate()
        }
        let next = AtomicCounter()
        if let concurrentPerform, blocks > 1 {
            // More workers than cores is harmless: a late worker finds no block left.
            concurrentPerform(min(blocks, 64)) { _ in work(next) }
        } else {
            work(next)
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): the generator behind every random choice of k-means,
/// and the hash behind every seeded choice of the engine (HNSW levels, training samples),
/// written out here so that results never depend on the standard library's generators.
public struct SplitMix64 {
    private var state: UInt64

    /// A generator starting at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.finalize(state)
    }

    /// SplitMix64's output function applied to `seed + index × 0x9E3779B97F4A7C15`: a stateless
    /// hash of both (a generator seeded with `seed` returns `hash(seed:, n)` as its n-th output,
    /// counting from 1). Stored formats depend on it: it never changes.
    @inlinable
    public static func hash(seed: UInt64, _ index: UInt64) -> UInt64 {
        finalize(seed &+ index &* 0x9E37_79B9_7F4A_7C15)
    }

    @inlinable
    static func finalize(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An integer in `0..<bound` (the high half of a 64 x 64-bit product; bias below 2⁻³²).
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "empty range")
        return Int(truncatingIfNeeded: UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    /// A double in [0, 1) with 53 random bits.
    mutating func unitInterval() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// The seed of stream `index` derived from `seed` (sub-quantiser `j` of a product quantiser).
    static func derive(_ seed: UInt64, _ index: Int) -> UInt64 {
        var mixer = SplitMix64(seed: seed ^ (0xD1B5_4A32_D192_ED03 &* UInt64(truncatingIfNeeded: index &+ 1)))
        return mixer.next()
    }
}
