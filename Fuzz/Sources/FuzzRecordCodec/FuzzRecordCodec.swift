// Feeds arbitrary bytes to every decoder of stored values: records (under several schemas),
// posting containers and key codecs. A decoder may throw FormatError; it must never trap,
// and what decodes must re-encode to something that decodes to the same value.
@_spi(Fuzzing) import Quiver

private let schemas: [[FieldType]] = [
    [],
    [.string],
    [.int64, .double, .bool],
    [.string, .int64, .double, .bool, .stringList],
    [.stringList, .stringList],
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    for types in schemas {
        if let decoded = try? RecordCodec.decode(bytes, fieldTypes: types) {
            let again = RecordCodec.encodeForTesting(key: decoded.key, metadata: decoded.metadata)
            let redecoded = again.withUnsafeBytes { try? RecordCodec.decode($0, fieldTypes: types) }
            guard let redecoded, redecoded.key == decoded.key,
                  redecoded.metadata.map(\.0) == decoded.metadata.map(\.0),
                  zip(redecoded.metadata, decoded.metadata).allSatisfy({ sameValue($0.1, $1.1) })
            else { preconditionFailure("record does not round-trip") }
        }
    }
    _ = try? RecordCodec.decodeKey(bytes)
    if let rows = try? PostingContainer.decode(bytes) {
        precondition(zip(rows, rows.dropFirst()).allSatisfy { $0 < $1 }, "posting rows not ascending")
    }
    _ = try? KeyCodec.recordKey(Array(bytes), kind: .uint64)
    _ = try? KeyCodec.recordKey(Array(bytes), kind: .string)
    return 0
}

/// Equality that treats NaN bit patterns as equal to themselves.
private func sameValue(_ a: MetadataValue, _ b: MetadataValue) -> Bool {
    if case .double(let x) = a, case .double(let y) = b { return x.bitPattern == y.bitPattern }
    return a == b
}
