import QuiverKernels

/// The searches of an HNSW graph (Malkov & Yashunin 2018): the greedy descent through the
/// upper levels (Algorithm 2 with ef = 1) and the beam search of one level (Algorithm 2).
/// Used by queries, by inserts, and by the parallel build (then with per-node locks).
///
/// Level 0 nodes are rows; upper-level nodes are slots whose records name their row.
struct GraphWalker {
    let graph: GraphStore
    let space: GraphSpace
    /// Per-row locks while build threads change lists; `nil` for readers and single writers,
    /// who read lists in place.
    let locks: SpinLocks?

    /// Scratch for a list copied under its lock.
    typealias ListBuffer = UnsafeMutablePointer<UInt32>

    /// The row of `node` on `level`.
    @inline(__always)
    func row(level: Int, _ node: UInt32) -> UInt32 {
        level == 0 ? node : graph.record(level: level, node)[0]
    }

    /// The neighbour list of `node`: in place, or copied into `buffer` under the node's lock.
    @inline(__always)
    func neighbours(level: Int, _ node: UInt32, buffer: ListBuffer) -> UnsafePointer<UInt32> {
        let list = graph.list(level: level, node)
        guard let locks else { return UnsafePointer(list) }
        let capacity = graph.geometry.capacity(level: level)
        locks.withLock(Int(row(level: level, node)) % locks.count) { buffer.update(from: list, count: capacity) }
        return UnsafePointer(buffer)
    }

    /// Greedy search on `level` from `start`: moves to the nearest neighbour while it is nearer.
    func greedy(query: UnsafeRawPointer, level: Int, start: UInt32, distance: Float, buffers: WalkBuffers) -> (node: UInt32, distance: Float) {
        var current = start
        var best = distance
        let capacity = graph.geometry.capacity(level: level)
        var changed = true
        while changed {
            changed = false
            let list = neighbours(level: level, current, buffer: buffers.list)
            var count = 0
            for i in 0..<capacity {
                let n = list[i]
                if n == UInt32.max { break }
                buffers.nodes[count] = n
                buffers.pointers[count] = space.rows.pointer(row(level: level, n))
                count += 1
            }
            space.distances(query, buffers.pointers, count: count, into: buffers.distances)
            for i in 0..<count where buffers.distances[i] < best {
                best = buffers.distances[i]
                current = buffers.nodes[i]
                changed = true
            }
        }
        return (current, best)
    }

    /// Descends from the entry point to `level`: greedy on each level above it.
    /// - Returns: the node on `level` to start from, and its distance.
    func descend(query: UnsafeRawPointer, header: HNSWHeader, to level: Int, buffers: WalkBuffers) -> (node: UInt32, distance: Float) {
        var node = header.entrySlot
        var distance = space.distance(query, header.entryRow)
        var l = header.entryLevel
        while l > level {
            (node, distance) = greedy(query: query, level: l, start: node, distance: distance, buffers: buffers)
            node = graph.record(level: l, node)[1]  // the same node one level down
            l -= 1
        }
        return (node, distance)
    }

