import ArgumentParser
import Foundation
import Quiver
import QuiverFiles

/// Carries a value that is used from one thread at a time into a `@Sendable` closure.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// `quiver bench ann`: builds an HNSW index on a base file in a temporary store and sweeps
/// efSearch, one query at a time on one thread, against ground truth.
struct BenchANNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "Build an HNSW index on your data and measure recall, queries/s, build speed, size and open time.",
        discussion: """
            The base is loaded into a temporary store (deleted afterwards) with keys equal to row \
            numbers, as in .ivecs ground truth. The index is built with --threads threads; queries \
            run one at a time on one thread, all in one read transaction, once per --ef-search value. \
            --filter-selectivity adds filtered sweeps on a generated attribute `bucket` (a hash of \
            the row, 0..<1000) whose truth is Quiver's exact filtered scan; --metadata and --filter \
            do the same with your own metadata table and filters.
            """
    )

    @Option(help: ArgumentHelp("The base vectors (.fvecs, .bvecs, .npy, .jsonl).", valueName: "path"))
    var base: String

    @Option(help: ArgumentHelp("The query vectors.", valueName: "path"))
    var queries: String

    @Option(help: ArgumentHelp("Ground truth (.ivecs) for the unfiltered sweep.", valueName: "path"))
    var truth: String?

    @Option(help: "The metric.")
    var metric: MetricName = .cosine

    @Option(help: "The index: hnsw (graph), flat (exact scans, of the floats and of --encoding's codes), or ivfpq (inverted lists of PQ codes: --nlist, --pq-m, --nprobe).")
    var index: String = "hnsw"

    @Option(help: ArgumentHelp("IVF-PQ lists (k-means clusters) for --index ivfpq.", valueName: "n"))
    var nlist: Int = 1_024

    @Option(help: ArgumentHelp("IVF-PQ lists probed per query to sweep, comma-separated.", valueName: "1,4,16,64"))
    var nprobe: String = "1,4,16,64"

    @Option(help: ArgumentHelp("Also build this encoding and sweep searches that take candidates from it: int8, binary, pq (with --pq-m) or pq<m>.", valueName: "encoding"))
    var encoding: String?

    @Option(help: ArgumentHelp("PQ sub-vectors for --encoding pq.", valueName: "m"))
    var pqM: Int?

    @Option(name: .customLong("funnel"), help: ArgumentHelp("Matryoshka funnel to sweep (implies --index flat), repeatable: prefix:encoding:shortlist stages, e.g. 64:binary:400,256:int8:100,full. The collection declares the stages' prefixes and gets their encodings.", valueName: "stages"))
    var funnels: [String] = []

    @Option(help: ArgumentHelp("Oversampling factors to sweep with --encoding (k × oversample candidates are rescored), comma-separated.", valueName: "1,2,4,8"))
    var oversample: String = "1,2,4,8"

    @Option(help: "HNSW links per node (2m on level 0).")
    var m: Int = 16

    @Option(help: "HNSW candidate list size while building.")
    var efConstruction: Int = 200

    @Option(help: ArgumentHelp("efSearch values to sweep, comma-separated.", valueName: "10,20,40"))
    var efSearch: String = "10,20,40,80,160,320"

    @Option(help: "Build threads (queries always run on one thread).")
    var threads: Int = 1

    @Option(help: "How many results per query.")
    var k: Int = 10

    @Option(help: ArgumentHelp("Use only the first n queries.", valueName: "n"))
    var queriesLimit: Int?

    @Option(help: ArgumentHelp("Build the graph on this Matryoshka prefix (rescored on the full vector).", valueName: "dims"))
    var prefix: Int?

    @Flag(help: "Store sign bits with the floats; the graph runs on the bits, candidates are rescored on the floats.")
    var binarize = false

    @Option(help: ArgumentHelp("Filtered sweeps at these fractions of rows passing, comma-separated.", valueName: "0.001,0.01,0.1"))
    var filterSelectivity: String?

    @Option(help: ArgumentHelp("A metadata table (.tsv/.csv/.jsonl) for --filter, one row per base vector.", valueName: "path"))
    var metadata: String?

    @Option(name: .customLong("field"), help: ArgumentHelp("A metadata field for --metadata, repeatable.", valueName: "name:type"))
    var fields: [String] = []

    @Option(name: .customLong("filter"), help: ArgumentHelp("A filtered sweep with this filter, repeatable.", valueName: "expression"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("After the sweeps, delete this fraction of the rows in small transactions, insert them again under new keys, sweep again, rebuild from scratch and sweep again.", valueName: "0.3"))
    var churn: Double?

    @Option(help: ArgumentHelp("Also draw the recall / queries-per-second curve as SVG.", valueName: "path"))
    var plot: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    var efValues: [Int] { efSearch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var selectivities: [Double] { (filterSelectivity ?? "").split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
    var oversampleValues: [Int] { oversample.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var nprobeValues: [Int] { nprobe.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    /// The encoding `--encoding` (and `--pq-m`) name.
    var parsedEncoding: VectorEncoding? {
        get throws {
            if index == "ivfpq" {
                guard let pqM else { throw ValidationError("--index ivfpq needs --pq-m") }
                return .ivfpq(nlist: nlist, m: pqM)
            }
            guard let encoding else { return nil }
            if encoding == "pq" {
                guard let pqM else { throw ValidationError("--encoding pq needs --pq-m") }
                return .pq(m: pqM)
            }
            guard let parsed = VectorEncoding(encoding) else { throw ValidationError("--encoding must be int8, binary, pq or pq<m>, got \(encoding)") }
            return parsed
        }
    }

    func validate() throws {
        guard ["hnsw", "flat", "ivfpq"].contains(index) else { throw ValidationError("--index must be hnsw, flat or ivfpq") }
        if index == "ivfpq" {
            guard encoding == nil else { throw ValidationError("--index ivfpq builds its own encoding: leave out --encoding") }
            guard !nprobeValues.isEmpty, nprobeValues.count == nprobe.split(separator: ",").count, nprobeValues.allSatisfy({ (1...nlist).contains($0) })
            else { throw ValidationError("--nprobe takes comma-separated integers in 1...nlist") }
        }
        _ = try parsedEncoding
        guard !oversampleValues.isEmpty, oversampleValues.count == oversample.split(separator: ",").count,
              oversampleValues.allSatisfy({ (1...1_000).contains($0) })
        else { throw ValidationError("--oversample takes comma-separated integers in 1...1000") }
        for text in funnels { _ = try Funnel(text) }
        if !funnels.isEmpty && (index != "flat" || prefix != nil || binarize) {
            throw ValidationError("--funnel needs --index flat, without --prefix or --binarize")
        }
        if index != "hnsw" && (filterSelectivity != nil || !filters.isEmpty || churn != nil) {
            throw ValidationError("--index \(index) does not combine with filtered sweeps or --churn")
        }
        guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be in 1...256") }
        guard !efValues.isEmpty, efValues.allSatisfy({ (1...100_000).contains($0) }),
              efValues.count == efSearch.split(separator: ",").count
        else { throw ValidationError("--ef-search takes comma-separated integers in 1...100000") }
        if filterSelectivity != nil {
            guard !selectivities.isEmpty, selectivities.allSatisfy({ $0 > 0 && $0 <= 1 }),
                  selectivities.count == filterSelectivity!.split(separator: ",").count
            else { throw ValidationError("--filter-selectivity takes comma-separated fractions in (0, 1]") }
        }
        if !filters.isEmpty && metadata == nil { throw ValidationError("--filter needs --metadata") }
        if metadata != nil && filterSelectivity != nil { throw ValidationError("use either --metadata with --filter, or --filter-selectivity") }
        if binarize && prefix != nil { throw ValidationError("--binarize and --prefix do not combine") }
        if let queriesLimit, queriesLimit < 1 { throw ValidationError("--queries-limit must be at least 1") }
        if let churn, !(churn > 0 && churn < 1) { throw ValidationError("--churn takes a fraction in (0, 1)") }
    }

    func run() throws {
        let store = try TemporaryStore()
        defer { store.remove() }
        let name = "bench"
        let schemaFields = try fieldDefinitions()
        var generatedMetadata: String?
        if filterSelectivity != nil {
            generatedMetadata = store.folder + "/buckets.tsv"
        }

        // Load and build, then close the store so that the open time below is a real open.
        var load: ImportSummary
        var buildSeconds = 0.0
        var statistics: HNSWStatistics?
        var dimensions = 0
        var encodingInfo: EncodingInfo?
        var encodingSeconds = 0.0
        var floatBytes = 0
        do {
            let database = try StoreOptions.open(path: store.path, readOnly: false, durable: false)
            var plan = ImportPlan(collection: name, file: base)
            plan.showProgress = !quiet
            let metric = self.metric.metric
            let prefix = self.prefix
            let binarize = self.binarize
            let parsedFunnels = try funnels.map { try Funnel($0) }
            let funnelPrefixes = Set(parsedFunnels.flatMap { $0.stages.compactMap(\.prefix) }).sorted()
            plan.create = { d in
                let vectors: VectorKind
                if !funnelPrefixes.isEmpty {
                    vectors = .matryoshka(dimensions: d, prefixes: funnelPrefixes.filter { $0 < d })
                } else if binarize {
                    vectors = .binary(dimensions: d, keepsFloats: true)
                } else if let prefix {
                    vectors = .matryoshka(dimensions: d, prefixes: [prefix])
                } else {
                    vectors = .float32(dimensions: d)
                }
                return CollectionSchema(vectors: vectors, metric: metric, fields: schemaFields)
            }
            if let generatedMetadata {
                let rows = try Self.countRows(base)
                try Self.writeBuckets(rows: rows, to: generatedMetadata)
                plan.metadataPath = generatedMetadata
            } else if let metadata {
                plan.metadataPath = metadata
                plan.ignoreUnknownColumns = true
            }
            load = try VectorImporter.run(plan, database: database)
            dimensions = try database.schema(of: name).vectors.dimensions
            floatBytes = dimensions * 4
            if index == "hnsw" {
                let parameters = HNSWParameters(m: m, efConstruction: efConstruction, efSearch: efValues[0], prefix: prefix)
                let progress = UncheckedBox(ProgressReporter(label: "build", total: load.records, bytesPerRow: 0, enabled: !quiet))
                let started = now()
                try database.buildIndex(collection: name, parameters, threads: threads) { done, _ in progress.value.update(rows: done) }
                buildSeconds = now() - started
                progress.value.finish(rows: load.records)
                statistics = try database.read { try $0.collection(name).indexStatistics() }
            }
            var built = Set<String>()
            for stage in parsedFunnels.flatMap(\.stages) {
                guard let encoding = stage.encoding, built.insert("\(encoding)@\(stage.prefix ?? 0)").inserted else { continue }
                _ = try buildEncoding(database, collection: name, EncodingParameters(encoding, prefix: stage.prefix), threads: threads, quiet: quiet)
            }
            if let encoding = try parsedEncoding {
                let started = now()
                encodingInfo = try buildEncoding(database, collection: name, EncodingParameters(encoding, prefix: prefix), threads: threads, quiet: quiet)
                encodingSeconds = now() - started
            }
        }

        let queryVectors = try BenchExactCommand.readQueries(path: queries, binary: false, dimensions: dimensions, limit: queriesLimit)
        let firstQuery = queryVectors[0]
        let truthRows = try truth.map { try IVecs.readAll(path: $0) }
        var sweep: [JSONOutput] = []
        var curve: [(recall: Double, queriesPerSecond: Double)] = []
        var encodingSweep: [JSONOutput] = []
        var funnelSweep: [JSONOutput] = []
        var encodingCurve: [(recall: Double, queriesPerSecond: Double)] = []
        var filtered: [JSONOutput] = []
        var openMilliseconds = 0.0
        var storeResidentBytes = 0
        var encodedResidentBytes = 0
        var encodingBytes = 0
        do {
            // Open and first query, in a store nobody in this process has open.
            let fileResidentBefore = Self.residentFileBytes()
            let openStarted = now()
            let database = try Database(path: store.path, configuration: .init(readOnly: true))
            // The first query asks what the sweeps ask first: the encoding's candidates when
            // there is one (so that the resident pages measured below are the encoding's).
            let firstOptions = SearchOptions(candidates: encodingInfo.map { .encoding($0.parameters.encoding) } ?? .floats)
            _ = try database.read { tx in
                try searchOne(tx.collection(name), firstQuery, k: k, ef: efValues[0], filter: nil, strategy: index == "hnsw" ? .index : .automatic,
                              base: firstOptions)
            }
            openMilliseconds = (now() - openStarted) * 1000

            // Encoded searches first: the store pages they touch are measured before the float
            // sweeps page in every vector.
            if let info = encodingInfo {
                let tables = try database.inspect().collections.first { $0.name == name }?.bytesPerTable ?? [:]
                // An IVF-PQ row plane only names lists; its codes are the lists.
                let codeTable = if case .ivfpq = info.parameters.encoding { "ivf.lists" } else { "codes" }
                encodingBytes = (tables[codeTable] ?? 0) + (tables["codes.meta"] ?? 0)
                (encodingSweep, encodingCurve) = try sweepEncoding(database, name: name, info: info, rows: load.records, queries: queryVectors, truth: truthRows)
                encodedResidentBytes = max(0, Self.residentFileBytes() - fileResidentBefore)
            }
            if index != "hnsw" {
                let run = try timeQueries(database, name: name, queries: queryVectors, k: k, ef: nil, filter: nil, strategy: .exact)
                let recall = truthRows.map { BenchExactCommand.recall(run.results, truth: $0, k: k) }
                sweep = [Self.entry(recall: recall, run: run, k: k, extra: [("candidates", .string("floats"))])]
            } else {
                (sweep, curve) = try sweepIndex(database, name: name, queries: queryVectors, truth: truthRows)
            }
            for text in funnels {
                let run = try timeQueries(database, name: name, queries: queryVectors, k: k, ef: nil, filter: nil, strategy: .exact,
                                          base: SearchOptions(funnel: try Funnel(text)))
                let recall = truthRows.map { BenchExactCommand.recall(run.results, truth: $0, k: k) }
                funnelSweep.append(Self.entry(recall: recall, run: run, k: k, extra: [("funnel", .string(text))]))
            }
            storeResidentBytes = max(0, Self.residentFileBytes() - fileResidentBefore)

            let filterCases: [(label: String, filter: Filter)] =
                try selectivities.map { s in (String(s), Field("bucket") < .int64(Int64((s * 1_000).rounded()))) }
                + filters.map { text in (text, try Filter.parse(text)) }
            for (label, filter) in filterCases {
                let passing = try database.read { try $0.collection(name).count(where: filter) }
                // What evaluating the filter alone costs (every filtered search does it once).
                let evaluationStarted = now()
                try database.read { tx in
                    let reader = try tx.collection(name)
                    for _ in 0..<100 { _ = try reader.count(where: filter) }
                }
                let evaluationMicroseconds = (now() - evaluationStarted) / 100 * 1e6
                let exact = try timeQueries(database, name: name, queries: queryVectors, k: k, ef: nil, filter: filter, strategy: .exact)
                for ef in efValues {
                    let run = try timeQueries(database, name: name, queries: queryVectors, k: k, ef: ef, filter: filter, strategy: .automatic)
                    let recall = Self.recall(run.results, truth: exact.results, k: k)
                    filtered.append(.object([
                        ("filter", .string(label)),
                        ("selectivity", .rounded(Double(passing) / Double(max(1, load.records)), 5)),
                        ("matching_rows", .number(passing)),
                        ("filter_evaluation_us", .rounded(evaluationMicroseconds, 2)),
                        ("plan", .string(try database.read { try $0.collection(name).plan(filter: filter).rawValue })),
                        ("ef_search", .number(ef)),
                        ("recall_at_\(k)", .rounded(recall, 4)),
                        ("queries_per_second", .rounded(run.queriesPerSecond, 1)),
                        ("exact_queries_per_second", .rounded(exact.queriesPerSecond, 1)),
                    ]))
                }
            }

        }
        let churnReport = try churn.map { fraction in
            try runChurn(fraction, path: store.path, name: name, rows: load.records, queries: queryVectors, truth: truthRows)
        }

        if let plot {
            var series: [RecallPlot.Series] = [.init(name: "Quiver", points: curve)]
            if let info = encodingInfo { series.append(.init(name: "Quiver \(encodingName(info))", points: encodingCurve)) }
            let svg = RecallPlot(title: "HNSW m=\(m) efConstruction=\(efConstruction): \(URL(fileURLWithPath: base).lastPathComponent)",
                                 series: series).svg()
            try svg.write(toFile: plot, atomically: true, encoding: .utf8)
        }
        let report = JSONOutput.object([
            ("command", .string("bench ann")),
            ("index", .string(index)),
            ("base", .string(base)),
            ("metric", .string(metric.rawValue)),
            ("kind", .string(binarize ? "binary+floats" : (prefix != nil || !funnels.isEmpty ? "matryoshka" : "float32"))),
            ("prefix", prefix.map { .number($0) } ?? .null),
            ("base_vectors", .number(load.records)),
            ("dimensions", .number(dimensions)),
            ("queries", .number(queryVectors.count)),
            ("k", .number(k)),
            ("m", .number(m)),
            ("ef_construction", .number(efConstruction)),
            ("threads", .number(threads)),
            ("build_seconds", .rounded(buildSeconds, 3)),
            ("build_vectors_per_second", .rounded(Double(load.records) / max(buildSeconds, 1e-9), 1)),
            ("index_bytes", .number(statistics?.graphBytes ?? 0)),
            ("index_bytes_per_vector", .rounded(statistics?.bytesPerVector ?? 0, 2)),
            ("levels", .array((statistics?.nodesPerLevel ?? []).map { .number($0) })),
            ("unreachable_nodes", .number(statistics?.unreachableNodes ?? 0)),
            ("float_bytes_per_vector", .number(floatBytes)),
            ("encoding", encodingInfo.map { .string(encodingName($0)) } ?? .null),
            ("encoding_build_seconds", .rounded(encodingSeconds, 3)),
            ("code_bytes_per_vector", encodingInfo.map { .number($0.codeBytes) } ?? .null),
            ("encoding_sweep", .array(encodingSweep)),
            ("funnel_sweep", .array(funnelSweep)),
            ("open_to_first_result_ms", .rounded(openMilliseconds, 3)),
            ("resident_bytes", .number(Self.residentBytes())),
            ("store_resident_bytes", .number(storeResidentBytes)),
            ("encoded_store_resident_bytes", encodingInfo == nil ? .null : .number(encodedResidentBytes)),
            ("encoding_bytes", encodingInfo == nil ? .null : .number(encodingBytes)),
            ("sweep", .array(sweep)),
            ("filtered", .array(filtered)),
            ("churn", churnReport ?? .null),
        ] + environmentFields())
        if json {
            printJSON(report)
        } else {
            print("build \(String(format: "%.1f", buildSeconds)) s (\(threads) threads), \(String(format: "%.1f", statistics?.bytesPerVector ?? 0)) graph bytes/vector, open + first query \(String(format: "%.2f", openMilliseconds)) ms")
            for entry in sweep { print(entry.rendered()) }
            for entry in encodingSweep + funnelSweep { print(entry.rendered()) }
            for entry in filtered { print(entry.rendered()) }
        }
    }

    /// The unfiltered sweep: one timed pass per efSearch. `keyOffset` maps keys of re-inserted
    /// records (key + rows) back to the base row the truth names.
    func sweepIndex(_ database: Database, name: String, queries: [BenchExactCommand.Query], truth: [[Int32]]?,
                    rows: Int = 0) throws -> ([JSONOutput], [(recall: Double, queriesPerSecond: Double)]) {
        var sweep: [JSONOutput] = []
        var curve: [(recall: Double, queriesPerSecond: Double)] = []
        for ef in efValues {
            let run = try timeQueries(database, name: name, queries: queries, k: k, ef: ef, filter: nil, strategy: .index)
            let results = rows == 0 ? run.results : run.results.map { hits in
                hits.map { hit in
                    var hit = hit
                    if case .int(let key) = hit.key, key >= UInt64(rows) { hit.key = .int(key - UInt64(rows)) }
                    return hit
                }
            }
            let recall = truth.map { BenchExactCommand.recall(results, truth: $0, k: k) }
            if let recall { curve.append((recall, run.queriesPerSecond)) }
            sweep.append(.object([
                ("ef_search", .number(ef)),
                ("recall_at_\(k)", recall.map { .rounded($0, 4) } ?? .null),
                ("queries_per_second", .rounded(run.queriesPerSecond, 1)),
                ("median_latency_us", .rounded(run.medianSeconds * 1e6, 2)),
                ("p99_latency_us", .rounded(run.p99Seconds * 1e6, 2)),
            ]))
        }
        return (sweep, curve)
    }

    /// One sweep entry.
    static func entry(recall: Double?, run: TimedQueries, k: Int, extra: [(String, JSONOutput)]) -> JSONOutput {
        .object(extra + [
            ("recall_at_\(k)", recall.map { .rounded($0, 4) } ?? .null),
            ("queries_per_second", .rounded(run.queriesPerSecond, 1)),
            ("median_latency_us", .rounded(run.medianSeconds * 1e6, 2)),
            ("p99_latency_us", .rounded(run.p99Seconds * 1e6, 2)),
        ])
    }

    /// Searches that take candidates from the encoding: the codes alone (no rescoring), then
    /// every --oversample (× every --ef-search on the graph), rescored on the floats.
    func sweepEncoding(_ database: Database, name: String, info: EncodingInfo, rows: Int, queries: [BenchExactCommand.Query],
                       truth: [[Int32]]?) throws -> ([JSONOutput], [(recall: Double, queriesPerSecond: Double)]) {
        var sweep: [JSONOutput] = []
        var curve: [(recall: Double, queriesPerSecond: Double)] = []
        let candidates = CandidateSource.encoding(info.parameters.encoding)
        let strategy: SearchStrategy = index == "hnsw" ? .index : .exact
        if index == "ivfpq" {
            // Candidates from the lists: every --nprobe, the codes alone then each --oversample.
            for probes in nprobeValues {
                for factor in [nil] + oversampleValues.map(Optional.some) {
                    var options = SearchOptions(candidates: candidates, rescore: factor != nil, oversample: factor ?? 1, strategy: .automatic)
                    options.nprobe = probes
                    let run = try timeQueries(database, name: name, queries: queries, k: k, ef: nil, filter: nil, strategy: .automatic, base: options)
                    let recall = truth.map { BenchExactCommand.recall(run.results, truth: $0, k: k) }
                    if let recall, factor != nil { curve.append((recall, run.queriesPerSecond)) }
                    sweep.append(Self.entry(recall: recall, run: run, k: k, extra: [
                        ("nprobe", .number(probes)), ("oversample", factor.map { .number($0) } ?? .null), ("rescored", .bool(factor != nil)),
                    ]))
                }
            }
            return (sweep, curve)
        }
        let efs: [Int?] = index == "flat" ? [nil] : efValues
        for ef in efs {
            // The codes alone: recall without rescoring, and (flat) codes scored per second.
            let codesOnly = SearchOptions(prefix: prefix, candidates: candidates, rescore: false)
            let alone = try timeQueries(database, name: name, queries: queries, k: k, ef: ef, filter: nil, strategy: strategy, base: codesOnly)
            let recall = truth.map { BenchExactCommand.recall(alone.results, truth: $0, k: k) }
            var extra: [(String, JSONOutput)] = [("ef_search", ef.map { .number($0) } ?? .null), ("oversample", .null), ("rescored", .bool(false))]
            if index == "flat" {
                // The median of five passes (the first one above and four more), as
                // faiss_pq_scan.py times FAISS's IndexPQ: one pass of a few hundred queries
                // moved by up to 1.5x between runs on a shared machine.
                var rates = [alone.queriesPerSecond]
                for _ in 0..<4 {
                    rates.append(try timeQueries(database, name: name, queries: queries, k: k, ef: ef, filter: nil, strategy: strategy,
                                                 base: codesOnly).queriesPerSecond)
                }
                extra.append(("codes_scored_per_second", .rounded(rates.sorted()[2] * Double(rows), 0)))
            }
            sweep.append(Self.entry(recall: recall, run: alone, k: k, extra: extra))
            for factor in oversampleValues {
                let run = try timeQueries(database, name: name, queries: queries, k: k, ef: ef, filter: nil, strategy: strategy,
                                          base: SearchOptions(prefix: prefix, candidates: candidates, oversample: factor))
                let recall = truth.map { BenchExactCommand.recall(run.results, truth: $0, k: k) }
                if let recall { curve.append((recall, run.queriesPerSecond)) }
                sweep.append(Self.entry(recall: recall, run: run, k: k,
                                        extra: [("ef_search", ef.map { .number($0) } ?? .null), ("oversample", .number(factor)), ("rescored", .bool(true))]))
            }
        }
        return (sweep, curve)
    }

    /// Deletes `fraction` of the rows (100 per transaction), inserts the same vectors again under
    /// new keys (key + rows, 100 per transaction), sweeps; then rebuilds the index from scratch on
    /// the result and sweeps again: the recall the upkeep keeps against a fresh build.
    func runChurn(_ fraction: Double, path: String, name: String, rows: Int, queries: [BenchExactCommand.Query],
                  truth: [[Int32]]?) throws -> JSONOutput {
        let database = try StoreOptions.open(path: path, readOnly: false, durable: false)
        var order = Array(0..<rows)
        var state: UInt64 = 0x5EED
        for i in stride(from: rows - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            order.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
        }
        let doomed = Array(order.prefix(Int(Double(rows) * fraction)))
        let batch = 100
        var vectors: [[Float]] = []
        vectors.reserveCapacity(doomed.count)
        try database.read { tx in
            let c = try tx.collection(name)
            for row in doomed { vectors.append(try c.get(.int(UInt64(row)))?.vector ?? []) }
        }
        let deleteStarted = now()
        for start in stride(from: 0, to: doomed.count, by: batch) {
            try database.write { tx in
                let c = try tx.collection(name)
                for row in doomed[start..<min(start + batch, doomed.count)] { try c.delete(key: .int(UInt64(row))) }
            }
        }
        let deleteSeconds = now() - deleteStarted
        let insertStarted = now()
        for start in stride(from: 0, to: doomed.count, by: batch) {
            try database.write { tx in
                let c = try tx.collection(name)
                for i in start..<min(start + batch, doomed.count) {
                    try c.upsert(key: .int(UInt64(rows + doomed[i])), vector: vectors[i])
                }
            }
        }
        let insertSeconds = now() - insertStarted
        let violations = try database.verify().count
        let (afterChurn, _) = try sweepIndex(database, name: name, queries: queries, truth: truth, rows: rows)
        let parameters = try database.read { try $0.collection(name).indexParameters } ?? HNSWParameters()
        try database.buildIndex(collection: name, parameters, threads: threads)
        let (fresh, _) = try sweepIndex(database, name: name, queries: queries, truth: truth, rows: rows)
        return .object([
            ("fraction", .rounded(fraction, 3)),
            ("deleted_and_reinserted", .number(doomed.count)),
            ("rows_per_transaction", .number(batch)),
            ("delete_seconds", .rounded(deleteSeconds, 3)),
            ("insert_seconds", .rounded(insertSeconds, 3)),
            ("verify_violations", .number(violations)),
            ("sweep_after_churn", .array(afterChurn)),
            ("sweep_fresh_build", .array(fresh)),
        ])
    }

    /// Mean over queries of the share of the exact results found.
    static func recall(_ results: [[SearchResult]], truth: [[SearchResult]], k: Int) -> Double {
        var sum = 0.0
        for (got, expected) in zip(results, truth) {
            let want = Set(expected.prefix(k).map(\.key))
            sum += want.isEmpty ? 1 : Double(got.filter { want.contains($0.key) }.count) / Double(want.count)
        }
        return results.isEmpty ? 0 : sum / Double(results.count)
    }

    func fieldDefinitions() throws -> [FieldDefinition] {
        if filterSelectivity != nil { return [FieldDefinition("bucket", .int64)] }
        return try fields.map { try SchemaOptions.parseField($0) }
    }

    static func countRows(_ path: String) throws -> Int {
        let reader = try VectorFileReader(path: path)
        guard let rows = reader.rowCount else { throw InputError("invalidArgument", "\(path): cannot count its rows") }
        return rows
    }

    /// A `bucket` column: a hash of the row in 0..<1000, independent of the vectors.
    static func writeBuckets(rows: Int, to path: String) throws {
        var text = "bucket\n"
        text.reserveCapacity(rows * 4 + 8)
        for row in 0..<rows {
            var z = UInt64(row) &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            text += String(z % 1_000)
            text += "\n"
        }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Pages of mapped files resident in this process (Linux: `RssFile` of /proc/self/status),
    /// 0 where unknown: opened after the load, the store's map adds only what searches touch.
    static func residentFileBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssFile:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb * 1_024
    }

    /// This process's resident memory (Linux: /proc/self/statm), 0 where unknown.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
