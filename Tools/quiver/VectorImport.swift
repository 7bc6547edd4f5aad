import Foundation
import Quiver
import QuiverFiles

/// What one import does: the engine behind `quiver import` and `quiver bench import`.
struct ImportPlan {
    var collection: String
    var file: String
    var format: VectorFileFormat?
    var metadataPath: String?
    var metadataFormat: MetadataTableFormat?
    var keyColumn: String?
    var batchRows: Int?
    var resume = false
    var ignoreUnknownColumns = false
    /// For `--create`: the schema for the file's dimensions (bits for binary), and whether
    /// it is binary (so byte files are read as packed bits).
    var create: ((Int) throws -> CollectionSchema)?
    var createsBinary = false
    /// For multi-vector collections read from an .npy token matrix: its offsets file.
    var offsetsPath: String?
    /// Whether `create` makes a multi-vector collection.
    var createsMultiVector = false
    var showProgress = true
}

/// The figures of a finished import.
struct ImportSummary {
    var collection: String
    var rows: Int
    var skippedRows: Int
    var records: Int
    var seconds: Double
    var vectorBytes: Int
    var batches: Int
    /// For multi-vector imports: token vectors read, and stored after pooling.
    var tokens: (read: Int, stored: Int)?

    var vectorsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    var megabytesPerSecond: Double { seconds > 0 ? Double(vectorBytes) / 1e6 / seconds : 0 }

    var json: JSONOutput {
        .object([
            ("collection", .string(collection)),
            ("rows", .number(rows)),
            ("skipped_rows", .number(skippedRows)),
            ("records", .number(records)),
            ("batches", .number(batches)),
            ("seconds", .rounded(seconds, 3)),
            ("vectors_per_second", .rounded(vectorsPerSecond, 1)),
            ("megabytes_per_second", .rounded(megabytesPerSecond, 1)),
            ("durable", .bool(true)),
        ] + (tokens.map { [("tokens_read", .number($0.read)), ("tokens_stored", .number($0.stored))] } ?? []))
    }
}

/// Holds the noncopyable table reader so it can be optional and shared with closures.
final class MetadataSource {
    var reader: MetadataTableReader
    init(_ reader: consuming MetadataTableReader) { self.reader = reader }
}

/// Where the vectors of a collection come from in a file, and how they are stored.
enum StoredPlane {
    /// Float32 components (float32, Matryoshka, and binary collections that keep floats).
    case floats
    /// Packed bits only (binary collections without floats).
    case bits

    init(_ schema: CollectionSchema) {
        switch schema.vectors {
        case .float32, .matryoshka, .multiVector: self = .floats
        case .binary(_, let keepsFloats): self = keepsFloats ? .floats : .bits
        }
    }

    func bytesPerRow(dimensions: Int) -> Int {
        self == .floats ? dimensions * 4 : (dimensions + 7) / 8
    }
}

