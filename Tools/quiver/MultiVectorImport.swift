import Foundation
import Quiver
import QuiverFiles

/// `quiver import` into a multi-vector collection: documents from an .npy token matrix plus an
/// offsets file, or from JSON Lines with `"vectors": [[...], ...]`; one committed transaction
/// per batch of documents, each document pooled as the collection's schema says.
enum MultiVectorImporter {
    /// Whether `plan` loads a multi-vector collection (existing, or created by it).
    static func applies(_ plan: ImportPlan, database: Database) throws -> Bool {
        if try database.collectionNames().contains(plan.collection) {
            if case .multiVector = try database.schema(of: plan.collection).vectors { return true }
            return false
        }
        return plan.createsMultiVector
    }

    static func run(_ plan: ImportPlan, database: Database) throws -> ImportSummary {
        let started = now()
        let name = plan.collection
        var reader: MultiVectorFileReader
        if let offsets = plan.offsetsPath {
            reader = try MultiVectorFileReader(tokensPath: plan.file, offsetsPath: offsets)
        } else {
            guard plan.format == nil || plan.format == .jsonLines else {
                throw UsageError("a multi-vector import reads an .npy token matrix with --offsets, or JSON Lines with \"vectors\"")
            }
            reader = try MultiVectorFileReader(path: plan.file)
        }
        let dimensions = reader.dimensions
        let exists = try database.collectionNames().contains(name)
        if let create = plan.create {
            guard dimensions > 0 || exists else {
                throw InputError("invalidVector", "\(plan.file): the file holds no documents, so its dimensions are unknown")
            }
            let wanted = try create(dimensions)
            if exists {
                let have = try database.schema(of: name)
                guard have == wanted else {
                    throw QuiverError(.collectionExists, "it exists with a different schema: \(describe(have)); --create asks for \(describe(wanted))",
                                      collection: name)
                }
            } else {
                try database.createCollection(name, schema: wanted)
            }
        } else if !exists {
            throw QuiverError(.collectionNotFound, "no such collection in \(database.path); create it with `quiver create --kind multivector`, or pass --create",
                              collection: name)
        }
        let schema = try database.schema(of: name)
        guard schema.vectors.dimensions == dimensions || dimensions == 0 else {
            throw InputError("dimensionMismatch", "\(plan.file) has \(dimensions)-dimensional tokens, the collection \(schema.vectors.dimensions)")
        }

        // Metadata: a side table aligned document by document, or the JSON Lines objects.
        var table: MetadataSource?
        var converter: MetadataConverter?
        let isJSONLines = plan.offsetsPath == nil
        if let path = plan.metadataPath {
            let source = MetadataSource(try MetadataTableReader(path: path, format: plan.metadataFormat))
            converter = try MetadataConverter(schema: schema, path: path, format: source.reader.format, columns: source.reader.columns,
                                              keyColumn: plan.keyColumn, ignoreUnknownColumns: plan.ignoreUnknownColumns)
            table = source
        } else if isJSONLines {
            converter = try MetadataConverter(schema: schema, path: plan.file, format: .jsonLines, columns: [], keyColumn: plan.keyColumn,
                                              ignoreUnknownColumns: plan.ignoreUnknownColumns)
        } else if plan.keyColumn != nil {
            throw UsageError("--key-column needs --metadata (or a JSON Lines file)")
        }

        let batchDocuments = max(1, min(plan.batchRows ?? Int.max, 1 << 24))
        var chunk = TokenChunk()
        var skip = 0
        if plan.resume {
            skip = try database.read { tx in try tx.collection(name).count }
            if plan.keyColumn == nil && !isJSONLines {
                try VectorImporter.checkRowKeys(database: database, collection: name, schema: schema, committed: skip)
            }
        }
        var skipped = 0
        while skipped < skip {
            let n = try reader.read(into: &chunk, maxDocuments: min(batchDocuments, skip - skipped))
            guard n > 0 else {
                throw InputError("invalidArgument", "--resume: the collection holds \(skip) documents, but \(plan.file) has only \(skipped)")
            }
            if let table {
                guard try table.reader.read(maxRows: n).count == n else {
                    throw InputError("invalidArgument", "\(plan.metadataPath ?? ""): fewer rows than \(plan.file) has documents")
                }
            }
            skipped += n
        }

        let averageBytes = reader.tokenCount.flatMap { tokens in reader.documentCount.map { tokens * dimensions * 4 / max(1, $0) } }
        let progress = ProgressReporter(label: "import", total: reader.documentCount.map { $0 - skip },
                                        bytesPerRow: averageBytes ?? dimensions * 4, enabled: plan.showProgress)
        var imported = 0
        var tokensRead = 0
        var tokensStored = 0
        var batches = 0
        do {
            try database.withDeferredSync {
                while true {
                    let n = try reader.read(into: &chunk, maxDocuments: batchDocuments)
                    if n == 0 { break }
                    let first = chunk.firstDocument
                    var cells: [[String: JSONValue]] = []
                    var lines: [Int] = []
                    if let table {
                        cells = try table.reader.read(maxRows: n)
                        lines = table.reader.lastReadLines
                        guard cells.count == n else {
                            throw InputError("invalidArgument",
                                             "\(plan.metadataPath ?? ""): has \(first + cells.count) rows, fewer than \(plan.file) has documents")
                        }
                    } else if isJSONLines {
                        cells = chunk.metadata
                    }
                    let metadata = try converter.map { converter in
                        try cells.enumerated().map { try converter.convert($1, row: first + $0, line: $0 < lines.count ? lines[$0] : nil) }
                    }
                    let keys: BulkKeys
                    if plan.keyColumn != nil, let converter {
                        keys = VectorImporter.bulkKeys(try cells.enumerated().map {
                            try converter.key($1, row: first + $0, line: $0 < lines.count ? lines[$0] : nil)
                        }, schema: schema)
                    } else if !chunk.keys.isEmpty {
                        keys = VectorImporter.bulkKeys(try chunk.keys.enumerated().map {
                            try VectorImporter.recordKey($1, schema: schema, row: first + $0, file: plan.file)
                        }, schema: schema)
                    } else if schema.keyKind == .uint64 {
                        keys = .sequential(start: UInt64(first))
                    } else {
                        keys = .strings((first..<first + n).map { String($0) })
                    }
                    do {
                        tokensStored += try chunk.floats.withUnsafeBufferPointer { tokens in
                            try database.write { tx in
                                try tx.collection(name).appendDocuments(tokens: tokens, tokenCounts: chunk.tokenCounts, keys: keys, metadata: metadata)
                            }
                        }
                    } catch let error as QuiverError where ErrorReport.isBadInput(error.code) {
                        throw QuiverError(error.code, "\(plan.file) documents \(first)..<\(first + n): \(error.message)",
                                          collection: error.collection, key: error.key, field: error.field)
                    }
                    imported += n
                    tokensRead += chunk.floats.count / max(1, dimensions)
                    batches += 1
                    progress.update(rows: imported)
                }
            }
        } catch {
            if imported > 0 {
                progress.finish(rows: imported)
                standardError("note: documents 0..<\(skip + imported) of \(plan.file) were committed before the error; fix the input and rerun with --resume\n")
            }
            throw error
        }
        progress.finish(rows: imported)
        if let table, !(try table.reader.read(maxRows: 1).isEmpty) {
            standardError("warning: \(plan.metadataPath ?? "") has more rows than \(plan.file) has documents (\(skip + imported)); the rest were ignored\n")
        }
        let records = try database.read { tx in try tx.collection(name).count }
        var summary = ImportSummary(collection: name, rows: imported, skippedRows: skip, records: records, seconds: now() - started,
                                    vectorBytes: tokensRead * dimensions * 4, batches: batches)
        summary.tokens = (read: tokensRead, stored: tokensStored)
        return summary
    }
}
