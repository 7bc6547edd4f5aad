import QuiverStorage

/// Encodes and decodes the `records` value: the user's key and the metadata of one row.
///
/// Layout (little-endian; docs/file-format.md, table `records`):
/// `flags u8 · key length varint · key bytes · metadata`, where `flags` bit 0 says the metadata
/// is LZ4-compressed (`original length u32 · LZ4 block`) and the raw metadata is
/// `count varint · (field index varint · value)*` with values by the schema's field type:
/// string `length varint · UTF-8`; int64 `i64`; double `f64`; bool `u8` (0 or 1);
/// string list `count varint · (length varint · UTF-8)*`.
@_spi(Fuzzing)
public enum RecordCodec {
    static let compressedFlag: UInt8 = 1
    /// The largest encoded metadata of one record.
    public static let maximumMetadataBytes = 16 << 20

    /// Encodes a record. `metadata` holds schema field indexes with values already checked
    /// against the schema; `key` is the key's stored bytes.
    static func encode(key: [UInt8], metadata: [(Int, MetadataValue)]) -> [UInt8] {
        var raw: [UInt8] = []
        raw.appendVarint(metadata.count)
        for (index, value) in metadata {
            raw.appendVarint(index)
            switch value {
            case .string(let s):
                raw.appendVarint(s.utf8.count)
                raw.append(contentsOf: s.utf8)
            case .int64(let i): raw.appendLittleEndian(i)
            case .double(let d): raw.appendLittleEndian(d.bitPattern)
            case .bool(let b): raw.append(b ? 1 : 0)
            case .stringList(let list):
                raw.appendVarint(list.count)
                for s in list {
                    raw.appendVarint(s.utf8.count)
                    raw.append(contentsOf: s.utf8)
                }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + key.count + 8)
        let compressed = raw.withUnsafeBytes { Compression.compress($0) }
        out.append(compressed == nil ? 0 : compressedFlag)
        out.appendVarint(key.count)
        out.append(contentsOf: key)
        if let compressed {
            out.appendLittleEndian(UInt32(raw.count))
            out.append(contentsOf: compressed)
        } else {
            out.append(contentsOf: raw)
        }
        return out
    }

    /// Reads only the key bytes of a record value.
    public static func decodeKey(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> [UInt8] {
        var reader = ByteReader(bytes)
        _ = try reader.byte()
        let count = try reader.varint()
        return Array(try reader.take(count))
    }

    /// Decodes a whole record value against the schema's field types.
    /// - Returns: the key bytes and the metadata as (field index, value) pairs.
    /// - Throws: ``FormatError`` for any malformed byte; never traps.
    public static func decode(_ bytes: UnsafeRawBufferPointer, fieldTypes: [FieldType]) throws(FormatError) -> (key: [UInt8], metadata: [(Int, MetadataValue)]) {
        var reader = ByteReader(bytes)
        let flags = try reader.byte()
        guard flags & ~compressedFlag == 0 else { throw FormatError.invalid("unknown flags \(flags)", at: 0) }
        let keyCount = try reader.varint()
        let key = Array(try reader.take(keyCount))
        let rest = try reader.take(reader.remaining)
        if flags & compressedFlag != 0 {
            var header = ByteReader(rest)
            let original = Int(try header.littleEndian(UInt32.self))
            guard original <= maximumMetadataBytes else {
                throw FormatError.invalid("metadata length \(original) too large", at: reader.offset)
            }
            guard let raw = Compression.decompress(try header.take(header.remaining), originalCount: original) else {
                throw FormatError.invalid("LZ4 block does not decode", at: reader.offset)
            }
            var result: Result<[(Int, MetadataValue)], FormatError> = .success([])
            raw.withUnsafeBytes { raw in
                do throws(FormatError) { result = .success(try decodeMetadata(raw, fieldTypes: fieldTypes)) } catch { result = .failure(error) }
            }
            return (key, try result.get())
        }
        return (key, try decodeMetadata(rest, fieldTypes: fieldTypes))
    }

    static func decodeMetadata(_ bytes: UnsafeRawBufferPointer, fieldTypes: [FieldType]) throws(FormatError) -> [(Int, MetadataValue)] {
        var reader = ByteReader(bytes)
        let count = try reader.varint()
        guard count <= fieldTypes.count else { throw FormatError.invalid("\(count) fields, schema has \(fieldTypes.count)", at: 0) }
        var out: [(Int, MetadataValue)] = []
        out.reserveCapacity(count)
        var previous = -1
        for _ in 0..<count {
            let index = try reader.varint()
            guard index < fieldTypes.count, index > previous else {
                throw FormatError.invalid("field index \(index) out of order or range", at: reader.offset)
            }
            previous = index
            let value: MetadataValue
            switch fieldTypes[index] {
            case .string: value = .string(try reader.string(count: try reader.varint()))
            case .int64: value = .int64(try reader.littleEndian(Int64.self))
            case .double: value = .double(Double(bitPattern: try reader.littleEndian(UInt64.self)))
            case .bool:
                let b = try reader.byte()
                guard b <= 1 else { throw FormatError.invalid("bool byte \(b)", at: reader.offset - 1) }
                value = .bool(b == 1)
            case .stringList:
                let n = try reader.varint()
                guard n <= reader.remaining else { throw FormatError.truncated(at: reader.offset) }
                var list: [String] = []
                list.reserveCapacity(n)
                for _ in 0..<n { list.append(try reader.string(count: try reader.varint())) }
                value = .stringList(list)
            }
            out.append((index, value))
        }
        guard reader.isAtEnd else { throw FormatError.invalid("\(reader.remaining) trailing bytes", at: reader.offset) }
        return out
    }
}

extension RecordCodec {
    /// Encodes as ``decode(_:fieldTypes:)`` expects, for fuzzers and tests that check round trips.
    public static func encodeForTesting(key: [UInt8], metadata: [(Int, MetadataValue)]) -> [UInt8] {
        encode(key: key, metadata: metadata)
    }
}
