import ArgumentParser
import Foundation
import Quiver

/// `quiver index build|drop|stats`: a collection's HNSW index.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build, retrain, drop or describe a collection's HNSW index and encodings (int8, binary, PQ).",
        subcommands: [IndexBuildCommand.self, IndexRetrainCommand.self, IndexDropCommand.self, IndexStatsCommand.self]
    )
}

/// `quiver index build`: builds (or rebuilds) the HNSW index of a collection.
struct IndexBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the collection's HNSW index, or with --encoding an encoding, over every record (replacing it).",
        discussion: """
            Runs in one write transaction: readers keep the last committed state until it commits. \
            Upserts and deletes keep the index and the encodings up to date afterwards. \
            --encoding int8|binary|pqM trains the encoding on a sample (--sample rows, --seed) and \
            encodes every row; searches then take candidates from the codes and rescore them on the floats. \
            --encoding int8 --drop-floats then keeps the float vectors only as those int8 codes (a quarter \
            of the bytes; searches, rescoring and the index use the codes; cannot be undone; \
            `quiver compact` returns the freed pages).
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

    @Option(help: ArgumentHelp("Build this encoding instead of the HNSW index: int8, binary, pq<m> (e.g. pq48) or ivfpq<nlist>x<m> (e.g. ivfpq1024x48).", valueName: "encoding"))
    var encoding: String?

    @Option(help: ArgumentHelp("Rows an encoding is trained on.", valueName: "rows"))
    var sample: Int = EncodingParameters(.int8).sampleSize

    @Option(help: "k-means iterations of PQ training.")
    var iterations: Int = EncodingParameters(.int8).iterations

    @Flag(help: "With --encoding int8: keep the float vectors only as these int8 codes (deletes the floats; cannot be undone).")
    var dropFloats = false

    @Flag(help: "No progress bar on stderr.")
    var quiet = false

    func validate() throws {
        if dropFloats, encoding != "int8" || prefix != nil {
            throw ValidationError("--drop-floats goes with --encoding int8 of the full vector (no --prefix)")
        }
    }

    func run() throws {
        let database = try storeOptions.open(readOnly: false)
        let count = try database.read { try $0.collection(collection).count }
        if let encoding {
            guard let parsed = VectorEncoding(encoding) else { throw ValidationError("--encoding must be int8, binary or pq<m>, got \(encoding)") }
            let parameters = EncodingParameters(parsed, prefix: prefix, sampleSize: sample, seed: seed, iterations: iterations)
            let info = dropFloats
                ? try keepFloatsOnlyAsInt8(database, collection: collection, parameters, threads: threads, quiet: quiet)
                : try buildEncoding(database, collection: collection, parameters, threads: threads, quiet: quiet)
            print("built the \(encodingName(info)) encoding of \(collection): \(info.codeBytes) B per row, trained on \(info.trainedRows) rows"
                + (dropFloats ? "; the float vectors are kept only as these codes" : ""))
            return
        }
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

/// Builds (or retrains) an encoding in its own transaction, with a progress bar per stage.
func buildEncoding(_ database: Database, collection: String, _ parameters: EncodingParameters, threads: Int, quiet: Bool) throws -> EncodingInfo {
    let progress = StagedProgress(enabled: !quiet)
    defer { progress.finish() }
    return try database.buildEncoding(collection: collection, parameters, threads: threads) { progress.update($0, $1, $2) }
}

/// Builds the int8 encoding and keeps the floats only as its codes, in one transaction.
func keepFloatsOnlyAsInt8(_ database: Database, collection: String, _ parameters: EncodingParameters, threads: Int, quiet: Bool) throws -> EncodingInfo {
    let progress = StagedProgress(enabled: !quiet)
    defer { progress.finish() }
    return try database.write { tx in
        let writer = try tx.collection(collection)
        try writer.buildEncoding(parameters, threads: threads) { progress.update($0, $1, $2) }
        return try writer.keepFloatsOnlyAsInt8()
    }
}

/// `quiver index retrain`: retrains encodings on the current data.
struct IndexRetrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Retrain the collection's encodings (or one) on a fresh sample of the current rows and re-encode every row.",
        discussion: "For when the data has drifted since the encoding was trained. Uses the parameters it was built with."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection.")
    var collection: String

    @OptionGroup var selection: EncodingSelection

    @Option(help: "Training threads; 0 uses every core.")
    var threads: Int = 0

    @Flag(help: "No progress bar on stderr.")
    var quiet = false

    func run() throws {
        let database = try storeOptions.open(readOnly: false)
        let parsed = try selection.parsed
        let progress = StagedProgress(enabled: !quiet)
        let infos = try database.write { tx in
            try tx.collection(collection).retrainEncodings(parsed, prefix: selection.prefix, threads: threads) { progress.update($0, $1, $2) }
        }
        progress.finish()
        for info in infos { print("retrained the \(encodingName(info)) encoding of \(collection) on \(info.trainedRows) rows") }
    }
}

/// `quiver index drop`: deletes a collection's index or one of its encodings.
struct IndexDropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop",
        abstract: "Delete the collection's index (searches scan exactly afterwards), or with --encoding one encoding."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection.")
    var collection: String

    @OptionGroup var selection: EncodingSelection

    func run() throws {
        let database = try storeOptions.open(readOnly: false)
        if let parsed = try selection.parsed {
            try database.write { tx in try tx.collection(collection).dropEncoding(parsed, prefix: selection.prefix) }
            print("dropped the \(parsed) encoding of \(collection)")
            return
        }
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
        let (parameters, encodings) = try database.read { tx in
            let reader = try tx.collection(collection)
            return (try reader.indexParameters, try reader.encodings)
        }
        var fields: [(String, JSONOutput)] = [("collection", .string(collection))]
        if parameters != nil || encodings.isEmpty {
            let stats = try database.read { try $0.collection(collection).indexStatistics() }
            fields += Self.hnswFields(stats)
        } else {
            fields.append(("index", .null))
        }
        fields.append(("encodings", .array(encodings.map { encodingJSON($0, quality: nil) })))
        let report = JSONOutput.object(fields)
        if json {
            printJSON(report)
        } else {
            printText(report)
        }
    }

    static func hnswFields(_ stats: HNSWStatistics) -> [(String, JSONOutput)] {
        let p = stats.parameters
        let degrees = stats.level0DegreeHistogram
        let nodes = max(1, degrees.reduce(0, +))
        let mean = Double(degrees.enumerated().map { $0.offset * $0.element }.reduce(0, +)) / Double(nodes)
        return [
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
        ]
    }
}

/// `--encoding E [--prefix DIMS]`: one of a collection's encodings (retrain, drop).
struct EncodingSelection: ParsableArguments {
    @Option(help: ArgumentHelp("Only this encoding: int8, binary, pq<m> or ivfpq<nlist>x<m>.", valueName: "encoding"))
    var encoding: String?

    @Option(help: ArgumentHelp("With --encoding: the encoding of this prefix.", valueName: "dims"))
    var prefix: Int?

    /// The encoding named, `nil` when none is.
    var parsed: VectorEncoding? {
        get throws {
            try encoding.map { text in
                guard let e = VectorEncoding(text) else { throw ValidationError("--encoding must be int8, binary, pq<m> or ivfpq<nlist>x<m>, got \(text)") }
                return e
            }
        }
    }
}