    /// The beam search of one level: expands the nearest unexpanded candidate until none is
    /// nearer than the worst of the `ef` best. `results` receives up to `ef` keys (a max-heap),
    /// `candidates` and `visited` are scratch; `entries` are keys (distance, node), marked
    /// visited here.
    ///
    /// A node's unvisited neighbours are scored together (``GraphSpace/distances(_:_:count:into:)``),
    /// four streams of vector reads at a time, which is what hides the memory latency of a hop.
    ///
    /// - Parameter accept: when set, only rows it accepts enter `results` (all nodes are still
    ///   traversed): hnswlib's filtered search, used for loose filters.
    func searchLevel(query: UnsafeRawPointer, level: Int, entries: UnsafeBufferPointer<UInt64>, ef: Int,
                     results: inout KeyHeap, candidates: inout KeyHeap, visited: inout VisitedSet,
                     accept: RowFilter?, buffers: WalkBuffers) {
        start(entries, level: level, results: &results, candidates: &candidates, visited: &visited, accept: accept)
        let capacity = graph.geometry.capacity(level: level)
        let view = graph.level0View
        let vectors = space.rows
        let nodes = buffers.nodes
        let pointers = buffers.pointers
        let distances = buffers.distances
        var worst = results.count >= ef ? candidateDistance(results.top) : Float.infinity
        while !candidates.isEmpty {
            let nearest = candidates.top
            if candidateDistance(nearest) > worst { break }
            candidates.pop()
            let current = candidateNode(nearest)
            let list: UnsafePointer<UInt32>
            if level == 0 && locks == nil {
                list = UnsafePointer(view.list(current))
                // The next node to expand is likely the new nearest candidate: start loading
                // its list now (hnswlib does the same).
                if !candidates.isEmpty { Kernels.prefetch(UnsafeRawPointer(view.list(candidateNode(candidates.top))), lines: 2) }
            } else {
                list = neighbours(level: level, current, buffer: buffers.list)
            }
            // Their visited marks are scattered: ask for all of them before testing any.
            for i in 0..<capacity {
                let n = list[i]
                if n == UInt32.max { break }
                visited.prefetch(n)
            }
            // The unvisited neighbours and their vectors.
            var count = 0
            for i in 0..<capacity {
                let n = list[i]
                if n == UInt32.max { break }
                guard visited.insert(n) else { continue }
                let pointer = vectors.pointer(level == 0 ? n : row(level: level, n))
                if count < 4 { Kernels.prefetch(pointer, lines: 2) }  // the first group; the kernel fetches the rest ahead
                nodes[count] = n
                pointers[count] = pointer
                count += 1
            }
            guard count > 0 else { continue }
            space.distances(query, pointers, count: count, into: distances)
            for i in 0..<count {
                let d = distances[i]
                guard d < worst || results.count < ef else { continue }
                let n = nodes[i]
                let key = candidateKey(d, n)
                candidates.push(key)
                if let accept, !accept.contains(level == 0 ? n : row(level: level, n)) { continue }
                Self.admit(key, ef: ef, results: &results, worst: &worst)
            }
        }
    }
}

extension GraphWalker {
    /// Starts a beam: the entries (keys of distance and node) become candidates, and results
    /// when `accept` lets their rows in; they are marked visited.
    func start(_ entries: UnsafeBufferPointer<UInt64>, level: Int, results: inout KeyHeap, candidates: inout KeyHeap,
               visited: inout VisitedSet, accept: RowFilter?) {
        results.removeAll()
        candidates.removeAll()
        for key in entries {
            let node = candidateNode(key)
            guard visited.insert(node) else { continue }
            candidates.push(key)
            if accept?.contains(row(level: level, node)) ?? true { results.push(key) }
        }
    }

    /// Takes `key` into the `ef` best (replacing the worst when full) and updates `worst`,
    /// the distance a newcomer must beat.
    @inline(__always)
    static func admit(_ key: UInt64, ef: Int, results: inout KeyHeap, worst: inout Float) {
        if results.count < ef { results.push(key) } else { results.replaceTop(key) }
        if results.count >= ef { worst = candidateDistance(results.top) }
    }
}

/// Scratch arrays one search hop fills: a locked copy of a list, the unvisited neighbours,
/// their vectors' addresses and their distances. Sized for the longest list (2 × 64).
struct WalkBuffers {
    static let capacity = 130
    let list: UnsafeMutablePointer<UInt32>
    let nodes: UnsafeMutablePointer<UInt32>
    let pointers: UnsafeMutablePointer<UnsafeRawPointer?>
    let distances: UnsafeMutablePointer<Float>

    static func allocate() -> WalkBuffers {
        WalkBuffers(list: .allocate(capacity: capacity), nodes: .allocate(capacity: capacity),
                    pointers: .allocate(capacity: capacity), distances: .allocate(capacity: capacity))
    }

    func deallocate() {
        list.deallocate()
        nodes.deallocate()
        pointers.deallocate()
        distances.deallocate()
    }
}

/// Rows a filtered search may return: a bitmap over rows, read in place.
struct RowFilter {
    let words: UnsafePointer<UInt64>
    let wordCount: Int

    @inline(__always)
    func contains(_ row: UInt32) -> Bool {
        let w = Int(row >> 6)
        return w < wordCount && words[w] >> UInt64(row & 63) & 1 != 0
    }
}
