import Foundation
import Testing

@testable import QuiverFiles

@Suite struct VecsTests {
    static let rows: [[Float]] = (0..<7).map { row in (0..<3).map { Float(row) - Float($0) / 4 } }

    @Test func readsFvecs() throws {
        var reader = try VectorFileReader(bytes: fvecsBytes(VecsTests.rows), format: .fvecs)
        #expect(reader.dimensions == 3)
        #expect(reader.rowCount == 7)
        #expect(reader.elementKind == .float32)
        let result = try readAll(&reader, maxRows: 3)
        #expect(result.floats == VecsTests.rows.flatMap { $0 })
        #expect(result.chunks == 3)
    }

    @Test func passesNaNAndInfinityThrough() throws {
        var reader = try VectorFileReader(bytes: fvecsBytes([[.nan, .infinity, -.infinity]]), format: .fvecs)
        let floats = try readAll(&reader).floats
        #expect(floats[0].isNaN && floats[1] == .infinity && floats[2] == -.infinity)
    }

    @Test func readsBvecsAsBytesOrPackedBits() throws {
        let rows: [[UInt8]] = [[1, 2], [3, 4], [255, 0]]
        var reader = try VectorFileReader(bytes: bvecsBytes(rows), format: .bvecs)
        #expect(reader.elementKind == .uint8)
        #expect(reader.dimensions == 2)
        #expect(try readAll(&reader, maxRows: 2).bytes == rows.flatMap { $0 })
        reader = try VectorFileReader(
            bytes: bvecsBytes(rows), format: .bvecs, options: .init(bytesArePackedBits: true))
        #expect(reader.elementKind == .packedBits(bits: 16))
        #expect(reader.dimensions == 16)
        #expect(try readAll(&reader).bytes == rows.flatMap { $0 })
    }

    @Test func emptyFileHasNoRows() throws {
        var reader = try VectorFileReader(bytes: [], format: .fvecs)
        #expect(reader.rowCount == 0)
        #expect(reader.dimensions == 0)
        #expect(try readAll(&reader).rows == 0)
    }

    @Test func partialLastRowIsNamedAtOpen() {
        let bytes = fvecsBytes(VecsTests.rows)
        let error = expectFileError(.partialRow) {
            _ = try VectorFileReader(bytes: Array(bytes.dropLast(2)), format: .fvecs)
        }
        #expect(error?.row == 6)
        #expect(error?.byteOffset == 6 * 16)
        expectFileError(.partialRow) { _ = try VectorFileReader(bytes: [3, 0], format: .fvecs) }
    }

    @Test func mismatchedDimensionAtRowK() {
        var rows = VecsTests.rows
        rows[5] = [1, 2]
        let error = expectFileError(.dimensionMismatch) {
            var reader = try VectorFileReader(bytes: fvecsBytes(rows) + [0, 0, 0, 0], format: .fvecs)
            _ = try readAll(&reader, maxRows: 2)
        }
        #expect(error?.row == 5)
        #expect(error?.byteOffset == 5 * 16)
        #expect(error?.message.contains("dimension 2") == true)
    }

    @Test func errorIsStickyAfterAFailure() throws {
        var bytes = fvecsBytes(VecsTests.rows)
        bytes[16] = 9  // row 1 declares dimension 9
        var reader = try VectorFileReader(bytes: bytes, format: .fvecs)
        var chunk = VectorChunk()
        #expect(throws: FileFormatError.self) { _ = try reader.read(into: &chunk, maxRows: 10) }
        let again = expectFileError(.dimensionMismatch) { _ = try reader.read(into: &chunk, maxRows: 10) }
        #expect(again?.row == 1)
    }

    @Test(arguments: [Int32(0), -1, Int32.max])
    func badFirstDimension(dimension: Int32) {
        let bytes = littleEndianBytes(dimension) + [UInt8](repeating: 0, count: 8)
        let error = expectFileError(dimension == .max ? .tooLarge : .malformedHeader) {
            _ = try VectorFileReader(bytes: bytes, format: .fvecs)
        }
        #expect(error?.row == 0)
    }

    @Test func readsIvecsWithRowsOfAnyLength() throws {
        let rows: [[Int32]] = [[1, 2, 3], [], [Int32.min, Int32.max]]
        #expect(try IVecs.readAll(bytes: ivecsBytes(rows)) == rows)
        #expect(try IVecs.readAll(bytes: []) == [])
    }

