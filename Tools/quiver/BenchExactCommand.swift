import ArgumentParser
import Foundation
import Quiver
import QuiverFiles

/// `quiver bench exact`: loads a base file into a temporary store and times exact search.
struct BenchExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact",
        abstract:
            "Time exact (brute-force) search on your data: recall, queries/s, latency, memory bandwidth.",
        discussion: """
            The base is loaded into a temporary store (deleted afterwards); record keys are the \
            base's row numbers, as in .ivecs ground truth. Queries run one at a time on one thread \
            inside one read transaction; --batch also times CollectionReader.searchBatch.
            """
    )

    @Option(
        help: ArgumentHelp("The base vectors (.fvecs, .bvecs, .npy, .jsonl).", valueName: "path")
    )
    var base: String

    @Option(help: ArgumentHelp("The query vectors.", valueName: "path"))
    var queries: String

    @Option(
        help: ArgumentHelp(
            "Ground truth (.ivecs): row i lists the nearest base rows of query i.",
            valueName: "path"
        )
    )
    var truth: String?

    @Option(help: "The metric (hamming for packed-bit data).")
    var metric: MetricName = .cosine

    @Option(help: "How many results per query.")
    var k: Int = 10

    @Option(help: ArgumentHelp("Use only the first n queries.", valueName: "n"))
    var queriesLimit: Int?

    @Flag(help: "Also time batched search (CollectionReader.searchBatch).")
    var batch = false

    @Option(help: "Threads for --batch.")
    var threads: Int = 2

    @Flag(help: "Binarise float data by sign and search by Hamming distance.")
    var binarize = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "No load progress on stderr.")
    var quiet = false

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let queriesLimit, queriesLimit < 1 {
            throw ValidationError("--queries-limit must be at least 1")
        }
        if binarize && metric != .cosine && metric != .hamming {
            throw ValidationError(
                "--binarize searches by hamming distance; leave --metric out or give hamming"
            )
        }
    }

    func run() throws {
        let binary = binarize || metric == .hamming
        let store = try TemporaryStore()
        defer { store.remove() }
        let database = try StoreOptions.open(path: store.path, readOnly: false, durable: false)
        let name = "bench"
        var plan = ImportPlan(collection: name, file: base)
        plan.showProgress = !quiet
        plan.createsBinary = binary
        let metric = binary ? Metric.hamming : self.metric.metric
        plan.create = { dimensions in
            CollectionSchema(
                vectors: binary
                    ? .binary(dimensions: dimensions, keepsFloats: false)
                    : .float32(dimensions: dimensions),
                metric: metric
            )
        }
        let load = try VectorImporter.run(plan, database: database)
        let schema = try database.schema(of: name)
        let dimensions = schema.vectors.dimensions
        let queryVectors = try Self.readQueries(
            path: queries,
            binary: binary,
            dimensions: dimensions,
            limit: queriesLimit
        )
        let truthRows = try truth.map { path -> [[Int32]] in
            let rows = try IVecs.readAll(path: path)
            guard rows.count >= queryVectors.count else {
                throw InputError(
                    "invalidArgument",
                    "\(path) has \(rows.count) rows for \(queryVectors.count) queries"
                )
            }
            return rows
        }

        // Bandwidth first: it also pages the whole collection in, like a warm-up.
        let bandwidth = try database.measureScanBandwidth(collection: name)
        let timed = try timeQueries(database, name: name, queries: queryVectors, k: k, ef: nil, filter: nil, strategy: .exact)
        let results = timed.results
        let qps = timed.queriesPerSecond
        let (median, p99) = (timed.medianSeconds, timed.p99Seconds)
        let bytesPerQuery = load.records * StoredPlane(schema).bytesPerRow(dimensions: dimensions)

        var batchQPS: Double?
        var batchRecall: Double?
        if batch {
            let floats = queryVectors.compactMap {
                if case .floats(let q) = $0 { return q } else { return nil }
            }
            if floats.count == queryVectors.count {
                let t = now()
                let batchResults = try database.read { tx in
                    try tx.collection(name).searchBatch(floats, k: k, filter: nil, threads: threads)
                }
                batchQPS = Double(floats.count) / (now() - t)
                batchRecall = truthRows.map { Self.recall(batchResults, truth: $0, k: k) }
            } else {
                standardError(
                    "note: --batch needs float queries; packed-bit queries run one at a time only\n"
                )
            }
        }
        let recall = truthRows.map { Self.recall(results, truth: $0, k: k) }
        let report = JSONOutput.object(
            [
                ("benchmark", .string("exact")),
                ("base", .string(base)),
                ("queries_file", .string(queries)),
                ("rows", .number(load.records)),
                ("dimensions", .number(dimensions)),
                ("kind", .string(binary ? "binary" : "float32")),
                ("metric", .string(metric.rawValue)),
                ("k", .number(k)),
                ("queries", .number(queryVectors.count)),
                ("load_seconds", .rounded(load.seconds, 3)),
                ("recall_at_\(k)", recall.map { .rounded($0, 4) } ?? .null),
                ("queries_per_second", .rounded(qps, 1)),
                ("milliseconds_per_query_median", .rounded(median * 1000, 4)),
                ("milliseconds_per_query_p99", .rounded(p99 * 1000, 4)),
                ("bytes_per_query", .number(bytesPerQuery)),
                ("memory_bandwidth_bytes_per_second", .int(Int64(bandwidth.rounded()))),
                (
                    "bandwidth_fraction",
                    bandwidth > 0 ? .rounded(Double(bytesPerQuery) * qps / bandwidth, 3) : .null
                ),
                ("batch_queries_per_second", batchQPS.map { .rounded($0, 1) } ?? .null),
                ("batch_threads", batch ? .number(threads) : .null),
                ("batch_recall_at_\(k)", batchRecall.map { .rounded($0, 4) } ?? .null),
            ] + environmentFields()
        )
        if json {
            printJSON(report)
        } else {
            printText(report)
        }
    }

    enum Query {
        case floats([Float])
        case bits([UInt8])
    }

    /// Reads the queries: floats, or packed bits for binary collections (float queries are
    /// binarised by sign).
    static func readQueries(path: String, binary: Bool, dimensions: Int, limit: Int?) throws
        -> [Query]
    {
        var reader = try VectorFileReader(path: path, options: .init(bytesArePackedBits: binary))
        var chunk = VectorChunk()
        var out: [Query] = []
        let wanted = limit ?? Int.max
        while out.count < wanted {
            let n = try reader.read(into: &chunk, maxRows: min(4096, wanted - out.count))
            if n == 0 { break }
            let d = reader.dimensions
            for i in 0..<n {
                switch reader.elementKind {
                case .float32:
                    let q = Array(chunk.floats[i * d..<(i + 1) * d])
                    guard q.count == dimensions else {
                        throw InputError(
                            "dimensionMismatch",
                            "\(path) has \(q.count) dimensions, the base \(dimensions)"
                        )
                    }
                    out.append(.floats(q))
                case .uint8:
                    out.append(.floats(chunk.bytes[i * d..<(i + 1) * d].map { Float($0) }))
                case .packedBits(let bits):
                    guard bits == dimensions else {
                        throw InputError(
                            "dimensionMismatch",
                            "\(path) has \(bits)-bit vectors, the base \(dimensions) bits"
                        )
                    }
                    out.append(.bits(Array(chunk.bytes[i * (bits / 8)..<(i + 1) * (bits / 8)])))
                }
            }
        }
        guard !out.isEmpty else { throw InputError("invalidArgument", "\(path) holds no queries") }
        return out
    }

    /// Mean over queries of |results ∩ first k of truth| / k.
    static func recall(_ results: [[SearchResult]], truth: [[Int32]], k: Int) -> Double {
        var sum = 0.0
        for (i, hits) in results.enumerated() {
            let expected = Set(truth[i].prefix(k).map { UInt64(UInt32(bitPattern: $0)) })
            let found = hits.filter {
                if case .int(let key) = $0.key {
                    return expected.contains(key)
                } else {
                    return false
                }
            }.count
            sum += Double(found) / Double(max(1, min(k, expected.count)))
        }
        return results.isEmpty ? 0 : sum / Double(results.count)
    }
}

/// Prints a flat JSON report as `key: value` lines.
func printText(_ report: JSONOutput) {
    guard case .object(let members) = report else { return printJSON(report) }
    let width = members.map(\.0.count).max() ?? 0
    for (key, value) in members {
        print(pad(key, width) + "  " + value.rendered())
    }
}
