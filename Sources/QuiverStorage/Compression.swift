import CLZ4

/// LZ4 block compression for values that compress (metadata); vectors are stored raw.
public enum Compression {
    /// Compresses `source`, or returns `nil` when LZ4 would not save at least 1/8 of the bytes.
    ///
    /// Calls `LZ4_compress_default`. The caller stores the original length beside the result.
    public static func compress(_ source: UnsafeRawBufferPointer) -> [UInt8]? {
        guard source.count >= 64, source.count < Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        let bound = Int(LZ4_compressBound(Int32(source.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            LZ4_compress_default(
                source.baseAddress!.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(source.count), Int32(bound))
        }
        guard written > 0, Int(written) <= source.count - source.count / 8 else { return nil }
        out.removeLast(bound - Int(written))
        return out
    }

    /// Decompresses `source` into exactly `originalCount` bytes.
    ///
    /// Calls `LZ4_decompress_safe`, which never reads or writes out of bounds on hostile input.
    /// - Returns: the bytes, or `nil` when the input is not a valid block of that size.
    public static func decompress(_ source: UnsafeRawBufferPointer, originalCount: Int) -> [UInt8]? {
        guard originalCount >= 0, originalCount <= 1 << 30, source.count < Int(Int32.max) else {
            return nil
        }
        if originalCount == 0 { return source.isEmpty ? [] : nil }
        guard let base = source.baseAddress else { return nil }
        var out = [UInt8](repeating: 0, count: originalCount)
        let written = out.withUnsafeMutableBytes { dst in
            LZ4_decompress_safe(
                base.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(source.count), Int32(originalCount))
        }
        return written == Int32(originalCount) ? out : nil
    }
}