    @Test func ivecsErrors() {
        let bytes = ivecsBytes([[1, 2], [3, 4]])
        let error = expectFileError(.partialRow) { _ = try IVecs.readAll(bytes: Array(bytes.dropLast())) }
        #expect(error?.row == 1)
        #expect(error?.byteOffset == 12)
        expectFileError(.partialRow) { _ = try IVecs.readAll(bytes: Array(bytes.prefix(14))) }
        expectFileError(.malformedHeader) { _ = try IVecs.readAll(bytes: littleEndianBytes(Int32(-2))) }
        expectFileError(.tooLarge) { _ = try IVecs.readAll(bytes: littleEndianBytes(Int32.max)) }
    }

    @Test func writersRoundTrip() throws {
        let directory = try TemporaryDirectory()
        var fvecs = try VecsWriter(path: directory.path("a.fvecs"), kind: .fvecs, dimensions: 3)
        try fvecs.write(VecsTests.rows.prefix(2).flatMap { $0 })
        try fvecs.write(VecsTests.rows.dropFirst(2).flatMap { $0 })
        #expect(fvecs.rowCount == 7)
        try fvecs.finish()
        #expect(try directory.read("a.fvecs") == fvecsBytes(VecsTests.rows))
        var reader = try VectorFileReader(path: directory.path("a.fvecs"))
        #expect(try readAll(&reader).floats == VecsTests.rows.flatMap { $0 })

        var bvecs = try VecsWriter(path: directory.path("b.bvecs"), kind: .bvecs, dimensions: 2)
        try bvecs.write([1, 2, 3, 4] as [UInt8])
        try bvecs.finish()
        reader = try VectorFileReader(path: directory.path("b.bvecs"))
        #expect(try readAll(&reader).bytes == [1, 2, 3, 4])

        var ivecs = try VecsWriter(path: directory.path("c.ivecs"), kind: .ivecs, dimensions: 2)
        try ivecs.write([7, 8, -9, 10] as [Int32])
        try ivecs.finish()
        #expect(try IVecs.readAll(path: directory.path("c.ivecs")) == [[7, 8], [-9, 10]])
    }

    @Test func writerRejectsMisuse() throws {
        let directory = try TemporaryDirectory()
        var writer = try VecsWriter(path: directory.path("a.fvecs"), kind: .fvecs, dimensions: 3)
        expectFileError(.invalidArgument) { try writer.write([1, 2, 3, 4] as [Float]) }
        expectFileError(.invalidArgument) { try writer.write([1, 2, 3] as [UInt8]) }
        expectFileError(.invalidArgument) { try writer.write([1, 2, 3] as [Int32]) }
        try writer.finish()
        expectFileError(.invalidArgument) {
            _ = try VecsWriter(path: directory.path("b.fvecs"), kind: .fvecs, dimensions: 0)
        }
        expectFileError(.io) {
            _ = try VecsWriter(path: directory.path("missing/dir/c.fvecs"), kind: .fvecs, dimensions: 1)
        }
    }

    @Test func readsLargeFileThroughSmallBuffers() throws {
        // Many rows through a 100-byte buffer: refills, compaction, rows straddling reads.
        let rows: [[Float]] = (0..<500).map { row in (0..<7).map { Float(row * 7 + $0) } }
        let directory = try TemporaryDirectory()
        let path = try directory.write("big.fvecs", fvecsBytes(rows))
        var options = VectorFileReader.Options()
        options.bufferSize = 100
        var reader = try VectorFileReader(path: path, options: options)
        #expect(try readAll(&reader, maxRows: 33).floats == rows.flatMap { $0 })
        // A row larger than the buffer makes it grow.
        options.bufferSize = 8
        reader = try VectorFileReader(path: path, options: options)
        #expect(try readAll(&reader, maxRows: 1000).floats == rows.flatMap { $0 })
    }

    @Test func missingFileAndDirectory() throws {
        let directory = try TemporaryDirectory()
        let error = expectFileError(.io) { _ = try VectorFileReader(path: directory.path("nope.fvecs")) }
        #expect(error?.path == directory.path("nope.fvecs"))
        #expect(error?.message.contains("No such file") == true)
        try FileManagerHelper.makeDirectory(directory.path("dir.fvecs"))
        expectFileError(.io) { _ = try VectorFileReader(path: directory.path("dir.fvecs")) }
        expectFileError(.unknownFormat) { _ = try VectorFileReader(path: directory.path("x.bin")) }
    }
}

enum FileManagerHelper {
    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}
