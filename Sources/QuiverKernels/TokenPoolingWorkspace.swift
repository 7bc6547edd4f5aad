/// Scratch memory for ``TokenPooling``, reused from one document to the next.
///
/// Pooling a document of m unprotected tokens needs an m × m distance matrix and a few arrays
/// of m entries. A workspace keeps them between calls and grows them only for a document larger
/// than any before it, so that pooling many documents allocates nothing but each output. It is
/// not thread-safe: use one workspace per thread.
///
/// How each step mirrors SciPy (`scipy/cluster/_hierarchy.pyx`, `linkage(method='ward')` then
/// `cut_tree`), so that ties and near-ties resolve the same way:
/// 1. Distances are Euclidean, in `Double`, from the tokens widened to `Double` (as `pdist`
///    widens them); they differ from `pdist`'s in the last bits only, and equal tokens are at
///    distance exactly 0 in both.
/// 2. The nearest-neighbour chain (`nn_chain`): the chain starts at the lowest live cluster; a
///    cluster's nearest neighbour is the first, in index order, at the strictly smallest
///    distance, and the previous chain element wins ties; a merge of slots `x < y` puts the
///    new cluster in slot `y`; the Lance–Williams update for Ward is SciPy's formula, operation
///    for operation: `sqrt((nᵢ+nₓ)·t·dₓᵢ² + (nᵢ+nᵧ)·t·dᵧᵢ² − nᵢ·t·dₓᵧ²)` with
///    `t = 1 / (nₓ+nᵧ+nᵢ)`. Where rounding makes the radicand negative (its exact value is 0)
///    SciPy gets NaN; here it is 0.
/// 3. The chain emits merges out of height order; SciPy sorts them by height with a stable
///    sort, so equal heights keep the order of emission. Here they are ordered by
///    (height, emission index), which is the same order: the rows of SciPy's linkage matrix,
///    which its `label` step numbers (row r creates cluster m + r; its children are the
///    clusters holding its two slots, the smaller number on the left).
/// 4. The first `m − clusters` merges are applied in the order `cut_tree(n_clusters:)` takes
///    them, and each token's cluster follows from the slots merged. `cut_tree` does not take
///    the rows in order: it lists the dendrogram's nodes breadth-first from the root (right
///    child before left) and inserts each into a list sorted by height with
///    `bisect.insort_left`, so among equal heights the node visited last comes first. Without
///    ties that is the rows' order; with them (duplicate tokens, tokens on a grid) it decides
///    which clusters remain, so ties are reordered the same way here.
///    `fcluster(criterion='maxclust')` differs only when the height of the last merge applied
///    ties with the next one: it cuts at a height, so it applies every tied merge and may
///    leave fewer clusters than asked. The reference cases (`pooling-cases/cases.json`,
///    "identical-tokens") keep exactly the count asked, as here.
// Safety: the class owns its buffers, frees them in deinit, and indexes them only below the
// capacities `reserve` allocated; none escapes.
@safe public final class TokenPoolingWorkspace {
    /// One merge of the nearest-neighbour chain: slots `first < second`, the new cluster in
    /// `second`.
    private struct Merge {
        var first: Int
        var second: Int
        var height: Double
    }

