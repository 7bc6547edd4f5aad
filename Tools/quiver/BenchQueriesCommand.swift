import ArgumentParser
import Foundation
import Quiver
import QuiverFiles

/// `quiver bench queries`: recall and speed of searches on a store that exists, with the
/// memory they keep resident — so a search can be measured apart from any load or build (for
/// example under a memory limit, `Tools/scripts/bench-memory.sh`).
struct BenchQueriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries",
        abstract: "Run queries against an existing collection and measure recall, queries/s and resident memory.",
        discussion: """
            Opens the store read-only. Keys must be the base row numbers that --truth names (as \
            `quiver import` gives without --key-column). Queries run one at a time on one thread \
            in one read transaction, --passes times; the last pass is reported.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection.")
    var collection: String

    @Option(help: ArgumentHelp("The query vectors.", valueName: "path"))
    var queries: String

    @Option(help: ArgumentHelp("Ground truth (.ivecs).", valueName: "path"))
    var truth: String?

    @Option(help: "How many results per query.")
    var k: Int = 10

    @Option(help: ArgumentHelp("Use only the first n queries.", valueName: "n"))
    var queriesLimit: Int?

    @Option(help: ArgumentHelp("Where candidates come from: auto, floats, int8, binary, pq<m> or ivfpq<nlist>x<m>.", valueName: "source"))
    var candidates: String = "auto"

    @Option(help: "Candidates rescored per result.")
    var oversample: Int = SearchOptions.defaultOversample

    @Option(help: ArgumentHelp("IVF-PQ lists probed.", valueName: "n"))
    var nprobe: Int?

    @Option(help: ArgumentHelp("The index's candidate list size.", valueName: "n"))
    var efSearch: Int?

    @Flag(help: "Scan exactly even when the collection has an index.")
    var exact = false

    @Option(help: "Passes over the queries.")
    var passes: Int = 2

    func validate() throws {
        guard k >= 1, passes >= 1, oversample >= 1 else { throw ValidationError("--k, --passes and --oversample must be at least 1") }
    }

    func run() throws {
        let fileBefore = BenchANNCommand.residentFileBytes()
        let database = try storeOptions.open(readOnly: true)
        let dimensions = try database.schema(of: collection).vectors.dimensions
        let queryVectors = try BenchExactCommand.readQueries(path: queries, binary: false, dimensions: dimensions, limit: queriesLimit)
        let truthRows = try truth.map { try IVecs.readAll(path: $0) }
        var options = SearchOptions(candidates: try parseCandidates(candidates), oversample: oversample)
        options.nprobe = nprobe
        var run: TimedQueries?
        for _ in 0..<passes {
            run = try timeQueries(database, name: collection, queries: queryVectors, k: k, ef: efSearch, filter: nil,
                                  strategy: exact ? .exact : .automatic, base: options)
        }
        let recall = truthRows.map { BenchExactCommand.recall(run!.results, truth: $0, k: k) }
        printJSON(.object([
            ("command", .string("bench queries")),
            ("collection", .string(collection)),
            ("candidates", .string(candidates)),
            ("oversample", .number(oversample)),
            ("nprobe", nprobe.map { .number($0) } ?? .null),
            ("ef_search", efSearch.map { .number($0) } ?? .null),
            ("queries", .number(queryVectors.count)),
            ("recall_at_\(k)", recall.map { .rounded($0, 4) } ?? .null),
            ("queries_per_second", .rounded(run!.queriesPerSecond, 1)),
            ("median_latency_us", .rounded(run!.medianSeconds * 1e6, 2)),
            ("p99_latency_us", .rounded(run!.p99Seconds * 1e6, 2)),
            ("resident_bytes", .number(BenchANNCommand.residentBytes())),
            ("store_resident_bytes", .number(max(0, BenchANNCommand.residentFileBytes() - fileBefore))),
        ] + environmentFields()))
    }
}
