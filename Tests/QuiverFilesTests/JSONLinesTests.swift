import Testing

@testable import QuiverFiles

@Suite struct JSONLinesTests {
    static let text = """
        {"id": 12, "vector": [0.5, -1, 2e-3], "metadata": {"section": "libs", "size": 3}}

        {"vector":[1,2,3],"id":18446744073709551615,"extra":{"ignored":[1,2]}}\r
          {"id": 7, "vector": [ 0 , 0 , 1 ] , "metadata": null}
        """

    @Test func readsRecordsKeysAndMetadata() throws {
        var reader = try VectorFileReader(bytes: Array(JSONLinesTests.text.utf8), format: .jsonLines)
        #expect(reader.dimensions == 3)
        #expect(reader.rowCount == nil)
        #expect(reader.elementKind == .float32)
        let result = try readAll(&reader, maxRows: 2)
        #expect(result.rows == 3)
        #expect(result.floats == [0.5, -1, 0.002, 1, 2, 3, 0, 0, 1])
        #expect(result.keys == [.int(12), .int(UInt64.max), .int(7)])
        #expect(result.metadata == [["section": .string("libs"), "size": .int(3)], [:], [:]])
    }

    @Test func stringKeysAndNoKeysAndByteOrderMark() throws {
        let withStrings = "\u{FEFF}{\"id\": \"doc-1\", \"vector\": [1]}\n{\"id\": \"\", \"vector\": [2]}\n"
        var reader = try VectorFileReader(bytes: Array(withStrings.utf8), format: .jsonLines)
        let result = try readAll(&reader)
        #expect(result.keys == [.string("doc-1"), .string("")])
        let withoutKeys = "{\"vector\": [1, 2]}\n{\"vector\": [3, 4]}"
        reader = try VectorFileReader(bytes: Array(withoutKeys.utf8), format: .jsonLines)
        let unkeyed = try readAll(&reader)
        #expect(unkeyed.keys.isEmpty)
        #expect(unkeyed.metadata.count == 2)
    }

    @Test func customFieldNames() throws {
        let text = "{\"pk\": 1, \"embedding\": [1, 2], \"attributes\": {\"a\": true}}"
        var reader = try VectorFileReader(
            bytes: Array(text.utf8), format: .jsonLines,
            options: .init(idField: "pk", vectorField: "embedding", metadataField: "attributes"))
        let result = try readAll(&reader)
        #expect(result.keys == [.int(1)])
        #expect(result.metadata == [["a": .bool(true)]])
    }

    @Test func emptyFile() throws {
        var reader = try VectorFileReader(bytes: Array("\n  \n".utf8), format: .jsonLines)
        #expect(reader.dimensions == 0)
        #expect(try readAll(&reader).rows == 0)
    }