    /// Tokens the per-token buffers hold (m).
    private var tokenCapacity = 0
    /// Doubles `coordinates` and `sums` hold (m · dimensions).
    private var floatCapacity = 0
    /// Doubles `distances` holds (m²).
    private var distanceCapacity = 0
    /// The unprotected tokens widened to `Double`, row-major.
    private var coordinates: UnsafeMutablePointer<Double>
    /// Cluster sums, row-major, one row per output cluster.
    private var sums: UnsafeMutablePointer<Double>
    /// Each token's squared norm: the diagonal of the Gram matrix.
    private var squaredNorms: UnsafeMutablePointer<Double>
    /// The distance kernel's scratch: the coordinates transposed.
    private var transposed: UnsafeMutablePointer<Double>
    private var transposedCapacity = 0
    /// The Ward distances between clusters, m × m, both halves; +infinity on the diagonal.
    /// Entries of dead slots are stale and never read.
    private var distances: UnsafeMutablePointer<Double>
    /// Tokens in each slot's cluster; 0 for dead slots.
    private var sizes: UnsafeMutablePointer<Int>
    /// `reciprocals[n] == 1.0 / Double(n)` for n in 1...2 · tokenCapacity, SciPy's `t` for the
    /// Ward update, looked up instead of divided (the lane of slot `y` itself reads up to
    /// 2 · count).
    private var reciprocals: UnsafeMutablePointer<Double>
    /// The nearest-neighbour chain, as slots.
    private var chain: UnsafeMutablePointer<Int>
    /// The live slots, ascending.
    private var alive: UnsafeMutablePointer<Int>
    /// The m − 1 merges, in the order the chain emits them.
    private var merges: UnsafeMutablePointer<Merge>
    /// Merge indices, sorted by (height, emission index), then ties in `cut_tree`'s order.
    private var order: UnsafeMutablePointer<Int>
    /// Union–find parents over the dendrogram's clusters (tokens 0..<m, then m + row), for
    /// labelling the rows as SciPy does; 2m entries.
    private var clusterParent: UnsafeMutablePointer<Int>
    /// Each row's children (smaller cluster, larger cluster); 2m entries.
    private var children: UnsafeMutablePointer<Int>
    /// Each row's position in the breadth-first walk from the root.
    private var visits: UnsafeMutablePointer<Int>
    /// The breadth-first walk's queue of clusters; 2m entries.
    private var queue: UnsafeMutablePointer<Int>
    /// Union–find parents over the slots, then each slot's root.
    private var parent: UnsafeMutablePointer<Int>
    /// Each root's output cluster, or −1.
    private var clusterOfRoot: UnsafeMutablePointer<Int>

    /// Creates an empty workspace; its buffers are allocated by the first document pooled.
    public init() {
        unsafe coordinates = .allocate(capacity: 0)
        unsafe sums = .allocate(capacity: 0)
        unsafe squaredNorms = .allocate(capacity: 0)
        unsafe transposed = .allocate(capacity: 0)
        unsafe distances = .allocate(capacity: 0)
        unsafe sizes = .allocate(capacity: 0)
        unsafe reciprocals = .allocate(capacity: 0)
        unsafe chain = .allocate(capacity: 0)
        unsafe alive = .allocate(capacity: 0)
        unsafe merges = .allocate(capacity: 0)
        unsafe order = .allocate(capacity: 0)
        unsafe clusterParent = .allocate(capacity: 0)
        unsafe children = .allocate(capacity: 0)
        unsafe visits = .allocate(capacity: 0)
        unsafe queue = .allocate(capacity: 0)
        unsafe parent = .allocate(capacity: 0)
        unsafe clusterOfRoot = .allocate(capacity: 0)
    }

    deinit {
        unsafe coordinates.deallocate()
        unsafe sums.deallocate()
        unsafe squaredNorms.deallocate()
        unsafe transposed.deallocate()
        unsafe distances.deallocate()
        unsafe sizes.deallocate()
        unsafe reciprocals.deallocate()
        unsafe chain.deallocate()
        unsafe alive.deallocate()
        unsafe merges.deallocate()
        unsafe order.deallocate()
        unsafe clusterParent.deallocate()
        unsafe children.deallocate()
        unsafe visits.deallocate()
        unsafe queue.deallocate()
        unsafe parent.deallocate()
        unsafe clusterOfRoot.deallocate()
    }

