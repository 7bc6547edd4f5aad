import QuiverKernels
import QuiverStorage

/// What a multi-vector search through IVF lists reuses from the last: stamp arrays that mark
/// the candidate documents and the probed lists, so a search neither allocates nor clears
/// memory in proportion to the collection.
final class MaxSimScratch {
    private(set) var documentMarks: UnsafeMutablePointer<UInt32>
    private var documentCapacity = 0
    private(set) var listMarks: UnsafeMutablePointer<UInt32>
    private var listCapacity = 0
    /// A document's lists gathered when its token rows are listed rather than a run.
    private(set) var gathered: UnsafeMutablePointer<UInt32> = .allocate(capacity: 256)
    private var gatheredCapacity = 256
    /// The mark of the current search: a slot equal to it is marked.
    private(set) var stamp: UInt32 = 0

    init() {
        documentMarks = .allocate(capacity: 1)
        listMarks = .allocate(capacity: 1)
    }

    deinit {
        documentMarks.deallocate()
        listMarks.deallocate()
        gathered.deallocate()
    }

    /// Room for the lists of `count` tokens in ``gathered``.
    func reserveGathered(_ count: Int) {
        guard count > gatheredCapacity else { return }
        gathered.deallocate()
        gatheredCapacity = count
        gathered = .allocate(capacity: count)
    }

    /// Starts a search over `documents` document rows and `lists` lists: nothing is marked.
    func begin(documents: Int, lists: Int) {
        if documents > documentCapacity {
            documentMarks.deallocate()
            documentCapacity = max(documents, documentCapacity * 2)
            documentMarks = .allocate(capacity: documentCapacity)
            documentMarks.initialize(repeating: 0, count: documentCapacity)
        }
        if lists > listCapacity {
            listMarks.deallocate()
            listCapacity = lists
            listMarks = .allocate(capacity: listCapacity)
            listMarks.initialize(repeating: 0, count: listCapacity)
        }
        stamp &+= 1
        if stamp == 0 {
            documentMarks.update(repeating: 0, count: documentCapacity)
            listMarks.update(repeating: 0, count: listCapacity)
            stamp = 1
        }
    }
}

extension MaxSimSearch {
    /// Query tokens probe this many lists each by default.
    static let defaultProbes = SearchOptions.defaultTokenProbes
    /// Query tokens × lists up to which `S` lives in the search context's reused buffer; past
    /// it a buffer is allocated for the search, and past `maximumScores` the query is scored
    /// exactly (thousands of query tokens against tens of thousands of lists).
    static let pooledScores = 1 << 20
    static let maximumScores = 1 << 24

