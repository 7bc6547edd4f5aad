import QuiverKernels

/// What one graph walk reuses from the last: the heaps, the visited set and the hop buffers,
/// owned memory that grows to the largest `ef` seen and is never freed between walks.
class WalkScratch {
    var visited = VisitedSet()
    var results = KeyHeap(isMax: true)
    var candidates = KeyHeap(isMax: false)
    let buffers = WalkBuffers.allocate()

    deinit {
        visited.release()
        results.release()
        candidates.release()
        buffers.deallocate()
    }
}

/// Scratch one inserting thread reuses for every node it inserts: a walk's, plus room for the
/// node's own vector and a neighbour's as queries (normalised copies for a cosine prefix).
final class InsertScratch: WalkScratch {
    let query: UnsafeMutableRawPointer
    let pairQuery: UnsafeMutableRawPointer

    init(space: GraphSpace) {
        query = .allocate(byteCount: max(space.rowQueryBytes, 8), alignment: 64)
        pairQuery = .allocate(byteCount: max(space.rowQueryBytes, 8), alignment: 64)
    }

    deinit {
        query.deallocate()
        pairQuery.deallocate()
    }
}

/// Inserts nodes into a graph (Malkov & Yashunin 2018, Algorithm 1) and chooses neighbours
/// with the paper's heuristic (Algorithm 4).
///
/// Safe to run on several threads at once over one ``GraphStore`` whose blocks are all owned,
/// when every thread uses the same ``SpinLocks`` (`walker.locks`) and its own scratch, and the
/// entry point does not change (the build inserts the top node first).
struct GraphInserter {
    let walker: GraphWalker
    /// One more than the largest row in the graph (sizes the visited set of level 0).
    let rowBound: Int
    var graph: GraphStore { walker.graph }
    var space: GraphSpace { walker.space }
    var geometry: GraphGeometry { graph.geometry }

    /// Inserts `row` with its `slots` (its slot on levels 1...slots.count, whose records the
    /// caller has initialised) into the graph entered at `header`'s entry point.
    /// - Returns: whether the node becomes the new entry point (its level is above the entry's).
    @discardableResult
    func insert(row: UInt32, slots: [UInt32], header: HNSWHeader, efConstruction: Int, scratch: InsertScratch) -> Bool {
        let level = slots.count
        guard !header.isEmpty else { return true }
        let query = space.rowAsQuery(row, scratch: scratch.query)
        let top = min(level, header.entryLevel)
        let (node, distance) = walker.descend(query: query, header: header, to: top, buffers: scratch.buffers)
        var entries = [candidateKey(distance, node)]
        var l = top
        while l >= 0 {
            scratch.visited.reset(count: l == 0 ? max(rowBound, Int(row) + 1) : Int(header.slotCounts[l]) + 1)
            entries.withUnsafeBufferPointer { e in
                walker.searchLevel(query: query, level: l, entries: e, ef: efConstruction, results: &scratch.results,
                                   candidates: &scratch.candidates, visited: &scratch.visited, accept: nil, buffers: scratch.buffers)
            }
            let found = scratch.results.sortedAscending()
            let me = l == 0 ? row : slots[l - 1]
            // Up to the list's capacity, 2m on level 0, as FAISS does (hnswlib stops at m): the
            // heuristic rarely keeps that many, and what it keeps raised recall on debian by
            // 0.002-0.003 at efSearch 24-128 at the same queries/s (0.9499 → 0.9530 at 32).
            let chosen = selectNeighbours(level: l, sorted: found.filter { candidateNode($0) != me },
                                          limit: geometry.capacity(level: l), scratch: scratch)
            // The new node's own list, then the reverse links.
            withLock(row) {
                let list = graph.writableList(level: l, me)
                for i in 0..<geometry.capacity(level: l) { list[i] = i < chosen.count ? candidateNode(chosen[i]) : UInt32.max }
            }
            for key in chosen { link(candidateNode(key), to: me, distance: candidateDistance(key), level: l, scratch: scratch) }
            // The next level down starts from everything found here.
            entries = l == 0 ? [] : found.map { candidateKey(candidateDistance($0), graph.record(level: l, candidateNode($0))[1]) }
            if l == 0 { break }
            l -= 1
        }
        return level > header.entryLevel
    }

    /// Adds `newNode` to `node`'s list on `level`; a full list is re-chosen by the heuristic
    /// among its members and the newcomer (hnswlib's `mutuallyConnectNewElement`).
    func link(_ node: UInt32, to newNode: UInt32, distance: Float, level: Int, scratch: InsertScratch) {
        let capacity = geometry.capacity(level: level)
        let nodeRow = walker.row(level: level, node)
        withLock(nodeRow) {
            let list = graph.writableList(level: level, node)
            var count = 0
            while count < capacity && list[count] != UInt32.max {
                if list[count] == newNode { return }
                count += 1
            }
            if count < capacity {
                list[count] = newNode
                return
            }
            let query = space.rowAsQuery(nodeRow, scratch: scratch.pairQuery)
            var keys = [candidateKey(distance, newNode)]
            for i in 0..<capacity { keys.append(candidateKey(space.distance(query, walker.row(level: level, list[i])), list[i])) }
            keys.sort()
            let kept = selectNeighbours(level: level, sorted: keys, limit: capacity, scratch: scratch)
            for i in 0..<capacity { list[i] = i < kept.count ? candidateNode(kept[i]) : UInt32.max }
        }
    }

    /// The paper's heuristic (Algorithm 4, without extending or keeping pruned candidates, as
    /// hnswlib does): walking the candidates nearest first, keep one unless it is nearer to an
    /// already kept neighbour than to the base node. This spreads links across directions,
    /// which keeps clustered data navigable.
    ///
    /// A candidate whose stored vector is byte for byte a kept neighbour's is dropped too: the
    /// rule alone never drops exact duplicates (every distance among them ties), so a group of
    /// identical vectors larger than a list filled each other's lists, and the rows that lost
    /// their in-links could not be relinked without stranding others (found by FuzzHNSW with
    /// floats kept as int8, where vectors outside the trained ranges clamp to one code).
    /// - Parameters:
    ///   - sorted: candidate keys (distance to the base node, node), ascending.
    ///   - initial: neighbours kept whatever the heuristic says (the survivors of a list that
    ///     deletes thinned), ahead of the candidates and counted in the limit.
    func selectNeighbours(level: Int, sorted: [UInt64], limit: Int, scratch: InsertScratch,
                          keeping initial: [UInt64] = []) -> [UInt64] {
        guard initial.count + sorted.count > limit else { return initial + sorted }
        var kept = initial
        kept.reserveCapacity(limit)
        for key in sorted {
            if kept.count >= limit { break }
            let d = candidateDistance(key)
            let candidateRow = walker.row(level: level, candidateNode(key))
            let candidate = space.rowAsQuery(candidateRow, scratch: scratch.pairQuery)
            var good = true
            for other in kept {
                let otherRow = walker.row(level: level, candidateNode(other))
                let between = space.distance(candidate, otherRow)
                // Not nearer to `other` than to the base node, but possibly a copy of it.
                if between < d || (between <= d && space.storesSameVector(candidateRow, otherRow)) {
                    good = false
                    break
                }
            }
            if good { kept.append(key) }
        }
        return kept
    }

    @inline(__always)
    private func withLock<R>(_ row: UInt32, _ body: () -> R) -> R {
        guard let locks = walker.locks else { return body() }
        return locks.withLock(Int(row) % locks.count, body)
    }
}