enum VectorImporter {
    /// Runs `plan` on `database`; every batch is one committed transaction.
    static func run(_ plan: ImportPlan, database: Database) throws -> ImportSummary {
        if try MultiVectorImporter.applies(plan, database: database) {
            return try MultiVectorImporter.run(plan, database: database)
        }
        if plan.offsetsPath != nil {
            throw UsageError("--offsets is for multi-vector collections (--kind multivector)")
        }
        let started = now()
        let name = plan.collection
        let exists = try database.collectionNames().contains(name)
        if !exists && plan.create == nil {
            throw QuiverError(
                .collectionNotFound,
                "no such collection in \(database.path); create it with `quiver create`, or pass --create with --metric (and --field …)",
                collection: name
            )
        }
        var binary = plan.createsBinary
        if exists, case .binary = try database.schema(of: name).vectors { binary = true }
        var reader = try VectorFileReader(
            path: plan.file,
            options: .init(format: plan.format, bytesArePackedBits: binary)
        )
        let fileDimensions = reader.dimensions
        if let create = plan.create {
            guard fileDimensions > 0 || exists else {
                throw InputError(
                    "invalidVector",
                    "\(plan.file): the file holds no vectors, so its dimensions are unknown"
                )
            }
            let wanted = try create(fileDimensions)
            if exists {
                let have = try database.schema(of: name)
                guard have == wanted else {
                    throw QuiverError(
                        .collectionExists,
                        "it exists with a different schema: \(describe(have)); --create asks for \(describe(wanted))",
                        collection: name
                    )
                }
            } else {
                try database.createCollection(name, schema: wanted)
            }
        }
        let schema = try database.schema(of: name)
        let plane = StoredPlane(schema)
        let dimensions = schema.vectors.dimensions
        try checkShape(reader: reader, schema: schema, plane: plane, file: plan.file)

        // Metadata: a side table, or the objects of a JSON Lines vector file.
        var table: MetadataSource?
        var converter: MetadataConverter?
        if let path = plan.metadataPath {
            let source = MetadataSource(
                try MetadataTableReader(path: path, format: plan.metadataFormat)
            )
            converter = try MetadataConverter(
                schema: schema,
                path: path,
                format: source.reader.format,
                columns: source.reader.columns,
                keyColumn: plan.keyColumn,
                ignoreUnknownColumns: plan.ignoreUnknownColumns
            )
            table = source
        } else if reader.format == .jsonLines {
            converter = try MetadataConverter(
                schema: schema,
                path: plan.file,
                format: .jsonLines,
                columns: [],
                keyColumn: plan.keyColumn,
                ignoreUnknownColumns: plan.ignoreUnknownColumns
            )
        } else if plan.keyColumn != nil {
            throw UsageError("--key-column needs --metadata (or a JSON Lines vector file)")
        }

        // Resume: each committed batch holds the file's rows in order, so the records already
        // in the collection are the rows to skip.
        let batchRows = max(
            1,
            min(
                plan.batchRows ?? max(1, (64 << 20) / plane.bytesPerRow(dimensions: dimensions)),
                1 << 24
            )
        )
        var skip = 0
        if plan.resume {
            skip = try database.read { tx in try tx.collection(name).count }
            if plan.keyColumn == nil && reader.format != .jsonLines {
                try checkRowKeys(
                    database: database,
                    collection: name,
                    schema: schema,
                    committed: skip
                )
            }
        }
        var chunk = VectorChunk()
        var skipped = 0
        while skipped < skip {
            let n = try reader.read(into: &chunk, maxRows: min(batchRows, skip - skipped))
            guard n > 0 else {
                throw InputError(
                    "invalidArgument",
                    "--resume: the collection holds \(skip) records, but \(plan.file) has only \(skipped) rows"
                )
            }
            if let table {
                let rows = try table.reader.read(maxRows: n)
                guard rows.count == n else {
                    throw metadataTooShort(plan, table: table, vectorRow: skipped + rows.count)
                }
            }
            skipped += n
        }

        let expected = reader.rowCount.map { $0 - skip }
        let progress = ProgressReporter(
            label: "import",
            total: expected,
            bytesPerRow: plane.bytesPerRow(dimensions: dimensions),
            enabled: plan.showProgress
        )
        var imported = 0
        var batches = 0
        var floats: [Float] = []
        // Batch n commits on a background thread while this one reads and checks batch n + 1.
        let committer = BatchCommitter()
        func finishCommit() throws {
            let rows = try committer.finishPrevious()
            guard rows > 0 else { return }
            imported += rows
            batches += 1
            progress.update(rows: imported)
        }
        do {
            // Batches commit with one fsync each; everything is durable when the loop ends.
            try database.withDeferredSync {
                do {
                    while true {
                        let n = try reader.read(into: &chunk, maxRows: batchRows)
                        if n == 0 { break }
                        let firstRow = chunk.firstRow
                        // Vectors, as the collection stores them.
                        var floatsReady = false
                        switch (plane, reader.elementKind) {
                        case (.floats, .float32), (.bits, .float32):
                            // For bits, the engine binarises by sign (numpy.packbits order) in
                            // appendBatch.
                            try checkFinite(
                                chunk.floats,
                                dimensions: dimensions,
                                firstRow: firstRow,
                                file: plan.file
                            )
                        case (.floats, .uint8):
                            floats.removeAll(keepingCapacity: true)
                            floats.append(contentsOf: chunk.bytes.lazy.map { Float($0) })
                            floatsReady = true
                        case (.bits, .packedBits), (.bits, .uint8):
                            break
                        case (.floats, .packedBits):
                            preconditionFailure("checkShape rejects packed bits for float collections")
                        }
                        // Metadata and keys.
                        var metadata: [[String: MetadataValue]]?
                        var cells: [[String: JSONValue]] = []
                        var lines: [Int] = []  // the metadata file's line of each row, when known
                        if let table {
                            cells = try table.reader.read(maxRows: n)
                            lines = table.reader.lastReadLines
                            guard cells.count == n else {
                                throw metadataTooShort(
                                    plan,
                                    table: table,
                                    vectorRow: firstRow + cells.count
                                )
                            }
                        } else if reader.format == .jsonLines {
                            cells = chunk.metadata
                        }
                        if let converter {
                            metadata = try cells.enumerated().map {
                                try converter.convert($1, row: firstRow + $0, line: $0 < lines.count ? lines[$0] : nil)
                            }
                        }
                        let keys: BulkKeys
                        if plan.keyColumn != nil, let converter {
                            let list = try cells.enumerated().map {
                                try converter.key($1, row: firstRow + $0, line: $0 < lines.count ? lines[$0] : nil)
                            }
                            keys = bulkKeys(list, schema: schema)
                        } else if !chunk.keys.isEmpty {
                            keys = bulkKeys(
                                try chunk.keys.enumerated().map {
                                    try recordKey($1, schema: schema, row: firstRow + $0, file: plan.file)
                                },
                                schema: schema
                            )
                        } else if schema.keyKind == .uint64 {
                            keys = .sequential(start: UInt64(firstRow))
                        } else {
                            keys = .strings((firstRow..<firstRow + n).map { String($0) })
                        }
                        // One committed transaction per batch.
                        let batchFloats: [Float] =
                            plane == .floats ? (floatsReady ? floats : chunk.floats)
                            : (reader.elementKind == .float32 ? chunk.floats : [])
                        let batchBits: [UInt8] =
                            plane == .bits && reader.elementKind != .float32 ? chunk.bytes : []
                        try finishCommit()
                        let file = plan.file
                        committer.submit(rows: n) { [metadata] in
                            do {
                                try batchFloats.withUnsafeBufferPointer { f in
                                    try batchBits.withUnsafeBufferPointer { b in
                                        try database.write { tx in
                                            try tx.collection(name).appendBatch(
                                                count: n,
                                                floats: batchFloats.isEmpty ? nil : f,
                                                bits: batchBits.isEmpty ? nil : b,
                                                keys: keys,
                                                metadata: metadata
                                            )
                                        }
                                    }
                                }
                            } catch let error as QuiverError where ErrorReport.isBadInput(error.code) {
                                throw QuiverError(
                                    error.code,
                                    "\(file) rows \(firstRow)..<\(firstRow + n): \(error.message)",
                                    collection: error.collection,
                                    key: error.key,
                                    field: error.field
                                )
                            }
                        }
                    }
                    try finishCommit()
                } catch {
                    // The batch in flight is older than whatever failed here: count it when it
                    // committed, and report its error first when it did not.
                    try finishCommit()
                    throw error
                }
            }
        } catch {
            if imported > 0 {
                progress.finish(rows: imported)
                standardError(
                    "note: rows 0..<\(skip + imported) of \(plan.file) were committed before the error; fix the input and rerun with --resume\n"
                )
            }
            throw error
        }
        progress.finish(rows: imported)
        if let table, !(try table.reader.read(maxRows: 1).isEmpty) {
            standardError(
                "warning: \(plan.metadataPath ?? "") has more rows than \(plan.file) (\(skip + imported)); the rest were ignored\n"
            )
        }
        let records = try database.read { tx in try tx.collection(name).count }
        return ImportSummary(
            collection: name,
            rows: imported,
            skippedRows: skip,
            records: records,
            seconds: now() - started,
            vectorBytes: imported * plane.bytesPerRow(dimensions: dimensions),
            batches: batches
        )
    }

