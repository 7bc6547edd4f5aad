import ArgumentParser
import Foundation
import Quiver
import QuiverFiles

/// `quiver bench multivector`: token pooling and MaxSim search on multi-vector data, per pool
/// factor: what is stored, how fast pooling runs, and the quality and speed of the exact scan
/// and of the fast path (token graph or IVF lists).
struct BenchMultiVectorCommand: ParsableCommand {
    /// The fast path measured: HNSW over the tokens, or IVF-PQ lists (centroid interaction).
    enum IndexKind: String, ExpressibleByArgument, CaseIterable {
        case hnsw, ivf
    }

    static let configuration = CommandConfiguration(
        commandName: "multivector",
        abstract: "Benchmark multi-vector collections: token pooling, exact MaxSim and the token-index fast paths.",
        discussion: """
            For each --pool-factor a fresh store is loaded with the documents (keys are document \
            numbers), queried by exact MaxSim, indexed (--index hnsw: HNSW over all stored tokens; \
            --index ivf: an IVF-PQ encoding of the tokens per --nlist) and queried through the \
            index. Recall@k is measured against --truth (exact MaxSim of the unpooled \
            documents) and, for the fast path, also against the same store's exact scan; nDCG@k and \
            MRR@k against --qrels. Queries run one at a time on one thread, --passes times \
            (rates are the passes' median); each fast-path pass follows an exact pass, and the \
            speed-up is the median of the passes' ratios. Pooling throughput is measured on one thread apart from writing.
            """
    )

    @Option(help: ArgumentHelp("Document tokens (.npy, T × d).", valueName: "path"))
    var docs: String

    @Option(help: ArgumentHelp("Document offsets (.npy, D + 1 integers).", valueName: "path"))
    var docOffsets: String

    @Option(help: ArgumentHelp("Query tokens (.npy).", valueName: "path"))
    var queries: String

    @Option(help: ArgumentHelp("Query offsets (.npy).", valueName: "path"))
    var queryOffsets: String

    @Option(help: ArgumentHelp("Exact unpooled MaxSim top documents per query (.ivecs).", valueName: "path"))
    var truth: String

    @Option(help: ArgumentHelp("Relevant documents: `query_index<TAB>doc_index` lines after a header.", valueName: "path"))
    var qrels: String?

    @Option(help: ArgumentHelp("Pool factors to compare.", valueName: "1,2,3,4"))
    var poolFactor: String = "1,2,3,4"

    @Option(help: "Leading tokens of each document kept unpooled.")
    var protectedTokens: Int = 1

    @Option(help: "MaxSim on cosine (tokens normalised) or dot.")
    var metric: MetricName = .cosine

    @Option(help: "Results per query.")
    var k: Int = 10

    @Option(help: ArgumentHelp("Stored tokens each query token retrieves on the fast path.", valueName: "8,16,32"))
    var tokenCandidates: String = "8,16,32,64"

    @Option(help: ArgumentHelp("""
        Candidate documents rescored per result on the fast path (with int8 codes of the tokens, \
        5 and up at k = 10 scores them on the codes first).
        """, valueName: "4,8"))
    var oversample: String = "4,8"

    @Option(help: "The fast path: hnsw (a token graph) or ivf (IVF-PQ lists of the tokens, centroid interaction).")
    var index: IndexKind = .ivf

    @Option(help: ArgumentHelp("""
        IVF lists of the ivf path's encodings (one build each); auto: 4096, or for fewer than \
        32,768 stored tokens the largest power of two up to a list per 8 tokens.
        """, valueName: "auto|1024,4096"))
    var nlist: String = "auto"

    @Option(help: ArgumentHelp("Lists each query token probes on the ivf path.", valueName: "2,4"))
    var nprobe: String = "2,4"

    @Option(help: "PQ m of the ivf path's encodings (only the coarse lists are used).")
    var pqM: Int = 8

    @Option(help: "k-means iterations training the ivf path's encodings.")
    var kmeansIterations: Int = 20

    @Option(help: "HNSW m of the token index.")
    var m: Int = 16

