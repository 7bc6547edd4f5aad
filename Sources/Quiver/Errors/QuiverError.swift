import QuiverStorage

/// The one error type of Quiver's public API: a code to switch on and the context to act on.
///
/// Bad input (wrong dimensions, NaN components, unknown fields, malformed filters) is checked
/// before anything is written, and a failed write commits nothing. See `docs/errors.md` for
/// every code's cause and remedy.
public struct QuiverError: Error, Sendable, CustomStringConvertible, StorageErrorWrapping {
    /// A stable error category. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        /// The code's name, such as `dimensionMismatch`.
        public var description: String { name }

        /// A vector's length does not match the collection's dimensions.
        public static let dimensionMismatch = Code("dimensionMismatch")
        /// A vector is empty or has a NaN or infinite component.
        public static let invalidVector = Code("invalidVector")
        /// No collection has that name.
        public static let collectionNotFound = Code("collectionNotFound")
        /// A collection with that name exists already.
        public static let collectionExists = Code("collectionExists")
        /// A schema is invalid (dimensions, prefixes, metric, field names).
        public static let invalidSchema = Code("invalidSchema")
        /// A metadata field is not declared in the schema.
        public static let unknownField = Code("unknownField")
        /// A metadata value or filter literal has the wrong type for its field.
        public static let typeMismatch = Code("typeMismatch")
        /// A filter uses a field that is not declared filterable, or an operator its type lacks.
        public static let invalidFilter = Code("invalidFilter")
        /// A key has the wrong kind for the collection, or is too long.
        public static let invalidKey = Code("invalidKey")
        /// An argument is out of range (k, prefix, oversampling, buffer sizes).
        public static let invalidArgument = Code("invalidArgument")
        /// A value is too large to store (a filterable string over 400 bytes, metadata over 16 MiB).
        public static let valueTooLarge = Code("valueTooLarge")
        /// The store's bytes are damaged or inconsistent; run `quiver verify`.
        public static let corrupted = Code("corrupted")
        /// The file is not a Quiver store, or was written by a newer, unknown format version.
        public static let unsupportedFormat = Code("unsupportedFormat")
        /// The collection has no index of the kind asked for (drop, stats, or an index-only search).
        public static let indexNotFound = Code("indexNotFound")
        /// The collection has no encoding of the kind asked for (drop, or a search that names it).
        public static let encodingNotFound = Code("encodingNotFound")
        /// The store was opened read-only.
        public static let readOnly = Code("readOnly")
        /// The disk is full; the transaction was rolled back and nothing was lost.
        public static let diskFull = Code("diskFull")
        /// Another LMDB failure; see ``QuiverError/underlying``.
        public static let storage = Code("storage")
    }

    /// The category.
    public var code: Code
    /// What happened and what to do about it.
    public var message: String
    /// The collection concerned, if any.
    public var collection: String?
    /// The record key concerned, if any.
    public var key: RecordKey?
    /// The metadata field concerned, if any.
    public var field: String?
    /// The storage error behind this one, if any.
    public var underlying: StorageError?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, collection: String? = nil, key: RecordKey? = nil,
        field: String? = nil, underlying: StorageError? = nil
    ) {
        self.code = code
        self.message = message
        self.collection = collection
        self.key = key
        self.field = field
        self.underlying = underlying
    }

    /// Wraps a storage error, classifying the codes a user can act on.
    init(_ storage: StorageError, collection: String? = nil) {
        let code: Code =
            switch storage.code {
            case .diskFull: .diskFull
            case .corrupted, .versionMismatch: .corrupted
            case .permissionDenied: .readOnly
            default: .storage
            }
        self.init(code, storage.description, collection: collection, underlying: storage)
    }

    /// The storage error inside, for ``QuiverStorage/Environment/write(_:)``'s map-full retry.
    public var storageError: StorageError? { underlying }

    /// `code: message [collection, key, field]`.
    public var description: String {
        var context: [String] = []
        if let collection { context.append("collection \(quoted(collection))") }
        if let key { context.append("key \(key)") }
        if let field { context.append("field \(quoted(field))") }
        let suffix = context.isEmpty ? "" : " (" + context.joined(separator: ", ") + ")"
        return "\(code): \(message)\(suffix)"
    }
}

extension QuiverError {
    /// Runs `body`, turning any ``StorageError`` it throws into a ``QuiverError``.
    static func wrapping<R>(collection: String? = nil, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let e as StorageError {
            throw QuiverError(e, collection: collection)
        }
    }
}
