/// The formats of metadata side files, which ``MetadataTableReader`` reads.
public enum MetadataTableFormat: String, Sendable, CaseIterable {
    /// JSON Lines: one JSON object per line (`.jsonl`, `.ndjson`).
    case jsonLines
    /// Tab-separated values with a header row (`.tsv`, `.tab`): cells are split on tabs,
    /// with no quoting or escapes, so a cell cannot hold a tab or a newline.
    case tsv
    /// Comma-separated values with a header row (`.csv`), quoted as in RFC 4180: a cell in
    /// double quotes may hold commas, newlines and `""` for a quote.
    case csv

    /// The format that a file extension names, or `nil`.
    ///
    /// - Parameter pathExtension: The extension without the dot, in any case.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "jsonl", "ndjson": self = .jsonLines
        case "tsv", "tab": self = .tsv
        case "csv": self = .csv
        default: return nil
        }
    }

    /// Returns the format of the file at `path`, judged by its extension.
    ///
    /// - Parameter path: A file path such as `meta.tsv`.
    /// - Returns: The format.
    /// - Throws: ``FileFormatError/Code/unknownFormat`` when the extension names none.
    public static func detect(path: String) throws(FileFormatError) -> MetadataTableFormat {
        guard let format = MetadataTableFormat(pathExtension: pathExtension(of: path)) else {
            throw FileFormatError(
                .unknownFormat,
                "cannot tell the table format from the extension; use .jsonl, .tsv or .csv",
                path: path)
        }
        return format
    }
}

/// Streams the rows of a metadata side file — JSON Lines, TSV or CSV — that is aligned row
/// by row with a vector file: row `i` of the table belongs to vector `i`.
///
/// TSV and CSV files start with a header row naming the columns; every later row must
/// have exactly that many cells, and each cell comes out as ``JSONValue/string(_:)`` (the
/// engine converts cells to the collection schema's types). JSON Lines rows are the
/// objects as parsed. Blank lines are skipped (so a one-column TSV cannot hold an empty
/// cell; CSV can, as `""`), and a UTF-8 byte order mark at the start is ignored.
///
/// ```swift
/// var table = try MetadataTableReader(path: "meta.tsv")
/// print(table.columns)  // ["doc_index", "name", "section", …]
/// while case let rows = try table.read(maxRows: 1024), !rows.isEmpty {
///     for row in rows { … row["section"] … }
/// }
/// ```
///
/// Errors carry the line and column, byte offset and row. The reader is noncopyable
/// because it owns the open file.
public struct MetadataTableReader: ~Copyable, Sendable {
    /// The file's format.
    public let format: MetadataTableFormat
    /// The column names from the header row (TSV and CSV); empty for JSON Lines.
    public let columns: [String]
    /// The number of rows returned so far (the header row not counted).
    public private(set) var rowsRead = 0
    /// The line (1-based) each row returned by the last ``read(maxRows:)`` starts on, in the
    /// same order: a CSV row may span lines, and blank lines are skipped.
    public private(set) var lastReadLines: [Int] = []
    /// The file path, or `nil` for in-memory input.
    public var path: String? { input.path }

    private var input: ByteInput
    private let maximumLineLength: Int
    /// Lines consumed so far, blank ones and the header included.
    private var lineNumber = 0
    private var failure: FileFormatError?

    /// Opens the table at `path` and reads its header row.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - format: The format, or `nil` to detect it from the extension.
    ///   - maximumLineLength: The longest line (CSV: record) accepted, in bytes.
    /// - Throws: ``FileFormatError`` when the file cannot be opened, the format cannot be
    ///   detected, or the header row is missing, malformed or has a duplicate column.
    public init(
        path: String, format: MetadataTableFormat? = nil, maximumLineLength: Int = 64 << 20
    ) throws(FileFormatError) {
        let chosen: MetadataTableFormat
        if let format {
            chosen = format
        } else {
            chosen = try MetadataTableFormat.detect(path: path)
        }
        try self.init(
            input: ByteInput(path: path), format: chosen, maximumLineLength: maximumLineLength)
    }

    /// Reads a table from bytes in memory (see ``init(path:format:maximumLineLength:)``).
    ///
    /// - Parameters:
    ///   - bytes: The complete file contents.
    ///   - format: The format of `bytes`.
    ///   - maximumLineLength: The longest line (CSV: record) accepted, in bytes.
    /// - Throws: ``FileFormatError`` when the header row is missing or malformed.
    public init(
        bytes: [UInt8], format: MetadataTableFormat, maximumLineLength: Int = 64 << 20
    ) throws(FileFormatError) {
        try self.init(
            input: ByteInput(bytes: bytes), format: format, maximumLineLength: maximumLineLength)
    }