    @Option(help: "HNSW efConstruction of the token index.")
    var efConstruction: Int = 200

    @Option(help: ArgumentHelp("The token index's efSearch (default: the token candidates).", valueName: "n"))
    var efSearch: Int?

    @Option(help: ArgumentHelp("""
        An encoding of the tokens (int8, binary, pq<m>, or none): the hnsw walk scores it; int8 codes \
        also score long shortlists (both paths) before the floats. Results stay rescored on the floats.
        """, valueName: "name"))
    var encoding: String = "int8"

    /// The `--encoding` to build, `nil` for `none`.
    var tokenEncoding: String? { encoding == "none" ? nil : encoding }

    @Option(help: ArgumentHelp("Token counts of the documents pooling throughput is timed on.", valueName: "32,128,512"))
    var poolingLengths: String = "32,128,512"

    @Option(help: ArgumentHelp("Use only the first n queries.", valueName: "n"))
    var queriesLimit: Int?

    @Option(help: "Passes over the queries.")
    var passes: Int = 2

    @Option(help: "Threads for loading (pooling) and index builds; 0 uses every core.")
    var threads: Int = 0

    @Flag(help: "Print JSON (the only output format; accepted for symmetry with other bench commands).")
    var json = false

    func validate() throws {
        guard k >= 1, passes >= 1, m >= 2, efConstruction >= 1, pqM >= 1, kmeansIterations >= 1 else {
            throw ValidationError("--k, --passes, --ef-construction, --pq-m, --kmeans-iterations must be at least 1 and --m at least 2")
        }
        _ = try Self.integers(oversample, "--oversample")
        if nlist != "auto" { _ = try Self.integers(nlist, "--nlist") }
        if let tokenEncoding, VectorEncoding(tokenEncoding) == nil {
            throw ValidationError("--encoding: unknown encoding \(quote(tokenEncoding)) (int8, binary, pq<m>, none)")
        }
        _ = try Self.integers(nprobe, "--nprobe")
        _ = try Self.integers(poolFactor, "--pool-factor")
        _ = try Self.integers(tokenCandidates, "--token-candidates")
        _ = try Self.integers(poolingLengths, "--pooling-lengths")
    }

    /// `--nlist auto`: 4,096 lists (measured on 94,256 and 47,371 MiniLM tokens: fewer lists
    /// rank candidates worse, more cost more in `S`), fewer for small token sets so that every
    /// list is trained on about 8 tokens or more.
    static func automaticListCount(storedTokens: Int) -> Int {
        let perEight = max(1, storedTokens / 8)
        return min(4096, 1 << (Int.bitWidth - 1 - perEight.leadingZeroBitCount))
    }