    /// Grows the buffers to hold `count` tokens of `dimensions` floats.
    private func reserve(count: Int, dimensions: Int) {
        // Safety: each buffer is replaced by a fresh one of the new capacity while none is in use.
        if count > tokenCapacity {
            unsafe squaredNorms.deallocate()
            unsafe squaredNorms = .allocate(capacity: count)
            unsafe sizes.deallocate()
            unsafe sizes = .allocate(capacity: count)
            unsafe reciprocals.deallocate()
            unsafe reciprocals = .allocate(capacity: 2 * count + 1)
            unsafe reciprocals[0] = .infinity  // never used: a size sum is at least 3
            for n in 1...(2 * count) { unsafe reciprocals[n] = 1.0 / Double(n) }
            unsafe chain.deallocate()
            unsafe chain = .allocate(capacity: count)
            unsafe alive.deallocate()
            unsafe alive = .allocate(capacity: count)
            unsafe merges.deallocate()
            unsafe merges = .allocate(capacity: count)
            unsafe order.deallocate()
            unsafe order = .allocate(capacity: count)
            unsafe clusterParent.deallocate()
            unsafe clusterParent = .allocate(capacity: 2 * count)
            unsafe children.deallocate()
            unsafe children = .allocate(capacity: 2 * count)
            unsafe visits.deallocate()
            unsafe visits = .allocate(capacity: count)
            unsafe queue.deallocate()
            unsafe queue = .allocate(capacity: 2 * count)
            unsafe parent.deallocate()
            unsafe parent = .allocate(capacity: count)
            unsafe clusterOfRoot.deallocate()
            unsafe clusterOfRoot = .allocate(capacity: count)
            tokenCapacity = count
        }
        if count * count > distanceCapacity {
            unsafe distances.deallocate()
            unsafe distances = .allocate(capacity: count * count)
            distanceCapacity = count * count
        }
        if count * dimensions > floatCapacity {
            unsafe coordinates.deallocate()
            unsafe coordinates = .allocate(capacity: count * dimensions)
            unsafe sums.deallocate()
            unsafe sums = .allocate(capacity: count * dimensions)
            floatCapacity = count * dimensions
        }
    }

    /// Clusters `count` tokens into `clusterCount` clusters and writes their normalised means.
    ///
    /// - Precondition: `1 <= clusterCount <= count`, `tokens.count == count * dimensions`,
    ///   `output.count == clusterCount * dimensions`.
    func poolClusters(
        tokens: UnsafeBufferPointer<Float>, count: Int, dimensions: Int, clusterCount: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(1 <= clusterCount && clusterCount <= count, "cluster count out of range")
        precondition(tokens.count == count * dimensions && output.count == clusterCount * dimensions,
                     "buffer sizes do not match")
        reserve(count: count, dimensions: dimensions)
        for i in 0..<(count * dimensions) {
            // Safety: i < count * dimensions, the size of both buffers.
            unsafe coordinates[i] = Double(tokens[i])
        }
        if clusterCount == 1 {
            // Every merge is applied: no distance is needed.
            for slot in 0..<count { unsafe parent[slot] = 0 }
        } else {
            computeDistances(count: count, dimensions: dimensions)
            runNearestNeighbourChain(count: count)
            applyLowestMerges(count: count, merging: count - clusterCount)
        }
        unsafe writeNormalisedMeans(count: count, dimensions: dimensions, clusterCount: clusterCount,
                                    into: output)
    }

    // MARK: Distances

    /// Fills `distances` with the Euclidean distances between the tokens in `coordinates`.
    ///
    /// `|a − b|² = (|a|² + |b|²) − 2 a·b`, from a Gram matrix in `Double`. The products of widened
    /// floats are exact and the sums round at 2⁻⁵³, so the cancellation that rules this form out
    /// in `Float` (see ``Kernels/squaredL2(_:_:count:)``) costs at most a few ulps of |a|² here,
    /// about what SciPy's own rounding is. The C kernel (`qv_pool_distances`,
    /// ``Kernels/poolDistances(coordinates:count:dimensions:norms:transposed:into:)``) tiles the
    /// Gram matrix over vectors of columns; every dot product, the squared norms included, runs
    /// the same operations in every lane and table, with no fused multiply-add, so equal tokens
    /// are at distance exactly 0, as in SciPy, and every machine pools alike.
    private func computeDistances(count: Int, dimensions: Int) {
        let scratch = Kernels.poolDistancesScratch(count: count, dimensions: dimensions)
        if scratch > transposedCapacity {
            // Safety: replaced while not in use.
            unsafe transposed.deallocate()
            unsafe transposed = .allocate(capacity: scratch)
            transposedCapacity = scratch
        }
        // Safety: coordinates hold count * dimensions doubles, squaredNorms count, distances
        // count², transposed the scratch the kernel asks for.
        unsafe Kernels.poolDistances(coordinates: coordinates, count: count, dimensions: dimensions, norms: squaredNorms,
                                     transposed: transposed, into: distances)
    }

