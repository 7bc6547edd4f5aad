/// An error thrown by every reader, parser and writer in QuiverFiles.
///
/// Malformed, truncated or hostile input never traps: it throws a `FileFormatError` whose
/// ``code`` says what kind of problem it is and whose location fields say where it happened,
/// so that the `quiver` tool can print `file:line:column: message` and the user can fix the
/// input. Location fields that do not apply to a format are `nil`.
///
/// ```swift
/// do {
///     var reader = try VectorFileReader(path: "embeddings.fvecs")
///     …
/// } catch {
///     print(error)  // "embeddings.fvecs: row 41 (byte 21156): dimension 127 differs from 128 …"
/// }
/// ```
public struct FileFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem an error reports.
    ///
    /// A struct over a private enum, so that codes can be added without breaking `switch`es
    /// in client code; compare with `==` or match with `case .badMagic:`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case io, unknownFormat, badMagic, unsupportedVersion, malformedHeader
            case unsupportedDataType, unsupportedLayout, truncated, partialRow, trailingData
            case dimensionMismatch, invalidJSON, invalidUTF8, nestingTooDeep, numberOutOfRange
            case duplicateKey, invalidVector, invalidKey, lineTooLong, invalidTable
            case tooLarge, invalidArgument, invalidOffsets
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A system call failed (open, read, write, fstat); the message carries `strerror`.
        public static let io = Code(.io)
        /// The format could not be determined from the file extension.
        public static let unknownFormat = Code(.unknownFormat)
        /// The file does not start with the format's magic bytes (`\x93NUMPY` for .npy).
        public static let badMagic = Code(.badMagic)
        /// The file declares a format version this reader does not know.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A header is syntactically wrong, such as a .npy header dictionary that does not parse.
        public static let malformedHeader = Code(.malformedHeader)
        /// The element type is not one QuiverFiles reads, such as a .npy `dtype` of `<i8`.
        public static let unsupportedDataType = Code(.unsupportedDataType)
        /// The array layout is not 2-D C order, such as `fortran_order: True` or a 3-D shape.
        public static let unsupportedLayout = Code(.unsupportedLayout)
        /// A binary file ends inside its header, or before the rows its header declares.
        public static let truncated = Code(.truncated)
        /// The file size is not a whole number of rows; the offset names the partial row.
        public static let partialRow = Code(.partialRow)
        /// A .npy file continues past the rows its header declares (a wrong shape, or a
        /// writer that did not finish).
        public static let trailingData = Code(.trailingData)
        /// A row has a different number of components from the first row.
        public static let dimensionMismatch = Code(.dimensionMismatch)
        /// JSON text does not follow RFC 8259 (including text that ends too early), or a
        /// JSON Lines record has a value of the wrong type.
        public static let invalidJSON = Code(.invalidJSON)
        /// Text is not valid UTF-8 (bad sequence, overlong form, surrogate, lone surrogate escape).
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// JSON arrays and objects are nested deeper than ``JSONParser/maximumDepth``.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// A number is too large for its destination (a `Double`, or a `Float` vector component).
        public static let numberOutOfRange = Code(.numberOutOfRange)
        /// A JSON object has the same key twice (QuiverFiles rejects duplicates; see
        /// ``JSONParser``), or a table header has the same column twice.
        public static let duplicateKey = Code(.duplicateKey)
        /// A JSON Lines vector is missing, empty, or holds something other than finite numbers.
        public static let invalidVector = Code(.invalidVector)
        /// A JSON Lines `id` is neither a non-negative integer that fits `UInt64` nor a string,
        /// or is present on some lines and absent on others.
        public static let invalidKey = Code(.invalidKey)
        /// A line is longer than the reader's limit, which protects memory from hostile input.
        public static let lineTooLong = Code(.lineTooLong)
        /// A CSV or TSV table is malformed: bad quoting, or a row with the wrong number of cells.
        public static let invalidTable = Code(.invalidTable)
        /// A declared size overflows `Int` or exceeds what the reader accepts.
        public static let tooLarge = Code(.tooLarge)
        /// A writer was given data that does not fit what it was set up for.
        public static let invalidArgument = Code(.invalidArgument)
        /// A multi-vector offsets array does not start at 0, decreases, leaves a document
        /// without tokens, or does not end at the number of token rows.
        public static let invalidOffsets = Code(.invalidOffsets)

        /// The code's name, such as `badMagic`.
        public var description: String { value.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// What happened, in words meant for the person who has to fix the input.
    public var message: String
    /// The file the error is about, or `nil` for in-memory input.
    public var path: String?
    /// The zero-based byte offset in the file (or in-memory input) where the problem was found.
    public var byteOffset: Int?
    /// The one-based line number, for line-oriented formats (JSON Lines, CSV, TSV, JSON text).
    public var line: Int?
    /// The one-based column, counted in bytes from the start of ``line``.
    public var column: Int?
    /// The zero-based row (vector or table record) the problem belongs to.
    public var row: Int?

    /// Creates an error; readers fill in the location fields they know.
    ///
    /// - Parameters:
    ///   - code: What kind of problem this is.
    ///   - message: What happened, for the person who has to fix the input.
    ///   - path: The file, or `nil` for in-memory input.
    ///   - byteOffset: The zero-based byte offset of the problem.
    ///   - line: The one-based line number.
    ///   - column: The one-based column in bytes.
    ///   - row: The zero-based row.
    public init(
        _ code: Code, _ message: String, path: String? = nil, byteOffset: Int? = nil,
        line: Int? = nil, column: Int? = nil, row: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.byteOffset = byteOffset
        self.line = line
        self.column = column
        self.row = row
    }

    /// `path:line:column: message (row R, byte B) [code]`, leaving out what is unknown.
    public var description: String {
        var text = path ?? "<memory>"
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": \(message)"
        var location: [String] = []
        if let row { location.append("row \(row)") }
        if let byteOffset { location.append("byte \(byteOffset)") }
        if !location.isEmpty { text += " (\(location.joined(separator: ", ")))" }
        return text + " [\(code)]"
    }
}

extension FileFormatError {
    /// Returns a copy with the location fields that are still `nil` filled in from the
    /// arguments; the parsers report offsets relative to what they were given, and the
    /// readers call this to turn them into file positions.
    func located(
        path: String?, byteOffset: Int? = nil, line: Int? = nil, column: Int? = nil,
        row: Int? = nil
    ) -> FileFormatError {
        var copy = self
        if copy.path == nil { copy.path = path }
        if copy.byteOffset == nil { copy.byteOffset = byteOffset }
        if copy.line == nil { copy.line = line }
        if copy.column == nil { copy.column = column }
        if copy.row == nil { copy.row = row }
        return copy
    }
}
