import QuiverKernels

/// How a filtered search is run, chosen from the filter's exact row count (the planner of
/// design.md section 4). The thresholds were measured on debian and synthetic data with
/// `quiver bench ann --filter-selectivity` (docs/benchmarks.md, "Filtered search").
enum FilteredPlan: String {
    /// Few rows pass: score exactly those (cheaper than any graph walk, and exact).
    case exact
    /// A tight filter: walk only passing nodes, reaching past failing neighbours to their
    /// neighbours (ACORN, Patel et al. 2024) so the walk does not strand.
    case twoHop
    /// A loose filter: walk the whole graph, admit only passing rows into the results
    /// (hnswlib's filtered search), with the beam widened for the rows that fail.
    case postFilter

    /// Up to this many passing rows the exact plan wins: it scores a scattered row in
    /// 100-250 ns, and a filtered graph walk that holds recall 0.95 costs about 0.5 ms on
    /// debian (measured: 3,139 passing rows scan at 3,100 q/s with recall 1, where the two-hop
    /// walk needs ef 128 for recall 0.93 at 1,700 q/s).
    static let exactRowLimit = 4_000
    /// The two-hop walk scores only passing rows, so its beam fills slowly: it runs with this
    /// multiple of efSearch (at 10% passing on debian, ef 64 gives recall 0.95 where ef 32
    /// gives 0.90).
    static let twoHopEfFactor = 2
    /// Below this fraction of live rows passing, the two-hop walk beats post-filtering.
    static let twoHopSelectivity = 0.25

    static func choose(passing: Int, live: Int) -> FilteredPlan {
        if passing <= exactRowLimit { return .exact }
        return Double(passing) < twoHopSelectivity * Double(live) ? .twoHop : .postFilter
    }
}

/// A search through the HNSW index: descend the upper levels, beam-search level 0 (filtered
/// as planned), rescore on full floats when the graph runs on a prefix or on bits.
struct IndexSearch {
    let snapshot: CollectionSnapshot
    let context: SearchContext
    let header: HNSWHeader

    /// The best `k` rows for `query` (floats, already normalised for cosine) or `bits`; with
    /// a `codebook` of the vector the graph is built on, the walk scores that encoding's codes.
    func run(floats: [Float]?, bits: [UInt64]?, k: Int, ef requested: Int?, filter: RowSet?, plan: FilteredPlan?,
             options: SearchOptions, codebook chosen: Codebook? = nil) throws -> [Hit] {
        guard !header.isEmpty, let graph = context.graph, var space = context.space else { return [] }
        // Floats kept only as int8: the graph lives on those codes.
        let codebook = chosen ?? context.floatCodes
        let dimensions = snapshot.descriptor.dimensions
        let fullSearch = options.prefix == nil || options.prefix == dimensions
        var rescores = (header.space == .prefix && (fullSearch || options.rescore)) || (header.space == .bits && floats != nil && context.floatRows != nil
            && snapshot.descriptor.schema.metric != .hamming && options.rescore)
        var codes: Codebook?
        if let codebook, floats != nil, !codebook.isInverted,
           (header.space == .floats && codebook.dimensions == dimensions) || (header.space == .prefix && codebook.dimensions == header.components),
           let codeSpace = context.codeSpace(codebook, snapshot: snapshot) {
            space = codeSpace
            codes = codebook
            // The codes that keep the floats are the full precision there is.
            rescores = (options.rescore || (header.space == .prefix && fullSearch)) && codebook.id != context.floatCodes?.id
        }
        let shortlist = rescores ? max(k * options.denseOversample, k) : k
        var ef = max(requested ?? header.efSearch, shortlist)
        if plan == .twoHop { ef = min(ef * FilteredPlan.twoHopEfFactor, 100_000) }
        if plan == .postFilter, let filter {
            // Widen the beam by the share of rows that fail, so about ef passing rows are met.
            let share = Double(filter.count) / Double(max(1, snapshot.counters.liveCount))
            ef = min(Int(Double(ef) / share.squareRoot()), 100_000)
        }
        let query = try codes.map { try prepare(floats: floats!, codebook: $0, space: space) } ?? prepare(floats: floats, bits: bits, space: space)
        let walker = GraphWalker(graph: graph, space: space, locks: nil)
        let (node, distance) = walker.descend(query: query, header: header, to: 0, buffers: context.buffers)
        // The entry point seeds level 0 too: every live row is reachable from it (the invariant
        // upkeep keeps), not necessarily from where the descent lands, so a walk that may visit
        // every node (ef ≥ rows) finds every row. It costs one distance and one heap entry.
        let seedCount = header.entryRow == node ? 1 : 2
        let entrySeed = seedCount == 1 ? 0 : candidateKey(space.distance(query, header.entryRow), header.entryRow)
        context.visited.reset(count: Int(snapshot.counters.rowCount))
        var results = context.results
        var candidates = context.candidates
        var visited = context.visited
        defer {
            context.results = results
            context.candidates = candidates
            context.visited = visited
        }
        withFilter(filter) { accept in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2) { seeds in
                seeds[0] = candidateKey(distance, node)
                seeds[1] = entrySeed
                let entries = UnsafeBufferPointer(rebasing: seeds[..<seedCount])
                if plan == .twoHop, let accept {
                    walker.searchTwoHop(query: query, entries: entries, ef: ef, results: &results, candidates: &candidates,
                                        visited: &visited, accept: accept, buffers: context.buffers)
                } else {
                    walker.searchLevel(query: query, level: 0, entries: entries, ef: ef, results: &results, candidates: &candidates,
                                       visited: &visited, accept: accept, buffers: context.buffers)
                }
            }
        }
        let found = results.sortInPlace()
        guard rescores, let floats else {
            return found.prefix(k).map { Hit(distance: candidateDistance($0), row: candidateNode($0)) }
        }
        // Rescore the shortlist on the full float vectors, or on the int8 codes that keep them.
        let shortlisted = found.prefix(shortlist).map { Hit(distance: candidateDistance($0), row: candidateNode($0)) }
        guard context.floatRows != nil || context.floatCodes != nil else { return Array(shortlisted.prefix(k)) }
        return try floats.withUnsafeBufferPointer {
            try ExactScanner(snapshot: snapshot, context: context).rescore(shortlisted, query: $0.baseAddress!, k: k)
        }
    }

    private func withFilter<R>(_ filter: RowSet?, _ body: (RowFilter?) throws -> R) rethrows -> R {
        guard let filter else { return try body(nil) }
        return try filter.words.withUnsafeBufferPointer { try body(RowFilter(words: $0.baseAddress!, wordCount: $0.count)) }
    }

    /// The query prepared for `codebook` (its prefix re-normalised for cosine), in the
    /// context's buffer.
    private func prepare(floats: [Float], codebook: Codebook, space: GraphSpace) throws -> UnsafeRawPointer {
        let metric = snapshot.descriptor.schema.metric
        let buffer = context.queryBuffer(max(space.queryBytes, 8))
        guard codebook.dimensions != floats.count else {
            // The whole (normalised) query: prepared straight from it, nothing allocated.
            floats.withUnsafeBufferPointer { codebook.prepare($0.baseAddress!, metric: metric, into: buffer) }
            return UnsafeRawPointer(buffer)
        }
        var input = Array(floats.prefix(codebook.dimensions))
        if metric == .cosine {
            guard input.withUnsafeMutableBufferPointer({ VectorMath.normalize($0.baseAddress!, count: $0.count) }) > 0 else {
                throw QuiverError(.invalidVector, "the query's \(codebook.dimensions)-prefix is zero", collection: snapshot.name)
            }
        }
        input.withUnsafeBufferPointer { codebook.prepare($0.baseAddress!, metric: metric, into: buffer) }
        return UnsafeRawPointer(buffer)
    }

    /// The query in the graph's space, in the context's buffer.
    private func prepare(floats: [Float]?, bits: [UInt64]?, space: GraphSpace) throws -> UnsafeRawPointer {
        let buffer = context.queryBuffer(max(space.queryBytes, 8))
        switch header.space {
        case .bits:
            let words = buffer.assumingMemoryBound(to: UInt64.self)
            if let bits {
                for i in 0..<header.components { words[i] = bits[i] }
            } else if let floats {
                words.update(repeating: 0, count: header.components)
                floats.withUnsafeBufferPointer { f in
                    packSignBits(f, into: UnsafeMutableRawBufferPointer(start: buffer, count: header.components * 8))
                }
            }
        case .floats, .prefix:
            guard let floats else { throw QuiverError(.invalidArgument, "a float query is needed", collection: snapshot.name) }
            let q = buffer.assumingMemoryBound(to: Float.self)
            for i in 0..<header.components { q[i] = floats[i] }
            if header.space == .prefix && snapshot.descriptor.schema.metric == .cosine {
                guard VectorMath.normalize(q, count: header.components) > 0 else {
                    throw QuiverError(.invalidVector, "the query's \(header.components)-prefix is zero", collection: snapshot.name)
                }
            }
        }
        return UnsafeRawPointer(buffer)
    }
}

