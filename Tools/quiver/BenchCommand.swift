import ArgumentParser
import Foundation
import Quiver

/// `quiver bench exact|import`: speed and recall on the user's own data, as JSON.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure exact search, index search or bulk import on your own data.",
        subcommands: [BenchExactCommand.self, BenchANNCommand.self, BenchQueriesCommand.self, BenchMultiVectorCommand.self, BenchImportCommand.self]
    )
}

/// A fresh store in a temporary folder, removed when the benchmark ends.
final class TemporaryStore {
    let folder: String
    var path: String { folder + "/bench.store" }

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        folder = base + "/quiver-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// The fields every benchmark report shares: where and on what it ran.
func environmentFields() -> [(String, JSONOutput)] {
    let commit = ProcessInfo.processInfo.environment["QUIVER_COMMIT"]
    return [
        ("isa", kernelISA().map { .string($0) } ?? .null),
        ("commit", commit.map { .string($0) } ?? .null),
        ("cores", .number(ProcessInfo.processInfo.activeProcessorCount)),
    ]
}

/// The median and 99th percentile of `values` (nearest rank).
func percentiles(_ values: [Double]) -> (median: Double, p99: Double) {
    guard !values.isEmpty else { return (0, 0) }
    let sorted = values.sorted()
    func rank(_ p: Double) -> Double {
        sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }
    let median =
        sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return (median, rank(0.99))
}

/// Queries run one at a time on one thread in one read transaction: their results, the rate
/// and the latency percentiles.
struct TimedQueries {
    var results: [[SearchResult]]
    var queriesPerSecond: Double
    var medianSeconds: Double
    var p99Seconds: Double
}

/// Runs `queries` one at a time in one read transaction and times each.
func timeQueries(_ database: Database, name: String, queries: [BenchExactCommand.Query], k: Int, ef: Int?, filter: Filter?,
                 strategy: SearchStrategy, base: SearchOptions = SearchOptions(candidates: .floats)) throws -> TimedQueries {
    var latencies: [Double] = []
    var results: [[SearchResult]] = []
    latencies.reserveCapacity(queries.count)
    results.reserveCapacity(queries.count)
    let started = now()
    try database.read { tx in
        let reader = try tx.collection(name)
        for query in queries {
            let t = now()
            let hits = try searchOne(reader, query, k: k, ef: ef, filter: filter, strategy: strategy, base: base)
            latencies.append(now() - t)
            results.append(hits)
        }
    }
    let total = now() - started
    let (median, p99) = percentiles(latencies)
    return TimedQueries(results: results, queriesPerSecond: Double(queries.count) / total, medianSeconds: median, p99Seconds: p99)
}

/// One search with `ef` and `strategy` (an index search unless told otherwise), on the float
/// vectors unless `base` names other candidates.
func searchOne(_ reader: CollectionReader, _ query: BenchExactCommand.Query, k: Int, ef: Int?, filter: Filter?,
               strategy: SearchStrategy = .index, base: SearchOptions = SearchOptions(candidates: .floats)) throws -> [SearchResult] {
    var options = base
    options.efSearch = ef
    options.strategy = strategy
    switch query {
    case .floats(let q): return try reader.search(q, k: k, filter: filter, options: options)
    case .bits(let b): return try reader.search(bits: b, k: k, filter: filter, options: options)
    }
}

