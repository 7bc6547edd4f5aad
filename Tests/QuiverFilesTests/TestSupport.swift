import Foundation
import Testing

@testable import QuiverFiles

/// A fresh temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("QuiverFilesTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `bytes` to `name` and returns its path.
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = self.path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The contents of `name`.
    func read(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }
}

/// Little-endian bytes of a fixed-width integer.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// `.fvecs` bytes for `rows`, each with its own dimension field.
func fvecsBytes(_ rows: [[Float]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for row in rows {
        bytes += littleEndianBytes(Int32(row.count))
        for value in row { bytes += littleEndianBytes(value.bitPattern) }
    }
    return bytes
}

/// `.bvecs` bytes for `rows`.
func bvecsBytes(_ rows: [[UInt8]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for row in rows {
        bytes += littleEndianBytes(Int32(row.count))
        bytes += row
    }
    return bytes
}

/// `.ivecs` bytes for `rows`.
func ivecsBytes(_ rows: [[Int32]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for row in rows {
        bytes += littleEndianBytes(Int32(row.count))
        for value in row { bytes += littleEndianBytes(value) }
    }
    return bytes
}

/// A `.npy` file with the given header dictionary text and data, in format `version`.
func npyBytes(dictionary: String, data: [UInt8], version: UInt8 = 1, pad: Bool = true) -> [UInt8] {
    var header = Array(dictionary.utf8)
    let preamble = version == 1 ? 10 : 12
    if pad {
        let total = (preamble + header.count + 1 + 63) / 64 * 64
        header += [UInt8](repeating: 0x20, count: total - preamble - header.count - 1)
        header.append(0x0A)
    }
    var bytes = NpyHeader.magic + [version, 0]
    if version == 1 {
        bytes += littleEndianBytes(UInt16(header.count))
    } else {
        bytes += littleEndianBytes(UInt32(header.count))
    }
    return bytes + header + data
}

/// A NumPy-style header dictionary.
func npyDictionary(descr: String, shape: String, fortran: Bool = false) -> String {
    "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
}

/// The little-endian float32 bytes of `values`.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { littleEndianBytes($0.bitPattern) }
}

/// Everything a reader yields, gathered over chunks of `maxRows`.
struct ReadResult {
    var floats: [Float] = []
    var bytes: [UInt8] = []
    var keys: [RecordKeyValue] = []
    var metadata: [[String: JSONValue]] = []
    var rows = 0
    var chunks = 0
}

/// Reads `reader` to the end in chunks of `maxRows`, checking chunk bookkeeping.
func readAll(_ reader: inout VectorFileReader, maxRows: Int = 3) throws -> ReadResult {
    var result = ReadResult()
    var chunk = VectorChunk()
    while true {
        let rows = try reader.read(into: &chunk, maxRows: maxRows)
        if rows == 0 { break }
        #expect(chunk.rowCount == rows)
        #expect(chunk.firstRow == result.rows)
        #expect(rows <= maxRows)
        switch reader.elementKind {
        case .float32: #expect(chunk.floats.count == rows * reader.dimensions)
        case .uint8, .packedBits: #expect(chunk.bytes.count == rows * reader.bytesPerRow)
        }
        result.floats += chunk.floats
        result.bytes += chunk.bytes
        result.keys += chunk.keys
        result.metadata += chunk.metadata
        result.rows += rows
        result.chunks += 1
    }
    #expect(reader.rowsRead == result.rows)
    return result
}

/// Runs `body`, expects a ``FileFormatError`` with `code`, and returns it for more checks.
@discardableResult
func expectFileError(
    _ code: FileFormatError.Code, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> FileFormatError? {
    do {
        try body()
        Issue.record("expected a FileFormatError \(code), but nothing was thrown",
                     sourceLocation: sourceLocation)
    } catch let error as FileFormatError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a FileFormatError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A small deterministic generator (SplitMix64), so random tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
