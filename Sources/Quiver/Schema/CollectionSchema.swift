import QuiverKernels

/// How distances are measured. Every search reports a distance where smaller is closer.
///
/// Changing a raw value breaks stores.
public enum Metric: String, Sendable, Hashable, Codable, CaseIterable {
    /// Cosine distance `1 - cos(q, x)`. Vectors are stored normalised to unit length.
    case cosine
    /// Negative inner product `-q·x`.
    case dot
    /// Squared Euclidean distance `|q - x|²` (as FAISS reports it).
    case l2
    /// The number of differing bits, for binary vectors.
    case hamming
}

/// What a collection stores per record.
///
/// Changing a case or its coding breaks stores.
public enum VectorKind: Sendable, Hashable, Codable {
    /// Dense float32 vectors of `dimensions` components.
    case float32(dimensions: Int)
    /// Dense binary vectors of `dimensions` bits, packed 8 to a byte as `numpy.packbits`
    /// writes them (bit `i` is bit `7 - i % 8` of byte `i / 8`).
    ///
    /// With `keepsFloats` the records are written as floats: the bits are derived by sign
    /// (a component `> 0` gives 1) and the floats are kept, so a float query's Hamming shortlist
    /// is rescored at full precision with the collection's metric. Without it, only bits are
    /// stored and the metric must be ``Metric/hamming``.
    case binary(dimensions: Int, keepsFloats: Bool)
    /// Float32 vectors whose prefixes of the declared sizes are themselves embeddings
    /// (Matryoshka Representation Learning, Kusupati et al. 2022). Searches may use any
    /// declared prefix, re-normalised for cosine, and may shortlist on a prefix and rescore on
    /// the full vector.
    case matryoshka(dimensions: Int, prefixes: [Int])
    /// Multi-vector documents (ColBERT-style late interaction): a record is a matrix of token
    /// vectors of `dimensions` components, as many tokens as the document has, scored against
    /// a query's tokens by MaxSim (the sum over query tokens of the best dot product with the
    /// document's tokens).
    ///
    /// With `poolFactor` above 1 each document's tokens are pooled at ingest (Clavie, Chaffin,
    /// Adams 2024): the first `protectedTokens` are kept as they are, the others are clustered
    /// by Ward linkage into `max(1, (n - protectedTokens) / poolFactor)` clusters, and each
    /// cluster is stored as its mean re-normalised to unit length (see `TokenPooling`).
    /// The metric is ``Metric/dot`` or ``Metric/cosine`` (tokens stored at unit length).
    case multiVector(dimensions: Int, poolFactor: Int = 1, protectedTokens: Int = 1)

    /// The full number of dimensions (components or bits; for multi-vector documents, of one
    /// token).
    public var dimensions: Int {
        switch self {
        case .float32(let d), .binary(let d, _), .matryoshka(let d, _), .multiVector(let d, _, _): d
        }
    }

    /// Whether records carry float32 components in the collection's own rows (multi-vector
    /// documents keep their tokens in a token space of their own).
    var storesFloats: Bool {
        switch self {
        case .float32, .matryoshka: true
        case .binary(_, let keeps): keeps
        case .multiVector: false
        }
    }

    /// The token pooling of a multi-vector collection, `nil` for the other kinds.
    var tokenPooling: TokenPooling? {
        guard case .multiVector(_, let poolFactor, let protectedTokens) = self else { return nil }
        return TokenPooling(poolFactor: max(1, poolFactor), protectedTokens: max(0, protectedTokens))
    }

    /// Whether records carry packed bits.
    var storesBits: Bool {
        if case .binary = self { return true }
        return false
    }
}

/// A metadata field of a collection's schema.
public struct FieldDefinition: Sendable, Hashable, Codable {
    /// The field's name: 1 to 64 bytes of letters, digits, `_`, `-` and `.`, starting with a
    /// letter or `_`.
    public var name: String
    /// The field's type.
    public var type: FieldType
    /// Whether filters may use the field. A filterable field has a secondary index
    /// (value → rows) kept in the same transaction as every write.
    public var filterable: Bool

    /// Creates a field definition.
    public init(_ name: String, _ type: FieldType, filterable: Bool = true) {
        self.name = name
        self.type = type
        self.filterable = filterable
    }
}