    static func integers(_ text: String, _ option: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("\(option) takes positive integers separated by commas, got \(quote(text))")
        }
        return values.map { $0! }
    }

    func run() throws {
        let documents = try TokenMatrix(tokens: docs, offsets: docOffsets)
        var queryMatrix = try TokenMatrix(tokens: queries, offsets: queryOffsets)
        guard queryMatrix.dimensions == documents.dimensions else {
            throw InputError("dimensionMismatch", "\(queries) has \(queryMatrix.dimensions) dimensions, \(docs) \(documents.dimensions)")
        }
        if let limit = queriesLimit { queryMatrix.keepFirst(limit) }
        let queryTokens = queryMatrix.documents()
        let truthRows = try IVecs.readAll(path: truth)
        guard truthRows.count >= queryTokens.count else {
            throw InputError("invalidArgument", "\(truth) has \(truthRows.count) rows for \(queryTokens.count) queries")
        }
        let relevant = try qrels.map { try Self.readQrels(path: $0) }
        let pooling = try Self.integers(poolingLengths, "--pooling-lengths").map { try poolingThroughput(documents, length: $0) }
        var runs: [JSONOutput] = []
        var unpooledNDCG: Double?
        for factor in try Self.integers(poolFactor, "--pool-factor") {
            runs.append(try runPoolFactor(factor, documents: documents, queries: queryTokens, truth: truthRows, relevant: relevant,
                                          unpooledNDCG: &unpooledNDCG))
        }
        printJSON(.object([
            ("command", .string("bench multivector")),
            ("documents", .number(documents.count)),
            ("tokens", .number(documents.tokenCount)),
            ("dimensions", .number(documents.dimensions)),
            ("queries", .number(queryTokens.count)),
            ("query_tokens", .number(queryMatrix.tokenCount)),
            ("metric", .string(metric.rawValue)),
            ("protected_tokens", .number(protectedTokens)),
            ("k", .number(k)),
            ("index", .string(index.rawValue)),
            ("encoding", tokenEncoding.map { .string($0) } ?? .null),
            ("pooling_throughput", .array(pooling)),
            ("runs", .array(runs)),
        ] + environmentFields()))
    }

    /// Documents per second pooled on one thread (no store), for documents of `length` real
    /// tokens: consecutive windows of the token matrix, so every pooled document is real data.
    func poolingThroughput(_ documents: TokenMatrix, length: Int) throws -> JSONOutput {
        let windows = min(2_000, max(1, documents.tokenCount / length))
        guard documents.tokenCount >= length else {
            return .object([("tokens_per_document", .number(length)), ("skipped", .string("fewer tokens in the file"))])
        }
        var rows: [JSONOutput] = []
        for factor in try Self.integers(poolFactor, "--pool-factor") where factor > 1 {
            let pooler = try TokenPooler(poolFactor: factor, protectedTokens: protectedTokens)
            let d = documents.dimensions
            var kept = 0
            let started = now()
            try documents.floats.withUnsafeBufferPointer { all in
                for w in 0..<windows {
                    let start = (w * length) % (documents.tokenCount - length + 1)
                    let window = UnsafeBufferPointer(rebasing: all[(start * d)..<((start + length) * d)])
                    kept += try pooler.pool(window, count: length, dimensions: d).count / d
                }
            }
            let seconds = now() - started
            rows.append(.object([
                ("pool_factor", .number(factor)),
                ("documents", .number(windows)),
                ("tokens_kept", .number(kept)),
                ("documents_per_second", .rounded(Double(windows) / seconds, 1)),
            ]))
        }
        return .object([("tokens_per_document", .number(length)), ("threads", .number(1)), ("by_pool_factor", .array(rows))])
    }

    func runPoolFactor(_ factor: Int, documents: TokenMatrix, queries: [[[Float]]], truth: [[Int32]], relevant: [Int: Set<Int>]?,
                       unpooledNDCG: inout Double?) throws -> JSONOutput {
        let store = try TemporaryStore()
        defer { store.remove() }
        let database = try Database(path: store.path, configuration: .init(syncMode: .noSync))
        let name = "tokens"
        try database.createCollection(name, schema: CollectionSchema(
            vectors: .multiVector(dimensions: documents.dimensions, poolFactor: factor, protectedTokens: protectedTokens),
            metric: metric.metric))
        let loadStarted = now()
        let stored = try database.write { tx in
            try documents.floats.withUnsafeBufferPointer {
                try tx.collection(name).appendDocuments(tokens: $0, tokenCounts: documents.counts, keys: .sequential(start: 0), threads: threads)
            }
        }
        let loadSeconds = now() - loadStarted
        let statistics = try database.read { tx in try tx.collection(name).tokenStatistics() }

        let exact = try timeSearches(database, name: name, queries: queries, options: SearchOptions(strategy: .exact))
        let exactQuality = quality(exact.results, truth: truth, relevant: relevant)
        if factor == 1 { unpooledNDCG = exactQuality.ndcg }

        var fast: [JSONOutput] = []
        var builds: [(String, JSONOutput)] = []
        /// One fast-path entry: `fields` first, then quality and speed.
        func measure(_ options: SearchOptions, _ fields: [(String, JSONOutput)]) throws {
            let paired = try timePaired(database, name: name, queries: queries, options: options)
            let run = paired.fast
            let q = quality(run.results, truth: truth, relevant: relevant)
            let againstExact = zip(run.results, exact.results).map { recall($0.map(\.key), $1.map(\.key)) }.reduce(0, +) / Double(max(1, queries.count))
            fast.append(.object(fields + [
                ("oversample", options.oversample.map { .number($0) } ?? .null),
                ("recall_at_\(k)", .rounded(q.recall, 4)),
                ("recall_at_\(k)_vs_exact", .rounded(againstExact, 4)),
                ("ndcg_at_\(k)", q.ndcg.map { .rounded($0, 4) } ?? .null),
                ("mrr_at_\(k)", q.mrr.map { .rounded($0, 4) } ?? .null),
                ("queries_per_second", .rounded(run.queriesPerSecond, 1)),
                ("median_ms", .rounded(run.medianSeconds * 1000, 3)),
                ("exact_queries_per_second", .rounded(paired.exactQueriesPerSecond, 1)),
                ("speedup_vs_exact", .rounded(paired.speedup, 2)),
                ("speedup_per_pass", .array(paired.speedups.map { .rounded($0, 2) })),
            ]))
        }
        let oversamples = try Self.integers(oversample, "--oversample")
        switch index {
        case .hnsw:
            let buildStarted = now()
            try database.buildIndex(collection: name, HNSWParameters(m: m, efConstruction: efConstruction), threads: threads)
            try buildTokenEncoding(database, name: name)
            builds.append(("index_build_seconds", .rounded(now() - buildStarted, 3)))
            for candidates in try Self.integers(tokenCandidates, "--token-candidates") {
                for over in oversamples {
                    var options = SearchOptions(oversample: over, strategy: .index)
                    options.tokenCandidates = candidates
                    options.efSearch = efSearch ?? candidates
                    try measure(options, [("token_candidates", .number(candidates)), ("ef_search", .number(options.efSearch!))])
                }
            }
        case .ivf:
            try buildTokenEncoding(database, name: name)
            var encodings: [JSONOutput] = []
            let listCounts = nlist == "auto" ? [Self.automaticListCount(storedTokens: statistics.storedTokens)] : try Self.integers(nlist, "--nlist")
            for lists in listCounts {
                let encoding = VectorEncoding.ivfpq(nlist: lists, m: pqM)
                let clock = TrainingClock()
                let buildStarted = now()
                try database.buildEncoding(collection: name, EncodingParameters(encoding, iterations: kmeansIterations), threads: threads) { stage, _, _ in
                    if stage == "training" { clock.report() }
                }
                let buildSeconds = now() - buildStarted
                let trainingSeconds = clock.elapsed(since: buildStarted) ?? buildSeconds
                encodings.append(.object([
                    ("nlist", .number(lists)),
                    ("pq_m", .number(pqM)),
                    ("kmeans_iterations", .number(kmeansIterations)),
                    ("training_seconds", .rounded(trainingSeconds, 3)),
                    ("build_seconds", .rounded(buildSeconds, 3)),
                ]))
                for probes in try Self.integers(nprobe, "--nprobe") {
                    for over in oversamples {
                        var options = SearchOptions(candidates: .encoding(encoding), oversample: over, strategy: .index)
                        options.nprobe = probes
                        try measure(options, [("nlist", .number(lists)), ("nprobe", .number(probes)),
                                              ("encoding_build_seconds", .rounded(buildSeconds, 3))])
                    }
                }
                try database.write { tx in try tx.collection(name).dropEncoding(encoding) }
            }
            builds.append(("encodings", .array(encodings)))
        }
        return .object([
            ("pool_factor", .number(factor)),
            ("stored_vectors", .number(statistics.storedTokens)),
            ("tokens_before_pooling", .number(statistics.tokensBeforePooling)),
            ("stored_fraction", .rounded(Double(statistics.storedTokens) / Double(max(1, statistics.tokensBeforePooling)), 4)),
            ("vector_bytes", .number(statistics.vectorBytes)),
            ("stored_bytes", .number(statistics.storedBytes)),
            ("load_seconds", .rounded(loadSeconds, 3)),
            ("load_documents_per_second", .rounded(Double(documents.count) / loadSeconds, 1)),
            ("load_threads", .number(threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads)),
            ("stored_tokens_reported_by_load", .number(stored)),
            ("exact", .object([
                ("recall_at_\(k)", .rounded(exactQuality.recall, 4)),
                ("ndcg_at_\(k)", exactQuality.ndcg.map { .rounded($0, 4) } ?? .null),
                ("ndcg_vs_unpooled", exactQuality.ndcg.flatMap { n in unpooledNDCG.map { .rounded(n / $0, 4) } } ?? .null),
                ("mrr_at_\(k)", exactQuality.mrr.map { .rounded($0, 4) } ?? .null),
                ("queries_per_second", .rounded(exact.queriesPerSecond, 1)),
                ("median_ms", .rounded(exact.medianSeconds * 1000, 3)),
            ])),
        ] + builds + [
            ("fast", .array(fast)),
        ])
    }

    /// The `--encoding` of the tokens, unless it is `none`.
    func buildTokenEncoding(_ database: Database, name: String) throws {
        guard let encoding = tokenEncoding else { return }
        guard let parsed = VectorEncoding(encoding) else { throw ValidationError("--encoding: unknown encoding \(quote(encoding))") }
        try database.buildEncoding(collection: name, EncodingParameters(parsed), threads: threads)
    }

    /// Recall@k against the truth's first k, and with qrels nDCG@k and MRR@k (binary relevance).
    func quality(_ results: [[SearchResult]], truth: [[Int32]], relevant: [Int: Set<Int>]?) -> (recall: Double, ndcg: Double?, mrr: Double?) {
        var recallSum = 0.0
        var ndcgSum = 0.0
        var mrrSum = 0.0
        var judged = 0
        for (i, hits) in results.enumerated() {
            let found = hits.prefix(k).compactMap { hit -> Int? in if case .int(let key) = hit.key { Int(key) } else { nil } }
            let expected = Set(truth[i].prefix(k).map(Int.init))
            recallSum += Double(found.filter(expected.contains).count) / Double(max(1, expected.count))
            guard let wanted = relevant?[i], !wanted.isEmpty else { continue }
            judged += 1
            var dcg = 0.0
            var reciprocal = 0.0
            for (rank, document) in found.enumerated() where wanted.contains(document) {
                dcg += 1 / log2(Double(rank) + 2)
                if reciprocal == 0 { reciprocal = 1 / Double(rank + 1) }
            }
            let ideal = (0..<min(k, wanted.count)).reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
            ndcgSum += dcg / ideal
            mrrSum += reciprocal
        }
        let n = Double(max(1, results.count))
        return (recallSum / n, relevant == nil ? nil : ndcgSum / Double(max(1, judged)), relevant == nil ? nil : mrrSum / Double(max(1, judged)))
    }

    /// `--passes` passes over the queries; the last one's results and latencies, and the median
    /// rate of the passes.
    func timeSearches(_ database: Database, name: String, queries: [[[Float]]], options: SearchOptions) throws -> TimedQueries {
        var runs: [TimedQueries] = []
        for _ in 0..<passes { runs.append(try timePass(database, name: name, queries: queries, options: options)) }
        var last = runs.last!
        last.queriesPerSecond = percentiles(runs.map(\.queriesPerSecond)).median
        return last
    }

    /// A fast path timed beside the exact scan: every pass times the exact scan over the
    /// queries, then the fast path, so each speed-up compares two rates measured seconds apart
    /// (this machine's speed drifts by 20% over minutes). The speed-up reported is the median of
    /// the passes' ratios; the rates are the passes' medians.
    func timePaired(_ database: Database, name: String, queries: [[[Float]]], options: SearchOptions)
        throws -> (fast: TimedQueries, exactQueriesPerSecond: Double, speedup: Double, speedups: [Double]) {
        var exactRates: [Double] = []
        var fastRuns: [TimedQueries] = []
        var speedups: [Double] = []
        for _ in 0..<passes {
            let exact = try timePass(database, name: name, queries: queries, options: SearchOptions(strategy: .exact))
            let fast = try timePass(database, name: name, queries: queries, options: options)
            exactRates.append(exact.queriesPerSecond)
            fastRuns.append(fast)
            speedups.append(fast.queriesPerSecond / exact.queriesPerSecond)
        }
        var fast = fastRuns.last!
        fast.queriesPerSecond = percentiles(fastRuns.map(\.queriesPerSecond)).median
        return (fast, percentiles(exactRates).median, percentiles(speedups).median, speedups)
    }

    /// One pass over the queries in one read transaction, one at a time, each timed.
    func timePass(_ database: Database, name: String, queries: [[[Float]]], options: SearchOptions) throws -> TimedQueries {
        var latencies: [Double] = []
        var results: [[SearchResult]] = []
        let started = now()
        try database.read { tx in
            let reader = try tx.collection(name)
            for query in queries {
                let t = now()
                results.append(try reader.search(tokens: query, k: k, options: options))
                latencies.append(now() - t)
            }
        }
        let total = now() - started
        let (median, p99) = percentiles(latencies)
        return TimedQueries(results: results, queriesPerSecond: Double(queries.count) / total, medianSeconds: median, p99Seconds: p99)
    }

    /// `query_index<TAB>doc_index` lines (a header line that does not parse is skipped).
    static func readQrels(path: String) throws -> [Int: Set<Int>] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw InputError("fileNotFound", "\(path): \(error.localizedDescription)")
        }
        var out: [Int: Set<Int>] = [:]
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let parts = line.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "," })
            guard parts.count >= 2, let query = Int(parts[0]), let document = Int(parts[1]) else {
                if number == 0 { continue }
                throw InputError("invalidArgument", "\(path) line \(number + 1): expected query_index<TAB>doc_index")
            }
            out[query, default: []].insert(document)
        }
        return out
    }
}

