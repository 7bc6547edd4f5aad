import ArgumentParser
import Foundation
import Quiver

/// `quiver bench import FILE`: a durable bulk import into a temporary store.
struct BenchImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Time a durable bulk import of FILE into a temporary store (deleted afterwards).",
        discussion: "Each batch commits durably (fsync), and the time includes the final commit."
    )

    @Argument(help: "The vector file (.npy, .fvecs, .bvecs, .jsonl).")
    var file: String

    @OptionGroup(title: "Collection options") var schemaOptions: SchemaOptions

    @Option(
        help: ArgumentHelp(
            "Rows per transaction (default: about 64 MiB of vectors).",
            valueName: "n"
        )
    )
    var batchRows: Int?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        var options = schemaOptions
        if options.metric == nil {
            options.metric = options.kind == .binary && !options.keepFloats ? .hamming : .cosine
        }
        let store = try TemporaryStore()
        defer { store.remove() }
        let database = try StoreOptions.open(path: store.path, readOnly: false, durable: true)
        var plan = ImportPlan(collection: "bench", file: file)
        plan.batchRows = batchRows
        plan.showProgress = !quiet
        plan.createsBinary = options.kind == .binary
        let schemaOptions = options
        plan.create = { try schemaOptions.schema(inferredDimensions: $0) }
        let summary = try VectorImporter.run(plan, database: database)
        let schema = try database.schema(of: "bench")
        let report = JSONOutput.object(
            [
                ("benchmark", .string("import")),
                ("file", .string(file)),
                ("rows", .number(summary.rows)),
                ("dimensions", .number(schema.vectors.dimensions)),
                ("batches", .number(summary.batches)),
                ("seconds", .rounded(summary.seconds, 3)),
                ("vectors_per_second", .rounded(summary.vectorsPerSecond, 1)),
                ("megabytes_per_second", .rounded(summary.megabytesPerSecond, 1)),
                ("store_bytes", .number(fileSize(store.path))),
                ("durable", .bool(true)),
            ] + environmentFields()
        )
        if json { printJSON(report) } else { printText(report) }
    }
}