    /// Rejects a file whose vectors cannot go into the collection.
    static func checkShape(
        reader: borrowing VectorFileReader,
        schema: CollectionSchema,
        plane: StoredPlane,
        file: String
    ) throws {
        let dimensions = schema.vectors.dimensions
        switch (plane, reader.elementKind) {
        case (.floats, .packedBits):
            throw InputError(
                "dimensionMismatch",
                "\(file) holds packed bits; collection stores float vectors"
            )
        case (.bits, .packedBits(let bits)):
            guard bits == dimensions else {
                throw InputError(
                    "dimensionMismatch",
                    "\(file) has \(bits)-bit vectors, the collection \(dimensions) bits"
                )
            }
        case (.bits, .uint8):
            guard reader.dimensions * 8 == dimensions else {
                throw InputError(
                    "dimensionMismatch",
                    "\(file) has \(reader.dimensions * 8)-bit vectors, the collection \(dimensions) bits"
                )
            }
        default:
            guard reader.dimensions == dimensions || reader.dimensions == 0 else {
                throw InputError(
                    "dimensionMismatch",
                    "\(file) has \(reader.dimensions) dimensions, the collection \(dimensions)"
                )
            }
        }
    }

    /// Throws naming the first row with a NaN or infinite component.
    static func checkFinite(_ floats: [Float], dimensions: Int, firstRow: Int, file: String) throws
    {
        // A branch-free pass over the bit patterns (vectorised by the compiler): the top bit
        // of (magnitude + 2^23) is set exactly when the exponent is all ones (NaN, infinity).
        // Only a chunk with a bad component is searched for it.
        let anyNonFinite = floats.withUnsafeBytes { raw in
            raw.bindMemory(to: UInt32.self).reduce(UInt32(0)) { $0 | (($1 & 0x7FFF_FFFF) &+ 0x0080_0000) } & 0x8000_0000 != 0
        }
        guard anyNonFinite, let index = floats.firstIndex(where: { !$0.isFinite }) else { return }
        throw InputError(
            "invalidVector",
            "\(file): row \(firstRow + index / dimensions) component \(index % dimensions) is \(floats[index]); vectors must be finite"
        )
    }

