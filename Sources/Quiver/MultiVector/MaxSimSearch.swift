import QuiverKernels
import QuiverStorage

/// One MaxSim search of a multi-vector collection: the plan (exact, or token index then
/// rescoring) and both paths.
struct MaxSimSearch {
    /// The multi-vector collection (documents, records, postings).
    let documents: CollectionSnapshot
    /// Its token space (token rows, owners, index).
    let tokens: CollectionSnapshot
    /// `queryCount × dimensions` floats, normalised for cosine.
    let query: UnsafePointer<Float>
    let queryCount: Int

    func run(k: Int, filterRows: RowSet?, options: SearchOptions, reader: CollectionReader) throws -> [Hit] {
        let tokenReader = CollectionReader(snapshot: tokens)
        return try tokenReader.withSearchContext { context in
            if let filterRows, filterRows.isEmpty { return [] }
            let graph = context.header.flatMap { $0.isEmpty ? nil : $0 }
            // The plan: IVF lists of the tokens when the candidates resolve to them (explicitly,
            // or by default without a graph), else the token graph, else the exact scan.
            let codebook = options.strategy == .exact ? nil
                : try tokenReader.candidateCodebook(options, context: context, indexed: graph != nil)
            if let codebook, codebook.isInverted {
                return try centroidInteraction(k: k, codebook: codebook, context: context, filterRows: filterRows, options: options)
            }
            guard options.strategy != .exact, let header = graph else {
                if options.strategy == .index, context.header == nil {
                    throw QuiverError(.indexNotFound, "the collection has no token index", collection: documents.name)
                }
                return try exact(rows: filterRows ?? reader.selectedRows(nil), k: k, context: context)
            }
            var tokenFilter: RowSet?
            var plan: FilteredPlan?
            if let filterRows {
                // The walk admits only the tokens of passing documents (ACORN's expansion
                // when they are few); a filter that few tokens pass is scored exactly.
                let passing = try tokensOf(filterRows, context: context)
                plan = FilteredPlan.choose(passing: passing.count, live: Int(tokens.counters.liveCount))
                if plan == .exact {
                    guard options.strategy == .index else { return try exact(rows: filterRows, k: k, context: context) }
                    plan = .twoHop
                }
                tokenFilter = passing
            }
            return try fast(k: k, header: header, context: context, tokenFilter: tokenFilter, plan: plan, options: options,
                            codebook: codebook)
        }
    }

    /// Every document of `rows` scored exactly.
    func exact(rows: RowSet, k: Int, context: SearchContext) throws -> [Hit] {
        try scorer(context).top(rows, k: k)
    }

    /// The exact scorer, reading token lists and float rows through what `context` keeps for
    /// the snapshot.
    func scorer(_ context: SearchContext) throws -> MaxSimScorer {
        MaxSimScorer(lists: try documentLists(context), tokenRows: context.floatRows ?? VectorRows(snapshot: tokens, bits: false),
                     dimensions: tokens.descriptor.dimensions, query: query, queryCount: queryCount)
    }

    /// The token lists of the documents, as `context` keeps them for the snapshot.
    func documentLists(_ context: SearchContext) throws -> DocumentLists {
        guard let lists = context.documentLists(documents) else {
            throw QuiverError(.corrupted, "the store has no multivector.docs table", collection: documents.name)
        }
        return lists
    }

    /// The token rows of the documents in `rows`.
    func tokensOf(_ rows: RowSet, context: SearchContext) throws -> RowSet {
        let lists = try documentLists(context)
        var set = RowSet(capacity: Int(tokens.counters.rowCount))
        try rows.forEach { row in
            let document = try lists.live(row)
            for i in 0..<document.count { set.insert(document.row(i)) }
        }
        return set
    }

    /// The token index path: each query token's nearest stored tokens name candidate
    /// documents, ranked by the similarities found (a query token that found none of a
    /// document's tokens counts its smallest similarity found, as XTR imputes missing ones);
    /// the best `k × oversample` are rescored by exact MaxSim.
    func fast(k: Int, header: HNSWHeader, context: SearchContext, tokenFilter: RowSet?, plan: FilteredPlan?,
              options: SearchOptions, codebook: Codebook?) throws -> [Hit] {
        let dimensions = tokens.descriptor.dimensions
        let perToken = options.tokenCandidates ?? SearchOptions.defaultTokenCandidates
        guard let ownerTable = tokens.tables.tokenOwners else { return [] }
        let owners = VectorRows(snapshot: tokens, table: ownerTable, keyBase: 0, stride: 4)
        var tokenOptions = options
        tokenOptions.oversample = 1
        let search = IndexSearch(snapshot: tokens, context: context, header: header)
        // Candidate document → its slot; per slot and query token the best similarity found.
        var slots: [UInt32: Int] = [:]
        var candidates: [UInt32] = []
        var found: [Float] = []
        var floor = [Float](repeating: 0, count: queryCount)
        for t in 0..<queryCount {
            let token = Array(UnsafeBufferPointer(start: query + t * dimensions, count: dimensions))
            let hits = try search.run(floats: token, bits: nil, k: perToken, ef: options.efSearch.map { max($0, perToken) },
                                      filter: tokenFilter, plan: plan, options: tokenOptions, codebook: codebook)
            floor[t] = -(hits.last?.distance ?? 0)
            for hit in hits {
                let document = owners.pointer(hit.row).loadUnaligned(as: UInt32.self).littleEndian
                let slot: Int
                if let existing = slots[document] {
                    slot = existing
                } else {
                    slot = candidates.count
                    slots[document] = slot
                    candidates.append(document)
                    found.append(contentsOf: repeatElement(-Float.infinity, count: queryCount))
                }
                found[slot * queryCount + t] = max(found[slot * queryCount + t], -hit.distance)
            }
        }
        // The estimate is an upper bound of the true score when the walks found every token
        // above each query token's floor: a document's best token for query token t is either
        // among those found or no better than the floor. So candidates are rescored best
        // estimate first, and the rescoring stops when the next estimate cannot enter the top
        // k (Fagin's threshold algorithm), or after `k × oversample` documents.
        var order: [(estimate: Float, document: UInt32)] = []
        order.reserveCapacity(candidates.count)
        for (slot, document) in candidates.enumerated() {
            var estimate: Float = 0
            for t in 0..<queryCount {
                let similarity = found[slot * queryCount + t]
                estimate += similarity == -.infinity ? floor[t] : similarity
            }
            order.append((estimate, document))
        }
        order.sort { $0.estimate > $1.estimate || ($0.estimate == $1.estimate && $0.document < $1.document) }
        let scorer = try scorer(context)
        let cap = max(k, k * shortlistOversample(options, context: context))
        var top = TopK(k: k)
        // With int8 codes of the tokens, the first `k × oversample` are scored on them first
        // (``codePass``), and the best of those on the floats. (The threshold stop below rarely
        // comes early: on the MiniLM tokens 98 of 100 were rescored.)
        if let codes = codeScorer(shortlist: min(cap, order.count), k: k, context: context) {
            let shortlist = try order.prefix(cap).map { Document(row: $0.document, tokens: try scorer.lists.live($0.document)) }
            for candidate in codePass(shortlist, k: k, scorer: codes) {
                top.push(distance: -scorer.score(candidate.tokens), row: candidate.row)
            }
            return top.sortedResults()
        }
        for (rescored, candidate) in order.enumerated() {
            if rescored == cap || (top.isFull && -candidate.estimate >= top.worstDistance) { break }
            top.push(distance: -(try scorer.score(candidate.document)), row: candidate.document)
        }
        return top.sortedResults()
    }
}
