/// Reads the offsets file of a multi-vector (ColBERT-style) token matrix: a 1-D NumPy
/// `.npy` integer array of D + 1 entries, where document (or query) `i` is token rows
/// `offsets[i] ..< offsets[i + 1]` of the token matrix.
///
/// The array's dtype is int64, int32, uint64 or uint32, little- or big-endian (`<i8`,
/// `<i4`, `<u8`, `<u4`, `>i8`, …). The offsets must start at 0 and increase strictly: a
/// document without tokens is an error, since there is nothing to index or search with.
/// That the last offset equals the number of token rows is checked against the token
/// matrix by ``MultiVectorFileReader``, or by ``checkEnd(of:tokenCount:path:)``.
///
/// ```python
/// # Python: documents as a list of (tokens, dimensions) float32 arrays
/// numpy.save("tokens.npy", numpy.concatenate(documents))
/// numpy.save("offsets.npy", numpy.cumsum([0] + [len(d) for d in documents]))
/// ```
/// ```swift
/// let offsets = try TokenOffsets.read(path: "offsets.npy")
/// let documents = offsets.count - 1
/// ```
public enum TokenOffsets {
    /// Reads and checks the offsets `.npy` file at `path`.
    ///
    /// - Parameter path: The file.
    /// - Returns: The offsets, D + 1 of them for D documents: `0`, then strictly increasing.
    /// - Throws: ``FileFormatError`` with the byte offset of the problem:
    ///   ``FileFormatError/Code/invalidOffsets`` when the array is empty, does not start at
    ///   0, decreases, or gives a document no tokens (naming the document);
    ///   ``FileFormatError/Code/unsupportedDataType`` for a dtype that is not a 32- or
    ///   64-bit integer; ``FileFormatError/Code/unsupportedLayout`` for an array that is not
    ///   1-D; ``FileFormatError/Code/tooLarge`` for a uint64 past `Int.max`; and the `.npy`
    ///   reader's errors (bad magic, malformed header, truncated or trailing data, I/O).
    /// - Complexity: O(D).
    public static func read(path: String) throws(FileFormatError) -> [Int] {
        var input = try ByteInput(path: path)
        return try read(&input)
    }

    /// Reads and checks offsets `.npy` data in memory (see ``read(path:)``).
    ///
    /// - Parameter bytes: The complete file contents.
    /// - Returns: The offsets: `0`, then strictly increasing.
    /// - Throws: ``FileFormatError`` naming the byte offset of the first problem.
    public static func read(bytes: [UInt8]) throws(FileFormatError) -> [Int] {
        var input = ByteInput(bytes: bytes)
        return try read(&input)
    }

    /// Checks that `offsets` end at `tokenCount`, the number of rows of the token matrix
    /// they index, so that every token belongs to a document.
    ///
    /// - Parameters:
    ///   - offsets: Offsets from ``read(path:)``.
    ///   - tokenCount: The token matrix's number of rows.
    ///   - path: The offsets file, for the error.
    /// - Throws: ``FileFormatError/Code/invalidOffsets`` when the last offset is not
    ///   `tokenCount`.
    public static func checkEnd(
        of offsets: [Int], tokenCount: Int, path: String? = nil
    ) throws(FileFormatError) {
        let last = offsets.last ?? 0
        guard last == tokenCount else {
            throw FileFormatError(
                .invalidOffsets,
                "the last offset is \(last), but the token matrix has \(tokenCount) rows; "
                    + "the offsets must end at the number of token rows", path: path)
        }
    }

