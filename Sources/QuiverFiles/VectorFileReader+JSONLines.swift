/// Where a JSON Lines reader is: lines consumed, and whether records carry keys.
struct JSONLinesState: Sendable {
    /// The number of lines consumed, blank ones included; the next line is this plus one.
    var lineNumber = 0
    /// Whether records have an id field, decided by the first record; `nil` before it.
    var hasKeys: Bool?

    /// Records whether a record has a key, throwing ``FileFormatError/Code/invalidKey``
    /// (at offset 0 of the line) when that differs from the first record: a file must key
    /// all of its records or none.
    mutating func accept(key: RecordKeyValue?, idField: String) throws(FileFormatError) {
        let hasKey = key != nil
        if let hasKeys, hasKeys != hasKey {
            throw FileFormatError(
                .invalidKey,
                hasKeys
                    ? "the record has no \"\(idField)\" field, but the first has one"
                    : "the record has an \"\(idField)\" field, but the first has none",
                byteOffset: 0)
        }
        hasKeys = hasKey
    }
}

/// The names of a JSON Lines record's fields.
struct JSONLinesFields: Sendable {
    /// The key field (`"id"`).
    var id: String
    /// The field holding the vector (`"vector"`) or, for multi-vector records, the token
    /// vectors (`"vectors"`).
    var vector: String
    /// The metadata field (`"metadata"`).
    var metadata: String
}

extension VectorFileReader.Options {
    /// The record field names these options set.
    var fields: JSONLinesFields {
        JSONLinesFields(id: idField, vector: vectorField, metadata: metadataField)
    }
}

extension FileFormatError {
    /// Returns a copy placed in a file: `byteOffset` (relative to the line, 0 when unknown)
    /// becomes the column and, with `lineOffset` added, the file offset; the path, line and
    /// row are set. For errors from a parser handed one JSON Lines line.
    func placed(path: String?, line: Int, lineOffset: Int, row: Int) -> FileFormatError {
        var copy = self
        let relative = byteOffset ?? 0
        copy.path = path
        copy.line = line
        copy.column = relative + 1
        copy.byteOffset = lineOffset + relative
        copy.row = row
        return copy
    }
}

extension VectorFileReader {
    /// Parses the first record to learn the dimension, then steps back so that the first
    /// ``read(into:maxRows:)`` returns it.
    static func readFirstJSONLine(
        _ input: inout ByteInput, options: Options
    ) throws(FileFormatError) -> Header {
        var state = JSONLinesState()
        guard
            let range = try nextRecordLine(
                &input, state: &state, maximumLength: options.maximumLineLength)
        else {
            return Header(
                dimensions: 0, rowCount: nil, elementKind: .float32, encoding: .jsonLines,
                lines: state)
        }
        var scratch = VectorChunk()
        try parseRecord(
            input.buffer.span.extracting(range), lineOffset: input.fileOffset(of: range.lowerBound),
            row: 0, path: input.path, state: &state, expectedDimensions: nil, options: options,
            into: &scratch)
        // Nothing was read since the line was found, so it is still in the buffer.
        input.start = range.lowerBound
        state.lineNumber -= 1
        return Header(
            dimensions: scratch.floats.count, rowCount: nil, elementKind: .float32,
            encoding: .jsonLines, lines: state)
    }

    /// Reads up to `maxRows` records into `chunk`.
    mutating func readJSONLines(
        into chunk: inout VectorChunk, maxRows: Int
    ) throws(FileFormatError) -> Int {
        chunk.bytes.removeAll(keepingCapacity: true)
        chunk.floats.removeAll(keepingCapacity: true)
        let rowBytes = max(1, dimensions * 4)
        let rowLimit = min(maxRows, max(1, options.maximumChunkBytes / rowBytes))
        if chunk.floats.capacity == 0 {
            chunk.floats.reserveCapacity(min(rowLimit, 1024) * dimensions)
        }
        var rows = 0
        // A local copy: the span below borrows `self`, so `self.lines` cannot be passed inout.
        var state = lines
        defer { lines = state }
        while rows < rowLimit {
            guard
                let range = try VectorFileReader.nextRecordLine(
                    &input, state: &state, maximumLength: options.maximumLineLength)
            else { break }
            try VectorFileReader.parseRecord(
                input.buffer.span.extracting(range),
                lineOffset: input.fileOffset(of: range.lowerBound), row: rowsRead + rows,
                path: input.path, state: &state, expectedDimensions: dimensions,
                options: options, into: &chunk)
            rows += 1
        }
        return rows
    }

    /// Returns the next line that is not blank, with a UTF-8 byte order mark removed from
    /// the first line; `nil` at the end.
    static func nextRecordLine(
        _ input: inout ByteInput, state: inout JSONLinesState, maximumLength: Int
    ) throws(FileFormatError) -> Range<Int>? {
        while true {
            let lineOffset = input.offset
            let found: Range<Int>?
            do throws(FileFormatError) {
                found = try input.nextLine(maximumLength: maximumLength)
            } catch {
                throw error.located(path: input.path, line: state.lineNumber + 1)
            }
            guard var range = found else { return nil }
            state.lineNumber += 1
            if lineOffset == 0 && range.count >= 3 && input.buffer[range.lowerBound] == 0xEF
                && input.buffer[range.lowerBound + 1] == 0xBB
                && input.buffer[range.lowerBound + 2] == 0xBF
            {
                range = (range.lowerBound + 3)..<range.upperBound
            }
            for index in range {
                switch input.buffer[index] {
                case 0x20, 0x09, 0x0D: continue
                default: return range
                }
            }
        }
    }