    /// Checks that the collection's keys are the row numbers `0..<committed` of an earlier
    /// import of the same file: key `committed - 1` exists and key `committed` does not.
    static func checkRowKeys(
        database: Database,
        collection: String,
        schema: CollectionSchema,
        committed: Int
    ) throws {
        func key(_ row: Int) -> RecordKey {
            schema.keyKind == .uint64 ? .int(UInt64(row)) : .string(String(row))
        }
        let consistent = try database.read { tx in
            let reader = try tx.collection(collection)
            let lastPresent = committed == 0 ? true : try reader.get(key(committed - 1)) != nil
            return try lastPresent && reader.get(key(committed)) == nil
        }
        guard consistent else {
            throw InputError(
                "invalidArgument",
                "--resume: collection \(quote(collection)) holds \(committed) records, but its keys are not the row numbers 0..<\(committed) of an earlier import; resume only an import with the default row-number keys into a collection nothing else wrote to"
            )
        }
    }

    static func metadataTooShort(_ plan: ImportPlan, table: MetadataSource, vectorRow: Int)
        -> InputError
    {
        InputError(
            "invalidArgument",
            "\(plan.metadataPath ?? ""): has \(vectorRow) rows, fewer than \(plan.file); row \(vectorRow) has no metadata"
        )
    }

    static func bulkKeys(_ keys: [RecordKey], schema: CollectionSchema) -> BulkKeys {
        if schema.keyKind == .uint64 {
            return .integers(keys.map { if case .int(let i) = $0 { return i } else { return 0 } })
        }
        return .strings(
            keys.map { if case .string(let s) = $0 { return s } else { return $0.description } }
        )
    }

    static func recordKey(_ value: RecordKeyValue, schema: CollectionSchema, row: Int, file: String)
        throws -> RecordKey
    {
        switch (value, schema.keyKind) {
        case (.int(let i), .uint64): return .int(i)
        case (.int(let i), .string): return .string(String(i))
        case (.string(let s), .string): return .string(s)
        case (.string(let s), .uint64):
            guard let i = UInt64(s) else {
                throw InputError(
                    "invalidKey",
                    "\(file): row \(row): id \(quote(s)) is not an unsigned integer, and the collection has uint64 keys"
                )
            }
            return .int(i)
        }
    }
}
