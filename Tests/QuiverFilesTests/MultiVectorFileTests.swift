import Testing

@_spi(Fuzzing) @testable import QuiverFiles

/// Multi-vector (ColBERT-style) documents: a `.npy` token matrix with an offsets `.npy`,
/// and JSON Lines with a `vectors` array per line.
@Suite struct MultiVectorFileTests {
    /// Four documents of 3, 1, 5 and 2 tokens of dimension 4, every component distinct.
    static let documents: [[[Float]]] = [3, 1, 5, 2].enumerated().map { document, tokens in
        (0..<tokens).map { token in
            (0..<4).map { Float(document * 100 + token * 10 + $0) + 0.5 }
        }
    }
    static let offsets = [0, 3, 4, 9, 11]

    /// The token matrix of ``documents`` as a float32 `.npy`.
    static var tokensNpy: [UInt8] {
        npyBytes(
            dictionary: npyDictionary(descr: "<f4", shape: "(11, 4)"),
            data: float32Bytes(documents.flatMap { $0.flatMap { $0 } }))
    }

    /// ``documents`` as JSON Lines, with keys and metadata and a blank line.
    static var jsonLines: String {
        documents.enumerated().map { index, tokens in
            let vectors = tokens.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }
            return #"{"id": \#(index * 10), "vectors": [\#(vectors.joined(separator: ", "))], "#
                + #""metadata": {"n": \#(index)}}"#
        }.joined(separator: "\n\n") + "\n"
    }

    // MARK: Round trips

    @Test func npyTokensAndOffsetsFromFiles() throws {
        let directory = try TemporaryDirectory()
        let tokensPath = directory.path("tokens.npy")
        var writer = try NpyWriter(path: tokensPath, elementType: .float32, dimensions: 4)
        for document in MultiVectorFileTests.documents { try writer.write(document.flatMap { $0 }) }
        try writer.finish()
        let offsetsPath = try directory.write("offsets.npy", offsetsNpy(MultiVectorFileTests.offsets))

        var reader = try MultiVectorFileReader(tokensPath: tokensPath, offsetsPath: offsetsPath)
        #expect(reader.dimensions == 4)
        #expect(reader.documentCount == 4)
        #expect(reader.tokenCount == 11)
        let result = try readAllDocuments(&reader, maxDocuments: 3)
        #expect(result.documents == MultiVectorFileTests.documents)
        #expect(result.keys.isEmpty)
        #expect(result.metadata.isEmpty)
        #expect(result.chunks == 2)
    }

    @Test func jsonLinesFromFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("docs.jsonl", Array(MultiVectorFileTests.jsonLines.utf8))
        var reader = try MultiVectorFileReader(path: path)
        #expect(reader.dimensions == 4)
        #expect(reader.documentCount == nil)
        #expect(reader.tokenCount == nil)
        let result = try readAllDocuments(&reader, maxDocuments: 3)
        #expect(result.documents == MultiVectorFileTests.documents)
        #expect(result.keys == [.int(0), .int(10), .int(20), .int(30)])
        #expect(result.metadata == (0..<4).map { ["n": .int(Int64($0))] })
    }

    @Test func jsonLinesKeysMetadataAndCustomFields() throws {
        let keyed = #"{"id": "a", "vectors": [[1, 2]], "metadata": null}"# + "\n"
            + #"{"vectors": [[3, 4], [5, 6]], "id": "b", "other": [[1]]}"#
        var reader = try MultiVectorFileReader(bytes: Array(keyed.utf8))
        var result = try readAllDocuments(&reader)
        #expect(result.keys == [.string("a"), .string("b")])
        #expect(result.metadata == [[:], [:]])
        #expect(result.tokenCounts == [1, 2])

        reader = try MultiVectorFileReader(bytes: Array("{\"vectors\": [[1]]}\n{\"vectors\": [[2]]}".utf8))
        result = try readAllDocuments(&reader)
        #expect(result.keys.isEmpty)
        #expect(result.metadata == [[:], [:]])

        let custom = #"{"pk": 9, "embeddings": [[1], [2], [3]], "vectors": "ignored", "m": {"x": 1}}"#
        reader = try MultiVectorFileReader(
            bytes: Array(custom.utf8),
            options: .init(idField: "pk", vectorsField: "embeddings", metadataField: "m"))
        result = try readAllDocuments(&reader)
        #expect(result.keys == [.int(9)])
        #expect(result.floats == [1, 2, 3])
        #expect(result.metadata == [["x": .int(1)]])

        let error = expectFileError(.invalidVector) {
            _ = try MultiVectorFileReader(
                bytes: Array(#"{"vectors": [[1]]}"#.utf8), options: .init(vectorsField: "embeddings"))
        }
        #expect(error?.message.contains("\"embeddings\"") == true)
    }

    @Test func emptyJSONLinesAndEmptyMatrix() throws {
        var reader = try MultiVectorFileReader(bytes: Array("\n \n".utf8))
        #expect(reader.dimensions == 0)
        #expect(try readAllDocuments(&reader).tokenCounts.isEmpty)

        let tokens = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: "(0, 3)"), data: [])
        reader = try MultiVectorFileReader(tokenBytes: tokens, offsetBytes: offsetsNpy([0]))
        #expect(reader.documentCount == 0)
        #expect(reader.dimensions == 3)
        var chunk = TokenChunk()
        #expect(try reader.read(into: &chunk, maxDocuments: 10) == 0)
    }

    // MARK: Chunking

    /// Each case: the format, and the most documents per read.
    @Test(arguments: [false, true], [1, 2, 3, 1000])
    func chunksHoldWholeDocuments(jsonLines: Bool, maxDocuments: Int) throws {
        var reader = try jsonLines
            ? MultiVectorFileReader(bytes: Array(MultiVectorFileTests.jsonLines.utf8))
            : MultiVectorFileReader(
                tokenBytes: MultiVectorFileTests.tokensNpy,
                offsetBytes: offsetsNpy(MultiVectorFileTests.offsets))
        let result = try readAllDocuments(&reader, maxDocuments: maxDocuments)
        #expect(result.documents == MultiVectorFileTests.documents)
        // Full chunks of `maxDocuments`, then the rest: the byte limit is far away.
        let expected = stride(from: 0, to: 4, by: maxDocuments).map { min(maxDocuments, 4 - $0) }
        #expect(result.chunkSizes == expected)
    }

    /// A byte limit smaller than a document still returns it whole, alone; smaller
    /// documents are grouped up to the limit.
    @Test(arguments: [false, true])
    func byteLimitNeverSplitsADocument(jsonLines: Bool) throws {
        var options = MultiVectorFileReader.Options()
        options.maximumChunkBytes = 40  // 2.5 tokens of 4 floats
        options.bufferSize = 16
        var reader = try jsonLines
            ? MultiVectorFileReader(
                chunkedBytes: Array(MultiVectorFileTests.jsonLines.utf8), options: options,
                readLimit: 7, sizeKnown: true)
            : MultiVectorFileReader(
                chunkedTokenBytes: MultiVectorFileTests.tokensNpy,
                offsetBytes: offsetsNpy(MultiVectorFileTests.offsets), options: options,
                readLimit: 7, sizeKnown: false)
        let result = try readAllDocuments(&reader, maxDocuments: 1000)
        #expect(result.documents == MultiVectorFileTests.documents)
        if jsonLines {
            // Checked before each line, as sizes are known only once parsed: document 1
            // (16 bytes) is under the limit, so document 2 (80 bytes) joins it.
            #expect(result.chunkSizes == [1, 2, 1])
        } else {
            // Checked ahead from the offsets: documents 0 (48 bytes) and 2 (80 bytes) are
            // over the limit alone, and 1 (16 bytes) cannot take 2 along.
            #expect(result.chunkSizes == [1, 1, 1, 1])
        }
        options.maximumChunkBytes = 64  // 4 tokens
        reader = try MultiVectorFileReader(
            tokenBytes: MultiVectorFileTests.tokensNpy,
            offsetBytes: offsetsNpy([0, 1, 2, 3, 4, 9, 11]), options: options)
        let grouped = try readAllDocuments(&reader, maxDocuments: 1000)
        #expect(grouped.tokenCounts == [1, 1, 1, 1, 5, 2])
        #expect(grouped.chunkSizes == [4, 1, 1])
    }

    // MARK: Token and offset types

    @Test(arguments: ["<i8", ">i8", "<i4", ">i4", "<u8", ">u8", "<u4", ">u4"])
    func everyOffsetIntegerType(descr: String) throws {
        let offsets = try TokenOffsets.read(bytes: offsetsNpy(MultiVectorFileTests.offsets, descr: descr))
        #expect(offsets == MultiVectorFileTests.offsets)
        var reader = try MultiVectorFileReader(
            tokenBytes: MultiVectorFileTests.tokensNpy,
            offsetBytes: offsetsNpy(MultiVectorFileTests.offsets, descr: descr))
        #expect(try readAllDocuments(&reader).documents == MultiVectorFileTests.documents)
    }

    @Test func float16AndFloat64Tokens() throws {
        let halves: [UInt16] = [0x3C00, 0xC100, 0x3800, 0x0000, 0x4200, 0x7BFF]  // 1 -2.5 .5 0 3 65504
        let f2 = npyBytes(
            dictionary: npyDictionary(descr: "<f2", shape: "(3, 2)"),
            data: halves.flatMap { littleEndianBytes($0) })
        var reader = try MultiVectorFileReader(
            tokenBytes: f2, offsetBytes: offsetsNpy([0, 2, 3], descr: ">i4"))
        var result = try readAllDocuments(&reader)
        #expect(result.tokenCounts == [2, 1])
        #expect(result.floats == [1, -2.5, 0.5, 0, 3, 65504])

        let doubles: [Double] = [0.25, -8, 1e-3]
        let f8 = npyBytes(
            dictionary: npyDictionary(descr: ">f8", shape: "(3, 1)"),
            data: doubles.flatMap { littleEndianBytes($0.bitPattern.bigEndian) })
        reader = try MultiVectorFileReader(tokenBytes: f8, offsetBytes: offsetsNpy([0, 1, 3]))
        result = try readAllDocuments(&reader)
        #expect(result.tokenCounts == [1, 2])
        #expect(result.floats == [0.25, -8, Float(1e-3)])
    }

    @Test func byteTokensAreRejected() {
        let bytes = npyBytes(dictionary: npyDictionary(descr: "|u1", shape: "(2, 4)"), data: Array(0..<8))
        let error = expectFileError(.unsupportedDataType) {
            _ = try MultiVectorFileReader(tokenBytes: bytes, offsetBytes: offsetsNpy([0, 2]))
        }
        #expect(error?.message.contains("floats") == true)
    }

    @Test func pipeLikeInputGivesTheSameDocuments() {
        // Three ways of buffering (whole, byte by byte with the size known, and short reads
        // with it unknown) must agree; the entry point traps when they do not.
        let matrix = QuiverFilesFuzzing.compareMatrixReads(
            tokens: MultiVectorFileTests.tokensNpy,
            offsets: offsetsNpy(MultiVectorFileTests.offsets, descr: ">u4"))
        #expect(matrix.error == nil)
        #expect(matrix.tokenCounts == [3, 1, 5, 2])
        let floats = MultiVectorFileTests.documents.flatMap { $0.flatMap { $0 } }
        #expect(matrix.floatBits == floats.map(\.bitPattern))
        let text = Array(MultiVectorFileTests.jsonLines.utf8)
        let lines = QuiverFilesFuzzing.compareDocumentReads { (options, mode) throws(FileFormatError) in
            switch mode {
            case .direct: try MultiVectorFileReader(bytes: text, options: options)
            case .chunked(let readLimit, let sizeKnown):
                try MultiVectorFileReader(
                    chunkedBytes: text, options: options, readLimit: readLimit, sizeKnown: sizeKnown)
            }
        }
        #expect(lines.error == nil)
        #expect(lines.tokenCounts == [3, 1, 5, 2])
        #expect(lines.keys.count == 4)
    }

    // MARK: Offsets errors

    @Test func offsetsMustStartAtZero() {
        let bytes = offsetsNpy([1, 3, 4])
        let error = expectFileError(.invalidOffsets) { _ = try TokenOffsets.read(bytes: bytes) }
        #expect(error?.byteOffset == bytes.count - 24)
        #expect(error?.message.contains("must be 0") == true)
    }

    @Test func offsetsMustNotDecrease() {
        let bytes = offsetsNpy([0, 3, 2, 5], descr: "<i4")
        let error = expectFileError(.invalidOffsets) { _ = try TokenOffsets.read(bytes: bytes) }
        #expect(error?.byteOffset == bytes.count - 8)  // entry 2 of four int32
        #expect(error?.message.contains("offset 2 is 2, less than offset 1, 3") == true)
        // A negative offset after the first is a decrease too.
        expectFileError(.invalidOffsets) { _ = try TokenOffsets.read(bytes: offsetsNpy([0, -1])) }
    }

    @Test func documentWithoutTokensIsNamed() {
        let bytes = offsetsNpy([0, 2, 2, 4])
        let error = expectFileError(.invalidOffsets) { _ = try TokenOffsets.read(bytes: bytes) }
        #expect(error?.row == 1)
        #expect(error?.message.hasPrefix("document 1 has no tokens") == true)
        #expect(error?.byteOffset == bytes.count - 16)
    }

    @Test func lastOffsetMustBeTheTokenCount() throws {
        let directory = try TemporaryDirectory()
        let tokensPath = try directory.write("tokens.npy", MultiVectorFileTests.tokensNpy)
        for offsets in [[0, 3, 4, 9, 10], [0, 3, 4, 9, 12], [0]] {
            let offsetsPath = try directory.write("offsets.npy", offsetsNpy(offsets))
            let error = expectFileError(.invalidOffsets) {
                _ = try MultiVectorFileReader(tokensPath: tokensPath, offsetsPath: offsetsPath)
            }
            #expect(error?.path == offsetsPath)
            #expect(
                error?.message.contains(
                    "the last offset is \(offsets.last!), but the token matrix has 11 rows") == true)
        }
        // Offsets past the token count are caught before any document is read.
        expectFileError(.invalidOffsets) {
            try TokenOffsets.checkEnd(of: [0, 5], tokenCount: 4)
        }
        try TokenOffsets.checkEnd(of: [0, 5], tokenCount: 5)
    }

    @Test func offsetsMustBeOneDimensionalIntegers() {
        let twoD = npyBytes(
            dictionary: npyDictionary(descr: "<i8", shape: "(2, 2)"),
            data: [0, 1, 2, 3].flatMap { littleEndianBytes(Int64($0)) })
        let layout = expectFileError(.unsupportedLayout) { _ = try TokenOffsets.read(bytes: twoD) }
        #expect(layout?.message.contains("1-D") == true)
        for descr in ["<f8", "<f4", "<i2", "|u1", "<U8", "i8"] {
            let bytes = npyBytes(
                dictionary: npyDictionary(descr: descr, shape: "(2,)"),
                data: [UInt8](repeating: 0, count: 16))
            let error = expectFileError(.unsupportedDataType) { _ = try TokenOffsets.read(bytes: bytes) }
            #expect(error?.message.contains("'\(descr)'") == true)
        }
    }

    @Test func emptyHugeTruncatedAndTrailingOffsets() {
        let empty = npyBytes(dictionary: npyDictionary(descr: "<i8", shape: "(0,)"), data: [])
        expectFileError(.invalidOffsets) { _ = try TokenOffsets.read(bytes: empty) }
        let huge = npyBytes(
            dictionary: npyDictionary(descr: "<u8", shape: "(2,)"),
            data: littleEndianBytes(UInt64(0)) + littleEndianBytes(UInt64.max))
        expectFileError(.tooLarge) { _ = try TokenOffsets.read(bytes: huge) }
        let full = offsetsNpy([0, 1, 2])
        let truncated = expectFileError(.truncated) {
            _ = try TokenOffsets.read(bytes: Array(full.dropLast(3)))
        }
        #expect(truncated?.byteOffset == full.count - 8)
        expectFileError(.trailingData) { _ = try TokenOffsets.read(bytes: full + [0]) }
        // The same from a pipe, where the size is unknown until the end.
        var input = ByteInput(bytes: Array(full.dropLast(3)), bufferSize: 4, readLimit: 3, sizeKnown: false)
        expectFileError(.truncated) { _ = try TokenOffsets.read(&input) }
        input = ByteInput(bytes: full + [0], bufferSize: 4, readLimit: 3, sizeKnown: false)
        expectFileError(.trailingData) { _ = try TokenOffsets.read(&input) }
    }

    @Test func offsetsErrorsFromAFileNameIt() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("offsets.npy", offsetsNpy([0, 4, 1]))
        let error = expectFileError(.invalidOffsets) { _ = try TokenOffsets.read(path: path) }
        #expect(error?.path == path)
        #expect(try TokenOffsets.read(path: directory.write("ok.npy", offsetsNpy([0, 4, 5]))) == [0, 4, 5])
        expectFileError(.io) { _ = try TokenOffsets.read(path: directory.path("missing.npy")) }
    }

    @Test func npyPathIsNotJSONLines() {
        let error = expectFileError(.unknownFormat) { _ = try MultiVectorFileReader(path: "tokens.NPY") }
        #expect(error?.message.contains("offsets") == true)
    }

    // MARK: JSON Lines errors

    /// Each case: the second document's line, the error code, and the text at the column
    /// the error must point to (`{` for errors about the whole line).
    @Test(arguments: [
        (#"{"id": 2, "vectors": [[1, 2], [3]]}"#, "dimensionMismatch", "[3]"),
        (#"{"id": 2, "vectors": [[1, 2], [3, 4, 5]]}"#, "dimensionMismatch", "[3, 4, 5]"),
        (#"{"id": 2, "vectors": [[1, 2, 3]]}"#, "dimensionMismatch", "[1, 2, 3]"),
        (#"{"id": 2, "vectors": []}"#, "invalidVector", "[]"),
        (#"{"id": 2, "vectors": [[1, 2], []]}"#, "invalidVector", "[]]"),
        (#"{"id": 2, "vector": [1, 2]}"#, "invalidVector", "{"),
        (#"{"id": 2}"#, "invalidVector", "{"),
        (#"{"id": 2, "vectors": [1, 2]}"#, "invalidVector", "1, 2]"),
        (#"{"id": 2, "vectors": "[[1, 2]]"}"#, "invalidVector", "\"[[1"),
        (#"{"id": 2, "vectors": [[1, null]]}"#, "invalidVector", "null"),
        (#"{"id": 2, "vectors": [[1, "NaN"]]}"#, "invalidVector", "\"NaN"),
        (#"{"id": 2, "vectors": [[1, NaN]]}"#, "invalidVector", "NaN"),
        (#"{"id": 2, "vectors": [[1, -Infinity]]}"#, "invalidJSON", "Infinity"),
        (#"{"id": 2, "vectors": [[1, 1e39]]}"#, "numberOutOfRange", "1e39"),
        (#"{"id": 2, "vectors": [[1, 2],]}"#, "invalidJSON", "]}"),
        (#"{"id": 2, "vectors": [[1, 2] [3, 4]]}"#, "invalidJSON", "[3, 4]]"),
        (#"{"id": 2, "vectors": [[1, 2]], "vectors": [[1, 2]]}"#, "duplicateKey", "\"vectors\": [[1, 2]]}"),
        (#"{"vectors": [[1, 2]]}"#, "invalidKey", "{"),
        (#"{"id": -2, "vectors": [[1, 2]]}"#, "invalidKey", "-2"),
        (#"{"id": 2, "vectors": [[1, 2]], "metadata": [1]}"#, "invalidJSON", "[1]}"),
    ])
    func errorsNameLineColumnAndDocument(line: String, code: String, at marker: String) throws {
        let first = #"{"id": 1, "vectors": [[1, 2], [3, 4]]}"#
        let text = "\(first)\n\n\(line)\n"
        let markerRange = try #require(line.range(of: marker, options: .backwards))
        let column = line.utf8.distance(from: line.startIndex, to: markerRange.lowerBound) + 1
        let error = expectFileError(FileFormatErrorCodes.named(code)) {
            var reader = try MultiVectorFileReader(bytes: Array(text.utf8))
            _ = try readAllDocuments(&reader)
        }
        #expect(error?.line == 3, "\(line)")
        #expect(error?.column == column, "\(line): \(error?.description ?? "")")
        #expect(error?.row == 1, "\(line)")
        #expect(error?.byteOffset == first.utf8.count + 2 + column - 1, "\(line)")
    }

    /// Bad numbers fail exactly as in single-vector records: same code, same message.
    @Test(arguments: [
        "NaN", "Infinity", "-Infinity", "1e39", "-1e39", "null", "\"1\"", "01", "1.", "-", "true",
        "{}",
    ])
    func badNumbersFailAsInSingleVectors(literal: String) {
        let single = expectFileError(singleVectorCode(literal)) {
            _ = try VectorFileReader(bytes: Array(#"{"vector": [1, \#(literal)]}"#.utf8), format: .jsonLines)
        }
        let multi = expectFileError(singleVectorCode(literal)) {
            _ = try MultiVectorFileReader(bytes: Array(#"{"vectors": [[1, \#(literal)]]}"#.utf8))
        }
        #expect(single?.message == multi?.message)
        // The multi-vector line has two more characters before the number: `[` and `[`
        // instead of nothing and `[` ("vectors" is one longer, plus the inner bracket).
        #expect(multi?.column == single.map { $0.column! + 2 })
    }

    @Test func firstDocumentErrorsAreThrownByTheInitializer() {
        let error = expectFileError(.invalidVector) {
            _ = try MultiVectorFileReader(bytes: Array("\n\n{\"vectors\": [[1], []]}".utf8))
        }
        #expect(error?.line == 3)
        #expect(error?.column == 19)
        #expect(error?.row == 0)
    }

    @Test func errorsAreSticky() throws {
        let text = "{\"vectors\": [[1]]}\n{\"vectors\": [[1, 2]]}\n{\"vectors\": [[3]]}\n"
        var reader = try MultiVectorFileReader(bytes: Array(text.utf8))
        var chunk = TokenChunk()
        #expect(try reader.read(into: &chunk, maxDocuments: 1) == 1)
        let first = expectFileError(.dimensionMismatch) { _ = try reader.read(into: &chunk, maxDocuments: 1) }
        let again = expectFileError(.dimensionMismatch) { _ = try reader.read(into: &chunk, maxDocuments: 1) }
        #expect(first == again)
        #expect(reader.documentsRead == 1)
    }

    @Test func documentLinesAreLimited() {
        let long = "{\"vectors\": [" + Array(repeating: "[1, 2]", count: 200).joined(separator: ",") + "]}"
        let error = expectFileError(.lineTooLong) {
            var reader = try MultiVectorFileReader(
                bytes: Array("{\"vectors\": [[1, 2]]}\n\(long)\n".utf8),
                options: .init(maximumLineLength: 1000))
            _ = try readAllDocuments(&reader)
        }
        #expect(error?.line == 2)
    }

    // MARK: Helpers

    /// The error code a single-vector record gets for `literal` as a component.
    private func singleVectorCode(_ literal: String) -> FileFormatError.Code {
        do {
            _ = try VectorFileReader(bytes: Array(#"{"vector": [1, \#(literal)]}"#.utf8), format: .jsonLines)
        } catch {
            return error.code
        }
        Issue.record("\(literal) was accepted as a vector component")
        return .io
    }
}

/// An offsets `.npy`: a 1-D array of `descr` (a 32- or 64-bit integer type, either order).
func offsetsNpy(_ values: [Int], descr: String = "<i8") -> [UInt8] {
    let bigEndian = descr.hasPrefix(">")
    let data = values.flatMap { value -> [UInt8] in
        let bytes: [UInt8] =
            descr.hasSuffix("4") ? littleEndianBytes(UInt32(truncatingIfNeeded: value))
            : littleEndianBytes(UInt64(truncatingIfNeeded: value))
        return bigEndian ? bytes.reversed() : bytes
    }
    return npyBytes(dictionary: npyDictionary(descr: descr, shape: "(\(values.count),)"), data: data)
}

/// Everything a multi-vector reader yields, gathered over chunks.
struct DocumentsResult {
    var floats: [Float] = []
    var tokenCounts: [Int] = []
    var keys: [RecordKeyValue] = []
    var metadata: [[String: JSONValue]] = []
    /// The number of documents in each chunk.
    var chunkSizes: [Int] = []
    var chunks: Int { chunkSizes.count }
    var dimensions = 0

    /// The documents as token matrices.
    var documents: [[[Float]]] {
        var start = 0
        return tokenCounts.map { count in
            defer { start += count * dimensions }
            return (0..<count).map { token in
                Array(floats[(start + token * dimensions)..<(start + (token + 1) * dimensions)])
            }
        }
    }
}

/// Reads `reader` to the end in chunks of `maxDocuments`, checking that every chunk holds
/// whole documents and that its bookkeeping adds up.
func readAllDocuments(
    _ reader: inout MultiVectorFileReader, maxDocuments: Int = 2
) throws -> DocumentsResult {
    var result = DocumentsResult(dimensions: reader.dimensions)
    var chunk = TokenChunk()
    while true {
        let documents = try reader.read(into: &chunk, maxDocuments: maxDocuments)
        if documents == 0 { break }
        #expect(documents <= maxDocuments)
        #expect(chunk.documentCount == documents)
        #expect(chunk.firstDocument == result.tokenCounts.count)
        #expect(chunk.tokenCounts.count == documents)
        #expect(chunk.tokenCounts.allSatisfy { $0 > 0 })
        #expect(chunk.floats.count == chunk.tokenCounts.reduce(0, +) * reader.dimensions)
        #expect(chunk.keys.isEmpty || chunk.keys.count == documents)
        #expect(chunk.metadata.isEmpty || chunk.metadata.count == documents)
        result.floats += chunk.floats
        result.tokenCounts += chunk.tokenCounts
        result.keys += chunk.keys
        result.metadata += chunk.metadata
        result.chunkSizes.append(documents)
    }
    #expect(reader.documentsRead == result.tokenCounts.count)
    if let count = reader.documentCount { #expect(count == result.tokenCounts.count) }
    return result
}
