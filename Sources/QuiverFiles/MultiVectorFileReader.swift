/// Streams multi-vector (ColBERT-style) documents, whole documents a chunk at a time, into
/// reusable buffers: each document is a matrix of token vectors, its number of tokens its
/// own, plus (for JSON Lines) a key and metadata.
///
/// Two layouts are read:
/// - a `.npy` token matrix (T × d, `<f4`, or `<f2`/`<f8` converted, as
///   ``VectorFileReader`` reads it) with an offsets `.npy` (see ``TokenOffsets``): document
///   `i` is token rows `offsets[i] ..< offsets[i + 1]`;
/// - JSON Lines, one document per line: `{"id": 7, "vectors": [[0.1, …], …], "metadata":
///   {…}}`, with the id and metadata optional exactly as for ``VectorFileReader``'s records.
///   Every token of every document has the dimension of the first document's first token.
///
/// The initializer reads the headers (for JSON Lines, the first document) so that
/// ``dimensions`` and, for `.npy`, ``documentCount`` are known before the first document.
///
/// ```swift
/// var reader = try MultiVectorFileReader(tokensPath: "tokens.npy", offsetsPath: "offsets.npy")
/// var chunk = TokenChunk()
/// while try reader.read(into: &chunk, maxDocuments: 1024) > 0 {
///     var start = 0
///     for document in 0..<chunk.documentCount {
///         let count = chunk.tokenCounts[document] * reader.dimensions
///         let tokens = chunk.floats[start ..< start + count]
///         start += count
///         …
///     }
/// }
/// ```
///
/// Every malformed, truncated or hostile input throws a ``FileFormatError`` naming the
/// file, the byte offset and the document (as ``FileFormatError/row``; for JSON Lines also
/// the line and column; for `.npy` token data the token row); after an error, later calls to
/// ``read(into:maxDocuments:)`` throw the same error. As with ``VectorFileReader``, NaN and
/// infinities in `.npy` tokens are passed through unchecked; JSON Lines numbers must be
/// finite.
///
/// The reader is noncopyable because it owns the open files, which it closes when it goes
/// away; pass it `inout` or `consuming`.
public struct MultiVectorFileReader: ~Copyable, Sendable {
    /// Settings for a ``MultiVectorFileReader``; the field names apply to JSON Lines only.
    public struct Options: Sendable {
        /// The JSON Lines field holding the document key (`"id"`).
        public var idField: String
        /// The JSON Lines field holding the token vectors, an array of arrays of numbers
        /// (`"vectors"`).
        public var vectorsField: String
        /// The JSON Lines field holding the metadata object (`"metadata"`).
        public var metadataField: String
        /// The longest JSON Lines line accepted, in bytes (64 MiB); it bounds the memory a
        /// hostile file can make the reader allocate, and so the size of one document.
        public var maximumLineLength: Int
        /// The read buffer's size; tests make it tiny to drive the refill paths.
        var bufferSize = ByteInput.defaultBufferSize
        /// The most bytes of token floats one ``MultiVectorFileReader/read(into:maxDocuments:)``
        /// adds documents up to (it always returns at least one whole document).
        var maximumChunkBytes = 64 << 20

        /// Creates options; every parameter has the default described on its property.
        ///
        /// - Parameters:
        ///   - idField: The JSON Lines key field.
        ///   - vectorsField: The JSON Lines token vectors field.
        ///   - metadataField: The JSON Lines metadata field.
        ///   - maximumLineLength: The longest JSON Lines line accepted.
        public init(
            idField: String = "id", vectorsField: String = "vectors",
            metadataField: String = "metadata", maximumLineLength: Int = 64 << 20
        ) {
            self.idField = idField
            self.vectorsField = vectorsField
            self.metadataField = metadataField
            self.maximumLineLength = maximumLineLength
        }

        /// The record field names these options set.
        var fields: JSONLinesFields {
            JSONLinesFields(id: idField, vector: vectorsField, metadata: metadataField)
        }
    }

