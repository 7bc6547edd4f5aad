import ArgumentParser
import Foundation
import Quiver

/// `quiver inspect [--json]`: collections, schemas, counts, sizes and LMDB statistics.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract:
            "Describe a store: collections, schemas, counts, bytes per structure, LMDB pages, readers."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Stored vectors used as queries to measure each encoding's quality; 0 skips it.", valueName: "n"))
    var qualityQueries = 100

    func run() throws {
        let database = try storeOptions.open(readOnly: true)
        let report = try database.inspect()
        let readers = ReaderSlot.parse(report.readers)
        guard qualityQueries >= 0 else { throw ValidationError("--quality-queries must be at least 0") }
        var quality: [String: [EncodingQuality]] = [:]
        if qualityQueries > 0 {
            for c in report.collections where !c.encodings.isEmpty {
                quality[c.name] = try database.read { tx in
                    let reader = try tx.collection(c.name)
                    return try c.encodings.map { e in
                        try reader.encodingQuality(e.parameters.encoding, prefix: e.parameters.prefix, queries: qualityQueries)
                    }
                }
            }
        }
        if json {
            printJSON(Self.json(report, readers: readers, fileBytes: fileSize(report.path), quality: quality))
        } else {
            print(
                Self.text(report, readers: readers, fileBytes: fileSize(report.path), quality: quality),
                terminator: ""
            )
        }
    }

    static func text(_ report: StoreReport, readers: [ReaderSlot], fileBytes: Int, quality: [String: [EncodingQuality]] = [:]) -> String {
        let info = report.environment
        var out = "store \(report.path) (format \(report.formatVersion))\n"
        out +=
            "  file \(bytes(fileBytes)), used \(bytes(report.usedBytes)) of a \(bytes(info.mapSize)) map; page \(info.pageSize) B; last transaction \(info.lastTransaction)\n"
        out += "  readers: \(info.readers) of \(info.maxReaders) slots in use"
        if let oldest = ReaderSlot.oldest(readers) {
            out +=
                "; oldest reader pid \(oldest.pid) at transaction \(oldest.transaction!) (\(info.lastTransaction - oldest.transaction!) behind)"
        }
        out += "\n\ncollections (\(report.collections.count))\n"
        for c in report.collections {
            out += "  \(c.name): \(describe(c.schema))\n"
            out +=
                "    records \(grouped(c.count)), rows \(grouped(c.rowCount)) (\(grouped(c.rowCount - c.count)) free), \(grouped(c.rowsPerBlock)) rows per vector block\n"
            if c.floatsKeptAsInt8 { out += "    float vectors kept only as int8 codes\n" }
            if let t = c.tokens {
                out +=
                    "    tokens \(grouped(t.storedTokens)) stored of \(grouped(t.tokensBeforePooling)) before pooling"
                    + " (\(String(format: "%.1f", 100 * Double(t.storedTokens) / Double(max(1, t.tokensBeforePooling))))%),"
                    + " \(bytes(t.vectorBytes)) of token vectors, \(bytes(t.storedBytes)) in token blocks\n"
            }
            for table in c.bytesPerTable.keys.sorted() {
                let entries = c.entriesPerTable[table] ?? 0
                out +=
                    "    " + pad(table, 14)
                    + pad(bytes(c.bytesPerTable[table] ?? 0), 10, right: true)
                    + " in \(grouped(entries)) entries\n"
            }
            for (i, e) in c.encodings.enumerated() {
                out += "    encoding \(encodingName(e)): \(e.codeBytes) B per row, trained on \(grouped(e.trainedRows)) rows"
                if let q = quality[c.name]?[i] {
                    if let mse = q.meanSquaredError { out += "; mean squared error \(String(format: "%.6g", mse))" }
                    if let r = q.recallOfCodes { out += "; codes-alone recall@\(q.k) \(String(format: "%.4f", r)) (\(q.sampledRows) queries)" }
                    if q.againstInt8Floats { out += " (against the int8 codes that keep the floats)" }
                }
                out += "\n"
            }
        }
        out += "\ntables (LMDB B-trees)\n"
        out +=
            "  " + pad("name", 14)
            + ["depth", "branch", "leaf", "overflow", "entries", "bytes"].map {
                pad($0, 10, right: true)
            }.joined() + "\n"
        for t in report.tables {
            let s = t.statistics
            out +=
                "  " + pad(t.name, 14)
                + [
                    String(s.depth), grouped(s.branchPages), grouped(s.leafPages),
                    grouped(s.overflowPages), grouped(s.entries), bytes(t.bytes),
                ].map { pad($0, 10, right: true) }.joined() + "\n"
        }
        return out
    }

    static func json(_ report: StoreReport, readers: [ReaderSlot], fileBytes: Int, quality: [String: [EncodingQuality]] = [:]) -> JSONOutput {
        let info = report.environment
        let oldest = ReaderSlot.oldest(readers)
        return .object([
            ("path", .string(report.path)),
            ("format_version", .string(report.formatVersion.description)),
            ("file_bytes", .number(fileBytes)),
            ("used_bytes", .number(report.usedBytes)),
            ("map_bytes", .number(info.mapSize)),
            ("page_bytes", .number(info.pageSize)),
            ("last_transaction", .number(info.lastTransaction)),
            (
                "readers",
                .object([
                    ("in_use", .number(info.readers)),
                    ("max", .number(info.maxReaders)),
                    ("active", .array(readers.map { $0.json })),
                    ("oldest_transaction", oldest.map { .number($0.transaction!) } ?? .null),
                    (
                        "oldest_lag",
                        oldest.map { .number(info.lastTransaction - $0.transaction!) } ?? .null
                    ),
                ])
            ),
            (
                "collections",
                .array(
                    report.collections.map { c in
                        .object([
                            ("name", .string(c.name)),
                            ("schema", schemaJSON(c.schema)),
                            ("records", .number(c.count)),
                            ("rows", .number(c.rowCount)),
                            ("rows_per_block", .number(c.rowsPerBlock)),
                            ("floats_kept_as_int8", .bool(c.floatsKeptAsInt8)),
                            ("tokens", c.tokens.map { t in
                                .object([
                                    ("documents", .number(t.documents)),
                                    ("stored_tokens", .number(t.storedTokens)),
                                    ("tokens_before_pooling", .number(t.tokensBeforePooling)),
                                    ("token_rows", .number(t.tokenRows)),
                                    ("vector_bytes", .number(t.vectorBytes)),
                                    ("stored_bytes", .number(t.storedBytes)),
                                ])
                            } ?? .null),
                            ("encodings", .array(c.encodings.enumerated().map { i, e in
                                encodingJSON(e, quality: quality[c.name]?[i])
                            })),
                            (
                                "tables",
                                .object(
                                    c.bytesPerTable.keys.sorted().map { name in
                                        (
                                            name,
                                            .object([
                                                ("bytes", .number(c.bytesPerTable[name] ?? 0)),
                                                ("entries", .number(c.entriesPerTable[name] ?? 0)),
                                            ])
                                        )
                                    }
                                )
                            ),
                        ])
                    }
                )
            ),
            (
                "tables",
                .array(
                    report.tables.map { t in
                        .object([
                            ("name", .string(t.name)),
                            ("depth", .number(t.statistics.depth)),
                            ("branch_pages", .number(t.statistics.branchPages)),
                            ("leaf_pages", .number(t.statistics.leafPages)),
                            ("overflow_pages", .number(t.statistics.overflowPages)),
                            ("entries", .number(t.statistics.entries)),
                            ("bytes", .number(t.bytes)),
                        ])
                    }
                )
            ),
        ])
    }
}