    /// The IVF path, PLAID's centroid interaction (Santhanam et al. 2022): `S` holds every query
    /// token's dot product with every list centroid; each query token's `nprobe` best lists
    /// name the candidate documents (the owners of their tokens); a candidate's estimate is
    /// `Σ_i max_j S[i][list(j)]` over its tokens `j`, each token's list read from the
    /// encoding's row plane; the best `k × oversample` by estimate are rescored by exact MaxSim
    /// (through ``codePass(_:k:scorer:)`` first when the token space has int8 codes).
    func centroidInteraction(k: Int, codebook: Codebook, context: SearchContext, filterRows: RowSet?,
                             options: SearchOptions) throws -> [Hit] {
        guard case .ivfpq(let coarse, let nlist, _) = codebook.model else { return [] }
        let nprobe = options.nprobe ?? Self.defaultProbes
        guard (1...nlist).contains(nprobe) else {
            throw QuiverError(.invalidArgument, "nprobe must be in 1...\(nlist), got \(nprobe)", collection: documents.name)
        }
        let nq = queryCount
        guard nq * nlist <= Self.maximumScores else { return try exact(rows: filterRows ?? FilterEvaluator.liveRows(documents), k: k, context: context) }
        if let filterRows, options.strategy != .index {
            // A filter that few documents pass is scored exactly, as the token graph path
            // plans it: by the tokens they hold (estimated from the mean per document).
            let live = max(1, Int(documents.counters.liveCount))
            let passingTokens = filterRows.count * Int(tokens.counters.liveCount) / live
            if FilteredPlan.choose(passing: passingTokens, live: Int(tokens.counters.liveCount)) == .exact {
                return try exact(rows: filterRows, k: k, context: context)
            }
        }
        guard let owners = context.ownerRows(tokens), let documentLists = context.documentLists(documents),
              let plane = context.rowPlane(codebook, snapshot: tokens) else {
            throw QuiverError(.corrupted, "the store has no token owners, token lists or row plane", collection: documents.name)
        }
        let lists = try IVFLists(snapshot: tokens, codebook: codebook)
        let dimensions = tokens.descriptor.dimensions

        // S, list-major: S[l × nq + i] ≈ query token i · centroid l, from the centroids packed
        // as int8 panels (S only chooses and ranks candidates, which are then scored exactly;
        // twice the float kernel's speed); then a row of -∞ for tokens without a list, and the
        // slack the interaction kernel reads past a row's end. The panels' scratch follows.
        let centroids = context.interactionPanels(codebook, coarse: coarse, dimensions: dimensions)
        let scoreCount = nq * (nlist + 1) + Kernels.centroidInteractionSlack
        let bufferBytes = scoreCount * 4 + centroids.scratchBytes(queryCount: nq)
        let own = scoreCount > Self.pooledScores ? UnsafeMutableRawPointer.allocate(byteCount: bufferBytes, alignment: 64) : nil
        defer { own?.deallocate() }
        let buffer = own ?? context.queryBuffer(bufferBytes)
        let scores = buffer.assumingMemoryBound(to: Float.self)
        (scores + nq * nlist).initialize(repeating: -.infinity, count: nq + Kernels.centroidInteractionSlack)
        centroids.dot(queries: query, queryCount: nq, queryStride: dimensions, scratch: buffer + scoreCount * 4, into: scores)

        // Each query token's `nprobe` best lists, in one pass over S (branch-free for up to 4
        // probes: a branch per list mispredicted enough to double the phase).
        let probeCount = nq * nprobe
        let probeValues = UnsafeMutablePointer<Float>.allocate(capacity: probeCount)
        let probeLists = UnsafeMutablePointer<UInt32>.allocate(capacity: probeCount)
        defer { probeValues.deallocate(); probeLists.deallocate() }
        Kernels.bestLists(scores: scores, queryCount: nq, listCount: nlist, probes: nprobe, values: probeValues, lists: probeLists)
        // The candidates: the passing owners of the probed lists' tokens, each once. The
        // lists' rows are gathered (the lists by address, as the context keeps them for the
        // snapshot) and sorted first, so that the owner plane is read forwards and its loads
        // overlap.
        let scratch = context.maxSim
        let documentCapacity = Int(documents.counters.rowCount)
        scratch.begin(documents: documentCapacity, lists: nlist)
        let stamp = scratch.stamp
        let documentMarks = scratch.documentMarks
        let listMarks = scratch.listMarks
        var tokenRows: [UInt32] = []
        tokenRows.reserveCapacity(1024)
        let listValues = context.listValues(lists)
        for p in 0..<probeCount {
            let list = probeLists[p]
            guard list != UInt32.max, listMarks[Int(list)] != stamp else { continue }
            listMarks[Int(list)] = stamp
            let (rows, count) = try listValues.rows(Int(list))
            guard let rows else { continue }
            for e in 0..<count { tokenRows.append(UInt32(littleEndian: rows.loadUnaligned(fromByteOffset: 4 &* e, as: UInt32.self))) }
        }
        var candidates: [UInt32] = []
        candidates.reserveCapacity(512)
        Kernels.sort(&tokenRows)
        tokenRows.withUnsafeMutableBufferPointer { rows in
            for e in 0..<rows.count {
                if e &+ 16 < rows.count { Kernels.prefetch(owners.pointer(rows[e &+ 16]), lines: 1) }
                rows[e] = UInt32(littleEndian: owners.pointer(rows[e]).loadUnaligned(as: UInt32.self))
            }
            for document in rows {
                guard Int(document) < documentCapacity, documentMarks[Int(document)] != stamp else { continue }
                documentMarks[Int(document)] = stamp
                if let filterRows, !filterRows.contains(document) { continue }
                candidates.append(document)
            }
        }

        // Centroid interaction: each candidate's estimate from its tokens' lists. First every
        // candidate's lists (as offsets into S) into one buffer: candidates in row order (their
        // token rows ascend with them, mostly, so the row plane is read forwards), token lists
        // and plane fetched a few candidates ahead, no dependence from one token to the next;
        // then the estimates.
        candidates.sort()
        var tokenLists: [Document] = []
        tokenLists.reserveCapacity(candidates.count)
        // Through the context's document lists: a B-tree lookup per document once per snapshot.
        for row in candidates { tokenLists.append(Document(row: row, tokens: try documentLists.live(row))) }
        var shortlist = TopK(k: min(max(k, k * shortlistOversample(options, context: context)), max(candidates.count, 1)))
        let noList = UInt32(nlist)
        for slot in 0..<tokenLists.count {
            if slot &+ 4 < tokenLists.count, let later = tokenLists[slot &+ 4].tokens.rows.baseAddress {
                Kernels.prefetch(later, lines: (tokenLists[slot &+ 4].tokens.rows.count &+ 63) / 64)
            }
            if slot &+ 2 < tokenLists.count {
                let next = tokenLists[slot &+ 2].tokens
                Kernels.prefetch(plane.pointer(next.row(0)), lines: (next.count &* 4 &+ 63) / 64)
            }
            let document = tokenLists[slot].tokens
            let n = document.count
            // A document stored as a run of rows within one block has its lists consecutive
            // in the row plane, read in place; else they are gathered.
            let estimate: Float
            if let first = document.runStart, (Int(first) & plane.mask) &+ n <= plane.mask &+ 1 {
                estimate = Kernels.centroidInteraction(scores: scores, queryCount: nq, lists: plane.pointer(first), count: n, listCount: noList)
            } else {
                scratch.reserveGathered(n)
                let lists = scratch.gathered
                for t in 0..<n { lists[t] = plane.pointer(document.row(t)).loadUnaligned(as: UInt32.self) }
                estimate = Kernels.centroidInteraction(scores: scores, queryCount: nq, lists: lists, count: n, listCount: noList)
            }
            // A token without a list (written after the encoding was built and not yet in it)
            // reads S's row of -∞: a document none of whose tokens has one ranks last.
            shortlist.push(distance: -max(estimate, -.greatestFiniteMagnitude), row: UInt32(slot))
        }

        // With int8 codes of the tokens a long shortlist is first scored on them (``codePass``).
        var rescoring = shortlist.sortedResults().map { tokenLists[Int($0.row)] }
        if let codes = codeScorer(shortlist: rescoring.count, k: k, context: context) {
            rescoring = codePass(rescoring, k: k, scorer: codes)
        }

        // The shortlist rescored exactly. (Fetching the next document's vectors ahead measured
        // slower: 40 KB of them push the query out of L1; the hardware follows a run by itself.)
        let scorer = try scorer(context)
        var top = TopK(k: k)
        for candidate in rescoring { top.push(distance: -scorer.score(candidate.tokens), row: candidate.row) }
        return top.sortedResults()
    }

    /// A candidate document and its token list (in place in the map).
    struct Document {
        var row: UInt32
        var tokens: DocumentTokens
    }
}