    /// Parses one record line `{"id": …, "vector": […], "metadata": {…}}` into `chunk`.
    static func parseRecord(
        _ line: Span<UInt8>, lineOffset: Int, row: Int, path: String?,
        state: inout JSONLinesState, expectedDimensions: Int?, options: Options,
        into chunk: inout VectorChunk
    ) throws(FileFormatError) {
        let lineNumber = state.lineNumber
        do throws(FileFormatError) {
            let floatsBefore = chunk.floats.count
            let (key, metadata) = try parseRecordFields(line, fields: options.fields) {
                (scanner) throws(FileFormatError) in
                try scanner.parseFloatArray(line, appendingTo: &chunk.floats)
            }
            let count = chunk.floats.count - floatsBefore
            guard count > 0 else {
                throw FileFormatError(.invalidVector, "the vector is empty", byteOffset: 0)
            }
            if let expectedDimensions, count != expectedDimensions {
                throw FileFormatError(
                    .dimensionMismatch,
                    "the vector has \(count) components, but the first record's has "
                        + "\(expectedDimensions)", byteOffset: 0)
            }
            try state.accept(key: key, idField: options.idField)
            if let key { chunk.keys.append(key) }
            chunk.metadata.append(metadata)
        } catch {
            throw error.placed(
                path: path, line: lineNumber, lineOffset: lineOffset, row: row)
        }
    }

    /// Walks one record line `{…}`: parses the key and metadata fields, hands the scanner to
    /// `vector` at the vector field's value (which `vector` must consume), checks other
    /// fields as JSON and ignores them, and checks that the line holds nothing else and
    /// that the vector field is there. Shared by the single-vector and the multi-vector
    /// readers, which differ only in what the vector field holds.
    ///
    /// Offsets in errors are relative to `line`; the caller places them with
    /// ``FileFormatError/placed(path:line:lineOffset:row:)``.
    ///
    /// - Returns: The key (`nil` when the line has no id field) and the metadata (empty
    ///   when the line has none, or `null`).
    static func parseRecordFields(
        _ line: Span<UInt8>, fields: JSONLinesFields,
        vector: (inout JSONScanner) throws(FileFormatError) -> Void
    ) throws(FileFormatError) -> (key: RecordKeyValue?, metadata: [String: JSONValue]) {
        var scanner = JSONScanner()
        scanner.skipWhitespace(line)
        guard scanner.position < line.count, line[scanner.position] == UInt8(ascii: "{")
        else {
            throw DecimalLiteral.syntaxError(
                line, at: scanner.position, expected: "a JSON object ('{')")
        }
        var sawVector = false
        var key: RecordKeyValue?
        var sawKey = false
        var metadata: [String: JSONValue]?
        var otherFields: [String] = []
        try scanner.parseObjectMembers(line) {
            (name, nameOffset, scanner) throws(FileFormatError) in
            func duplicate() -> FileFormatError {
                FileFormatError(
                    .duplicateKey, "duplicate key \"\(name)\" in object",
                    byteOffset: nameOffset)
            }
            if name == fields.vector {
                guard !sawVector else { throw duplicate() }
                sawVector = true
                try vector(&scanner)
            } else if name == fields.id {
                guard !sawKey else { throw duplicate() }
                sawKey = true
                key = try parseKey(&scanner, line)
            } else if name == fields.metadata {
                guard metadata == nil else { throw duplicate() }
                let valueOffset = scanner.position
                switch try scanner.parseValue(line) {
                case .object(let members): metadata = members
                case .null: metadata = [:]
                default:
                    throw FileFormatError(
                        .invalidJSON, "\"\(name)\" must be an object or null",
                        byteOffset: valueOffset)
                }
            } else {
                // Other fields are checked as JSON and otherwise ignored.
                guard !otherFields.contains(name) else { throw duplicate() }
                otherFields.append(name)
                _ = try scanner.parseValue(line)
            }
        }
        scanner.skipWhitespace(line)
        guard scanner.position == line.count else {
            throw DecimalLiteral.syntaxError(
                line, at: scanner.position, expected: "the end of the line")
        }
        guard sawVector else {
            throw FileFormatError(
                .invalidVector, "the record has no \"\(fields.vector)\" field", byteOffset: 0)
        }
        return (key, metadata ?? [:])
    }

    /// Parses a record key: a string, or a non-negative integer literal that fits `UInt64`.
    static func parseKey(
        _ scanner: inout JSONScanner, _ line: Span<UInt8>
    ) throws(FileFormatError) -> RecordKeyValue {
        let start = scanner.position
        let invalid = FileFormatError(
            .invalidKey, "the id must be a string or an integer in 0...\(UInt64.max)",
            byteOffset: start)
        guard start < line.count else { throw invalid }
        if line[start] == UInt8(ascii: "\"") {
            return .string(try scanner.parseString(line))
        }
        guard line[start] == UInt8(ascii: "-") || DecimalLiteral.isDigit(line[start]) else {
            throw invalid
        }
        let (literal, end) = try DecimalLiteral.scan(line, from: start)
        guard !literal.isNegative, literal.isInteger else { throw invalid }
        var value: UInt64 = 0
        for index in start..<end {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(line[index] &- 48))
            guard !overflow1, !overflow2 else { throw invalid }
            value = sum
        }
        scanner.position = end
        return .int(value)
    }
}
