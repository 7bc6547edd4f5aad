extension MultiVectorFileReader {
    /// Documents from JSON Lines, one per line, parsed with the single-vector reader's line
    /// splitting and record walk (``VectorFileReader/parseRecordFields(_:fields:vector:)``)
    /// so that keys, metadata, blank lines and errors behave exactly as for vector records.
    struct LinesSource: ~Copyable, Sendable {
        var input: ByteInput
        /// Lines consumed, and whether documents have keys.
        var state: JSONLinesState
        let options: Options
        /// The dimension of every token, from the first document's first token.
        let dimensions: Int

        /// Parses the first document to learn the dimension, then steps back so that the
        /// first read returns it.
        init(input: consuming ByteInput, options: Options) throws(FileFormatError) {
            var input = input
            var state = JSONLinesState()
            var dimensions = 0
            if let range = try VectorFileReader.nextRecordLine(
                &input, state: &state, maximumLength: options.maximumLineLength)
            {
                var scratch = TokenChunk()
                dimensions = try LinesSource.parseDocument(
                    input.buffer.span.extracting(range),
                    lineOffset: input.fileOffset(of: range.lowerBound), document: 0,
                    path: input.path, state: &state, expectedDimensions: nil, options: options,
                    into: &scratch)
                // Nothing was read since the line was found, so it is still in the buffer.
                input.start = range.lowerBound
                state.lineNumber -= 1
            }
            self.input = input
            self.state = state
            self.options = options
            self.dimensions = dimensions
        }

        /// Reads up to `maxDocuments` documents, the first of them document `first`, into
        /// `chunk` (which is empty).
        mutating func read(
            into chunk: inout TokenChunk, maxDocuments: Int, from first: Int
        ) throws(FileFormatError) -> Int {
            // A document's size is known only once it is parsed, so the limit is checked
            // before each one: a chunk passes it by at most one document.
            let floatLimit = max(1, options.maximumChunkBytes / 4)
            var documents = 0
            // A local copy: the span below borrows `self`, so `self.state` cannot be passed
            // inout.
            var state = self.state
            defer { self.state = state }
            while documents < maxDocuments && (documents == 0 || chunk.floats.count < floatLimit) {
                guard
                    let range = try VectorFileReader.nextRecordLine(
                        &input, state: &state, maximumLength: options.maximumLineLength)
                else { break }
                _ = try LinesSource.parseDocument(
                    input.buffer.span.extracting(range),
                    lineOffset: input.fileOffset(of: range.lowerBound),
                    document: first + documents, path: input.path, state: &state,
                    expectedDimensions: dimensions, options: options, into: &chunk)
                documents += 1
            }
            return documents
        }

        /// Parses one document line `{"id": …, "vectors": [[…], …], "metadata": {…}}` into
        /// `chunk`, and returns the dimension of its tokens.
        ///
        /// - Parameter expectedDimensions: The dimension every token must have, or `nil`
        ///   for the first document, whose first token sets it.
        static func parseDocument(
            _ line: Span<UInt8>, lineOffset: Int, document: Int, path: String?,
            state: inout JSONLinesState, expectedDimensions: Int?, options: Options,
            into chunk: inout TokenChunk
        ) throws(FileFormatError) -> Int {
            let lineNumber = state.lineNumber
            do throws(FileFormatError) {
                var dimensions = expectedDimensions
                var tokens = 0
                var arrayOffset = 0
                let (key, metadata) = try VectorFileReader.parseRecordFields(
                    line, fields: options.fields
                ) { (scanner) throws(FileFormatError) in
                    arrayOffset = scanner.position
                    tokens = try scanner.parseTokenArray(
                        line, dimensions: &dimensions,
                        dimensionsFromEarlierDocument: expectedDimensions != nil,
                        appendingTo: &chunk.floats)
                }
                guard tokens > 0, let dimensions else {
                    throw FileFormatError(
                        .invalidVector,
                        "the document has no token vectors; \"\(options.vectorsField)\" must "
                            + "hold at least one", byteOffset: arrayOffset)
                }
                try state.accept(key: key, idField: options.idField)
                if let key { chunk.keys.append(key) }
                chunk.metadata.append(metadata)
                chunk.tokenCounts.append(tokens)
                return dimensions
            } catch {
                throw error.placed(
                    path: path, line: lineNumber, lineOffset: lineOffset, row: document)
            }
        }
    }
}

extension JSONScanner {
    /// Parses `[[number, …], …]`, a document's token vectors, appending their numbers as
    /// floats (each token through ``parseFloatArray(_:appendingTo:)``, so bad numbers fail
    /// exactly as in single vectors), and returns the number of tokens (0 for `[]`).
    ///
    /// - Parameters:
    ///   - dimensions: The dimension every token must have; when `nil`, the first token
    ///     sets it.
    ///   - dimensionsFromEarlierDocument: Whether `dimensions` came from an earlier
    ///     document, for the error message.
    mutating func parseTokenArray(
        _ bytes: Span<UInt8>, dimensions: inout Int?, dimensionsFromEarlierDocument: Bool,
        appendingTo floats: inout [Float]
    ) throws(FileFormatError) -> Int {
        if try openArray(bytes, expected: "the token vectors as an array of arrays of numbers") { return 0 }
        var tokens = 0
        while true {
            skipWhitespace(bytes)
            let tokenOffset = position
            guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else {
                if position < bytes.count && bytes[position] != UInt8(ascii: "]")
                    && bytes[position] != UInt8(ascii: ",")
                {
                    throw FileFormatError(
                        .invalidVector,
                        "token \(tokens) is not an array of numbers (found "
                            + "\(DecimalLiteral.describe(bytes[position]))); each token vector "
                            + "is an array of its own", byteOffset: position)
                }
                throw DecimalLiteral.syntaxError(
                    bytes, at: position, expected: "a token vector ('[')")
            }
            let before = floats.count
            try parseFloatArray(bytes, appendingTo: &floats)
            let count = floats.count - before
            guard count > 0 else {
                throw FileFormatError(
                    .invalidVector, "token \(tokens) is empty", byteOffset: tokenOffset)
            }
            if let expected = dimensions {
                guard count == expected else {
                    throw FileFormatError(
                        .dimensionMismatch,
                        "token \(tokens) has \(count) components, but "
                            + (dimensionsFromEarlierDocument
                                ? "the first document's tokens have \(expected)"
                                : "token 0 has \(expected)"), byteOffset: tokenOffset)
                }
            } else {
                dimensions = count
            }
            tokens += 1
            if try closeElement(bytes) { return tokens }
        }
    }
}
