import Testing

@_spi(Fuzzing) @testable import QuiverFiles

/// The same bytes read whole, and handed out a few bytes at a time through a tiny buffer
/// (as from a pipe), must give the same rows and the same errors.
@Suite struct ChunkedInputTests {
    static let npy = npyBytes(
        dictionary: npyDictionary(descr: "<f4", shape: "(40, 3)"),
        data: float32Bytes((0..<120).map(Float.init)))

    static let inputs: [(VectorFileFormat, [UInt8])] = [
        (.npy, npy),
        (.npy, Array(npy.dropLast(5))),  // truncated
        (.npy, npy + [0]),  // trailing byte
        (.npy, npyBytes(dictionary: npyDictionary(descr: "<f8", shape: "(9, 2)"),
                        data: (0..<18).flatMap { littleEndianBytes(Double($0).bitPattern) })),
        (.fvecs, fvecsBytes((0..<50).map { [Float($0), 1, 2, 3] })),
        (.fvecs, Array(fvecsBytes((0..<50).map { [Float($0), 1, 2, 3] }).dropLast(3))),
        (.fvecs, fvecsBytes([[1, 2], [3, 4], [5]]) + [0, 0, 0, 0]),  // mismatched dimension
        (.bvecs, bvecsBytes((0..<30).map { [UInt8($0), 7] })),
        (.jsonLines, Array((0..<40).map { "{\"id\": \($0), \"vector\": [\($0), 0.5]}\n" }.joined().utf8)),
        (.jsonLines, Array("{\"vector\": [1]}\n{\"vector\": [1, 2]}\n".utf8)),
    ]

    @Test(arguments: 0..<inputs.count)
    func chunkedReadsMatchDirectReads(index: Int) {
        let (format, bytes) = ChunkedInputTests.inputs[index]
        // Traps (failing the run) when the three ways of reading disagree.
        QuiverFilesFuzzing.compareVectorReads(bytes, format: format, options: .init())
        let outcome = QuiverFilesFuzzing.readVectors(maxRows: 7) {
            () throws(FileFormatError) in try VectorFileReader(bytes: bytes, format: format)
        }
        if index == 0 { #expect(outcome.rows == 40 && outcome.error == nil) }
        if index == 1 { #expect(outcome.error?.code == .truncated) }
        if index == 6 { #expect(outcome.error?.code == .dimensionMismatch) }
    }

    @Test func pipeLikeInputHasNoRowCountButTheSameRows() throws {
        let bytes = fvecsBytes((0..<50).map { [Float($0), 1, 2, 3] })
        var options = VectorFileReader.Options()
        options.bufferSize = 10
        var reader = try VectorFileReader(
            chunkedBytes: bytes, format: .fvecs, options: options, readLimit: 7, sizeKnown: false)
        #expect(reader.rowCount == nil)
        let result = try readAll(&reader, maxRows: 8)
        #expect(result.rows == 50)
        // A partial last row is then found at the end, where it is.
        reader = try VectorFileReader(
            chunkedBytes: Array(bytes.dropLast(2)), format: .fvecs, options: options, readLimit: 7,
            sizeKnown: false)
        let error = expectFileError(.partialRow) { _ = try readAll(&reader, maxRows: 8) }
        #expect(error?.row == 49)
        #expect(error?.byteOffset == 49 * 20)
    }

    @Test func chunksStopAtTheByteLimit() throws {
        var options = VectorFileReader.Options()
        options.maximumChunkBytes = 50  // 4 rows of 3 floats
        var reader = try VectorFileReader(bytes: ChunkedInputTests.npy, format: .npy, options: options)
        let result = try readAll(&reader, maxRows: 1000)
        #expect(result.rows == 40)
        #expect(result.chunks == 10)
    }
}
