/// Writes texmex `.fvecs`, `.bvecs` or `.ivecs` files: per row an `int32` dimension, then
/// the row's `float32`, `uint8` or `int32` components, all little-endian.
///
/// ```swift
/// var writer = try VecsWriter(path: "export.fvecs", kind: .fvecs, dimensions: 128)
/// try writer.write(chunk.floats)  // whole rows
/// try writer.finish()
/// ```
public struct VecsWriter: ~Copyable, Sendable {
    /// Which of the three formats to write.
    public enum Kind: Sendable, Hashable {
        /// `float32` components.
        case fvecs
        /// `uint8` components.
        case bvecs
        /// `int32` components (ground truth).
        case ivecs
    }

    /// The format written.
    public let kind: Kind
    /// The number of components per row.
    public let dimensions: Int
    /// The number of rows written so far.
    public private(set) var rowCount = 0

    private var output: ByteOutput
    private let dimensionField: [UInt8]

    /// Creates (or truncates) the file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file to write.
    ///   - kind: `.fvecs`, `.bvecs` or `.ivecs`.
    ///   - dimensions: Components per row (the same for every row).
    /// - Throws: ``FileFormatError/Code/invalidArgument`` when `dimensions` is not in
    ///   `1...Int32.max`, or an I/O error.
    public init(path: String, kind: Kind, dimensions: Int) throws(FileFormatError) {
        guard dimensions > 0, dimensions <= Int(Int32.max) else {
            throw FileFormatError(
                .invalidArgument, "dimensions must be in 1...\(Int32.max), not \(dimensions)",
                path: path)
        }
        let output = try ByteOutput(path: path)
        let field = UInt32(dimensions)
        self.output = output
        self.kind = kind
        self.dimensions = dimensions
        self.dimensionField = [
            UInt8(field & 0xFF), UInt8(field >> 8 & 0xFF), UInt8(field >> 16 & 0xFF),
            UInt8(field >> 24),
        ]
    }

    /// Appends whole `.fvecs` rows.
    ///
    /// - Parameter rows: Row-major floats; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError/Code/invalidArgument`` for a partial row or another kind
    ///   of writer, or an I/O error.
    public mutating func write(_ rows: Span<Float>) throws(FileFormatError) {
        try checkRows(rows.count, expected: .fvecs)
        for row in 0..<(rows.count / dimensions) {
            try output.write(dimensionField)
            let components = rows.extracting((row * dimensions)..<((row + 1) * dimensions))
            #if _endian(big)
                var swapped: [UInt32] = []
                for index in 0..<components.count {
                    swapped.append(components[index].bitPattern.littleEndian)
                }
                try output.write(raw: swapped.span)
            #else
                try output.write(raw: components)
            #endif
        }
        rowCount += rows.count / dimensions
    }

    /// Appends whole `.fvecs` rows (see ``write(_:)-(Span<Float>)``).
    ///
    /// - Parameter rows: Row-major floats; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError`` for a partial row, another kind, or an I/O error.
    public mutating func write(_ rows: [Float]) throws(FileFormatError) {
        try write(rows.span)
    }

    /// Appends whole `.bvecs` rows.
    ///
    /// - Parameter rows: Row-major bytes; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError/Code/invalidArgument`` for a partial row or another kind
    ///   of writer, or an I/O error.
    public mutating func write(_ rows: Span<UInt8>) throws(FileFormatError) {
        try checkRows(rows.count, expected: .bvecs)
        for row in 0..<(rows.count / dimensions) {
            try output.write(dimensionField)
            try output.write(raw: rows.extracting((row * dimensions)..<((row + 1) * dimensions)))
        }
        rowCount += rows.count / dimensions
    }

    /// Appends whole `.bvecs` rows (see ``write(_:)-(Span<UInt8>)``).
    ///
    /// - Parameter rows: Row-major bytes; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError`` for a partial row, another kind, or an I/O error.
    public mutating func write(_ rows: [UInt8]) throws(FileFormatError) {
        try write(rows.span)
    }

    /// Appends whole `.ivecs` rows.
    ///
    /// - Parameter rows: Row-major integers; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError/Code/invalidArgument`` for a partial row or another kind
    ///   of writer, or an I/O error.
    public mutating func write(_ rows: Span<Int32>) throws(FileFormatError) {
        try checkRows(rows.count, expected: .ivecs)
        for row in 0..<(rows.count / dimensions) {
            try output.write(dimensionField)
            let components = rows.extracting((row * dimensions)..<((row + 1) * dimensions))
            #if _endian(big)
                var swapped: [Int32] = []
                for index in 0..<components.count { swapped.append(components[index].littleEndian) }
                try output.write(raw: swapped.span)
            #else
                try output.write(raw: components)
            #endif
        }
        rowCount += rows.count / dimensions
    }

    /// Appends whole `.ivecs` rows (see ``write(_:)-(Span<Int32>)``).
    ///
    /// - Parameter rows: Row-major integers; the count must be a multiple of ``dimensions``.
    /// - Throws: ``FileFormatError`` for a partial row, another kind, or an I/O error.
    public mutating func write(_ rows: [Int32]) throws(FileFormatError) {
        try write(rows.span)
    }

    /// Writes the remaining rows and closes the file.
    ///
    /// - Throws: ``FileFormatError/Code/io`` when a write or the close fails.
    public consuming func finish() throws(FileFormatError) {
        try output.close()
    }

    private func checkRows(_ count: Int, expected: Kind) throws(FileFormatError) {
        guard kind == expected else {
            throw FileFormatError(
                .invalidArgument, "this writer writes .\(kind) rows", path: output.path)
        }
        guard count % dimensions == 0 else {
            throw FileFormatError(
                .invalidArgument,
                "\(count) components are not a whole number of \(dimensions)-component rows",
                path: output.path, row: rowCount + count / dimensions)
        }
    }
}