    /// Reads in-memory bytes in chunked mode (see ``ByteInput``), for tests and fuzzing.
    init(
        chunkedBytes bytes: [UInt8], format: MetadataTableFormat, bufferSize: Int,
        readLimit: Int, sizeKnown: Bool, maximumLineLength: Int = 64 << 20
    ) throws(FileFormatError) {
        try self.init(
            input: ByteInput(
                bytes: bytes, bufferSize: bufferSize, readLimit: readLimit, sizeKnown: sizeKnown),
            format: format, maximumLineLength: maximumLineLength)
    }

    private init(
        input: consuming ByteInput, format: MetadataTableFormat, maximumLineLength: Int
    ) throws(FileFormatError) {
        var input = input
        var lineNumber = 0
        var columns: [String] = []
        if format != .jsonLines {
            guard
                let (range, firstLine) = try MetadataTableReader.nextRecord(
                    &input, format: format, lineNumber: &lineNumber,
                    maximumLength: maximumLineLength)
            else {
                throw FileFormatError(
                    .invalidTable, "the table is empty; it needs a header row", path: input.path,
                    byteOffset: 0, line: 1)
            }
            let cells = try MetadataTableReader.cells(
                of: range, in: input, format: format, firstLine: firstLine, row: nil)
            var seen = Set<String>()
            for (index, name) in cells.enumerated() {
                guard !name.isEmpty else {
                    throw FileFormatError(
                        .invalidTable, "header column \(index + 1) has no name", path: input.path,
                        byteOffset: input.fileOffset(of: range.lowerBound), line: firstLine)
                }
                guard seen.insert(name).inserted else {
                    throw FileFormatError(
                        .duplicateKey, "the header names column \"\(name)\" twice",
                        path: input.path, byteOffset: input.fileOffset(of: range.lowerBound),
                        line: firstLine)
                }
            }
            columns = cells
        }
        self.input = input
        self.format = format
        self.columns = columns
        self.maximumLineLength = maximumLineLength
        self.lineNumber = lineNumber
    }

    /// Reads up to `maxRows` rows.
    ///
    /// - Parameter maxRows: The most rows to return.
    /// - Returns: The rows as objects (column name → value); empty at the end of the file.
    /// - Throws: ``FileFormatError`` with line, column, byte offset and row: a row with the
    ///   wrong number of cells or bad quoting (``FileFormatError/Code/invalidTable``),
    ///   invalid UTF-8, or (JSON Lines) invalid JSON or a line that is not an object. Later
    ///   calls throw the same error again.
    /// - Precondition: `maxRows > 0`.
    public mutating func read(maxRows: Int) throws(FileFormatError) -> [[String: JSONValue]] {
        precondition(maxRows > 0, "maxRows must be positive")
        if let failure { throw failure }
        var rows: [[String: JSONValue]] = []
        var lines: [Int] = []
        do throws(FileFormatError) {
            while rows.count < maxRows {
                guard
                    let (range, firstLine) = try MetadataTableReader.nextRecord(
                        &input, format: format, lineNumber: &lineNumber,
                        maximumLength: maximumLineLength)
                else { break }
                let row = rowsRead + rows.count
                lines.append(firstLine)
                if format == .jsonLines {
                    rows.append(try jsonObject(in: range, line: firstLine, row: row))
                } else {
                    let cells = try MetadataTableReader.cells(
                        of: range, in: input, format: format, firstLine: firstLine, row: row)
                    guard cells.count == columns.count else {
                        throw FileFormatError(
                            .invalidTable,
                            "row has \(cells.count) cells, but the header has \(columns.count) "
                                + "columns", path: input.path,
                            byteOffset: input.fileOffset(of: range.lowerBound), line: firstLine,
                            column: 1, row: row)
                    }
                    var object: [String: JSONValue] = [:]
                    object.reserveCapacity(cells.count)
                    for (name, cell) in zip(columns, cells) { object[name] = .string(cell) }
                    rows.append(object)
                }
            }
        } catch {
            failure = error
            throw error
        }
        rowsRead += rows.count
        lastReadLines = lines
        return rows
    }

    /// Parses a JSON Lines line that must hold an object.
    private func jsonObject(
        in range: Range<Int>, line: Int, row: Int
    ) throws(FileFormatError) -> [String: JSONValue] {
        let value: JSONValue
        do throws(FileFormatError) {
            value = try JSONParser.parse(input.buffer.span.extracting(range))
        } catch {
            var located = error
            located.path = input.path
            located.line = line
            located.byteOffset = input.fileOffset(of: range.lowerBound) + (error.byteOffset ?? 0)
            located.column = (error.byteOffset ?? 0) + 1
            located.row = row
            throw located
        }
        guard case .object(let members) = value else {
            throw FileFormatError(
                .invalidJSON, "each line must be a JSON object", path: input.path,
                byteOffset: input.fileOffset(of: range.lowerBound), line: line, column: 1,
                row: row)
        }
        return members
    }