    // MARK: Ward linkage

    /// Runs SciPy's nearest-neighbour chain over `distances`, filling `merges` with the
    /// `count − 1` merges in the order they are found.
    private func runNearestNeighbourChain(count: Int) {
        // Safety: every slot index below is < count, the size of sizes and of each row of
        // distances; chain and alive never hold more than count slots.
        for slot in 0..<count {
            unsafe sizes[slot] = 1
            unsafe alive[slot] = slot
        }
        var aliveCount = count
        var chainLength = 0
        for k in 0..<(count - 1) {
            if chainLength == 0 {
                unsafe chain[0] = alive[0]
                chainLength = 1
            }
            // Extend the chain until its last two clusters are each other's nearest neighbour.
            var x = 0
            var y = 0
            var height = 0.0
            while true {
                x = unsafe chain[chainLength - 1]
                let row = unsafe UnsafePointer(distances + x * count)
                // The previous element wins ties: SciPy looks for a distance strictly below its
                // own, and takes the first live slot, in index order, at the smallest distance.
                // The diagonal holds +infinity, so x is never its own neighbour.
                let previous = unsafe chainLength > 1 ? chain[chainLength - 2] : -1
                height = unsafe previous >= 0 ? row[previous] : .infinity
                y = previous
                for position in 0..<aliveCount {
                    let slot = unsafe alive[position]
                    let distance = unsafe row[slot]
                    if distance < height {
                        height = distance
                        y = slot
                    }
                }
                precondition(y >= 0, "no finite distance left")
                if y == previous { break }
                unsafe chain[chainLength] = y
                chainLength += 1
            }
            chainLength -= 2
            if x > y { swap(&x, &y) }
            unsafe merges[k] = Merge(first: x, second: y, height: height)
            // Slot x dies: it leaves the (ascending) list of live slots.
            var position = 0
            while unsafe alive[position] != x { position += 1 }
            unsafe (alive + position).update(from: alive + position + 1, count: aliveCount - position - 1)
            aliveCount -= 1
            mergeSlots(x, into: y, height: height, aliveCount: aliveCount, count: count)
        }
    }

    /// Merges slot `x` into slot `y`: row and column `y` get the Ward distances of the union,
    /// for the live slots (the others' entries are stale and never read again).
    ///
    /// The Lance–Williams update is SciPy's `_ward`, operation for operation (lane-wise SIMD
    /// arithmetic rounds as scalar arithmetic does, and `reciprocals[n]` is `1.0 / n`), except
    /// that a radicand that rounds below zero gives 0 instead of NaN. Live slots go two at a
    /// time, a lone last one paired with itself; the lane of slot `y` itself, which SciPy
    /// skips, is computed and then overwritten with the diagonal's +infinity.
    private func mergeSlots(_ x: Int, into y: Int, height: Double, aliveCount: Int, count: Int) {
        // Safety: x, y and every live slot are < count, the size of sizes and of the rows of
        // distances; a size sum is at most 2 · count (slot y's own lane), the last index of
        // reciprocals.
        let sizeX = unsafe sizes[x]
        let sizeY = unsafe sizes[y]
        unsafe sizes[x] = 0
        unsafe sizes[y] = sizeX + sizeY
        let rowX = unsafe distances + x * count
        let rowY = unsafe distances + y * count
        let sizeXY = SIMD2(repeating: Double(sizeX))
        let sizeYY = SIMD2(repeating: Double(sizeY))
        let distanceXY = SIMD2(repeating: height)
        var position = 0
        while position < aliveCount {
            let slot0 = unsafe alive[position]
            let slot1 = unsafe alive[Swift.min(position + 1, aliveCount - 1)]
            let size0 = unsafe sizes[slot0]
            let size1 = unsafe sizes[slot1]
            let sizeI = SIMD2(Double(size0), Double(size1))
            let t = unsafe SIMD2(reciprocals[sizeX + sizeY + size0], reciprocals[sizeX + sizeY + size1])
            let distanceXI = unsafe SIMD2(rowX[slot0], rowX[slot1])
            let distanceYI = unsafe SIMD2(rowY[slot0], rowY[slot1])
            let radicand = (sizeI + sizeXY) * t * distanceXI * distanceXI
                + (sizeI + sizeYY) * t * distanceYI * distanceYI
                - sizeI * t * distanceXY * distanceXY
            let updated = pointwiseMax(radicand, SIMD2(repeating: 0)).squareRoot()
            unsafe rowY[slot0] = updated[0]
            unsafe distances[slot0 * count + y] = updated[0]
            unsafe rowY[slot1] = updated[1]
            unsafe distances[slot1 * count + y] = updated[1]
            position += 2
        }
        unsafe rowY[y] = .infinity
    }