    /// Reads the offsets from `input`, in batches of about a megabyte.
    static func read(_ input: inout ByteInput) throws(FileFormatError) -> [Int] {
        let path = input.path
        func failure(
            _ code: FileFormatError.Code, _ message: String, at offset: Int, row: Int? = nil
        ) -> FileFormatError {
            FileFormatError(code, message, path: path, byteOffset: offset, row: row)
        }

        let (header, preambleLength, dataOffset) = try NpyHeader.read(&input)
        guard let dataType = IntegerDataType(descr: header.descr) else {
            throw failure(
                .unsupportedDataType,
                "offsets dtype '\(header.descr)' is not supported; use a 64- or 32-bit "
                    + "integer array (<i8, <i4, <u8, <u4, or big-endian >i8, …)",
                at: preambleLength)
        }
        // fortran_order is not checked: a 1-D array is laid out the same either way.
        guard header.shape.count == 1 else {
            throw failure(
                .unsupportedLayout,
                "the offsets array has \(header.shape.count) dimensions; expected a 1-D "
                    + "array of D + 1 integers for D documents", at: preambleLength)
        }
        let count = header.shape[0]
        let (dataBytes, overflow1) = count.multipliedReportingOverflow(by: dataType.size)
        let (fileBytes, overflow2) = dataBytes.addingReportingOverflow(dataOffset)
        guard !overflow1, !overflow2 else {
            throw failure(.tooLarge, "the shape \(header.shape) is too large", at: preambleLength)
        }
        if let size = input.size {
            if size < fileBytes {
                let complete = (size - dataOffset) / dataType.size
                throw failure(
                    .truncated,
                    "the file ends inside offset \(complete) of \(count) "
                        + "(\(fileBytes - size) bytes missing)",
                    at: dataOffset + complete * dataType.size)
            }
            if size > fileBytes {
                throw failure(
                    .trailingData,
                    "\(size - fileBytes) bytes follow the \(count) offsets the header declares",
                    at: fileBytes)
            }
        }
        guard count > 0 else {
            throw failure(
                .invalidOffsets,
                "the offsets array is empty; it needs D + 1 entries for D documents, the "
                    + "first 0", at: preambleLength)
        }

        var offsets: [Int] = []
        offsets.reserveCapacity(min(count, 1 << 20))
        let batchCount = (1 << 20) / dataType.size
        while offsets.count < count {
            let batch = min(batchCount, count - offsets.count)
            guard try input.fill(atLeast: batch * dataType.size) else {
                let complete = offsets.count + input.available / dataType.size
                throw failure(
                    .truncated, "the file ends inside offset \(complete) of \(count)",
                    at: dataOffset + complete * dataType.size)
            }
            for _ in 0..<batch {
                let index = offsets.count
                let at = dataOffset + index * dataType.size
                guard let value = dataType.load(input.buffer, at: input.start) else {
                    throw failure(
                        .tooLarge, "offset \(index) is larger than \(Int.max)", at: at)
                }
                input.consume(dataType.size)
                if index == 0 {
                    guard value == 0 else {
                        throw failure(
                            .invalidOffsets, "the first offset is \(value); it must be 0", at: at)
                    }
                } else if let previous = offsets.last, value <= previous {
                    let document = index - 1
                    throw value == previous
                        ? failure(
                            .invalidOffsets,
                            "document \(document) has no tokens (offsets \(index - 1) and "
                                + "\(index) are both \(value)); every document needs at "
                                + "least one token", at: at, row: document)
                        : failure(
                            .invalidOffsets,
                            "offset \(index) is \(value), less than offset \(index - 1), "
                                + "\(previous); offsets must increase", at: at, row: document)
                }
                offsets.append(value)
            }
        }
        // After the last offset: input from a pipe may still hold trailing bytes.
        if try input.fill(atLeast: 1) {
            throw failure(
                .trailingData, "bytes follow the \(count) offsets the header declares",
                at: input.offset)
        }
        return offsets
    }
}

/// A `.npy` integer dtype that offsets may have: signed or unsigned, 32 or 64 bits, either
/// byte order.
struct IntegerDataType: Equatable, Sendable {
    /// The size of one element in bytes, 4 or 8.
    var size: Int
    /// Whether the integers are signed (`i`) rather than unsigned (`u`).
    var signed: Bool
    /// Whether the bytes are big-endian (`>`) rather than little-endian (`<`).
    var bigEndian: Bool

    /// The parsed dtype string (`<i8`, `>u4`, …), or `nil` when it is not a 32- or 64-bit
    /// integer with a byte order.
    init?(descr: String) {
        let bytes = Array(descr.utf8)
        guard bytes.count == 3 else { return nil }
        switch bytes[0] {
        case UInt8(ascii: "<"): bigEndian = false
        case UInt8(ascii: ">"): bigEndian = true
        default: return nil
        }
        switch bytes[1] {
        case UInt8(ascii: "i"): signed = true
        case UInt8(ascii: "u"): signed = false
        default: return nil
        }
        switch bytes[2] {
        case UInt8(ascii: "4"): size = 4
        case UInt8(ascii: "8"): size = 8
        default: return nil
        }
    }

    /// The element at `bytes[index ..< index + size]`, or `nil` when it is a uint64 past
    /// `Int.max`. (Negative values are returned; the caller's ordering checks reject them.)
    func load(_ bytes: [UInt8], at index: Int) -> Int? {
        var raw: UInt64 = 0
        if bigEndian {
            for offset in 0..<size { raw = raw << 8 | UInt64(bytes[index + offset]) }
        } else {
            for offset in (0..<size).reversed() { raw = raw << 8 | UInt64(bytes[index + offset]) }
        }
        switch (size, signed) {
        case (4, true): return Int(Int32(truncatingIfNeeded: raw))
        case (4, false): return Int(raw)
        case (_, true): return Int(Int64(bitPattern: raw))
        default: return Int(exactly: raw)
        }
    }
}
