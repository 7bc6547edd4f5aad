/// Makes every live row reachable from the entry point on level 0.
///
/// The neighbour heuristic prunes links, and now and then a node loses its last in-link (more
/// often on clustered data and for the dot product, which is not a metric): a search can then
/// never return it. After a build, and after a transaction changed the graph, a walk from the
/// entry point finds such rows; each one is linked from its nearest reachable node (found by a
/// level-0 search from the entry point, which only meets reachable nodes) with room, or else
/// displaces the farthest link of the nearest one that has a link to spare (one that is not
/// its target's only in-link), and the walk continues from it.
struct GraphConnectivity {
    let walker: GraphWalker
    let rowCount: Int
    let scratch: InsertScratch

    var graph: GraphStore { walker.graph }

    /// Relinks until every live row is reachable (a displaced link can strand another row, so
    /// this repeats, a few rounds at most).
    func ensureReachable(header: HNSWHeader, live: RowSet) {
        // The first round offers rows through the heuristic, which may prune another row's
        // last in-link; later rounds only append or displace links. A link placed by any
        // round is never displaced by a later one: rows that displaced each other round after
        // round once left three rows stranded (dimensions 2-7, many near-duplicates).
        var relinkedRows = Set<UInt32>()
        for round in 0..<8 where relinkUnreachable(header: header, live: live, offer: round == 0, relinkedRows: &relinkedRows) > 0 {}
    }

    /// One walk and the relinking of what it did not reach.
    /// - Parameter relinkedRows: rows relinked so far; their links are not displaced.
    /// - Returns: how many rows were relinked.
    func relinkUnreachable(header: HNSWHeader, live: RowSet, offer: Bool, relinkedRows: inout Set<UInt32>) -> Int {
        guard !header.isEmpty else { return 0 }
        var reached = RowSet(capacity: rowCount)
        var stack: [UInt32] = []
        mark(header.entryRow, &reached, &stack)
        walk(&reached, &stack)
        var unreached = live
        unreached.subtract(reached)
        guard !unreached.isEmpty else { return 0 }
        var relinked = 0
        let capacity = graph.geometry.m0
        // How many reached nodes link to each row: a displaced link should not be its
        // target's only one.
        var inLinks = [UInt16](repeating: 0, count: rowCount)
        reached.forEach { row in
            let list = graph.list0(row)
            for i in 0..<capacity {
                let n = list[i]
                if n == UInt32.max { break }
                if Int(n) < rowCount { inLinks[Int(n)] &+= 1 }
            }
        }
        unreached.forEach { row in
            guard !reached.contains(row) else { return }
            // The nearest reachable node: a level-0 search from the entry point meets only those.
            // (Not a descent through the upper levels: they can lead into a level-0 component
            // the entry point does not reach, found by FuzzMultiVector.)
            let query = walker.space.rowAsQuery(row, scratch: scratch.query)
            var entry = candidateKey(walker.space.distance(query, header.entryRow), header.entryRow)
            scratch.visited.reset(count: rowCount)
            withUnsafePointer(to: &entry) { e in
                walker.searchLevel(query: query, level: 0, entries: UnsafeBufferPointer(start: e, count: 1), ef: 32,
                                   results: &scratch.results, candidates: &scratch.candidates, visited: &scratch.visited,
                                   accept: nil, buffers: scratch.buffers)
            }
            // Offer the row to its nearest reachable nodes as an insert would (the heuristic
            // decides whether each keeps it); if none does, the nearest with room takes it.
            let found = scratch.results.sortedAscending().filter { candidateNode($0) != row && reached.contains(candidateNode($0)) }
            let hosts = found.map(candidateNode)
            guard !hosts.isEmpty else { return }
            let inserter = GraphInserter(walker: walker, rowBound: rowCount)
            var placed = false
            for key in found.prefix(offer ? graph.geometry.m : 0) {
                inserter.link(candidateNode(key), to: row, distance: candidateDistance(key), level: 0, scratch: scratch)
                let list = graph.list0(candidateNode(key))
                for i in 0..<capacity where list[i] == row { placed = true }
            }
            for host in hosts where !placed {
                let list = graph.list0(host)
                var count = 0
                while count < capacity && list[count] != UInt32.max { count += 1 }
                if count < capacity {
                    graph.writableList(level: 0, host)[count] = row
                    placed = true
                }
            }
            // Else the nearest host whose farthest displaceable link (not placed by this
            // relinking, not its target's only in-link, if it has one) gives way.
            for strict in [true, false] where !placed {
                for host in hosts where !placed {
                    let list = graph.list0(host)
                    let hostQuery = walker.space.rowAsQuery(host, scratch: scratch.pairQuery)
                    var farthest = -1
                    var farthestDistance = -Float.infinity
                    for i in 0..<capacity where Int(list[i]) < rowCount && !relinkedRows.contains(list[i])
                        && (!strict || inLinks[Int(list[i])] > 1) {
                        let d = walker.space.distance(hostQuery, list[i])
                        if d > farthestDistance { farthestDistance = d; farthest = i }
                    }
                    guard farthest >= 0 else { continue }
                    inLinks[Int(list[farthest])] &-= 1
                    graph.writableList(level: 0, host)[farthest] = row
                    placed = true
                }
            }
            guard placed else { return }
            inLinks[Int(row)] &+= 1
            relinkedRows.insert(row)
            relinked += 1
            mark(row, &reached, &stack)
            walk(&reached, &stack)
        }
        return relinked
    }

    private func mark(_ row: UInt32, _ reached: inout RowSet, _ stack: inout [UInt32]) {
        reached.words[Int(row >> 6)] |= 1 << UInt64(row & 63)
        stack.append(row)
    }

    private func walk(_ reached: inout RowSet, _ stack: inout [UInt32]) {
        let capacity = graph.geometry.m0
        while let row = stack.popLast() {
            let list = graph.list0(row)
            for i in 0..<capacity {
                let n = list[i]
                if n == UInt32.max { break }
                if Int(n) < rowCount && !reached.contains(n) { mark(n, &reached, &stack) }
            }
        }
    }
}
