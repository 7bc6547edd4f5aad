import QuiverKernels

/// One stored record: key, vector and metadata.
public struct Record: Sendable, Hashable {
    /// The user's key.
    public var key: RecordKey
    /// The float components, for collections that store floats. For cosine collections this is
    /// the vector as stored: normalised to unit length.
    public var vector: [Float]?
    /// The packed bits (`numpy.packbits` order), for binary collections.
    public var bits: [UInt8]?
    /// The metadata fields that are set.
    public var metadata: [String: MetadataValue]
    /// The token vectors as stored (normalised for cosine, pooled when the collection pools),
    /// for multi-vector collections. Their order is not part of the contract.
    public var tokens: [[Float]]?

    /// Creates a record value.
    public init(key: RecordKey, vector: [Float]?, bits: [UInt8]?, metadata: [String: MetadataValue], tokens: [[Float]]? = nil) {
        self.key = key
        self.vector = vector
        self.bits = bits
        self.metadata = metadata
        self.tokens = tokens
    }
}

/// Checks and prepares what a write supplies, before anything reaches LMDB.
struct RecordValidator {
    let descriptor: CollectionDescriptor
    let fieldIndex: [String: Int]

    var name: String { descriptor.name }

    func checkKey(_ key: RecordKey) throws -> [UInt8] {
        guard key.kind == descriptor.schema.keyKind else {
            throw QuiverError(.invalidKey, "the collection has \(descriptor.schema.keyKind) keys", collection: name, key: key)
        }
        if case .string(let s) = key {
            guard (1...KeyCodec.maximumStringBytes).contains(s.utf8.count) else {
                throw QuiverError(.invalidKey, "string keys have 1 to \(KeyCodec.maximumStringBytes) UTF-8 bytes", collection: name, key: key)
            }
        }
        return KeyCodec.recordKeyBytes(key)
    }

    /// Checks length and finiteness of a float vector; returns nothing, throws with context.
    func checkFloats(_ v: UnsafeBufferPointer<Float>, key: RecordKey?) throws {
        let d = descriptor.dimensions
        guard !v.isEmpty else { throw QuiverError(.invalidVector, "the vector is empty", collection: name, key: key) }
        guard v.count == d else {
            throw QuiverError(.dimensionMismatch, "expected \(d) components, got \(v.count)", collection: name, key: key)
        }
        // One pass of the SIMD dot kernel: a NaN or infinite component makes the sum of squares
        // NaN or infinite, so a finite sum proves every component finite. Only a bad vector (or
        // one whose squares overflow) takes the scalar loop that names the component. Bulk loads
        // check every row here; the serial loop alone was a tenth of a 128-d import.
        let normSquared = Kernels.dot(v.baseAddress!, UnsafeRawPointer(v.baseAddress!), count: d)
        if !normSquared.isFinite, let i = v.firstIndex(where: { !$0.isFinite }) {
            throw QuiverError(.invalidVector, "component \(i) is \(v[i])", collection: name, key: key)
        }
        if descriptor.schema.metric == .cosine && !(normSquared > 0 && normSquared.isFinite) {
            throw QuiverError(.invalidVector, "a cosine vector needs a finite, non-zero length", collection: name, key: key)
        }
    }

    func checkBits(_ bits: UnsafeBufferPointer<UInt8>, key: RecordKey?) throws {
        let bytes = (descriptor.dimensions + 7) / 8
        guard !bits.isEmpty else { throw QuiverError(.invalidVector, "the vector is empty", collection: name, key: key) }
        guard bits.count == bytes else {
            throw QuiverError(.dimensionMismatch, "expected \(bytes) bytes of packed bits for \(descriptor.dimensions) dimensions, got \(bits.count)", collection: name, key: key)
        }
    }

    /// Converts metadata to (field index, value) pairs in schema order, checking names, types
    /// and sizes; an int64 given for a double field is converted.
    func metadata(_ metadata: [String: MetadataValue], key: RecordKey?) throws -> [(Int, MetadataValue)] {
        var out: [(Int, MetadataValue)] = []
        out.reserveCapacity(metadata.count)
        for (fieldName, value) in metadata {
            guard let index = fieldIndex[fieldName] else {
                throw QuiverError(.unknownField, "the schema has no such field", collection: name, key: key, field: fieldName)
            }
            let field = descriptor.schema.fields[index]
            var value = value
            if field.type == .double, case .int64(let i) = value { value = .double(Double(i)) }
            guard value.type == field.type else {
                throw QuiverError(.typeMismatch, "expected \(field.type), got \(value.type) \(value)", collection: name, key: key, field: fieldName)
            }
            if case .double(let d) = value, d.isNaN {
                throw QuiverError(.typeMismatch, "NaN is not a storable value", collection: name, key: key, field: fieldName)
            }
            if field.filterable {
                let strings: [String]
                switch value {
                case .string(let s): strings = [s]
                case .stringList(let list): strings = list
                default: strings = []
                }
                for s in strings where s.utf8.count > KeyCodec.maximumStringBytes {
                    throw QuiverError(.valueTooLarge, "a filterable string has at most \(KeyCodec.maximumStringBytes) UTF-8 bytes, got \(s.utf8.count)", collection: name, key: key, field: fieldName)
                }
            }
            out.append((index, value))
        }
        out.sort { $0.0 < $1.0 }
        return out
    }
}

/// Packs signs of floats into bits, `numpy.packbits` order: component `i` sets bit
/// `7 - i % 8` of byte `i / 8` when it is greater than zero.
func packSignBits(_ v: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
    for i in 0..<((v.count + 7) / 8) { out[i] = 0 }
    for (i, x) in v.enumerated() where x > 0 {
        out[i >> 3] |= UInt8(0x80) >> UInt8(i & 7)
    }
}
