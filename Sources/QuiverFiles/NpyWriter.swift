/// Writes a 2-D NumPy `.npy` file (format 1.0) of float32 (`<f4`) or uint8 (`|u1`) rows,
/// streaming: rows go to disk as they come, and ``finish()`` patches the row count into the
/// header.
///
/// The header is padded with spaces, as NumPy pads it, so that the data starts at a
/// multiple of 64 bytes, and it is sized for the largest row count up front so that the
/// patch never moves the data. A writer dropped without ``finish()`` leaves an incomplete
/// file (its header declares 0 rows, and buffered rows are lost) that ``VectorFileReader``
/// rejects.
///
/// ```swift
/// var writer = try NpyWriter(path: "export.npy", elementType: .float32, dimensions: 384)
/// try writer.write(chunk.floats)  // any number of whole rows, any number of times
/// try writer.finish()
/// // Python: numpy.load("export.npy").shape == (rows, 384)
/// ```
public struct NpyWriter: ~Copyable, Sendable {
    /// The element types an ``NpyWriter`` writes.
    public enum ElementType: Sendable, Hashable {
        /// Little-endian 32-bit floats, dtype `<f4`.
        case float32
        /// Bytes, dtype `|u1` (uint8 components, or packed bits).
        case uint8
    }

    /// The element type of the file.
    public let elementType: ElementType
    /// The number of elements per row.
    public let dimensions: Int
    /// The number of rows written so far.
    public private(set) var rowCount = 0

    private var output: ByteOutput
    private let headerLength: Int

    /// Creates (or truncates) the file at `path` and writes a provisional header.
    ///
    /// - Parameters:
    ///   - path: The file to write.
    ///   - elementType: `.float32` (`<f4`) or `.uint8` (`|u1`).
    ///   - dimensions: Elements per row (for packed bits: bytes per row).
    /// - Throws: ``FileFormatError/Code/invalidArgument`` when `dimensions < 1`, or an I/O
    ///   error.
    public init(
        path: String, elementType: ElementType, dimensions: Int
    ) throws(FileFormatError) {
        guard dimensions > 0 else {
            throw FileFormatError(
                .invalidArgument, "dimensions must be positive, not \(dimensions)", path: path)
        }
        // Size the header for the longest row count there can be, so the patch fits.
        let headerLength = NpyWriter.header(elementType, rows: Int.max, dimensions: dimensions)
            .count
        var output = try ByteOutput(path: path)
        try output.write(
            NpyWriter.header(
                elementType, rows: 0, dimensions: dimensions, minimumLength: headerLength))
        // A noncopyable value must be fully initialized or not at all when init throws,
        // so every stored property is set after the last `try`.
        self.output = output
        self.elementType = elementType
        self.dimensions = dimensions
        self.headerLength = headerLength
    }

    /// Appends whole float32 rows.
    ///
    /// - Parameter rows: Row-major floats; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError/Code/invalidArgument`` for a partial row or a uint8
    ///   writer, or an I/O error.
    public mutating func write(_ rows: Span<Float>) throws(FileFormatError) {
        try checkRows(rows.count, expected: .float32)
        #if _endian(big)
            var swapped: [UInt32] = []
            for index in 0..<rows.count { swapped.append(rows[index].bitPattern.littleEndian) }
            try output.write(raw: swapped.span)
        #else
            try output.write(raw: rows)
        #endif
        rowCount += rows.count / dimensions
    }

    /// Appends whole float32 rows (see ``write(_:)-(Span<Float>)``).
    ///
    /// - Parameter rows: Row-major floats; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError`` for a partial row, a uint8 writer, or an I/O error.
    public mutating func write(_ rows: [Float]) throws(FileFormatError) {
        try write(rows.span)
    }

    /// Appends whole uint8 rows.
    ///
    /// - Parameter rows: Row-major bytes; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError/Code/invalidArgument`` for a partial row or a float32
    ///   writer, or an I/O error.
    public mutating func write(_ rows: Span<UInt8>) throws(FileFormatError) {
        try checkRows(rows.count, expected: .uint8)
        try output.write(raw: rows)
        rowCount += rows.count / dimensions
    }

    /// Appends whole uint8 rows (see ``write(_:)-(Span<UInt8>)``).
    ///
    /// - Parameter rows: Row-major bytes; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError`` for a partial row, a float32 writer, or an I/O error.
    public mutating func write(_ rows: [UInt8]) throws(FileFormatError) {
        try write(rows.span)
    }

    /// Writes the remaining rows, patches the row count into the header and closes the file.
    ///
    /// - Throws: ``FileFormatError/Code/io`` when a write or the close fails.
    public consuming func finish() throws(FileFormatError) {
        try output.flush()
        try output.overwrite(
            NpyWriter.header(
                elementType, rows: rowCount, dimensions: dimensions, minimumLength: headerLength),
            at: 0)
        try output.close()
    }

    private func checkRows(_ count: Int, expected: ElementType) throws(FileFormatError) {
        guard elementType == expected else {
            throw FileFormatError(
                .invalidArgument, "this writer writes \(elementType) rows", path: output.path)
        }
        guard count % dimensions == 0 else {
            throw FileFormatError(
                .invalidArgument,
                "\(count) elements are not a whole number of \(dimensions)-element rows",
                path: output.path, row: rowCount + count / dimensions)
        }
    }

    /// The preamble and header for `rows` rows, at least `minimumLength` bytes long.
    static func header(
        _ elementType: ElementType, rows: Int, dimensions: Int, minimumLength: Int = 0
    ) -> [UInt8] {
        let header = NpyHeader(
            descr: elementType == .float32 ? "<f4" : "|u1", fortranOrder: false,
            shape: [rows, dimensions])
        let text = header.encoded(minimumLength: minimumLength)
        var bytes = NpyHeader.magic
        bytes.append(contentsOf: [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)])
        bytes.append(contentsOf: text)
        return bytes
    }
}
