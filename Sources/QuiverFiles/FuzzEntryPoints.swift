/// The entry points of the fuzz targets in `Fuzz/` (`FuzzJSON`, `FuzzNpy`, `FuzzVecs`,
/// `FuzzTable`), also called by the tests that replay `Fuzz/FailCases`.
///
/// Each takes arbitrary bytes and must never trap on them: bad input throws, and the entry
/// point swallows the error. Each also reads the bytes several ways and traps when they
/// disagree — the whole input in one buffer, and the same input handed out a few bytes at
/// a time through a tiny buffer (as a pipe would), with and without the size known — so
/// that the refill, compaction and buffer-growth paths are fuzzed as well as the parsers.
@_spi(Fuzzing)
public enum QuiverFilesFuzzing {
    /// The JSON parser, its serializer (which must round-trip), the float-array fast path
    /// (which must agree with the parser) and the JSON Lines vector reader.
    ///
    /// - Parameter data: Any bytes.
    public static func json(_ data: [UInt8]) {
        let parsed = try? JSONParser.parse(data)
        if let parsed {
            let text = Array(parsed.serialized().utf8)
            guard let again = try? JSONParser.parse(text), again == parsed else {
                preconditionFailure("serialized JSON does not parse back to the same value")
            }
        }
        var floats: [Float] = []
        if (try? JSONParser.parseFloatArray(data, into: &floats)) != nil {
            guard case .array(let elements)? = parsed, elements.count == floats.count else {
                preconditionFailure("parseFloatArray accepted what parse rejects")
            }
            for (element, value) in zip(elements, floats) {
                let number: Double
                switch element {
                case .int(let integer): number = Double(integer)
                case .double(let double): number = double
                default: preconditionFailure("parseFloatArray accepted a non-number")
                }
                guard value.isFinite, abs(Double(value) - number) <= abs(number) * 1e-6 + 1e-38
                else {
                    preconditionFailure("parseFloatArray gave \(value) for \(number)")
                }
            }
        }
        compareVectorReads(data, format: .jsonLines, options: .init())
    }

    /// The `.npy` reader: header parsing and rows of every dtype.
    ///
    /// - Parameter data: Any bytes, read as a `.npy` file.
    public static func npy(_ data: [UInt8]) {
        compareVectorReads(data, format: .npy, options: .init(bytesArePackedBits: data.count % 2 == 1))
    }

    /// The `.fvecs`, `.bvecs` and `.ivecs` readers, on the same bytes.
    ///
    /// - Parameter data: Any bytes, read as each format.
    public static func vecs(_ data: [UInt8]) {
        compareVectorReads(data, format: .fvecs, options: .init())
        compareVectorReads(
            data, format: .bvecs, options: .init(bytesArePackedBits: data.count % 2 == 1))
        let direct = Result { () throws(FileFormatError) in try IVecs.readAll(bytes: data) }
        var input = ByteInput(bytes: data, bufferSize: 3, readLimit: 2, sizeKnown: false)
        let chunked = Result { () throws(FileFormatError) in try IVecs.readAll(&input) }
        switch (direct, chunked) {
        case (.success(let a), .success(let b)) where a == b: break
        case (.failure, .failure): break
        default: preconditionFailure("ivecs read differs between buffer modes")
        }
    }

    /// The metadata table reader, as CSV, TSV and JSON Lines, on the same bytes.
    ///
    /// - Parameter data: Any bytes, read as each format.
    public static func table(_ data: [UInt8]) {
        for format in MetadataTableFormat.allCases {
            let direct = readTable {
                () throws(FileFormatError) in
                try MetadataTableReader(bytes: data, format: format, maximumLineLength: 4096)
            }
            let chunked = readTable {
                () throws(FileFormatError) in
                try MetadataTableReader(
                    chunkedBytes: data, format: format, bufferSize: 5, readLimit: 3,
                    sizeKnown: false, maximumLineLength: 4096)
            }
            guard direct == chunked else {
                preconditionFailure("\(format) table read differs between buffer modes")
            }
        }
    }

    /// Everything observable about reading a file to the end.
    struct Outcome: Equatable {
        var dimensions = 0
        var rowCount: Int?
        var elementKind: VectorElementKind?
        var rows = 0
        var floatBits: [UInt32] = []
        var bytes: [UInt8] = []
        var keys: [RecordKeyValue] = []
        var metadata: [[String: JSONValue]] = []
        var columns: [String] = []
        var tableRows: [[String: JSONValue]] = []
        var error: FileFormatError?

