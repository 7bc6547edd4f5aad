import QuiverKernels
import QuiverStorage

/// Checks a collection's encodings (for ``Database/verify()``) and measures how faithful they
/// are (for `quiver inspect`).
struct EncodingInspector {
    let snapshot: CollectionSnapshot

    /// Broken invariants: each codebook decodes (else the read throws), every live row has a
    /// code block of the right size, and no code block belongs to an encoding without a
    /// codebook or lies wholly above the high-water mark.
    func violations() throws -> [String] {
        guard let codesTable = snapshot.tables.codes else { return [] }
        let codebooks = try EncodingMaintenance.codebooks(snapshot)
        let byID = Dictionary(uniqueKeysWithValues: codebooks.map { ($0.id, $0) })
        let rowsPerBlock = snapshot.descriptor.rowsPerBlock
        let rowCount = Int(snapshot.counters.rowCount)
        var problems: [String] = []
        var blocksSeen: [UInt8: Set<Int>] = [:]
        try snapshot.txn.withCursor(codesTable) { cursor in
            var entry = try cursor.seek(compositeKey(snapshot.id, 0))
            while let e = entry, e.key.count == 8, e.key.bigEndianUInt32(at: 0) == snapshot.id {
                let second = e.key.bigEndianUInt32(at: 4)
                let encoding = UInt8(second >> 24)
                let block = Int(second & 0xFF_FFFF)
                if let codebook = byID[encoding] {
                    if e.value.count != codebook.stride * rowsPerBlock {
                        problems.append("codes: block \(block) of \(codebook.encoding) has \(e.value.count) bytes, expected \(codebook.stride * rowsPerBlock)")
                    }
                    if block * rowsPerBlock >= rowCount {
                        problems.append("codes: block \(block) of \(codebook.encoding) lies above the high-water mark")
                    }
                    blocksSeen[encoding, default: []].insert(block)
                } else {
                    problems.append("codes: block \(block) of encoding \(encoding), which has no codebook")
                }
                entry = try cursor.next()
            }
        }
        let live = try FilterEvaluator.liveRows(snapshot)
        for codebook in codebooks where codebook.isInverted {
            problems += try listViolations(codebook, live: live)
        }
        for codebook in codebooks where !codebook.isInverted {
            var missing = 0
            live.forEach { row in
                if !(blocksSeen[codebook.id]?.contains(Int(row) / rowsPerBlock) ?? false) { missing += 1 }
            }
            if missing > 0 { problems.append("codes: \(missing) live rows have no \(codebook.encoding) code") }
        }
        return problems
    }

    /// An IVF-PQ encoding's lists: each decodes, lists every live row exactly once (in the
    /// list the row plane names), and no other row.
    private func listViolations(_ codebook: Codebook, live: RowSet) throws -> [String] {
        let lists = try IVFLists(snapshot: snapshot, codebook: codebook)
        var problems: [String] = []
        var seen = RowSet(capacity: Int(snapshot.counters.rowCount))
        for list in 0..<lists.nlist {
            let rows: [UInt32]
            do { rows = try lists.read(list: list).rows } catch let error as QuiverError {
                problems.append("ivf.lists: \(error.message)")
                continue
            }
            for row in rows {
                if !live.contains(row) { problems.append("ivf.lists: list \(list) of \(codebook.encoding) holds row \(row), which is not live") }
                else if seen.contains(row) { problems.append("ivf.lists: row \(row) is in more than one list of \(codebook.encoding)") }
                else if try lists.storedList(of: row) != list { problems.append("ivf.lists: row \(row) is in list \(list), its row plane says otherwise") }
                seen.insert(row)
            }
        }
        var missing = 0
        live.forEach { if !seen.contains($0) { missing += 1 } }
        if missing > 0 { problems.append("ivf.lists: \(missing) live rows are in no list of \(codebook.encoding)") }
        return problems
    }

