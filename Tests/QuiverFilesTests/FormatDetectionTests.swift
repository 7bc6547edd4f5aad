import Testing

@testable import QuiverFiles

@Suite struct FormatDetectionTests {
    @Test func detectsVectorFormats() throws {
        #expect(try VectorFileFormat.detect(path: "/a/b.npy") == .npy)
        #expect(try VectorFileFormat.detect(path: "B.FVECS") == .fvecs)
        #expect(try VectorFileFormat.detect(path: "x.bvecs") == .bvecs)
        #expect(try VectorFileFormat.detect(path: "x.jsonl") == .jsonLines)
        #expect(try VectorFileFormat.detect(path: "dir.v2/x.ndjson") == .jsonLines)
        expectFileError(.unknownFormat) { _ = try VectorFileFormat.detect(path: "x.npy.gz") }
        expectFileError(.unknownFormat) { _ = try VectorFileFormat.detect(path: "dir.npy/file") }
        expectFileError(.unknownFormat) { _ = try VectorFileFormat.detect(path: ".npy") }
    }

    @Test func detectsTableFormats() throws {
        #expect(try MetadataTableFormat.detect(path: "meta.tsv") == .tsv)
        #expect(try MetadataTableFormat.detect(path: "meta.CSV") == .csv)
        #expect(try MetadataTableFormat.detect(path: "meta.jsonl") == .jsonLines)
        expectFileError(.unknownFormat) { _ = try MetadataTableFormat.detect(path: "meta.xlsx") }
    }

    @Test func errorDescriptionNamesTheLocation() {
        let error = FileFormatError(
            .invalidJSON, "expected ','", path: "a.jsonl", byteOffset: 120, line: 3, column: 7, row: 2)
        #expect(error.description == "a.jsonl:3:7: expected ',' (row 2, byte 120) [invalidJSON]")
        #expect(FileFormatError(.badMagic, "bad").description == "<memory>: bad [badMagic]")
    }
}