    /// The dimension of every token vector. Zero only for an empty JSON Lines file.
    public let dimensions: Int
    /// The number of documents, known up front for a `.npy` token matrix (from its
    /// offsets); `nil` for JSON Lines.
    public let documentCount: Int?
    /// The number of token rows of all documents together, known up front for a `.npy`
    /// token matrix; `nil` for JSON Lines.
    public let tokenCount: Int?
    /// The number of documents returned so far, which is also the index of the next one.
    public private(set) var documentsRead = 0

    /// The `.npy` token matrix and offsets, or `nil` for JSON Lines.
    private var matrix: MatrixSource?
    /// The JSON Lines input, or `nil` for a `.npy` token matrix.
    private var lines: LinesSource?
    /// The error that stopped reading, thrown again by later reads.
    private var failure: FileFormatError?

    /// Opens a `.npy` token matrix and its offsets file and reads their headers (all of
    /// the offsets, which are small).
    ///
    /// - Parameters:
    ///   - tokensPath: The token matrix: a 2-D `.npy` of `<f4` (or `<f2`, `<f8`), one row
    ///     per token.
    ///   - offsetsPath: The offsets: a 1-D `.npy` of D + 1 integers (see ``TokenOffsets``).
    ///   - options: Reader settings; the JSON Lines field names are not used.
    /// - Throws: ``FileFormatError`` when a file cannot be opened, a header is invalid, the
    ///   tokens are not floats, the offsets are invalid, or the last offset is not the
    ///   number of token rows (``FileFormatError/Code/invalidOffsets``).
    public init(
        tokensPath: String, offsetsPath: String, options: Options = Options()
    ) throws(FileFormatError) {
        var offsetsInput = try ByteInput(path: offsetsPath, bufferSize: options.bufferSize)
        let offsets = try TokenOffsets.read(&offsetsInput)
        let tokens = try VectorFileReader(
            path: tokensPath, options: MatrixSource.tokenOptions(options))
        self.init(
            matrix: try MatrixSource(
                tokens: tokens, offsets: offsets, offsetsPath: offsetsPath, options: options))
    }

    /// Opens a JSON Lines file of documents and reads its first document.
    ///
    /// - Parameters:
    ///   - path: The file, with one document per line; blank lines are skipped.
    ///   - options: Field names and limits.
    /// - Throws: ``FileFormatError`` when the file cannot be opened or its first document
    ///   is invalid (with line and column), or ``FileFormatError/Code/unknownFormat`` when
    ///   `path` ends in `.npy`, which needs an offsets file
    ///   (``init(tokensPath:offsetsPath:options:)``).
    public init(path: String, options: Options = Options()) throws(FileFormatError) {
        guard pathExtension(of: path).lowercased() != "npy" else {
            throw FileFormatError(
                .unknownFormat,
                "a .npy token matrix needs an offsets file; this reads JSON Lines documents",
                path: path)
        }
        self.init(
            lines: try LinesSource(
                input: ByteInput(path: path, bufferSize: options.bufferSize), options: options))
    }

    /// Reads documents from a `.npy` token matrix and offsets in memory (for tests,
    /// fuzzing, and data that is already loaded).
    ///
    /// - Parameters:
    ///   - tokenBytes: The complete token `.npy` file.
    ///   - offsetBytes: The complete offsets `.npy` file.
    ///   - options: Reader settings.
    /// - Throws: ``FileFormatError`` as ``init(tokensPath:offsetsPath:options:)`` does.
    public init(
        tokenBytes: [UInt8], offsetBytes: [UInt8], options: Options = Options()
    ) throws(FileFormatError) {
        let offsets = try TokenOffsets.read(bytes: offsetBytes)
        let tokens = try VectorFileReader(
            bytes: tokenBytes, format: .npy, options: MatrixSource.tokenOptions(options))
        self.init(
            matrix: try MatrixSource(
                tokens: tokens, offsets: offsets, offsetsPath: nil, options: options))
    }

