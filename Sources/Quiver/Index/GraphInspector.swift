/// Reads a whole HNSW graph to check its invariants and count its shape: what `quiver verify`
/// and `quiver index stats` report, and what the tests' invariant checks assert.
///
/// Invariants: every link of a node points at a node present on that level (a live row on
/// level 0), with no self-link and no duplicate; a list never holds entries after its
/// terminator (so none exceeds its bound); rows that are not live have empty lists; each
/// upper record names a live row and the same node one level down; every live row of level
/// ℓ ≥ 1 has its slots recorded in `hnsw.nodes`; the entry point is a present node on the top
/// level; every live row is reachable from the entry point on level 0.
struct GraphInspector {
    let snapshot: CollectionSnapshot
    let header: HNSWHeader

    func statistics() throws -> HNSWStatistics {
        var problems: [String] = []
        return try inspect(problems: &problems)
    }

    /// Appends one message per broken invariant (at most `limit`).
    func violations(limit: Int = 50) throws -> [String] {
        var problems: [String] = []
        _ = try inspect(problems: &problems, limit: limit)
        return problems
    }

    private func inspect(problems: inout [String], limit: Int = 50) throws -> HNSWStatistics {
        func report(_ message: String) { if problems.count < limit { problems.append(message) } }
        guard let links = snapshot.tables.hnswLinks, let nodesTable = snapshot.tables.hnswNodes else {
            throw QuiverError(.indexNotFound, "the store has no index tables", collection: snapshot.name)
        }
        let geometry = header.geometry
        let rowCount = Int(snapshot.counters.rowCount)
        let live = try FilterEvaluator.liveRows(snapshot)
        let graph = GraphStore(geometry: geometry, collection: snapshot.id, table: links, txn: snapshot.txn, writable: false)
        graph.reserve(level: 0, records: rowCount)

        // Level 0.
        var histogram = [Int](repeating: 0, count: geometry.m0 + 1)
        var seen = Set<UInt32>()
        for row in 0..<UInt32(rowCount) {
            let list = graph.list0(row)
            let degree = checkList(list, capacity: geometry.m0, node: row, level: 0, seen: &seen, report: report) { n in
                Int(n) < rowCount && live.contains(n)
            }
            if live.contains(row) {
                histogram[degree] += 1
            } else if degree > 0 {
                report("HNSW: row \(row) is not live but has \(degree) level-0 links")
            }
        }

        // Upper levels.
        var perLevel = [live.count]
        var topPresent = 0
        for level in 1..<HNSWHeader.maximumLevels {
            let slots = Int(header.slotCounts[level])
            guard slots > 0 else { continue }
            graph.reserve(level: level, records: slots)
            var present = 0
            for slot in 0..<UInt32(slots) {
                let record = graph.record(level: level, slot)
                guard record[1] != UInt32.max else { continue }
                present += 1
                let row = record[0]
                if !live.contains(row) { report("HNSW: level \(level) slot \(slot) names row \(row), which is not live") }
                if level == 1 {
                    if record[1] != row { report("HNSW: level 1 slot \(slot) points down to \(record[1]), not its row \(row)") }
                } else if Int(record[1]) >= Int(header.slotCounts[level - 1]) || graph.record(level: level - 1, record[1])[0] != row {
                    report("HNSW: level \(level) slot \(slot) points down to a slot of another row")
                }
                _ = checkList(record + 2, capacity: geometry.m, node: slot, level: level, seen: &seen, report: report) { n in
                    Int(n) < slots && graph.record(level: level, n)[1] != UInt32.max
                }
            }
            if present > 0 { topPresent = level }
            while perLevel.count < level { perLevel.append(0) }
            perLevel.append(present)
        }
        while perLevel.count > 1 && perLevel.last == 0 { perLevel.removeLast() }

        // Node records and levels.
        var nodeEntries = 0
        var nodeBytes = 0
        try snapshot.txn.withCursor(nodesTable) { cursor in
            var entry = try cursor.seek(compositeKey(snapshot.id, 0))
            while let e = entry, e.key.count == 8, e.key.bigEndianUInt32(at: 0) == snapshot.id {
                nodeEntries += 1
                nodeBytes += e.value.count
                entry = try cursor.next()
            }
        }
        let maintenance = try HNSWMaintenance(snapshot: snapshot)
        try live.forEach { row in
            let level = header.level(of: row)
            guard level > 0 else { return }
            guard let slots = try maintenance.storedSlots(of: row), slots.count == level else {
                report("HNSW: live row \(row) of level \(level) has no slots recorded")
                return
            }
            for (i, slot) in slots.enumerated() where Int(slot) >= Int(header.slotCounts[i + 1]) || graph.record(level: i + 1, slot)[0] != row
                || graph.record(level: i + 1, slot)[1] == UInt32.max {
                report("HNSW: row \(row) is missing from level \(i + 1)")
            }
        }

        // Entry point and reachability.
        var unreachable = 0
        if live.count > 0 {
            if header.isEmpty {
                report("HNSW: the graph has no entry point but \(live.count) live rows")
            } else {
                if !live.contains(header.entryRow) { report("HNSW: the entry point row \(header.entryRow) is not live") }
                if header.entryLevel != topPresent { report("HNSW: the entry point is on level \(header.entryLevel), the top level is \(topPresent)") }
                if header.entryLevel > 0, graph.record(level: header.entryLevel, header.entrySlot)[0] != header.entryRow {
                    report("HNSW: the entry slot does not hold the entry row")
                }
                var reached = RowSet(capacity: rowCount)
                var stack = [header.entryRow]
                reached.words[Int(header.entryRow >> 6)] |= 1 << UInt64(header.entryRow & 63)
                while let row = stack.popLast() {
                    let list = graph.list0(row)
                    for i in 0..<geometry.m0 {
                        let n = list[i]
                        if n == UInt32.max { break }
                        guard Int(n) < rowCount, !reached.contains(n) else { continue }
                        reached.words[Int(n >> 6)] |= 1 << UInt64(n & 63)
                        stack.append(n)
                    }
                }
                var missing = live
                missing.subtract(reached)
                unreachable = missing.count
                if unreachable > 0 { report("HNSW: \(unreachable) live rows are unreachable from the entry point") }
            }
        }

        // Size: link blocks are whole pages (4 per block); node records and the header are
        // leaf entries (key, value and LMDB's 8-byte node header).
        var linkBlocks = 0
        try snapshot.txn.withCursor(links) { cursor in
            var entry = try cursor.seek(compositeKey(snapshot.id, 0))
            while let e = entry, e.key.count == 8, e.key.bigEndianUInt32(at: 0) == snapshot.id {
                linkBlocks += 1
                entry = try cursor.next()
            }
        }
        let graphBytes = linkBlocks * GraphGeometry.blockPages * 4096 + nodeBytes + nodeEntries * 16 + HNSWHeader.encodedSize + 16
        return HNSWStatistics(parameters: header.parameters, nodes: live.count, nodesPerLevel: perLevel, entryLevel: header.entryLevel,
                              level0DegreeHistogram: histogram, unreachableNodes: unreachable, graphBytes: graphBytes)
    }

    /// Checks one list's form; returns its length.
    private func checkList(_ list: UnsafeMutablePointer<UInt32>, capacity: Int, node: UInt32, level: Int, seen: inout Set<UInt32>,
                           report: (String) -> Void, isPresent: (UInt32) -> Bool) -> Int {
        seen.removeAll(keepingCapacity: true)
        var length = 0
        while length < capacity && list[length] != UInt32.max { length += 1 }
        for i in length..<capacity where list[i] != UInt32.max {
            report("HNSW: level \(level) node \(node) has links after its list's end")
            break
        }
        for i in 0..<length {
            let n = list[i]
            if n == node { report("HNSW: level \(level) node \(node) links to itself") }
            if !seen.insert(n).inserted { report("HNSW: level \(level) node \(node) links to \(n) twice") }
            if !isPresent(n) { report("HNSW: level \(level) node \(node) links to \(n), which is not in the graph") }
        }
        return length
    }
}
