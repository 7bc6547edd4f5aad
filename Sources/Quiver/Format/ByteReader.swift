/// A bounds-checked reader over stored bytes: every read checks the remaining length and
/// throws ``FormatError`` instead of trapping, so damaged or hostile bytes never crash.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws(FormatError) -> UInt8 {
        guard remaining >= 1 else { throw FormatError.truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws(FormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw FormatError.truncated(at: offset) }
        defer { offset += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func varint() throws(FormatError) -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 63 else { throw FormatError.invalid("varint too long", at: offset) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        guard result <= UInt64(Int32.max) else { throw FormatError.invalid("length \(result) too large", at: offset) }
        return Int(result)
    }

    mutating func take(_ count: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw FormatError.truncated(at: offset) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    mutating func string(count: Int) throws(FormatError) -> String {
        let raw = try take(count)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw FormatError.invalid("invalid UTF-8", at: offset - count)
        }
        return s
    }
}

/// A stored value that does not decode: wrong length, bad tag, invalid UTF-8.
///
/// Decoders throw it; the engine turns it into ``QuiverError/Code/corrupted`` naming the table
/// and key.
@_spi(Fuzzing)
public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// The byte offset inside the value.
    public var offset: Int

    static func truncated(at offset: Int) -> FormatError { FormatError(message: "value ends early", offset: offset) }
    static func invalid(_ message: String, at offset: Int) -> FormatError { FormatError(message: message, offset: offset) }

    /// `message at byte N`.
    public var description: String { "\(message) at byte \(offset)" }
}