/// One line of LMDB's reader table (`mdb_reader_list`: pid, thread, transaction or `-`).
struct ReaderSlot {
    var pid: Int
    var thread: String
    /// The snapshot the reader holds, or `nil` for an idle slot.
    var transaction: Int?

    static func parse(_ lines: [String]) -> [ReaderSlot] {
        lines.compactMap { line in
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 3, let pid = Int(parts[0]) else { return nil }
            return ReaderSlot(pid: pid, thread: String(parts[1]), transaction: Int(parts[2]))
        }
    }

    /// The active reader holding the oldest snapshot (it keeps old pages from reuse).
    static func oldest(_ readers: [ReaderSlot]) -> ReaderSlot? {
        readers.filter { $0.transaction != nil }.min { $0.transaction! < $1.transaction! }
    }

    var json: JSONOutput {
        .object([
            ("pid", .number(pid)), ("thread", .string(thread)),
            ("transaction", transaction.map { .number($0) } ?? .null),
        ])
    }
}

/// A byte count in B, KiB, MiB or GiB.
func bytes(_ count: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
}

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

/// `int8`, `pq48`, or `binary@256` for an encoding of a prefix.
func encodingName(_ e: EncodingInfo) -> String {
    e.parameters.encoding.description + (e.parameters.prefix.map { "@\($0)" } ?? "")
}

/// An encoding in `inspect --json` (docs/cli.md).
func encodingJSON(_ e: EncodingInfo, quality: EncodingQuality?) -> JSONOutput {
    var fields: [(String, JSONOutput)] = [
        ("encoding", .string(e.parameters.encoding.description)),
        ("prefix", e.parameters.prefix.map { .number($0) } ?? .null),
        ("dimensions", .number(e.dimensions)),
        ("code_bytes", .number(e.codeBytes)),
        ("trained_rows", .number(e.trainedRows)),
        ("seed", .uint(e.parameters.seed)),
    ]
    if let quality {
        fields.append(("quality_queries", .number(quality.sampledRows)))
        fields.append(("mean_squared_error", quality.meanSquaredError.map { .rounded($0, 8) } ?? .null))
        fields.append(("recall_of_codes_at_\(quality.k)", quality.recallOfCodes.map { .rounded($0, 4) } ?? .null))
        fields.append(("against_int8_floats", .bool(quality.againstInt8Floats)))
    }
    return .object(fields)
}