extension GraphWalker {
    /// Level-0 search for tight filters: only passing rows are scored and enter the beam; a
    /// failing neighbour is not scored but its own neighbours are looked at (ACORN's two-hop
    /// expansion, Patel et al. 2024), so the walk crosses regions where little passes.
    func searchTwoHop(query: UnsafeRawPointer, entries: UnsafeBufferPointer<UInt64>, ef: Int,
                      results: inout KeyHeap, candidates: inout KeyHeap, visited: inout VisitedSet,
                      accept: RowFilter, buffers: WalkBuffers) {
        start(entries, level: 0, results: &results, candidates: &candidates, visited: &visited, accept: accept)
        let capacity = graph.geometry.m0
        let view = graph.level0View
        let vectors = space.rows
        let nodes = buffers.nodes
        let pointers = buffers.pointers
        let distances = buffers.distances
        var worst = results.count >= ef ? candidateDistance(results.top) : Float.infinity
        var count = 0
        // Scores the gathered passing nodes together and admits the good ones.
        func flush() {
            guard count > 0 else { return }
            space.distances(query, pointers, count: count, into: distances)
            for i in 0..<count {
                let d = distances[i]
                guard d < worst || results.count < ef else { continue }
                let key = candidateKey(d, nodes[i])
                candidates.push(key)
                Self.admit(key, ef: ef, results: &results, worst: &worst)
            }
            count = 0
        }
        func gather(_ n: UInt32) {
            nodes[count] = n
            pointers[count] = vectors.pointer(n)
            count += 1
            if count == WalkBuffers.capacity { flush() }
        }
        while !candidates.isEmpty {
            let nearest = candidates.top
            if candidateDistance(nearest) > worst { break }
            candidates.pop()
            let list = view.list(candidateNode(nearest))
            for i in 0..<capacity {
                let n = list[i]
                if n == UInt32.max { break }
                guard visited.insert(n) else { continue }
                if accept.contains(n) {
                    gather(n)
                    continue
                }
                let second = view.list(n)
                for j in 0..<capacity {
                    let m = second[j]
                    if m == UInt32.max { break }
                    if accept.contains(m), visited.insert(m) { gather(m) }
                }
            }
            flush()
        }
    }
}