    /// Returns the next non-blank record and the line it starts on (BOM removed from the
    /// first line), or `nil` at the end; counts the lines it consumes.
    private static func nextRecord(
        _ input: inout ByteInput, format: MetadataTableFormat, lineNumber: inout Int,
        maximumLength: Int
    ) throws(FileFormatError) -> (Range<Int>, Int)? {
        while true {
            let recordOffset = input.offset
            let found: Range<Int>?
            do throws(FileFormatError) {
                if format == .csv {
                    found = try input.nextQuotedRecord(maximumLength: maximumLength)
                } else {
                    found = try input.nextLine(maximumLength: maximumLength)
                }
            } catch {
                throw error.located(path: input.path, line: lineNumber + 1)
            }
            guard var range = found else { return nil }
            let firstLine = lineNumber + 1
            lineNumber += 1
            for index in range where input.buffer[index] == 0x0A { lineNumber += 1 }
            if recordOffset == 0 && range.count >= 3 && input.buffer[range.lowerBound] == 0xEF
                && input.buffer[range.lowerBound + 1] == 0xBB
                && input.buffer[range.lowerBound + 2] == 0xBF
            {
                range = (range.lowerBound + 3)..<range.upperBound
            }
            let blank: Bool
            if format == .jsonLines {
                blank = range.allSatisfy {
                    let byte = input.buffer[$0]
                    return byte == 0x20 || byte == 0x09 || byte == 0x0D
                }
            } else {
                blank = range.isEmpty
            }
            if !blank { return (range, firstLine) }
        }
    }

    /// Splits a TSV or CSV record into cells, checking UTF-8 and CSV quoting.
    private static func cells(
        of range: Range<Int>, in input: borrowing ByteInput, format: MetadataTableFormat,
        firstLine: Int, row: Int?
    ) throws(FileFormatError) -> [String] {
        let bytes = input.buffer.span.extracting(range)
        /// An error at `offset` in the record, with its line and column.
        func failure(
            _ code: FileFormatError.Code, _ message: String, at offset: Int
        ) -> FileFormatError {
            var line = firstLine
            var lineStart = 0
            for index in 0..<offset where bytes[index] == 0x0A {
                line += 1
                lineStart = index + 1
            }
            return FileFormatError(
                code, message, path: input.path,
                byteOffset: input.fileOffset(of: range.lowerBound) + offset, line: line,
                column: offset - lineStart + 1, row: row)
        }
        if let bad = JSONScanner.firstInvalidUTF8(bytes, 0..<bytes.count) {
            throw failure(.invalidUTF8, "invalid UTF-8", at: bad)
        }
        var cells: [String] = []
        if format == .tsv {
            var cellStart = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x09 {
                cells.append(JSONScanner.string(from: bytes, cellStart..<index))
                cellStart = index + 1
            }
            return cells
        }
        var index = 0
        var cell: [UInt8] = []
        while true {
            if index < bytes.count && bytes[index] == 0x22 {
                // A quoted cell: runs to the next lone quote; `""` is a quote.
                let quoteOffset = index
                index += 1
                cell.removeAll(keepingCapacity: true)
                while true {
                    guard index < bytes.count else {
                        throw failure(.invalidTable, "unterminated quoted cell", at: quoteOffset)
                    }
                    if bytes[index] == 0x22 {
                        if index + 1 < bytes.count && bytes[index + 1] == 0x22 {
                            cell.append(0x22)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    cell.append(bytes[index])
                    index += 1
                }
                cells.append(String(decoding: cell, as: UTF8.self))
                if index == bytes.count { return cells }
                guard bytes[index] == UInt8(ascii: ",") else {
                    throw failure(
                        .invalidTable,
                        "a closing quote must be followed by ',' or the end of the record",
                        at: index)
                }
                index += 1
            } else {
                let cellStart = index
                while index < bytes.count && bytes[index] != UInt8(ascii: ",") {
                    if bytes[index] == 0x22 {
                        throw failure(
                            .invalidTable,
                            "a quote inside an unquoted cell (quote the whole cell and "
                                + "double the quote)", at: index)
                    }
                    index += 1
                }
                cells.append(JSONScanner.string(from: bytes, cellStart..<index))
                if index == bytes.count { return cells }
                index += 1  // ','
            }
        }
    }
}
