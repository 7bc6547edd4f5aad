import Quiver
import QuiverFiles

/// A bad value in an input file, reported as `error: <code>: <message>` with exit status 2.
struct InputError: Error, CustomStringConvertible {
    var code: String
    var message: String
    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
    var description: String { "\(code): \(message)" }
}

/// Turns metadata rows (TSV/CSV cells, which are strings, or JSON Lines values) into values
/// of the collection schema's field types.
///
/// Cells convert as follows: `int64` from decimal digits; `double` from a decimal or
/// exponent literal (finite only); `bool` from `true`/`false`/`1`/`0`/`yes`/`no`;
/// `stringList` from a JSON array of strings (`["a","b"]`) or, otherwise, by splitting on
/// `|`. An empty cell or JSON `null` leaves the field unset. A JSON Lines row with a
/// `metadata` object (the shape `quiver export` writes) takes its fields from that object;
/// `--key-column` still names a top-level member, such as `id`.
struct MetadataConverter {
    let schema: CollectionSchema
    let path: String
    let format: MetadataTableFormat
    /// The column holding record keys, which is not a field.
    let keyColumn: String?
    let ignoreUnknownColumns: Bool
    private let types: [String: FieldType]
    /// For TSV/CSV, the header's column names, to report column numbers.
    private let columnNumbers: [String: Int]

