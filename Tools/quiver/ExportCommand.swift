import ArgumentParser
import Quiver
import QuiverFiles

/// `quiver export COLLECTION OUT_PREFIX [--format npy|fvecs]`: vectors and metadata in key
/// order, in files `import` reads back.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write a collection's vectors to OUT_PREFIX.npy (or .fvecs/.bvecs) and its keys and metadata to OUT_PREFIX.jsonl, in key order."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case npy, fvecs
    }

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection to export.")
    var collection: String

    @Argument(help: "The output path without extension.")
    var outPrefix: String

    @Option(help: "npy (float32, or uint8 packed bits for binary) or fvecs (.bvecs for binary).")
    var format: Format = .npy

    func run() throws {
        let database = try storeOptions.open(readOnly: true)
        let started = now()
        let summary: JSONOutput = try database.read { tx in
            let reader = try tx.collection(collection)
            let schema = reader.schema
            if case .multiVector = schema.vectors { return try exportDocuments(reader, started: started) }
            let plane = StoredPlane(schema)
            let dimensions = schema.vectors.dimensions
            let bitBytes = (dimensions + 7) / 8
            let vectorPath: String
            switch (format, plane) {
            case (.npy, _): vectorPath = outPrefix + ".npy"
            case (.fvecs, .floats): vectorPath = outPrefix + ".fvecs"
            case (.fvecs, .bits): vectorPath = outPrefix + ".bvecs"
            }
            let metadataPath = outPrefix + ".jsonl"
            var vectors = try VectorSink(
                format: format,
                plane: plane,
                path: vectorPath,
                dimensions: plane == .floats ? dimensions : bitBytes
            )
            var lines = try JSONLinesWriter(path: metadataPath)
            var rows = 0
            try reader.forEachRecord { record in
                switch plane {
                case .floats:
                    guard let vector = record.vector else {
                        throw QuiverError(
                            .corrupted,
                            "record has no float vector",
                            collection: collection,
                            key: record.key
                        )
                    }
                    try vectors.write(floats: vector)
                case .bits:
                    guard let bits = record.bits else {
                        throw QuiverError(
                            .corrupted,
                            "record has no bits",
                            collection: collection,
                            key: record.key
                        )
                    }
                    try vectors.write(bytes: bits)
                }
                let key: RecordKeyValue
                switch record.key {
                case .int(let i): key = .int(i)
                case .string(let s): key = .string(s)
                }
                try lines.write(
                    key: key,
                    vector: nil,
                    metadata: record.metadata.mapValues(jsonValue)
                )
                rows += 1
            }
            try vectors.finish()
            try lines.finish()
            return .object([
                ("collection", .string(collection)),
                ("rows", .number(rows)),
                ("vectors", .string(vectorPath)),
                ("metadata", .string(metadataPath)),
                ("seconds", .rounded(now() - started, 3)),
            ])
        }
        printJSON(summary)
    }
}

extension ExportCommand {
    /// A multi-vector collection: its stored (pooled) tokens to OUT_PREFIX.npy, the documents'
    /// offsets to OUT_PREFIX.offsets.npy, keys and metadata to OUT_PREFIX.jsonl, in key order —
    /// what `quiver import --offsets` reads back.
    func exportDocuments(_ reader: CollectionReader, started: Double) throws -> JSONOutput {
        guard format == .npy else { throw UsageError("multi-vector collections export to .npy (a token matrix and its offsets)") }
        let dimensions = reader.schema.vectors.dimensions
        let tokensPath = outPrefix + ".npy"
        let offsetsPath = outPrefix + ".offsets.npy"
        let metadataPath = outPrefix + ".jsonl"
        var tokens = try NpyWriter(path: tokensPath, elementType: .float32, dimensions: dimensions)
        var lines = try JSONLinesWriter(path: metadataPath)
        var offsets = [0]
        try reader.forEachRecord { record in
            guard let matrix = record.tokens, !matrix.isEmpty else {
                throw QuiverError(.corrupted, "document has no tokens", collection: collection, key: record.key)
            }
            try tokens.write(matrix.flatMap { $0 })
            offsets.append(offsets.last! + matrix.count)
            let key: RecordKeyValue
            switch record.key {
            case .int(let i): key = .int(i)
            case .string(let s): key = .string(s)
            }
            try lines.write(key: key, vector: nil, metadata: record.metadata.mapValues(jsonValue))
        }
        try tokens.finish()
        try lines.finish()
        try TokenOffsets.write(offsets, path: offsetsPath)
        return .object([
            ("collection", .string(collection)),
            ("rows", .number(offsets.count - 1)),
            ("tokens", .number(offsets.last!)),
            ("vectors", .string(tokensPath)),
            ("offsets", .string(offsetsPath)),
            ("metadata", .string(metadataPath)),
            ("seconds", .rounded(now() - started, 3)),
        ])
    }
}

/// The vector file an export writes: `.npy`, `.fvecs` or `.bvecs`.
struct VectorSink: ~Copyable {
    private var npy: NpyWriter?
    private var vecs: VecsWriter?

    init(format: ExportCommand.Format, plane: StoredPlane, path: String, dimensions: Int) throws {
        switch format {
        case .npy:
            npy = try NpyWriter(
                path: path,
                elementType: plane == .floats ? .float32 : .uint8,
                dimensions: dimensions
            )
            vecs = nil
        case .fvecs:
            npy = nil
            vecs = try VecsWriter(
                path: path,
                kind: plane == .floats ? .fvecs : .bvecs,
                dimensions: dimensions
            )
        }
    }

    mutating func write(floats: [Float]) throws {
        if npy != nil { try npy!.write(floats) } else { try vecs!.write(floats) }
    }

    mutating func write(bytes: [UInt8]) throws {
        if npy != nil { try npy!.write(bytes) } else { try vecs!.write(bytes) }
    }

    consuming func finish() throws {
        if let writer = npy.take() { try writer.finish() }
        if let writer = vecs.take() { try writer.finish() }
    }
}

/// A metadata value as JSON, for export.
func jsonValue(_ value: MetadataValue) -> JSONValue {
    switch value {
    case .string(let s): .string(s)
    case .int64(let i): .int(i)
    case .double(let d): .double(d)
    case .bool(let b): .bool(b)
    case .stringList(let list): .array(list.map { .string($0) })
    }
}