/// When an encoding build finished training (k-means of the lists, then the PQ): its last
/// "training" progress report.
private final class TrainingClock: @unchecked Sendable {
    // Safety: `done` is only touched under `lock`.
    private var done: Double?
    private let lock = NSLock()

    func report() {
        lock.lock()
        defer { lock.unlock() }
        done = now()
    }

    /// Seconds from `start` to the end of training, `nil` when no encoding stage was reported.
    func elapsed(since start: Double) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return done.map { $0 - start }
    }
}

/// Recall of `got` against `expected` (the share of `expected` found).
private func recall(_ got: [RecordKey], _ expected: [RecordKey]) -> Double {
    Double(Set(got).intersection(expected).count) / Double(max(1, expected.count))
}

/// A token matrix and its per-document offsets, read whole: the shape bench and import share.
struct TokenMatrix {
    var floats: [Float]
    var counts: [Int]
    var dimensions: Int

    var count: Int { counts.count }
    var tokenCount: Int { floats.count / max(1, dimensions) }

    init(tokens: String, offsets: String) throws {
        var reader = try VectorFileReader(path: tokens)
        guard reader.elementKind == .float32 else { throw InputError("invalidVector", "\(tokens): token vectors must be floats") }
        dimensions = reader.dimensions
        var chunk = VectorChunk()
        floats = []
        while try reader.read(into: &chunk, maxRows: 65_536) > 0 { floats += chunk.floats }
        let bounds = try TokenOffsets.read(path: offsets)
        guard bounds.last == floats.count / max(1, dimensions) else {
            throw InputError("invalidArgument", "\(offsets) ends at token \(bounds.last ?? 0), \(tokens) has \(floats.count / max(1, dimensions))")
        }
        counts = zip(bounds.dropFirst(), bounds).map { $0 - $1 }
    }

    /// Keeps the first `n` documents.
    mutating func keepFirst(_ n: Int) {
        guard n < counts.count else { return }
        counts = Array(counts.prefix(n))
        floats = Array(floats.prefix(counts.reduce(0, +) * dimensions))
    }

    /// Each document as a list of token vectors.
    func documents() -> [[[Float]]] {
        var start = 0
        return counts.map { n in
            defer { start += n }
            return (start..<start + n).map { Array(floats[$0 * dimensions..<($0 + 1) * dimensions]) }
        }
    }
}
