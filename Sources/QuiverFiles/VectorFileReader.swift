/// Streams vectors out of a `.npy`, `.fvecs`, `.bvecs` or JSON Lines file, a chunk of rows at a
/// time, into reusable buffers.
///
/// The initializer reads the header (for JSON Lines, the first record) so that
/// ``dimensions``, ``elementKind`` and, for the binary formats, ``rowCount`` are known
/// before the first row. ``read(into:maxRows:)`` then fills a ``VectorChunk`` with POSIX
/// `read()` calls of about a megabyte (float32 `.npy` rows are read straight into the
/// chunk), so reading allocates nothing per row and runs at disk or page-cache speed.
///
/// ```swift
/// var reader = try VectorFileReader(path: "base.fvecs")
/// var chunk = VectorChunk()
/// while try reader.read(into: &chunk, maxRows: 4096) > 0 {
///     for row in 0..<chunk.rowCount {
///         let vector = chunk.floats[row * reader.dimensions ..< (row + 1) * reader.dimensions]
///         …
///     }
/// }
/// ```
///
/// Every malformed, truncated or hostile input throws a ``FileFormatError`` naming the row
/// and byte offset (and line and column for JSON Lines); after an error, later calls to
/// ``read(into:maxRows:)`` throw the same error. **NaN and infinities inside binary float
/// files are passed through unchecked**, to keep the reader at memory speed; the engine
/// validates vectors on import. (JSON Lines vectors, which are parsed anyway, must be
/// finite.)
///
/// The reader is noncopyable because it owns the open file, which it closes when it goes
/// away; pass it `inout` or `consuming`.
public struct VectorFileReader: ~Copyable, Sendable {
    /// Settings for a ``VectorFileReader``.
    public struct Options: Sendable {
        /// The format, or `nil` to detect it from the file extension.
        public var format: VectorFileFormat?
        /// Whether byte elements (`|u1` `.npy`, `.bvecs`) are bit-packed binary vectors:
        /// then ``VectorFileReader/elementKind`` is ``VectorElementKind/packedBits(bits:)``
        /// and ``VectorFileReader/dimensions`` counts bits (8 per byte).
        public var bytesArePackedBits: Bool
        /// The JSON Lines field holding the record key (`"id"`).
        public var idField: String
        /// The JSON Lines field holding the vector (`"vector"`).
        public var vectorField: String
        /// The JSON Lines field holding the metadata object (`"metadata"`).
        public var metadataField: String
        /// The longest JSON Lines line accepted, in bytes (64 MiB); it bounds the memory a
        /// hostile file can make the reader allocate.
        public var maximumLineLength: Int
        /// The read buffer's size; tests make it tiny to drive the refill paths.
        var bufferSize = ByteInput.defaultBufferSize
        /// The most bytes of rows one ``VectorFileReader/read(into:maxRows:)`` returns.
        var maximumChunkBytes = 64 << 20

        /// Creates options; every parameter has the default described on its property.
        ///
        /// - Parameters:
        ///   - format: The format, or `nil` to detect it from the extension.
        ///   - bytesArePackedBits: Whether byte elements are packed bits.
        ///   - idField: The JSON Lines key field.
        ///   - vectorField: The JSON Lines vector field.
        ///   - metadataField: The JSON Lines metadata field.
        ///   - maximumLineLength: The longest JSON Lines line accepted.
        public init(
            format: VectorFileFormat? = nil, bytesArePackedBits: Bool = false,
            idField: String = "id", vectorField: String = "vector",
            metadataField: String = "metadata", maximumLineLength: Int = 64 << 20
        ) {
            self.format = format
            self.bytesArePackedBits = bytesArePackedBits
            self.idField = idField
            self.vectorField = vectorField
            self.metadataField = metadataField
            self.maximumLineLength = maximumLineLength
        }
    }

    /// The file's format.
    public let format: VectorFileFormat
    /// The vector dimension: floats per row for float32, bytes per row for uint8, bits per
    /// row for packed bits. Zero only for an empty `.fvecs`/`.bvecs`/JSON Lines file.
    public let dimensions: Int
    /// The number of rows, when the format says it up front (.npy; .fvecs and .bvecs from the
    /// file size); `nil` for JSON Lines and for binary input from a pipe.
    public let rowCount: Int?
    /// What a component is, and so whether rows land in ``VectorChunk/floats`` or
    /// ``VectorChunk/bytes``.
    public let elementKind: VectorElementKind
    /// The number of rows returned so far, which is also the index of the next row.
    public private(set) var rowsRead = 0

    /// The bytes of one row in the chunk: `4 · dimensions` for float32, `dimensions` for
    /// uint8, `dimensions / 8` for packed bits.
    public var bytesPerRow: Int {
        switch elementKind {
        case .float32: dimensions * 4
        case .uint8: dimensions
        case .packedBits(let bits): bits / 8
        }
    }

    /// The file path, or `nil` for in-memory input.
    public var path: String? { input.path }

    var input: ByteInput
    let options: Options
    /// How rows are stored in the file.
    let encoding: RowEncoding
    /// The file offset of the first row (after the .npy header).
    let dataOffset: Int
    /// JSON Lines state: line numbers and whether records have keys.
    var lines: JSONLinesState
    /// The error that stopped reading, thrown again by later reads.
    private var failure: FileFormatError?
    /// A scratch buffer for rows that need conversion (float16, float64, byte-swapped).
    var scratch: [UInt8] = []