    // MARK: The cut

    /// Orders the merges as `cut_tree` takes them and unions the slots of the first
    /// `mergeCount`, leaving each slot's root in `parent`.
    private func applyLowestMerges(count: Int, merging mergeCount: Int) {
        let mergeTotal = count - 1
        for k in 0..<mergeTotal { unsafe order[k] = k }
        sortOrderByHeight(count: mergeTotal)
        orderTiesAsCutTree(count: count)
        for slot in 0..<count { unsafe parent[slot] = slot }
        for rank in 0..<mergeCount {
            let merge = unsafe merges[order[rank]]
            let rootFirst = root(merge.first, in: parent)
            let rootSecond = root(merge.second, in: parent)
            unsafe parent[Swift.max(rootFirst, rootSecond)] = Swift.min(rootFirst, rootSecond)
        }
        for slot in 0..<count { unsafe parent[slot] = root(slot, in: parent) }
    }

    /// Reorders each run of merges of equal height (in `order`, sorted by height) as
    /// `cut_tree` takes them: the one visited last by a breadth-first walk from the root, right
    /// child first, comes first. Nothing to do when no two heights tie (the usual case).
    private func orderTiesAsCutTree(count: Int) {
        let mergeTotal = count - 1
        guard (1..<mergeTotal).contains(where: { rank in unsafe height(at: rank) == height(at: rank - 1) }) else { return }
        visitRowsBreadthFirst(count: count)
        // Each run of equal heights, by descending visit (insertion sort: runs are short but
        // for duplicate tokens, and a run of r costs O(r²) ≤ the chain's O(m²)).
        var start = 0
        while start < mergeTotal {
            var end = start + 1
            while end < mergeTotal, height(at: end) == height(at: start) { end += 1 }
            for i in (start + 1)..<Swift.max(start + 1, end) {
                let (merge, visit) = unsafe (order[i], visits[i])
                var j = i
                while j > start, unsafe visits[j - 1] < visit {
                    unsafe order[j] = order[j - 1]
                    unsafe visits[j] = visits[j - 1]
                    j -= 1
                }
                unsafe order[j] = merge
                unsafe visits[j] = visit
            }
            start = end
        }
    }

    /// The height of the merge at `rank` in `order`.
    @inline(__always)
    private func height(at rank: Int) -> Double { unsafe merges[order[rank]].height }

