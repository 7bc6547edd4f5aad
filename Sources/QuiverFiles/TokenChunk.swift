/// Whole multi-vector documents read by
/// ``MultiVectorFileReader/read(into:maxDocuments:)``, in buffers that are reused from one
/// call to the next.
///
/// A document is a matrix of token vectors, each ``MultiVectorFileReader/dimensions``
/// floats long; documents differ in their number of tokens. Document `i` of the chunk has
/// `tokenCounts[i]` tokens, which follow the tokens of the documents before it in
/// ``floats``:
///
/// ```swift
/// var start = 0
/// for document in 0..<chunk.documentCount {
///     let count = chunk.tokenCounts[document] * reader.dimensions
///     let tokens = chunk.floats[start ..< start + count]  // row-major token matrix
///     start += count
/// }
/// ```
public struct TokenChunk: Sendable {
    /// The token vectors of every document in the chunk, row-major, in document order.
    public var floats: [Float] = []
    /// The number of tokens of each document, one entry per document; never 0.
    public var tokenCounts: [Int] = []
    /// One key per document when the file has keys (JSON Lines with an `id` field); else
    /// empty.
    public var keys: [RecordKeyValue] = []
    /// One metadata object per document for JSON Lines (empty when a line has none); empty
    /// for `.npy` tokens.
    public var metadata: [[String: JSONValue]] = []
    /// The zero-based index in the file of the chunk's first document.
    public var firstDocument = 0
    /// The number of documents in the chunk.
    public var documentCount = 0

    /// Creates an empty chunk.
    public init() {}

    /// Empties the chunk for a read starting at `document`, keeping every buffer's capacity.
    mutating func reset(firstDocument document: Int) {
        firstDocument = document
        documentCount = 0
        floats.removeAll(keepingCapacity: true)
        tokenCounts.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        metadata.removeAll(keepingCapacity: true)
    }
}