    /// Opens the file at `path` and reads its header.
    ///
    /// - Parameters:
    ///   - path: The file to read.
    ///   - options: The format (detected from the extension by default) and format settings.
    /// - Throws: ``FileFormatError`` when the file cannot be opened, its format cannot be
    ///   detected, or its header (for JSON Lines, its first record) is invalid.
    public init(path: String, options: Options = Options()) throws(FileFormatError) {
        let format: VectorFileFormat
        if let chosen = options.format {
            format = chosen
        } else {
            format = try VectorFileFormat.detect(path: path)
        }
        try self.init(
            input: ByteInput(path: path, bufferSize: options.bufferSize), format: format,
            options: options)
    }

    /// Reads vectors from bytes in memory, as from a file of the given format (for tests,
    /// fuzzing, and data that is already loaded).
    ///
    /// - Parameters:
    ///   - bytes: The complete file contents.
    ///   - format: The format of `bytes`.
    ///   - options: Format settings; `options.format` is ignored.
    /// - Throws: ``FileFormatError`` when the header (or first JSON Lines record) is invalid.
    public init(
        bytes: [UInt8], format: VectorFileFormat, options: Options = Options()
    ) throws(FileFormatError) {
        try self.init(input: ByteInput(bytes: bytes), format: format, options: options)
    }

    /// Reads in-memory bytes in chunked mode (see ``ByteInput``), for tests and fuzzing.
    init(
        chunkedBytes bytes: [UInt8], format: VectorFileFormat, options: Options = Options(),
        readLimit: Int, sizeKnown: Bool
    ) throws(FileFormatError) {
        try self.init(
            input: ByteInput(
                bytes: bytes, bufferSize: options.bufferSize, readLimit: readLimit,
                sizeKnown: sizeKnown), format: format, options: options)
    }

    private init(
        input: consuming ByteInput, format: VectorFileFormat, options: Options
    ) throws(FileFormatError) {
        var input = input
        let header: Header
        switch format {
        case .npy: header = try VectorFileReader.readNpyHeader(&input, options: options)
        case .fvecs, .bvecs:
            header = try VectorFileReader.readVecsHeader(&input, format: format, options: options)
        case .jsonLines:
            header = try VectorFileReader.readFirstJSONLine(&input, options: options)
        }
        self.input = input
        self.format = format
        self.options = options
        self.dimensions = header.dimensions
        self.rowCount = header.rowCount
        self.elementKind = header.elementKind
        self.encoding = header.encoding
        self.dataOffset = header.dataOffset
        self.lines = header.lines
    }

    /// Reads up to `maxRows` rows into `chunk`, replacing its contents.
    ///
    /// A call may return fewer than `maxRows` rows before the end of the file: it stops
    /// at 64 MiB of rows, so that a huge `maxRows` (or a header declaring billions
    /// of rows, read from a pipe) cannot make it allocate without bound. Only 0 means the
    /// end.
    ///
    /// - Parameters:
    ///   - chunk: Receives the rows; its buffers keep their capacity between calls.
    ///   - maxRows: The most rows to read.
    /// - Returns: The number of rows read; 0 at the end of the file.
    /// - Throws: ``FileFormatError`` naming the row and byte offset (and line and column
    ///   for JSON Lines) of the first problem; the same error again on later calls.
    /// - Precondition: `maxRows > 0`.
    /// - Complexity: O(`maxRows · dimensions`).
    public mutating func read(
        into chunk: inout VectorChunk, maxRows: Int
    ) throws(FileFormatError) -> Int {
        precondition(maxRows > 0, "maxRows must be positive")
        if let failure { throw failure }
        chunk.reset(firstRow: rowsRead)
        do throws(FileFormatError) {
            let rows: Int
            switch encoding {
            case .jsonLines:
                rows = try readJSONLines(into: &chunk, maxRows: maxRows)
            case .vecs(let elementSize):
                rows = try readVecsRows(into: &chunk, maxRows: maxRows, elementSize: elementSize)
            default:
                rows = try readNpyRows(into: &chunk, maxRows: maxRows)
            }
            rowsRead += rows
            chunk.rowCount = rows
            return rows
        } catch {
            failure = error
            throw error
        }
    }

    /// What the format-specific header readers find out.
    struct Header: Sendable {
        var dimensions: Int
        var rowCount: Int?
        var elementKind: VectorElementKind
        var encoding: RowEncoding
        var dataOffset = 0
        var lines = JSONLinesState()
    }

    /// How one row is stored in the file.
    enum RowEncoding: Equatable, Sendable {
        /// Little-endian float32 (.npy `<f4`), read straight into the chunk.
        case float32
        /// Another .npy element type, converted to float32 (or bytes) through `scratch`.
        case converted(NpyDataType)
        /// .npy `|u1`, read straight into the chunk's bytes.
        case uint8
        /// `.fvecs` (4) or `.bvecs` (1): an int32 dimension before each row.
        case vecs(elementSize: Int)
        /// JSON Lines.
        case jsonLines
    }

    /// An error at the current row, with the path filled in.
    func error(
        _ code: FileFormatError.Code, _ message: String, byteOffset: Int?, row: Int? = nil
    ) -> FileFormatError {
        FileFormatError(code, message, path: input.path, byteOffset: byteOffset, row: row)
    }
}
