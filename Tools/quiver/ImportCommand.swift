import ArgumentParser
import Quiver
import QuiverFiles

/// The vector file formats `--format` accepts.
enum VectorFormatName: String, ExpressibleByArgument, CaseIterable {
    case npy, fvecs, bvecs, jsonl

    var format: VectorFileFormat {
        switch self {
        case .npy: .npy
        case .fvecs: .fvecs
        case .bvecs: .bvecs
        case .jsonl: .jsonLines
        }
    }
}

/// The metadata table formats `--metadata-format` accepts.
enum TableFormatName: String, ExpressibleByArgument, CaseIterable {
    case tsv, csv, jsonl

    var format: MetadataTableFormat {
        switch self {
        case .tsv: .tsv
        case .csv: .csv
        case .jsonl: .jsonLines
        }
    }
}

/// `quiver import COLLECTION FILE [--metadata META] …`: bulk load, one transaction per batch.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bulk-load vectors (and metadata) from .npy, .fvecs, .bvecs or JSON Lines; multi-vector documents from .npy + --offsets or JSON Lines.",
        discussion: """
            Each batch is one committed transaction; keys default to the row number in the file. \
            After an interruption, run the same command with --resume: it counts the records already \
            in the collection (the rows committed) and skips that many rows of the input.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection to load into.")
    var collection: String

    @Argument(help: "The vector file.")
    var file: String

    @Option(
        help: ArgumentHelp(
            "A metadata table aligned row by row with the vectors (.tsv, .csv, .jsonl).",
            valueName: "path"
        )
    )
    var metadata: String?

    @Option(
        help: ArgumentHelp(
            "Multi-vector collections: the .npy offsets of the documents in an .npy token matrix (D + 1 integers).",
            valueName: "path"
        )
    )
    var offsets: String?
    @Option(help: "The vector file's format (default: from the extension).")
    var format: VectorFormatName?

    @Option(help: "The metadata table's format (default: from the extension).")
    var metadataFormat: TableFormatName?

    @Option(
        help: ArgumentHelp(
            "Take record keys from this metadata column instead of row numbers.",
            valueName: "name"
        )
    )
    var keyColumn: String?

    @Option(
        help: ArgumentHelp(
            "Rows per transaction (default: about 64 MiB of vectors).",
            valueName: "n"
        )
    )
    var batchRows: Int?

    @Flag(help: "Skip the rows an interrupted import committed (as many as the collection holds).")
    var resume = false

    @Flag(help: "Ignore metadata columns that are not fields of the schema.")
    var ignoreUnknownColumns = false

    @Flag(help: "Create the collection from the options below, with the file's dimensions.")
    var create = false

    @OptionGroup(title: "Create options (with --create)") var schemaOptions: SchemaOptions

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if let batchRows, batchRows < 1 { throw ValidationError("--batch-rows must be at least 1") }
    }

    func run() throws {
        if !create
            && (schemaOptions.metric != nil || schemaOptions.dimensions != nil
                || !schemaOptions.fields.isEmpty || schemaOptions.prefixes != nil
                || schemaOptions.poolFactor != nil || schemaOptions.protectedTokens != nil)
        {
            throw UsageError(
                "--metric, --dimensions, --field, --prefixes, --pool-factor and --protected-tokens describe a new collection: add --create"
            )
        }
        let database = try storeOptions.open(readOnly: false)
        var plan = ImportPlan(collection: collection, file: file)
        plan.format = format?.format
        plan.metadataPath = metadata
        plan.metadataFormat = metadataFormat?.format
        plan.keyColumn = keyColumn
        plan.batchRows = batchRows
        plan.resume = resume
        plan.ignoreUnknownColumns = ignoreUnknownColumns
        plan.showProgress = !quiet
        if create {
            let options = schemaOptions
            plan.create = { try options.schema(inferredDimensions: $0) }
            plan.createsBinary = options.kind == .binary
            plan.createsMultiVector = options.kind == .multiVector
        }
        plan.offsetsPath = offsets
        let summary = try VectorImporter.run(plan, database: database)
        printJSON(summary.json)
    }
}
