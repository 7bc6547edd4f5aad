/// Encodes keys of the `keys` and `postings` tables so that byte order is value order.
///
/// - Record keys: `UInt64` as 8 bytes big-endian; strings as their UTF-8 bytes.
/// - Posting values: int64 with the sign bit flipped, big-endian; double as its bits,
///   big-endian, with the sign bit flipped for positives and all bits flipped for negatives
///   (total order, −0 before +0); bool one byte; strings UTF-8 with `00` escaped as `00 FF`
///   and terminated by `00 00`, so a string sorts before its extensions.
@_spi(Fuzzing)
public enum KeyCodec {
    /// The longest string key or filterable string value, in UTF-8 bytes (LMDB keys are at
    /// most 511 bytes; the rest is the key prefix).
    public static let maximumStringBytes = 400

    static func recordKeyBytes(_ key: RecordKey) -> [UInt8] {
        switch key {
        case .int(let i):
            var out: [UInt8] = []
            out.appendBigEndian(i)
            return out
        case .string(let s): return Array(s.utf8)
        }
    }

    /// Decodes stored key bytes into a key of `kind`.
    public static func recordKey(_ bytes: [UInt8], kind: KeyKind) throws(FormatError) -> RecordKey {
        switch kind {
        case .uint64:
            guard bytes.count == 8 else { throw FormatError.invalid("integer key of \(bytes.count) bytes", at: 0) }
            return .int(bytes.reduce(0) { $0 << 8 | UInt64($1) })
        case .string:
            guard let s = String(validating: bytes, as: UTF8.self) else { throw FormatError.invalid("key is not UTF-8", at: 0) }
            return .string(s)
        }
    }

    /// The `keys` table key: `collection u32 · key bytes`.
    static func keysKey(collection: UInt32, key: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + key.count)
        out.appendBigEndian(collection)
        out.append(contentsOf: key)
        return out
    }

    /// The order-preserving encoding of one scalar value (a list element is a `.string`).
    static func valueBytes(_ value: MetadataValue, into out: inout [UInt8]) {
        switch value {
        case .int64(let i): out.appendBigEndian(UInt64(bitPattern: i) ^ (1 << 63))
        case .double(let d):
            let bits = (d == 0 ? 0.0 : d).bitPattern  // −0 and +0 are equal: store one of them
            out.appendBigEndian(bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63))
        case .bool(let b): out.append(b ? 1 : 0)
        case .string(let s):
            for b in s.utf8 {
                out.append(b)
                if b == 0 { out.append(0xFF) }
            }
            out.append(0)
            out.append(0)
        case .stringList:
            preconditionFailure("a list is posted element by element")
        }
    }

    /// `collection u32 · field u16` — the prefix of every posting of one field.
    static func postingFieldPrefix(collection: UInt32, field: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        out.appendBigEndian(collection)
        out.appendBigEndian(UInt16(field))
        return out
    }

    /// `collection u32 · field u16 · value` — the prefix of every chunk of one value.
    static func postingValuePrefix(collection: UInt32, field: Int, value: MetadataValue) -> [UInt8] {
        var out = postingFieldPrefix(collection: collection, field: field)
        valueBytes(value, into: &out)
        return out
    }
}
