import ArgumentParser
import Foundation
import Quiver

/// `quiver index build|drop|stats`: a collection's HNSW index.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build, drop or describe a collection's HNSW index.",
        subcommands: [IndexBuildCommand.self, IndexDropCommand.self, IndexStatsCommand.self]
    )
}

/// `quiver index build`: builds (or rebuilds) the HNSW index of a collection.
struct IndexBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the collection's HNSW index over every record (replacing any index).",
        discussion: """
            Runs in one write transaction: readers keep the last committed state until it commits. \
            Upserts and deletes keep the index up to date afterwards.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection.")
    var collection: String

    @Option(help: "Links per node on the upper levels (2m on level 0), 2...64.")
    var m: Int = 16

    @Option(help: "Candidate list size while building.")
    var efConstruction: Int = 200

    @Option(help: "Default candidate list size of searches.")
    var efSearch: Int = 64

    @Option(help: "Seed of the node levels.")
    var seed: UInt64 = HNSWParameters().seed

    @Option(help: ArgumentHelp("Matryoshka collections: build on this declared prefix.", valueName: "dims"))
    var prefix: Int?

    @Option(help: "Build threads; 0 uses every core.")
    var threads: Int = 0

    @Flag(help: "No progress bar on stderr.")
    var quiet = false

    func run() throws {
        let database = try storeOptions.open(readOnly: false)
        let count = try database.read { try $0.collection(collection).count }
        let progress = UncheckedBox(ProgressReporter(label: "index", total: count, bytesPerRow: 0, enabled: !quiet))
        let started = now()
        let parameters = HNSWParameters(m: m, efConstruction: efConstruction, efSearch: efSearch, seed: seed, prefix: prefix)
        try database.buildIndex(collection: collection, parameters, threads: threads) { done, _ in progress.value.update(rows: done) }
        progress.value.finish(rows: count)
        let seconds = now() - started
        print("built the HNSW index of \(collection): \(count) vectors in \(String(format: "%.1f", seconds)) s"
            + (seconds > 0 ? " (\(Int(Double(count) / seconds)) vectors/s)" : ""))
    }
}

/// `quiver index drop`: deletes a collection's index.
struct IndexDropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop",
        abstract: "Delete the collection's index; searches scan exactly afterwards."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection.")
    var collection: String

    func run() throws {
        let database = try storeOptions.open(readOnly: false)
        try database.dropIndex(collection: collection)
        print("dropped the index of \(collection)")
    }
}

/// `quiver index stats`: levels, degrees, reachability and size of an index.
struct IndexStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Describe the collection's index: levels, degree distribution, unreachable nodes, bytes per vector."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection.")
    var collection: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let database = try storeOptions.open(readOnly: true)
        let stats = try database.read { try $0.collection(collection).indexStatistics() }
        let p = stats.parameters
        let degrees = stats.level0DegreeHistogram
        let nodes = max(1, degrees.reduce(0, +))
        let mean = Double(degrees.enumerated().map { $0.offset * $0.element }.reduce(0, +)) / Double(nodes)
        let report = JSONOutput.object([
            ("collection", .string(collection)),
            ("index", .string("hnsw")),
            ("m", .number(p.m)),
            ("ef_construction", .number(p.efConstruction)),
            ("ef_search", .number(p.efSearch)),
            ("seed", .uint(p.seed)),
            ("prefix", p.prefix.map { .number($0) } ?? .null),
            ("nodes", .number(stats.nodes)),
            ("nodes_per_level", .array(stats.nodesPerLevel.map { .number($0) })),
            ("entry_level", .number(stats.entryLevel)),
            ("level0_mean_degree", .rounded(mean, 2)),
            ("level0_degree_histogram", .array(degrees.map { .number($0) })),
            ("unreachable_nodes", .number(stats.unreachableNodes)),
            ("graph_bytes", .number(stats.graphBytes)),
            ("bytes_per_vector", .rounded(stats.bytesPerVector, 2)),
        ])
        if json {
            printJSON(report)
        } else {
            printText(report)
        }
    }
}