    /// Each case: the second line's text, the error code, and the column of the problem.
    @Test(arguments: [
        (#"{"id": 2, "vector": [1, 2, 3], }"#, "invalidJSON", 32),
        (#"{"id": 2, "vector": [1, 2]}"#, "dimensionMismatch", 1),
        (#"{"id": 2, "vector": [1, null, 3]}"#, "invalidVector", 25),
        (#"{"id": 2, "vector": [1, "NaN", 3]}"#, "invalidVector", 25),
        (#"{"id": 2, "vector": [1, 2, 1e39]}"#, "numberOutOfRange", 28),
        (#"{"id": 2, "vector": []}"#, "invalidVector", 1),
        (#"{"id": 2}"#, "invalidVector", 1),
        (#"{"id": 2, "vector": "1,2,3"}"#, "invalidVector", 21),
        (#"{"id": -2, "vector": [1, 2, 3]}"#, "invalidKey", 8),
        (#"{"id": 2.5, "vector": [1, 2, 3]}"#, "invalidKey", 8),
        (#"{"id": 18446744073709551616, "vector": [1, 2, 3]}"#, "invalidKey", 8),
        (#"{"id": null, "vector": [1, 2, 3]}"#, "invalidKey", 8),
        (#"{"vector": [1, 2, 3]}"#, "invalidKey", 1),
        (#"{"id": 2, "id": 3, "vector": [1, 2, 3]}"#, "duplicateKey", 11),
        (#"{"id": 2, "vector": [1, 2, 3], "vector": [1, 2, 3]}"#, "duplicateKey", 32),
        (#"{"id": 2, "vector": [1, 2, 3], "metadata": [1]}"#, "invalidJSON", 44),
        (#"{"id": 2, "vector": [1, 2, 3], "metadata": {"a": 1, "a": 2}}"#, "duplicateKey", 53),
        (#"{"id": 2, "vector": [1, 2, 3]} {}"#, "invalidJSON", 32),
        (#"[1, 2, 3]"#, "invalidJSON", 1),
        (#"{"id": 2, "vector": [1, 2, 3], "x": "\ud800"}"#, "invalidUTF8", 38),
    ])
    func errorsNameLineColumnAndRow(line: String, code: String, column: Int) {
        let first = #"{"id": 1, "vector": [1, 2, 3]}"#
        let text = "\(first)\n\n\(line)\n"
        let error = expectFileError(FileFormatErrorCodes.named(code)) {
            var reader = try VectorFileReader(bytes: Array(text.utf8), format: .jsonLines)
            _ = try readAll(&reader)
        }
        #expect(error?.line == 3, "\(line)")
        #expect(error?.column == column, "\(line)")
        #expect(error?.row == 1, "\(line)")
        #expect(error?.byteOffset == first.utf8.count + 2 + column - 1, "\(line)")
    }

    @Test func invalidUTF8InAStringIsReported() {
        var bytes = Array(#"{"vector": [1], "metadata": {"a": "x"}}"#.utf8)
        bytes[35] = 0xC0
        let error = expectFileError(.invalidUTF8) {
            _ = try VectorFileReader(bytes: bytes, format: .jsonLines)
        }
        #expect(error?.line == 1)
        #expect(error?.column == 36)
    }

    @Test func firstLineErrorsAreThrownByTheInitializer() {
        let error = expectFileError(.invalidJSON) {
            _ = try VectorFileReader(bytes: Array("\n\n{\"vector\": [1,]}".utf8), format: .jsonLines)
        }
        #expect(error?.line == 3)
        #expect(error?.column == 15)
    }

    @Test func lineLengthIsLimited() {
        let text = "{\"vector\": [1]}\n{\"vector\": [" + String(repeating: "1,", count: 600) + "1]}\n"
        let direct = expectFileError(.lineTooLong) {
            var reader = try VectorFileReader(
                bytes: Array(text.utf8), format: .jsonLines, options: .init(maximumLineLength: 1000))
            _ = try readAll(&reader)
        }
        #expect(direct?.byteOffset == 16)
        var options = VectorFileReader.Options(maximumLineLength: 1000)
        options.bufferSize = 64
        let chunked = expectFileError(.lineTooLong) {
            var reader = try VectorFileReader(
                chunkedBytes: Array(text.utf8), format: .jsonLines, options: options, readLimit: 50,
                sizeKnown: true)
            _ = try readAll(&reader)
        }
        #expect(chunked?.byteOffset == 16)
    }

    @Test func writerRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.jsonl")
        var writer = try JSONLinesWriter(path: path)
        let vectors: [[Float]] = [[0.1, -2.5e-8, 3.4028235e38], [1, 2, 3]]
        try writer.write(key: .int(1), vector: vectors[0], metadata: ["tags": .array([.string("a\"b")])])
        try writer.write(key: .string("k2"), vector: vectors[1], metadata: nil)
        expectFileError(.invalidArgument) { try writer.write(key: nil, vector: [Float.nan, 1, 2]) }
        #expect(writer.lineCount == 2)
        try writer.finish()
        let text = String(decoding: try directory.read("out.jsonl"), as: UTF8.self)
        #expect(text.hasPrefix(#"{"id":1,"vector":[0.1,-2.5e-08,3.4028235e+38],"metadata":{"tags":["a\"b"]}}"#))
        var reader = try VectorFileReader(path: path)
        let result = try readAll(&reader)
        #expect(result.floats == vectors.flatMap { $0 })
        #expect(result.keys == [.int(1), .string("k2")])
        #expect(result.metadata == [["tags": .array([.string("a\"b")])], [:]])
    }

    @Test func randomVectorsRoundTripExactly() throws {
        var generator = SeededGenerator(seed: 42)
        let directory = try TemporaryDirectory()
        let path = directory.path("random.jsonl")
        var writer = try JSONLinesWriter(path: path)
        var expected: [Float] = []
        for row in 0..<200 {
            let vector = (0..<16).map { _ in
                Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &generator))
                    * (Bool.random(using: &generator) ? 1 : -1)
            }
            expected += vector
            try writer.write(key: .int(UInt64(row)), vector: vector)
        }
        try writer.finish()
        var options = VectorFileReader.Options()
        options.bufferSize = 333
        var reader = try VectorFileReader(path: path, options: options)
        let result = try readAll(&reader, maxRows: 64)
        #expect(result.floats.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}

/// Error codes by name, for parameterized tests.
enum FileFormatErrorCodes {
    static func named(_ name: String) -> FileFormatError.Code {
        let all: [FileFormatError.Code] = [
            .io, .unknownFormat, .badMagic, .unsupportedVersion, .malformedHeader,
            .unsupportedDataType, .unsupportedLayout, .truncated, .partialRow, .trailingData,
            .dimensionMismatch, .invalidJSON, .invalidUTF8, .nestingTooDeep, .numberOutOfRange,
            .duplicateKey, .invalidVector, .invalidKey, .lineTooLong, .invalidTable, .tooLarge,
            .invalidArgument, .invalidOffsets,
        ]
        return all.first { $0.description == name }!
    }
}