/// The shape of a collection: vector kind, metric, key kind and metadata fields.
///
/// Stored in the store at creation and checked on every write.
///
/// ```swift
/// let schema = CollectionSchema(
///     vectors: .float32(dimensions: 384), metric: .cosine,
///     fields: [FieldDefinition("section", .string), FieldDefinition("size", .int64)])
/// ```
public struct CollectionSchema: Sendable, Hashable, Codable {
    /// What each record stores.
    public var vectors: VectorKind
    /// How distances are measured.
    public var metric: Metric
    /// Whether keys are integers or strings.
    public var keyKind: KeyKind
    /// The metadata fields, in a fixed order (the order is part of the stored encoding).
    public var fields: [FieldDefinition]

    /// Creates a schema.
    public init(vectors: VectorKind, metric: Metric, keyKind: KeyKind = .uint64, fields: [FieldDefinition] = []) {
        self.vectors = vectors
        self.metric = metric
        self.keyKind = keyKind
        self.fields = fields
    }

    /// The largest number of dimensions (components or bits) a collection may have.
    public static let maximumDimensions = 65_536
    /// The largest number of metadata fields.
    public static let maximumFields = 250
    /// The largest token pooling factor of a multi-vector collection.
    public static let maximumPoolFactor = 64
    /// The most tokens one multi-vector document may have (before pooling).
    public static let maximumTokensPerDocument = 16_384

    /// Checks the schema; throws ``QuiverError/Code/invalidSchema`` naming what is wrong.
    public func validate(collection: String? = nil) throws(QuiverError) {
        func fail(_ message: String, field: String? = nil) -> QuiverError {
            QuiverError(.invalidSchema, message, collection: collection, field: field)
        }
        let d = vectors.dimensions
        guard d >= 1, d <= Self.maximumDimensions else {
            throw fail("dimensions must be in 1...\(Self.maximumDimensions), got \(d)")
        }
        switch vectors {
        case .float32:
            guard metric != .hamming else { throw fail("hamming needs binary vectors") }
        case .binary(_, let keepsFloats):
            if !keepsFloats && metric != .hamming {
                throw fail("binary vectors without kept floats are ranked by hamming, not \(metric)")
            }
        case .matryoshka(_, let prefixes):
            guard metric != .hamming else { throw fail("hamming needs binary vectors") }
            guard !prefixes.isEmpty else { throw fail("matryoshka needs at least one prefix size") }
            guard prefixes == prefixes.sorted(), Set(prefixes).count == prefixes.count,
                let first = prefixes.first, first >= 1, let last = prefixes.last, last <= d
            else {
                throw fail("prefix sizes must be ascending, distinct and in 1...\(d), got \(prefixes)")
            }
        case .multiVector(_, let poolFactor, let protectedTokens):
            guard metric == .dot || metric == .cosine else { throw fail("multi-vector documents are scored by MaxSim on dot or cosine, not \(metric)") }
            guard (1...Self.maximumPoolFactor).contains(poolFactor) else {
                throw fail("poolFactor must be in 1...\(Self.maximumPoolFactor), got \(poolFactor)")
            }
            guard (0...Self.maximumTokensPerDocument).contains(protectedTokens) else {
                throw fail("protectedTokens must be in 0...\(Self.maximumTokensPerDocument), got \(protectedTokens)")
            }
        }
        guard fields.count <= Self.maximumFields else {
            throw fail("at most \(Self.maximumFields) fields, got \(fields.count)")
        }
        var seen = Set<String>()
        for field in fields {
            guard Self.isValidFieldName(field.name) else {
                throw fail("invalid field name \(quoted(field.name)): use 1-64 letters, digits, _ - .", field: field.name)
            }
            guard seen.insert(field.name).inserted else {
                throw fail("field \(quoted(field.name)) is declared twice", field: field.name)
            }
        }
    }

    static func isValidFieldName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        guard isLetter(bytes[0]) else { return false }
        return bytes.allSatisfy { isLetter($0) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
    }

    /// Field name → index in ``fields``.
    func fieldIndex() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1.name, $0) })
    }
}