    /// The reconstruction error and the recall of the codes alone, on `queries` stored vectors
    /// drawn by a seeded sample and used as queries (each query's own row included among the
    /// rows searched).
    func quality(_ codebook: Codebook, queries: Int, k: Int) throws -> EncodingQuality {
        let live = try FilterEvaluator.liveRows(snapshot)
        let sample = EncodingMaintenance.sample(live, count: queries, seed: codebook.parameters.seed ^ 0x1D5A)
        let floats = try StoredFloats(snapshot: snapshot)
        guard let codes = EncodingMaintenance.rows(snapshot, codebook) else { return EncodingQuality(sampledRows: 0) }
        let metric = snapshot.descriptor.schema.metric
        let dimensions = snapshot.descriptor.dimensions
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: codebook.dimensions)
        let decoded = UnsafeMutablePointer<Float>.allocate(capacity: codebook.dimensions)
        let stored = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
        defer { scratch.deallocate(); decoded.deallocate(); stored.deallocate() }
        var squaredError = 0.0
        var reconstructs = true
        let lists = codebook.isInverted ? try IVFLists(snapshot: snapshot, codebook: codebook) : nil
        var entry = [UInt8](repeating: 0, count: (lists?.entryStride ?? 0) + 4)
        for row in sample {
            let input = codebook.input(floats.vector(row, scratch: stored), metric: metric, fullDimensions: dimensions, scratch: scratch)
            if let lists {
                // Codes are a function of the stored floats: encode again and decode.
                let list = lists.assign(input)
                entry.withUnsafeMutableBytes { lists.entry(input, list: list, residual: decoded, into: $0.baseAddress!) }
                entry.withUnsafeBytes { lists.pq.decode($0.baseAddress!.assumingMemoryBound(to: UInt8.self), into: decoded) }
                lists.coarse.withUnsafeBufferPointer { c in for d in 0..<codebook.dimensions { decoded[d] += c[list * codebook.dimensions + d] } }
            } else if !codebook.decode(codes.pointer(row), into: decoded) {
                reconstructs = false
                break
            }
            for d in 0..<codebook.dimensions {
                let e = Double(input[d] - decoded[d])
                squaredError += e * e
            }
        }
        let reader = CollectionReader(snapshot: snapshot)
        let context = SearchContext()
        try context.bind(snapshot)
        var found = 0
        var expected = 0
        let prefix = codebook.dimensions == dimensions ? nil : codebook.dimensions
        for row in sample {
            let vector = Array(UnsafeBufferPointer(start: floats.vector(row, scratch: stored), count: dimensions))
            let exactOptions = SearchOptions(prefix: prefix, candidates: .floats, rescore: false, strategy: .exact)
            let exact = try reader.exactScanHits(vector, k: k, rows: live, options: exactOptions, context: context)
            let options = SearchOptions(prefix: prefix, rescore: false, strategy: .exact)
            let coded = codebook.isInverted
                ? try reader.ivfSearch(codebook, context: context, query: vector, full: vector, rows: nil, k: k, options: options)
                : try reader.codeScan(codebook, context: context, query: vector, full: vector, rows: live, k: k, options: options)
            let truth = Set(exact.map(\.row))
            found += coded.filter { truth.contains($0.row) }.count
            expected += truth.count
        }
        return EncodingQuality(sampledRows: sample.count,
                               meanSquaredError: reconstructs && !sample.isEmpty ? squaredError / Double(sample.count) : nil,
                               recallOfCodes: expected == 0 ? nil : Double(found) / Double(expected), k: k,
                               againstInt8Floats: floats.areDecoded)
    }
}

/// How faithful an encoding is, measured on stored vectors (``CollectionReader/encodingQuality(_:prefix:queries:k:)``).
public struct EncodingQuality: Sendable, Hashable {
    /// Stored vectors sampled (as reconstruction checks and as queries).
    public var sampledRows: Int
    /// Mean over the sampled vectors of `|x − x̂|²`, the squared distance between a vector
    /// (its prefix, re-normalised for cosine, for a prefix encoding) and what its code decodes
    /// to; `nil` for binary codes, which decode to no vector.
    public var meanSquaredError: Double?
    /// Recall@k of searches on the codes alone (no rescoring) against the exact float search,
    /// with the sampled vectors as queries over every live row.
    public var recallOfCodes: Double?
    /// The `k` of ``recallOfCodes``.
    public var k: Int = 10
    /// Whether the reference vectors were the int8 codes that keep the collection's floats
    /// (``CollectionWriter/keepFloatsOnlyAsInt8(threads:progress:)``), decoded: the floats
    /// written are gone, so errors and recall are measured against those, and the int8
    /// encoding itself measures no error and recall 1.
    public var againstInt8Floats: Bool = false
}

extension CollectionReader {
    /// Measures an encoding's reconstruction error and the recall of its codes alone on
    /// `queries` stored vectors (see ``EncodingQuality``).
    /// - Throws: ``QuiverError/Code/encodingNotFound`` when the collection does not have it.
    public func encodingQuality(_ encoding: VectorEncoding, prefix: Int? = nil, queries: Int = 100, k: Int = 10) throws -> EncodingQuality {
        // A multi-vector collection's encodings are of its token space: stored tokens are the
        // queries there.
        let vectors = try snapshot.vectorSnapshot()
        guard let codebook = try EncodingMaintenance.codebook(vectors, encoding: encoding, prefix: prefix) else {
            throw QuiverError(.encodingNotFound, "the collection has no \(encoding) encoding", collection: name)
        }
        guard (1...100_000).contains(queries), (1...1_000).contains(k) else {
            throw QuiverError(.invalidArgument, "queries must be in 1...100000 and k in 1...1000", collection: name)
        }
        return try EncodingInspector(snapshot: vectors).quality(codebook, queries: queries, k: k)
    }

    /// The exact float scan's best `k` of `rows` (on ``SearchOptions/prefix`` when set); the
    /// scan of the int8 codes that keep the floats, for a collection that keeps them only so.
    func exactScanHits(_ query: [Float], k: Int, rows: RowSet, options: SearchOptions, context: SearchContext) throws -> [Hit] {
        var full = query
        if snapshot.descriptor.schema.metric == .cosine {
            _ = full.withUnsafeMutableBufferPointer { VectorMath.normalize($0.baseAddress!, count: $0.count) }
        }
        if let floatCodes = context.floatCodes {
            return try codeScan(floatCodes, context: context, query: query, full: full, rows: rows, k: k, options: options)
        }
        let scanner = ExactScanner(snapshot: snapshot)
        let metric = snapshot.descriptor.schema.metric
        if let prefix = options.prefix, prefix != snapshot.descriptor.dimensions {
            return try scanner.scan(query: try prefixQuery(query, prefix: prefix), components: prefix,
                                    kernel: .forFloats(metric: metric, prefix: true), rows: rows, k: k)
        }
        return try scanner.scan(query: full, components: snapshot.descriptor.dimensions, kernel: .forFloats(metric: metric, prefix: false), rows: rows, k: k)
    }
}