        /// The outcome with what legitimately differs when the size is unknown removed:
        /// the row count, and the code, message and location of an error (a partial row
        /// is found at the end rather than at open).
        var sizeIndependent: Outcome {
            var copy = self
            copy.rowCount = nil
            if copy.error != nil { copy = Outcome(error: FileFormatError(.io, "failed")) }
            return copy
        }
    }

    /// Reads `data` directly, in chunks with the size known (which must give exactly the
    /// same outcome), and in chunks with the size unknown (which must agree on the rows).
    static func compareVectorReads(
        _ data: [UInt8], format: VectorFileFormat, options: VectorFileReader.Options
    ) {
        var small = options
        small.maximumChunkBytes = 4096
        small.maximumLineLength = 4096
        small.bufferSize = 1
        let direct = readVectors(maxRows: 3) {
            () throws(FileFormatError) in
            try VectorFileReader(bytes: data, format: format, options: small)
        }
        let known = readVectors(maxRows: 1) {
            () throws(FileFormatError) in
            try VectorFileReader(
                chunkedBytes: data, format: format, options: small, readLimit: 1, sizeKnown: true)
        }
        small.bufferSize = 13
        let unknown = readVectors(maxRows: 1000) {
            () throws(FileFormatError) in
            try VectorFileReader(
                chunkedBytes: data, format: format, options: small, readLimit: 5, sizeKnown: false)
        }
        guard direct == known else {
            preconditionFailure("\(format): direct and chunked reads differ")
        }
        guard direct.sizeIndependent == unknown.sizeIndependent else {
            preconditionFailure("\(format): reads differ when the size is unknown")
        }
    }

    /// Opens a reader with `open` and reads it to the end, checking chunk bookkeeping.
    static func readVectors(
        maxRows: Int, _ open: () throws(FileFormatError) -> VectorFileReader
    ) -> Outcome {
        var outcome = Outcome()
        do throws(FileFormatError) {
            var reader = try open()
            outcome.dimensions = reader.dimensions
            outcome.rowCount = reader.rowCount
            outcome.elementKind = reader.elementKind
            var chunk = VectorChunk()
            while true {
                let rows = try reader.read(into: &chunk, maxRows: maxRows)
                precondition(rows >= 0 && rows <= maxRows, "row count out of range")
                if rows == 0 { break }
                precondition(chunk.rowCount == rows && chunk.firstRow == outcome.rows)
                switch reader.elementKind {
                case .float32:
                    precondition(chunk.floats.count == rows * reader.dimensions)
                    precondition(chunk.bytes.isEmpty)
                case .uint8, .packedBits:
                    precondition(chunk.bytes.count == rows * reader.bytesPerRow)
                    precondition(chunk.floats.isEmpty)
                }
                precondition(chunk.keys.isEmpty || chunk.keys.count == rows)
                precondition(chunk.metadata.isEmpty || chunk.metadata.count == rows)
                outcome.rows += rows
                outcome.floatBits += chunk.floats.map(\.bitPattern)
                outcome.bytes += chunk.bytes
                outcome.keys += chunk.keys
                outcome.metadata += chunk.metadata
            }
            precondition(reader.rowsRead == outcome.rows)
            if let rowCount = reader.rowCount { precondition(rowCount == outcome.rows) }
        } catch {
            // Rows before the error depend on the chunk size; only the error must agree.
            outcome = Outcome(error: comparable(error))
        }
        return outcome
    }

    /// Opens a table with `open` and reads it to the end.
    static func readTable(_ open: () throws(FileFormatError) -> MetadataTableReader) -> Outcome {
        var outcome = Outcome()
        do throws(FileFormatError) {
            var table = try open()
            outcome.columns = table.columns
            while true {
                let rows = try table.read(maxRows: 2)
                if rows.isEmpty { break }
                for row in rows where !table.columns.isEmpty {
                    precondition(row.count == table.columns.count, "row without every column")
                }
                outcome.tableRows += rows
            }
        } catch {
            outcome = Outcome(error: comparable(error))
        }
        return outcome
    }

    /// The error without its message, which may quote buffer-dependent detail.
    private static func comparable(_ error: FileFormatError) -> FileFormatError {
        var copy = error
        copy.message = ""
        return copy
    }
}
