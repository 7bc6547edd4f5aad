extension TokenOffsets {
    /// Writes `offsets` as a 1-D little-endian int64 `.npy` file (`<i8`), the form
    /// ``read(path:)`` reads and `numpy.load` returns as an int64 array.
    ///
    /// - Parameters:
    ///   - offsets: `0`, then strictly increasing (checked).
    ///   - path: The file to create or truncate.
    /// - Throws: ``FileFormatError/Code/invalidOffsets`` for offsets ``read(path:)`` would
    ///   refuse; an I/O error.
    public static func write(_ offsets: [Int], path: String) throws(FileFormatError) {
        guard offsets.first == 0 else {
            throw FileFormatError(.invalidOffsets, "offsets must start at 0", path: path)
        }
        for i in 1..<offsets.count where offsets[i] <= offsets[i - 1] {
            throw FileFormatError(.invalidOffsets, "offsets must increase: document \(i - 1) has no tokens", path: path)
        }
        let text = NpyHeader(descr: "<i8", fortranOrder: false, shape: [offsets.count]).encoded(minimumLength: 0)
        var bytes = NpyHeader.magic
        bytes.append(contentsOf: [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)])
        bytes.append(contentsOf: text)
        bytes.reserveCapacity(bytes.count + offsets.count * 8)
        for offset in offsets {
            withUnsafeBytes(of: Int64(offset).littleEndian) { bytes.append(contentsOf: $0) }
        }
        var output = try ByteOutput(path: path)
        try output.write(bytes)
        try output.flush()
        try output.close()
    }
}
