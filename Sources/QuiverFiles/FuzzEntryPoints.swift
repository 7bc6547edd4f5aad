/// The entry points of the fuzz targets in `Fuzz/` (`FuzzJSON` calls ``json(_:)`` and
/// ``multiVectorJSONLines(_:)``, `FuzzNpy` calls ``npy(_:)`` and ``multiVectorNpy(_:)``,
/// `FuzzVecs` ``vecs(_:)``, `FuzzTable` ``table(_:)``), also called by the tests that replay
/// `Fuzz/FailCases`.
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

    /// The multi-vector JSON Lines reader (a matrix of token vectors per line).
    ///
    /// - Parameter data: Any bytes, read as JSON Lines documents.
    public static func multiVectorJSONLines(_ data: [UInt8]) {
        compareDocumentReads { (options, mode) throws(FileFormatError) in
            switch mode {
            case .direct: try MultiVectorFileReader(bytes: data, options: options)
            case .chunked(let readLimit, let sizeKnown):
                try MultiVectorFileReader(
                    chunkedBytes: data, options: options, readLimit: readLimit,
                    sizeKnown: sizeKnown)
            }
        }
    }

    /// The token offsets reader and the multi-vector `.npy` reader: the bytes are read as an
    /// offsets file (and, when they are valid offsets of few tokens, cut a made-up token
    /// matrix into documents), and as a token matrix cut into documents by made-up offsets.
    ///
    /// - Parameter data: Any bytes, read as each `.npy` file in turn.
    public static func multiVectorNpy(_ data: [UInt8]) {
        let direct = Result { () throws(FileFormatError) in try TokenOffsets.read(bytes: data) }
        var input = ByteInput(bytes: data, bufferSize: 3, readLimit: 2, sizeKnown: true)
        let known = Result { () throws(FileFormatError) in try TokenOffsets.read(&input) }
        input = ByteInput(bytes: data, bufferSize: 5, readLimit: 3, sizeKnown: false)
        let unknown = Result { () throws(FileFormatError) in try TokenOffsets.read(&input) }
        switch (direct, known, unknown) {
        case (.success(let a), .success(let b), .success(let c)) where a == b && b == c: break
        case (.failure(let a), .failure(let b), .failure) where comparable(a) == comparable(b):
            break
        default: preconditionFailure("token offsets read differs between buffer modes")
        }

        if case .success(let offsets) = direct, let tokens = offsets.last, tokens <= 1024 {
            let floats = (0..<(tokens * 2)).map(Float.init)
            let matrix = npyFile(descr: "<f4", shape: [tokens, 2], data: floats.flatMap {
                littleEndian($0.bitPattern)
            })
            let outcome = compareMatrixReads(tokens: matrix, offsets: data)
            guard outcome.error == nil,
                outcome.tokenCounts == zip(offsets.dropFirst(), offsets).map({ $0 - $1 }),
                outcome.floatBits == floats.map(\.bitPattern)
            else {
                preconditionFailure("valid offsets did not cut the tokens as they say")
            }
        }

        // Documents of 1, 2, 3, … tokens, the last one taking what is left; the offsets'
        // dtype varies with the input so that every integer type is read.
        if let rows = try? VectorFileReader(bytes: data, format: .npy).rowCount {
            var offsets = [0]
            while offsets.last! < rows { offsets.append(min(rows, offsets.last! + offsets.count)) }
            let (descr, encode): (String, (Int) -> [UInt8]) =
                switch data.count % 4 {
                case 0: ("<i8", { littleEndian(Int64($0)) })
                case 1: (">i4", { bigEndian(Int32($0)) })
                case 2: ("<u4", { littleEndian(UInt32($0)) })
                default: (">u8", { bigEndian(UInt64($0)) })
                }
            let offsetsFile = npyFile(
                descr: descr, shape: [offsets.count], data: offsets.flatMap(encode))
            let outcome = compareMatrixReads(tokens: data, offsets: offsetsFile)
            if outcome.error == nil {
                precondition(outcome.rows == offsets.count - 1, "documents were lost")
            }
        }
    }

    /// Reads a token matrix and offsets every way (see ``compareDocumentReads(_:)``).
    static func compareMatrixReads(tokens: [UInt8], offsets: [UInt8]) -> Outcome {
        compareDocumentReads { (options, mode) throws(FileFormatError) in
            switch mode {
            case .direct:
                try MultiVectorFileReader(
                    tokenBytes: tokens, offsetBytes: offsets, options: options)
            case .chunked(let readLimit, let sizeKnown):
                try MultiVectorFileReader(
                    chunkedTokenBytes: tokens, offsetBytes: offsets, options: options,
                    readLimit: readLimit, sizeKnown: sizeKnown)
            }
        }
    }

    /// How a multi-vector reader gets its bytes.
    enum BufferMode {
        /// All at once, in one buffer.
        case direct
        /// A few bytes per read through a tiny buffer (see ``ByteInput``).
        case chunked(readLimit: Int, sizeKnown: Bool)
    }

    /// Reads documents directly, in chunks with the size known (which must give exactly
    /// the same outcome), and in chunks with the size unknown (which must agree on the
    /// documents), each with a different chunk byte limit so that documents are grouped
    /// differently; returns the direct outcome.
    @discardableResult
    static func compareDocumentReads(
        _ open: (MultiVectorFileReader.Options, BufferMode) throws(FileFormatError)
            -> MultiVectorFileReader
    ) -> Outcome {
        var options = MultiVectorFileReader.Options(maximumLineLength: 4096)
        options.maximumChunkBytes = 4096
        let direct = readDocuments(maxDocuments: 3) { () throws(FileFormatError) in
            try open(options, .direct)
        }
        options.bufferSize = 1
        options.maximumChunkBytes = 16
        let known = readDocuments(maxDocuments: 2) { () throws(FileFormatError) in
            try open(options, .chunked(readLimit: 1, sizeKnown: true))
        }
        options.bufferSize = 13
        options.maximumChunkBytes = 64
        let unknown = readDocuments(maxDocuments: 1000) { () throws(FileFormatError) in
            try open(options, .chunked(readLimit: 5, sizeKnown: false))
        }
        guard direct == known else {
            preconditionFailure("multi-vector documents: direct and chunked reads differ")
        }
        guard direct.sizeIndependent == unknown.sizeIndependent else {
            preconditionFailure("multi-vector documents: reads differ when the size is unknown")
        }
        return direct
    }

    /// Opens a multi-vector reader with `open` and reads it to the end, checking that
    /// chunks hold whole documents and that their bookkeeping adds up.
    static func readDocuments(
        maxDocuments: Int, _ open: () throws(FileFormatError) -> MultiVectorFileReader
    ) -> Outcome {
        var outcome = Outcome()
        do throws(FileFormatError) {
            var reader = try open()
            outcome.dimensions = reader.dimensions
            outcome.rowCount = reader.documentCount
            var chunk = TokenChunk()
            while true {
                let documents = try reader.read(into: &chunk, maxDocuments: maxDocuments)
                precondition(documents >= 0 && documents <= maxDocuments, "too many documents")
                if documents == 0 { break }
                precondition(chunk.documentCount == documents)
                precondition(chunk.firstDocument == outcome.rows)
                precondition(chunk.tokenCounts.count == documents)
                precondition(chunk.tokenCounts.allSatisfy { $0 > 0 }, "a document without tokens")
                let tokens = chunk.tokenCounts.reduce(0, +)
                precondition(chunk.floats.count == tokens * reader.dimensions, "partial document")
                precondition(chunk.keys.isEmpty || chunk.keys.count == documents)
                precondition(chunk.metadata.isEmpty || chunk.metadata.count == documents)
                outcome.rows += documents
                outcome.tokenCounts += chunk.tokenCounts
                outcome.floatBits += chunk.floats.map(\.bitPattern)
                outcome.keys += chunk.keys
                outcome.metadata += chunk.metadata
            }
            precondition(reader.documentsRead == outcome.rows)
            if let count = reader.documentCount { precondition(count == outcome.rows) }
            if let count = reader.tokenCount {
                precondition(count == outcome.tokenCounts.reduce(0, +))
            }
        } catch {
            // Documents before the error depend on the chunk size; only the error must agree.
            outcome = Outcome(error: comparable(error))
        }
        return outcome
    }

    /// A `.npy` file (format 1.0) with the given dtype, shape and data bytes.
    private static func npyFile(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        let text = NpyHeader(descr: descr, fortranOrder: false, shape: shape).encoded()
        return NpyHeader.magic + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text
            + data
    }

    /// The little-endian bytes of `value`.
    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    /// The big-endian bytes of `value`.
    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        littleEndian(value).reversed()
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
        var tokenCounts: [Int] = []
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