    init(
        schema: CollectionSchema,
        path: String,
        format: MetadataTableFormat,
        columns: [String],
        keyColumn: String?,
        ignoreUnknownColumns: Bool
    ) throws {
        self.schema = schema
        self.path = path
        self.format = format
        self.keyColumn = keyColumn
        self.ignoreUnknownColumns = ignoreUnknownColumns
        types = Dictionary(uniqueKeysWithValues: schema.fields.map { ($0.name, $0.type) })
        columnNumbers = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0 + 1) })
        if format != .jsonLines {
            if let keyColumn, !columns.contains(keyColumn) {
                throw InputError(
                    "invalidArgument",
                    "\(path): --key-column \(quote(keyColumn)) is not a column; the header has \(columns.map(quote).joined(separator: ", "))"
                )
            }
            let unknown = columns.filter { $0 != keyColumn && types[$0] == nil }
            if !unknown.isEmpty && !ignoreUnknownColumns {
                throw InputError(
                    "unknownField",
                    "\(path):1: column\(unknown.count > 1 ? "s" : "") \(unknown.map(quote).joined(separator: ", ")) \(unknown.count > 1 ? "are" : "is") not in the schema (fields: \(schema.fields.map(\.name).joined(separator: ", "))); pass --ignore-unknown-columns to skip \(unknown.count > 1 ? "them" : "it")"
                )
            }
        }
    }

    /// Converts one row. `row` is the zero-based row in the file, for messages.
    func convert(_ cells: [String: JSONValue], row: Int, line: Int? = nil) throws -> [String: MetadataValue] {
        var out: [String: MetadataValue] = [:]
        var cells = cells
        // JSON Lines in the shape `export` writes (and `VectorFileReader` reads):
        // {"id": …, "metadata": {…}}; the fields are the inner object.
        if format == .jsonLines, types["metadata"] == nil,
            case .object(let inner)? = cells["metadata"]
        {
            cells = inner
        }
        for (name, value) in cells where name != keyColumn {
            guard let type = types[name] else {
                if ignoreUnknownColumns { continue }
                throw InputError(
                    "unknownField",
                    "\(location(row: row, line: line, column: name)): \(quote(name)) is not a field of the schema (fields: \(schema.fields.map(\.name).joined(separator: ", "))); pass --ignore-unknown-columns to skip it"
                )
            }
            if let converted = try convert(value, to: type, row: row, line: line, column: name) {
                out[name] = converted
            }
        }
        return out
    }

    /// The key in `keyColumn` of one row.
    func key(_ cells: [String: JSONValue], row: Int, line: Int? = nil) throws -> RecordKey {
        guard let keyColumn else { preconditionFailure("key(_:row:) needs a key column") }
        let value = cells[keyColumn] ?? .null
        switch (schema.keyKind, value) {
        case (.uint64, .int(let i)) where i >= 0: return .int(UInt64(i))
        case (.uint64, .string(let s)):
            if let u = UInt64(s.trimmingWhitespace()) { return .int(u) }
        case (.string, .string(let s)) where !s.isEmpty: return .string(s)
        case (.string, .int(let i)): return .string(String(i))
        default: break
        }
        throw InputError(
            "invalidKey",
            "\(location(row: row, line: line, column: keyColumn)): \(describe(value)) is not a valid \(schema.keyKind == .uint64 ? "unsigned integer" : "non-empty string") key"
        )
    }

    private func convert(_ value: JSONValue, to type: FieldType, row: Int, line: Int?, column: String) throws
        -> MetadataValue?
    {
        func fail(_ why: String = "") -> InputError {
            InputError(
                "typeMismatch",
                "\(location(row: row, line: line, column: column)): cannot read \(describe(value)) as \(type.rawValue)\(why)"
            )
        }
        switch value {
        case .null: return nil
        case .string(let text):
            return try convertCell(text, to: type, fail: fail)
        case .int(let i):
            switch type {
            case .int64: return .int64(i)
            case .double: return .double(Double(i))
            case .string: return .string(String(i))
            default: throw fail()
            }
        case .double(let d):
            switch type {
            case .double: return .double(d)
            case .int64:
                guard d == d.rounded(), let i = Int64(exactly: d) else {
                    throw fail(" (not an integer)")
                }
                return .int64(i)
            default: throw fail()
            }
        case .bool(let b):
            guard type == .bool else { throw fail() }
            return .bool(b)
        case .array(let elements):
            guard type == .stringList else { throw fail() }
            return .stringList(
                try elements.map {
                    guard case .string(let s) = $0 else {
                        throw fail(" (list elements must be strings)")
                    }
                    return s
                }
            )
        case .object:
            throw fail()
        }
    }

    private func convertCell(_ text: String, to type: FieldType, fail: (String) -> InputError)
        throws -> MetadataValue?
    {
        if text.isEmpty { return nil }
        switch type {
        case .string:
            return .string(text)
        case .int64:
            guard let i = Int64(text.trimmingWhitespace()) else { throw fail("") }
            return .int64(i)
        case .double:
            guard let d = Double(text.trimmingWhitespace()), d.isFinite else {
                throw fail(" (a finite number)")
            }
            return .double(d)
        case .bool:
            switch text.trimmingWhitespace().lowercased() {
            case "true", "1", "yes", "y", "t": return .bool(true)
            case "false", "0", "no", "n", "f": return .bool(false)
            default: throw fail(" (true, false, 1 or 0)")
            }
        case .stringList:
            let trimmed = text.trimmingWhitespace()
            if trimmed.hasPrefix("[") {
                guard case .array(let elements)? = try? JSONParser.parse(trimmed) else {
                    throw fail(" (a JSON array of strings, or values separated by |)")
                }
                return .stringList(
                    try elements.map {
                        guard case .string(let s) = $0 else {
                            throw fail(" (list elements must be strings)")
                        }
                        return s
                    }
                )
            }
            return .stringList(text.split(separator: "|").map(String.init))
        }
    }

    /// `path:line:column` of a cell: `line` as the reader reported it (rows may span lines or
    /// follow blank ones); without it, one line per row after the header is assumed.
    private func location(row: Int, line: Int?, column: String) -> String {
        switch format {
        case .jsonLines:
            return "\(path):\(line ?? row + 1): row \(row), field \(quote(column))"
        default:
            let number = columnNumbers[column].map(String.init) ?? "?"
            return "\(path):\(line ?? row + 2):\(number): row \(row), column \(quote(column))"
        }
    }

    private func describe(_ value: JSONValue) -> String {
        let text = value.serialized()
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