    /// Labels the rows of `order` as SciPy's `label` does (row r creates cluster `count + r`;
    /// its children are the clusters holding its two slots, smaller first) and writes each
    /// row's position in a breadth-first walk from the root, right child first, to `visits`.
    private func visitRowsBreadthFirst(count: Int) {
        let mergeTotal = count - 1
        for cluster in 0..<(2 * count - 1) { unsafe clusterParent[cluster] = cluster }
        for rank in 0..<mergeTotal {
            let merge = unsafe merges[order[rank]]
            let a = root(merge.first, in: clusterParent), b = root(merge.second, in: clusterParent)
            unsafe children[2 * rank] = Swift.min(a, b)
            unsafe children[2 * rank + 1] = Swift.max(a, b)
            unsafe clusterParent[a] = count + rank
            unsafe clusterParent[b] = count + rank
        }
        var head = 0, tail = 1, visited = 0
        unsafe queue[0] = count + mergeTotal - 1
        while head < tail {
            let cluster = unsafe queue[head]
            head += 1
            guard cluster >= count else { continue }
            let rank = cluster - count
            unsafe visits[rank] = visited
            visited += 1
            unsafe queue[tail] = children[2 * rank + 1]
            unsafe queue[tail + 1] = children[2 * rank]
            tail += 2
        }
    }

    /// Whether merge `a` comes before merge `b`: lower height, then earlier emission (the
    /// order of SciPy's stable sort).
    @inline(__always)
    private func precedes(_ a: Int, _ b: Int) -> Bool {
        let heightA = unsafe merges[a].height
        let heightB = unsafe merges[b].height
        return heightA < heightB || (heightA == heightB && a < b)
    }

    /// Heapsorts `order[0..<count]` by `precedes`: in place, so nothing is allocated,
    /// and the keys are distinct, so the result does not depend on the algorithm's stability.
    private func sortOrderByHeight(count: Int) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 * root + 1
                if child >= end { return }
                if unsafe child + 1 < end && precedes(order[child], order[child + 1]) { child += 1 }
                guard unsafe precedes(order[root], order[child]) else { return }
                unsafe swap(&order[root], &order[child])
                root = child
            }
        }
        var start = count / 2
        while start > 0 {
            start -= 1
            siftDown(start, count)
        }
        var end = count
        while end > 1 {
            end -= 1
            unsafe swap(&order[0], &order[end])
            siftDown(0, end)
        }
    }

    /// Returns the root of `element`'s set in the union–find forest `parents`, halving the
    /// path on the way.
    @inline(__always)
    private func root(_ element: Int, in parents: UnsafeMutablePointer<Int>) -> Int {
        var element = element
        while unsafe parents[element] != element {
            unsafe parents[element] = parents[parents[element]]
            element = unsafe parents[element]
        }
        return element
    }

    // MARK: Means

    /// Sums each cluster's tokens, numbering clusters by their first token, and writes each sum
    /// divided by its norm (the normalised mean); a zero sum is written as zeros.
    private func writeNormalisedMeans(
        count: Int, dimensions: Int, clusterCount: Int, into output: UnsafeMutableBufferPointer<Float>
    ) {
        for slot in 0..<count { unsafe clusterOfRoot[slot] = -1 }
        var clustersSeen = 0
        for token in 0..<count {
            let root = unsafe parent[token]
            var cluster = unsafe clusterOfRoot[root]
            let source = unsafe coordinates + token * dimensions
            if cluster < 0 {
                cluster = clustersSeen
                clustersSeen += 1
                precondition(cluster < clusterCount, "more clusters than asked")
                unsafe clusterOfRoot[root] = cluster
                unsafe (sums + cluster * dimensions).update(from: source, count: dimensions)
            } else {
                let sum = unsafe sums + cluster * dimensions
                for i in 0..<dimensions { unsafe sum[i] += source[i] }
            }
        }
        precondition(clustersSeen == clusterCount, "fewer clusters than asked")
        for cluster in 0..<clusterCount {
            let sum = unsafe sums + cluster * dimensions
            var squaredNorm = 0.0
            for i in 0..<dimensions { squaredNorm += unsafe sum[i] * sum[i] }
            let norm = squaredNorm.squareRoot()
            let base = cluster * dimensions
            for i in 0..<dimensions {
                // Safety: base + i < clusterCount * dimensions == output.count.
                unsafe output[base + i] = norm > 0 ? Float(sum[i] / norm) : 0
            }
        }
    }
}