    /// Reads JSON Lines documents from bytes in memory (for tests, fuzzing, and data that
    /// is already loaded).
    ///
    /// - Parameters:
    ///   - bytes: The complete JSON Lines text.
    ///   - options: Field names and limits.
    /// - Throws: ``FileFormatError`` when the first document is invalid.
    public init(bytes: [UInt8], options: Options = Options()) throws(FileFormatError) {
        self.init(lines: try LinesSource(input: ByteInput(bytes: bytes), options: options))
    }

    /// Reads a token matrix and offsets in memory in chunked mode (see ``ByteInput``), for
    /// tests and fuzzing.
    init(
        chunkedTokenBytes tokenBytes: [UInt8], offsetBytes: [UInt8],
        options: Options = Options(), readLimit: Int, sizeKnown: Bool
    ) throws(FileFormatError) {
        var offsetsInput = ByteInput(
            bytes: offsetBytes, bufferSize: options.bufferSize, readLimit: readLimit,
            sizeKnown: sizeKnown)
        let offsets = try TokenOffsets.read(&offsetsInput)
        let tokens = try VectorFileReader(
            chunkedBytes: tokenBytes, format: .npy, options: MatrixSource.tokenOptions(options),
            readLimit: readLimit, sizeKnown: sizeKnown)
        self.init(
            matrix: try MatrixSource(
                tokens: tokens, offsets: offsets, offsetsPath: nil, options: options))
    }

    /// Reads JSON Lines in memory in chunked mode (see ``ByteInput``), for tests and fuzzing.
    init(
        chunkedBytes bytes: [UInt8], options: Options = Options(), readLimit: Int,
        sizeKnown: Bool
    ) throws(FileFormatError) {
        self.init(
            lines: try LinesSource(
                input: ByteInput(
                    bytes: bytes, bufferSize: options.bufferSize, readLimit: readLimit,
                    sizeKnown: sizeKnown), options: options))
    }

    private init(matrix: consuming MatrixSource) {
        dimensions = matrix.tokens.dimensions
        documentCount = matrix.offsets.count - 1
        tokenCount = matrix.offsets.last
        self.matrix = consume matrix
        lines = nil
    }

    private init(lines: consuming LinesSource) {
        dimensions = lines.dimensions
        documentCount = nil
        tokenCount = nil
        matrix = nil
        self.lines = consume lines
    }

    /// Reads up to `maxDocuments` whole documents into `chunk`, replacing its contents.
    ///
    /// A document is never split across chunks. A call may return fewer than
    /// `maxDocuments` documents before the end: it adds no more documents once it holds 64
    /// MiB of token floats, so that a huge `maxDocuments` cannot make it allocate without
    /// bound; it always returns at least one whole document, however large (a JSON Lines
    /// document is bounded by ``Options/maximumLineLength``). Only 0 means the end.
    ///
    /// - Parameters:
    ///   - chunk: Receives the documents; its buffers keep their capacity between calls.
    ///   - maxDocuments: The most documents to read.
    /// - Returns: The number of documents read; 0 at the end.
    /// - Throws: ``FileFormatError`` naming the file, byte offset and document (and line
    ///   and column for JSON Lines) of the first problem; the same error again on later
    ///   calls.
    /// - Precondition: `maxDocuments > 0`.
    /// - Complexity: O(tokens read · ``dimensions``).
    public mutating func read(
        into chunk: inout TokenChunk, maxDocuments: Int
    ) throws(FileFormatError) -> Int {
        precondition(maxDocuments > 0, "maxDocuments must be positive")
        if let failure { throw failure }
        chunk.reset(firstDocument: documentsRead)
        do throws(FileFormatError) {
            let documents: Int
            if matrix != nil {
                documents = try matrix!.read(
                    into: &chunk, maxDocuments: maxDocuments, from: documentsRead)
            } else {
                documents = try lines!.read(
                    into: &chunk, maxDocuments: maxDocuments, from: documentsRead)
            }
            documentsRead += documents
            chunk.documentCount = documents
            return documents
        } catch {
            failure = error
            throw error
        }
    }
}
