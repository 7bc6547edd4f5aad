/// The value of a `postings` entry: the rows among one chunk of 65,536 that hold a value.
///
/// Two forms, chosen by size (as Roaring bitmaps do): `00 · row u16 × n` (sorted ascending,
/// little-endian; at most 4,096 rows) or `01 · bitmap` (8,192 bytes, bit `r % 64` of
/// little-endian word `r / 64`). A write rewrites at most 8 KiB however large the collection.
@_spi(Fuzzing)
public enum PostingContainer {
    /// Rows in one chunk.
    public static let chunkRows = 65_536
    static let arrayLimit = 4_096
    static let bitmapBytes = chunkRows / 8

    /// Encodes a sorted, duplicate-free list of rows (chunk-relative).
    static func encode(_ rows: [UInt16]) -> [UInt8] {
        if rows.count <= arrayLimit {
            var out: [UInt8] = [0]
            out.reserveCapacity(1 + rows.count * 2)
            for r in rows { out.appendLittleEndian(r) }
            return out
        }
        var out = [UInt8](repeating: 0, count: 1 + bitmapBytes)
        out[0] = 1
        for r in rows { out[1 + Int(r) / 8] |= 1 << (r % 8) }
        return out
    }

    /// Decodes a container into sorted chunk-relative rows.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> [UInt16] {
        var rows: [UInt16] = []
        try forEachRow(bytes) { rows.append($0) }
        return rows
    }

    /// Calls `body` for each row in ascending order.
    static func forEachRow(_ bytes: UnsafeRawBufferPointer, _ body: (UInt16) -> Void) throws(FormatError) {
        guard let kind = bytes.first else { throw FormatError.truncated(at: 0) }
        switch kind {
        case 0:
            guard bytes.count % 2 == 1 else { throw FormatError.invalid("odd array length", at: 0) }
            var previous = -1
            for i in stride(from: 1, to: bytes.count, by: 2) {
                let r = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt16.self))
                guard Int(r) > previous else { throw FormatError.invalid("rows not ascending", at: i) }
                previous = Int(r)
                body(r)
            }
        case 1:
            guard bytes.count == 1 + bitmapBytes else { throw FormatError.invalid("bitmap of \(bytes.count - 1) bytes", at: 0) }
            for w in 0..<(bitmapBytes / 8) {
                var word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1 + w * 8, as: UInt64.self))
                while word != 0 {
                    body(UInt16(w * 64 + word.trailingZeroBitCount))
                    word &= word - 1
                }
            }
        default:
            throw FormatError.invalid("unknown container kind \(kind)", at: 0)
        }
    }

    /// ORs the container's rows into `words`, a bitmap whose bit 0 is row `chunk * 65,536`.
    /// Rows beyond `words.count * 64` are ignored (they cannot be live).
    static func union(_ bytes: UnsafeRawBufferPointer, into words: UnsafeMutableBufferPointer<UInt64>) throws(FormatError) {
        guard let kind = bytes.first else { throw FormatError.truncated(at: 0) }
        if kind == 1 {
            guard bytes.count == 1 + bitmapBytes else { throw FormatError.invalid("bitmap of \(bytes.count - 1) bytes", at: 0) }
            let n = min(words.count, bitmapBytes / 8)
            for w in 0..<n {
                words[w] |= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1 + w * 8, as: UInt64.self))
            }
            return
        }
        let limit = words.count * 64
        try forEachRow(bytes) { r in
            if Int(r) < limit { words[Int(r) >> 6] |= 1 << (UInt64(r) & 63) }
        }
    }
}
