import QuiverKernels
import QuiverStorage

/// A collection as seen by one transaction: get, count and exact filtered search.
///
/// Obtained from ``ReadTransaction/collection(_:)`` or ``CollectionWriter/reader()``.
public struct CollectionReader {
    let snapshot: CollectionSnapshot

    /// The collection's name.
    public var name: String { snapshot.name }
    /// The collection's schema.
    public var schema: CollectionSchema { snapshot.descriptor.schema }
    /// The number of live records.
    public var count: Int { Int(snapshot.counters.liveCount) }
    /// The number of rows ever used (live, or deleted and free for reuse).
    public var rowCount: Int { Int(snapshot.counters.rowCount) }
    /// Whether the float vectors are kept only as int8 codes
    /// (``CollectionWriter/keepFloatsOnlyAsInt8(threads:progress:)``).
    public var floatsKeptAsInt8: Bool { snapshot.descriptor.floatCodesID != nil }

    /// The record with `key`, or `nil` if there is none.
    /// - Throws: ``QuiverError/Code/invalidKey`` for a key of the wrong kind.
    public func get(_ key: RecordKey) throws -> Record? {
        let validator = RecordValidator(descriptor: snapshot.descriptor, fieldIndex: [:])
        let keyBytes = try validator.checkKey(key)
        let keysKey = KeyCodec.keysKey(collection: snapshot.id, key: keyBytes)
        guard let raw = try keysKey.withUnsafeBytes({ try snapshot.txn.unsafeGet(snapshot.tables.keys, key: $0) }) else { return nil }
        guard raw.count == 4 else { throw QuiverError(.corrupted, "keys entry of \(raw.count) bytes", collection: name, key: key) }
        return try record(row: UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
    }

    /// The record stored in `row`.
    func record(row: UInt32) throws -> Record {
        let (key, metadata) = try keyAndMetadata(row: row, includeMetadata: true)
        let descriptor = snapshot.descriptor
        var vector: [Float]?
        if descriptor.storesFloatRows {
            let pointer = try BlockReader(snapshot: snapshot, bits: false).row(row)
            vector = (0..<descriptor.dimensions).map { pointer.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        } else if let codes = try EncodingMaintenance.floatCodes(snapshot) {
            vector = try codes.decodedRow(row, snapshot: snapshot)
        }
        var bits: [UInt8]?
        if descriptor.bitStride > 0 {
            let pointer = try BlockReader(snapshot: snapshot, bits: true).row(row)
            bits = Array(UnsafeRawBufferPointer(start: pointer, count: (descriptor.dimensions + 7) / 8))
        }
        return Record(key: key, vector: vector, bits: bits, metadata: metadata ?? [:], tokens: try documentTokens(row: row))
    }

    func keyAndMetadata(row: UInt32, includeMetadata: Bool) throws -> (RecordKey, [String: MetadataValue]?) {
        guard let stored = try snapshot.txn.unsafeGet(snapshot.tables.records, key: compositeKey(snapshot.id, row)) else {
            throw QuiverError(.corrupted, "live row \(row) has no record", collection: name)
        }
        let schema = snapshot.descriptor.schema
        do {
            if !includeMetadata {
                return (try KeyCodec.recordKey(try RecordCodec.decodeKey(stored), kind: schema.keyKind), nil)
            }
            let decoded = try RecordCodec.decode(stored, fieldTypes: schema.fields.map(\.type))
            var metadata: [String: MetadataValue] = [:]
            for (index, value) in decoded.metadata { metadata[schema.fields[index].name] = value }
            return (try KeyCodec.recordKey(decoded.key, kind: schema.keyKind), metadata)
        } catch {
            throw snapshot.corrupted("record of row \(row)", error)
        }
    }

    /// The number of live records that pass `filter`, from the secondary indexes alone.
    public func count(where filter: Filter) throws -> Int {
        let evaluator = try FilterEvaluator(snapshot: snapshot)
        return try evaluator.evaluate(try FilterEvaluator.validate(filter, descriptor: snapshot.descriptor)).count
    }

    /// Returns the `k` records nearest to `query` among those that pass `filter`, nearest
    /// first, by exact scan.
    ///
    /// The filter becomes an exact row set from the secondary indexes; the scan then walks
    /// the vector blocks in place in the memory map and computes distances only for selected
    /// rows. For Matryoshka collections ``SearchOptions/prefix`` searches a prefix (and with
    /// ``SearchOptions/rescore`` rescores `k × oversample` candidates on the full vector);
    /// for binary collections the query is binarised by sign, and when floats are kept the
    /// Hamming shortlist is rescored at full precision.
    ///
    /// - Parameters:
    ///   - query: float components: as many as the collection's dimensions.
    ///   - k: how many results, at least 1.
    ///   - filter: a filter over filterable fields, or `nil` for all records.
    /// - Throws: ``QuiverError/Code/dimensionMismatch``, ``QuiverError/Code/invalidVector``,
    ///   ``QuiverError/Code/invalidFilter``, ``QuiverError/Code/unknownField``,
    ///   ``QuiverError/Code/typeMismatch``, ``QuiverError/Code/invalidArgument``.
    /// - Complexity: O(n · dimensions) for n selected rows, reading each selected row once.
    public func search(_ query: [Float], k: Int, filter: Filter? = nil, options: SearchOptions = SearchOptions()) throws -> [SearchResult] {
        let descriptor = snapshot.descriptor
        try checkK(k, options)
        guard descriptor.tokenSpace == nil else {
            throw QuiverError(.invalidArgument, "this collection holds multi-vector documents: search(tokens:k:filter:options:)", collection: name)
        }
        try query.withUnsafeBufferPointer { q in
            try RecordValidator(descriptor: descriptor, fieldIndex: [:]).checkFloats(q, key: nil)
        }
        let metric = descriptor.schema.metric
        var full = query
        if metric == .cosine { _ = full.withUnsafeMutableBufferPointer { VectorMath.normalize($0.baseAddress!, count: $0.count) } }
        let filterRows = try filter.map { try selectedRows($0) }
        let hits = try withSearchContext { context in
            if let funnel = options.funnel {
                return try funnelSearch(funnel, context: context, query: query, full: full, rows: try filterRows ?? selectedRows(nil), k: k)
            }
            let codebook = try candidateCodebook(options, context: context, indexed: context.header != nil)
            if let codebook, codebook.isInverted {
                return try ivfSearch(codebook, context: context, query: query, full: full, rows: filterRows, k: k, options: options)
            }
            if let hits = try indexSearch(context: context, floats: full, bits: nil, k: k, filterRows: filterRows, options: options, codebook: codebook) {
                return hits
            }
            let rows = try filterRows ?? selectedRows(nil)
            if let codebook {
                return try codeScan(codebook, context: context, query: query, full: full, rows: rows, k: k, options: options)
            }
            return try exactScan(query: query, full: full, rows: rows, k: k, options: options)
        }
        return try results(hits, includeMetadata: options.includeMetadata)
    }

    /// The exact scan of the float (or bit) vectors of `rows`.
    private func exactScan(query: [Float], full: [Float], rows: RowSet, k: Int, options: SearchOptions) throws -> [Hit] {
        let descriptor = snapshot.descriptor
        let metric = descriptor.schema.metric
        let scanner = ExactScanner(snapshot: snapshot)
        switch descriptor.schema.vectors {
        case .float32:
            guard options.prefix == nil else { throw QuiverError(.invalidArgument, "prefix search needs a Matryoshka collection", collection: name) }
            return try scanner.scan(query: full, components: descriptor.dimensions, kernel: .forFloats(metric: metric, prefix: false), rows: rows, k: k)
        case .matryoshka(let dimensions, _):
            guard let prefix = options.prefix, prefix != dimensions else {
                return try scanner.scan(query: full, components: dimensions, kernel: .forFloats(metric: metric, prefix: false), rows: rows, k: k)
            }
            let head = try prefixQuery(query, prefix: prefix)
            let kernel = DistanceKernel.forFloats(metric: metric, prefix: true)
            guard options.rescore else { return try scanner.scan(query: head, components: prefix, kernel: kernel, rows: rows, k: k) }
            let shortlist = try scanner.scan(query: head, components: prefix, kernel: kernel, rows: rows, k: k * options.denseOversample)
            return try scanner.rescore(shortlist, query: full, k: k)
        case .multiVector:
            throw QuiverError(.invalidArgument, "this collection holds multi-vector documents: search(tokens:k:filter:options:)", collection: name)
        case .binary(_, let keepsFloats):
            var words = [UInt64](repeating: 0, count: descriptor.bitStride / 8)
            words.withUnsafeMutableBytes { w in query.withUnsafeBufferPointer { packSignBits($0, into: w) } }
            guard keepsFloats && options.rescore && metric != .hamming else {
                return try scanner.scan(query: words, components: words.count, kernel: .hamming, rows: rows, k: k)
            }
            let shortlist = try scanner.scan(query: words, components: words.count, kernel: .hamming, rows: rows, k: k * options.denseOversample)
            return try scanner.rescore(shortlist, query: full, k: k)
        }
    }

    /// A declared prefix of `query`, re-normalised for cosine.
    func prefixQuery(_ query: [Float], prefix: Int) throws -> [Float] {
        guard case .matryoshka(_, let prefixes) = snapshot.descriptor.schema.vectors else {
            throw QuiverError(.invalidArgument, "prefix search needs a Matryoshka collection", collection: name)
        }
        guard prefixes.contains(prefix) || prefix == snapshot.descriptor.dimensions else {
            throw QuiverError(.invalidArgument, "prefix \(prefix) is not declared; declared: \(prefixes)", collection: name)
        }
        var head = Array(query.prefix(prefix))
        if snapshot.descriptor.schema.metric == .cosine {
            let norm = head.withUnsafeMutableBufferPointer { VectorMath.normalize($0.baseAddress!, count: $0.count) }
            guard norm > 0 else { throw QuiverError(.invalidVector, "the query's \(prefix)-prefix is zero", collection: name) }
        }
        return head
    }

    /// The encoding that ``SearchOptions/candidates`` asks for, or `nil` for the float rows
    /// (the int8 codes that keep the floats, for a collection that keeps them only so).
    func candidateCodebook(_ options: SearchOptions, context: SearchContext, indexed: Bool) throws -> Codebook? {
        let dimensions = options.prefix ?? snapshot.descriptor.dimensions
        let codebooks = context.codebooks
        switch options.candidates {
        case .floats:
            return context.floatCodes
        case .encoding(let encoding):
            guard let found = codebooks.first(where: { $0.encoding == encoding && $0.dimensions == dimensions }) else {
                throw QuiverError(.encodingNotFound, "the collection has no \(encoding) encoding of \(dimensions) dimensions", collection: name)
            }
            return found
        case .automatic:
            let candidates = codebooks.filter { $0.dimensions == dimensions }
            if !indexed, options.strategy != .exact, let inverted = candidates.first(where: \.isInverted) { return inverted }
            return candidates.first { $0.encoding == .int8 } ?? candidates.first { if case .pq = $0.encoding { true } else { false } }
                ?? candidates.first { $0.encoding == .binary }
        }
    }

    /// The exact scan of `codebook`'s codes of `rows`, then (with ``SearchOptions/rescore``)
    /// the `k × oversample` best rescored on the full float vectors.
    func codeScan(_ codebook: Codebook, context: SearchContext, query: [Float], full: [Float], rows: RowSet, k: Int,
                  options: SearchOptions) throws -> [Hit] {
        let metric = snapshot.descriptor.schema.metric
        let input = codebook.dimensions == snapshot.descriptor.dimensions ? full : try prefixQuery(query, prefix: codebook.dimensions)
        let prepared = context.queryBuffer(codebook.queryBytes)
        input.withUnsafeBufferPointer { codebook.prepare($0.baseAddress!, metric: metric, into: prepared) }
        let (kernel, components) = codebook.kernel(metric: metric)
        let scanner = ExactScanner(snapshot: snapshot, context: context)
        // The codes that keep the floats are the full precision there is: nothing to rescore.
        let rescores = options.rescore && codebook.id != context.floatCodes?.id
        let shortlist = try scanner.scan(query: prepared, components: components, kernel: kernel, rows: rows,
                                         k: rescores ? k * options.denseOversample : k, codes: codebook)
        guard rescores else { return shortlist }
        return try scanner.rescore(shortlist, query: full, k: k)
    }

    /// Scores `rows` through the funnel's stages (see ``Funnel``).
    func funnelSearch(_ funnel: Funnel, context: SearchContext, query: [Float], full: [Float], rows: RowSet, k: Int) throws -> [Hit] {
        let descriptor = snapshot.descriptor
        guard case .matryoshka(let dimensions, let prefixes) = descriptor.schema.vectors else {
            throw QuiverError(.invalidArgument, "a funnel needs a Matryoshka collection", collection: name)
        }
        guard !funnel.stages.isEmpty else { throw QuiverError(.invalidArgument, "a funnel needs at least one stage", collection: name) }
        let metric = descriptor.schema.metric
        let scanner = ExactScanner(snapshot: snapshot, context: context)
        var survivors: [Hit]?
        for (index, stage) in funnel.stages.enumerated() {
            let last = index == funnel.stages.count - 1
            let stageDimensions = stage.prefix ?? dimensions
            func fail(_ why: String) -> QuiverError { QuiverError(.invalidArgument, "funnel stage \(index + 1): \(why)", collection: name) }
            guard stageDimensions == dimensions || prefixes.contains(stageDimensions) else {
                throw fail("prefix \(stageDimensions) is not declared; declared: \(prefixes)")
            }
            guard last || stage.shortlist != nil else { throw fail("every stage but the last needs a shortlist") }
            let keep = last ? k : max(stage.shortlist!, k)
            let input = stageDimensions == dimensions ? full : try prefixQuery(query, prefix: stageDimensions)
            if let encoding = stage.encoding {
                guard let codebook = context.codebooks.first(where: { $0.encoding == encoding && $0.dimensions == stageDimensions }) else {
                    throw QuiverError(.encodingNotFound, "funnel stage \(index + 1): the collection has no \(encoding) encoding of \(stageDimensions) dimensions",
                                      collection: name)
                }
                let prepared = context.queryBuffer(codebook.queryBytes)
                input.withUnsafeBufferPointer { codebook.prepare($0.baseAddress!, metric: metric, into: prepared) }
                let (kernel, components) = codebook.kernel(metric: metric)
                survivors = try survivors.map { try scanner.score($0, query: prepared, components: components, kernel: kernel, codes: codebook, k: keep) }
                    ?? scanner.scan(query: prepared, components: components, kernel: kernel, rows: rows, k: keep, codes: codebook)
            } else {
                let kernel = DistanceKernel.forFloats(metric: metric, prefix: stageDimensions != dimensions)
                survivors = try input.withUnsafeBufferPointer { q in
                    try survivors.map { try scanner.score($0, query: q.baseAddress!, components: stageDimensions, kernel: kernel, k: keep) }
                        ?? scanner.scan(query: q.baseAddress!, components: stageDimensions, kernel: kernel, rows: rows, k: keep)
                }
            }
        }
        return Array(survivors!.prefix(k))
    }

    /// The IVF-PQ search: the nearest lists' entries scored, `k × oversample` rescored on the
    /// floats (see ``IVFSearch``).
    func ivfSearch(_ codebook: Codebook, context: SearchContext, query: [Float], full: [Float], rows: RowSet?, k: Int,
                   options: SearchOptions) throws -> [Hit] {
        guard case .ivfpq(_, let nlist, let pq) = codebook.model else { return [] }
        if let nprobe = options.nprobe, !(1...nlist).contains(nprobe) {
            throw QuiverError(.invalidArgument, "nprobe must be in 1...\(nlist), got \(nprobe)", collection: name)
        }
        let metric = snapshot.descriptor.schema.metric
        let input = codebook.dimensions == snapshot.descriptor.dimensions ? full : try prefixQuery(query, prefix: codebook.dimensions)
        let buffer = context.queryBuffer((pq.m * 256 + nlist + 256) * 4).assumingMemoryBound(to: Float.self)
        return try input.withUnsafeBufferPointer { q in
            codebook.prepare(q.baseAddress!, metric: metric, into: UnsafeMutableRawPointer(buffer))
            let lists = try IVFLists(snapshot: snapshot, codebook: codebook)
            let search = IVFSearch(lists: lists, metric: metric, values: context.listValues(lists))
            let shortlist = try search.run(query: q.baseAddress!, table: buffer, nprobe: options.nprobe ?? IVFSearch.defaultProbes(nlist: nlist),
                                           rows: rows, shortlist: options.rescore ? k * options.denseOversample : k, scratch: buffer + pq.m * 256,
                                           advice: &context.listAdvice)
            guard options.rescore else { return shortlist }
            return try ExactScanner(snapshot: snapshot, context: context).rescore(shortlist, query: full, k: k)
        }
    }

    /// Runs `body` with a search context from the database's pool, bound to this snapshot.
    func withSearchContext<R>(_ body: (SearchContext) throws -> R) throws -> R {
        let pool = snapshot.database.searchContexts
        let context = pool.take()
        defer {
            context.unbindIfWriting(snapshot)
            pool.give(context)
        }
        try context.bind(snapshot)
        return try body(context)
    }

    /// Returns the `k` records nearest by Hamming distance to a packed-bit query
    /// (`numpy.packbits` order), among those that pass `filter`.
    /// - Throws: ``QuiverError/Code/dimensionMismatch`` when `bits` has the wrong length;
    ///   ``QuiverError/Code/invalidArgument`` for a collection that is not binary.
    public func search(bits: [UInt8], k: Int, filter: Filter? = nil, options: SearchOptions = SearchOptions()) throws -> [SearchResult] {
        let descriptor = snapshot.descriptor
        guard descriptor.bitStride > 0 else { throw QuiverError(.invalidArgument, "bit queries are for binary collections", collection: name) }
        try checkK(k, options)
        try bits.withUnsafeBufferPointer { try RecordValidator(descriptor: descriptor, fieldIndex: [:]).checkBits($0, key: nil) }
        var words = [UInt64](repeating: 0, count: descriptor.bitStride / 8)
        words.withUnsafeMutableBytes { w in for (i, b) in bits.enumerated() { w[i] = b } }
        let filterRows = try filter.map { try selectedRows($0) }
        let hits = try withSearchContext { context in
            if let hits = try indexSearch(context: context, floats: nil, bits: words, k: k, filterRows: filterRows, options: options, codebook: nil) {
                return hits
            }
            let rows = try filterRows ?? selectedRows(nil)
            return try ExactScanner(snapshot: snapshot).scan(query: words, components: words.count, kernel: .hamming, rows: rows, k: k)
        }
        return try results(hits, includeMetadata: options.includeMetadata)
    }

    /// Runs the search through the index when there is one and the planner picks it.
    /// - Returns: `nil` when the exact scan should run instead.
    func indexSearch(context: SearchContext, floats: [Float]?, bits: [UInt64]?, k: Int, filterRows: RowSet?, options: SearchOptions,
                     codebook: Codebook?) throws -> [Hit]? {
        guard options.strategy != .exact else { return nil }
        guard let header = context.header else {
            if options.strategy == .index { throw QuiverError(.indexNotFound, "the collection has no index", collection: name) }
            return nil
        }
        // The graph answers full-vector searches (and searches on the prefix it is built on);
        // a search on another prefix scans.
        if let prefix = options.prefix, prefix != snapshot.descriptor.dimensions,
           !(header.space == .prefix && prefix == header.components) {
            if options.strategy == .index {
                throw QuiverError(.invalidArgument, "the index is not built on prefix \(prefix)", collection: name)
            }
            return nil
        }
        var plan: FilteredPlan?
        if let filterRows {
            let passing = filterRows.count
            if passing == 0 { return [] }
            plan = FilteredPlan.choose(passing: passing, live: count)
            if plan == .exact {
                guard options.strategy == .index else { return nil }
                plan = .twoHop
            }
        }
        let hits = try IndexSearch(snapshot: snapshot, context: context, header: header)
            .run(floats: floats, bits: bits, k: k, ef: options.efSearch, filter: filterRows, plan: plan, options: options, codebook: codebook)
        if let filterRows, hits.count < min(k, filterRows.count), options.strategy != .index {
            return nil  // the walk stranded (a rare, very clustered filter): scan instead
        }
        return hits
    }

    /// How ``search(_:k:filter:options:)`` would run with `filter` and `options`.
    public func plan(filter: Filter?, options: SearchOptions = SearchOptions()) throws -> SearchPlan {
        guard options.strategy != .exact, try HNSWMaintenance.header(snapshot) != nil else { return .exact }
        guard let filter else { return .index }
        let passing = try count(where: filter)
        switch FilteredPlan.choose(passing: passing, live: count) {
        case .exact: return options.strategy == .index ? .indexTwoHop : .exact
        case .twoHop: return .indexTwoHop
        case .postFilter: return .indexPostFilter
        }
    }

    func checkK(_ k: Int, _ options: SearchOptions) throws {
        guard k >= 1, k <= 100_000 else { throw QuiverError(.invalidArgument, "k must be in 1...100000, got \(k)", collection: name) }
        if let oversample = options.oversample, !(1...1_000).contains(oversample) {
            throw QuiverError(.invalidArgument, "oversample must be in 1...1000, got \(oversample)", collection: name)
        }
        if let ef = options.efSearch, !(1...100_000).contains(ef) {
            throw QuiverError(.invalidArgument, "efSearch must be in 1...100000, got \(ef)", collection: name)
        }
    }

    /// The rows a search considers: the live rows, narrowed by the filter.
    func selectedRows(_ filter: Filter?) throws -> RowSet {
        let evaluator = try FilterEvaluator(snapshot: snapshot)
        guard let filter else { return evaluator.live }
        return try evaluator.evaluate(try FilterEvaluator.validate(filter, descriptor: snapshot.descriptor))
    }

    func results(_ hits: [Hit], includeMetadata: Bool) throws -> [SearchResult] {
        try hits.map { hit in
            let (key, metadata) = try keyAndMetadata(row: hit.row, includeMetadata: includeMetadata)
            return SearchResult(key: key, distance: hit.distance, metadata: metadata)
        }
    }
}
