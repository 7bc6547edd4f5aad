extension VectorFileReader {
    /// Reads and checks the `.npy` preamble and header, leaving `input` at the first row.
    static func readNpyHeader(
        _ input: inout ByteInput, options: Options
    ) throws(FileFormatError) -> Header {
        let path = input.path
        func failure(
            _ code: FileFormatError.Code, _ message: String, at offset: Int
        ) -> FileFormatError {
            FileFormatError(code, message, path: path, byteOffset: offset)
        }

        let (header, preambleLength, dataOffset) = try NpyHeader.read(&input)

        guard let dataType = NpyDataType(descr: header.descr) else {
            throw failure(
                .unsupportedDataType,
                "dtype '\(header.descr)' is not supported; use <f4 (also <f2, <f8) or |u1",
                at: preambleLength)
        }
        guard !header.fortranOrder else {
            throw failure(
                .unsupportedLayout,
                "fortran_order is True; save the array in C order "
                    + "(numpy.ascontiguousarray)", at: preambleLength)
        }
        guard header.shape.count == 2 else {
            throw failure(
                .unsupportedLayout,
                "the array has \(header.shape.count) dimensions; expected a 2-D array "
                    + "(rows, dimensions)", at: preambleLength)
        }
        let rows = header.shape[0]
        var dimensions = header.shape[1]
        guard dimensions > 0 else {
            throw failure(.unsupportedLayout, "vectors have 0 components", at: preambleLength)
        }
        let (rowBytes, overflow1) = dimensions.multipliedReportingOverflow(by: dataType.size)
        let (dataBytes, overflow2) = rows.multipliedReportingOverflow(by: rowBytes)
        let (fileBytes, overflow3) = dataBytes.addingReportingOverflow(dataOffset)
        guard !overflow1, !overflow2, !overflow3, rowBytes <= maximumRowBytes else {
            throw failure(.tooLarge, "the shape \(header.shape) is too large", at: preambleLength)
        }
        if let size = input.size {
            if size < fileBytes {
                let completeRows = (size - dataOffset) / rowBytes
                throw FileFormatError(
                    .truncated,
                    "the file ends inside row \(completeRows) of \(rows) "
                        + "(\(fileBytes - size) bytes missing)",
                    path: path, byteOffset: dataOffset + completeRows * rowBytes,
                    row: completeRows)
            }
            if size > fileBytes {
                throw failure(
                    .trailingData,
                    "\(size - fileBytes) bytes follow the \(rows) rows the header declares",
                    at: fileBytes)
            }
        }

        let elementKind: VectorElementKind
        let encoding: RowEncoding
        switch dataType {
        case .uint8:
            encoding = .uint8
            if options.bytesArePackedBits {
                elementKind = .packedBits(bits: dimensions * 8)
                dimensions *= 8
            } else {
                elementKind = .uint8
            }
        case .float32(bigEndian: false):
            elementKind = .float32
            encoding = .float32
        default:
            elementKind = .float32
            encoding = .converted(dataType)
        }
        return Header(
            dimensions: dimensions, rowCount: rows, elementKind: elementKind,
            encoding: encoding, dataOffset: dataOffset)
    }

    /// The longest row accepted (16 MiB: 4 M float32 components), which bounds the buffer
    /// a header can make the reader allocate.
    static var maximumRowBytes: Int { 16 << 20 }

    /// The bytes of one row in the file.
    var encodedRowBytes: Int {
        switch encoding {
        case .float32: dimensions * 4
        case .uint8: bytesPerRow
        case .converted(let dataType): dimensions * dataType.size
        case .vecs: 4 + bytesPerRow
        case .jsonLines: 0
        }
    }

    /// Reads up to `maxRows` .npy rows into `chunk`.
    mutating func readNpyRows(
        into chunk: inout VectorChunk, maxRows: Int
    ) throws(FileFormatError) -> Int {
        let total = rowCount ?? 0
        let fileBytesPerRow = max(1, encodedRowBytes)
        let rows = min(
            maxRows, total - rowsRead, max(1, options.maximumChunkBytes / fileBytesPerRow))
        guard rows > 0 else {
            // After the last row: input from a pipe may still hold trailing bytes.
            if try input.fill(atLeast: 1) {
                throw error(
                    .trailingData, "bytes follow the \(total) rows the header declares",
                    byteOffset: input.offset)
            }
            chunk.floats.removeAll(keepingCapacity: true)
            chunk.bytes.removeAll(keepingCapacity: true)
            return 0
        }
        let fileRowBytes: Int
        switch encoding {
        case .float32:
            fileRowBytes = dimensions * 4
            chunk.bytes.removeAll(keepingCapacity: true)
            chunk.resizeFloats(to: rows * dimensions)
            let got = try unsafe chunk.floats.withMutableBytes {
                (destination) throws(FileFormatError) -> Int in
                try unsafe input.read(into: destination)
            }
            try checkComplete(got, of: rows * fileRowBytes, rowBytes: fileRowBytes)
            #if _endian(big)
                for index in chunk.floats.indices {
                    chunk.floats[index] = Float(
                        bitPattern: chunk.floats[index].bitPattern.byteSwapped)
                }
            #endif
        case .uint8:
            fileRowBytes = bytesPerRow
            chunk.floats.removeAll(keepingCapacity: true)
            chunk.resizeBytes(to: rows * fileRowBytes)
            let got = try unsafe chunk.bytes.withMutableBytes {
                (destination) throws(FileFormatError) -> Int in
                try unsafe input.read(into: destination)
            }
            try checkComplete(got, of: rows * fileRowBytes, rowBytes: fileRowBytes)
        case .converted(let dataType):
            fileRowBytes = dimensions * dataType.size
            chunk.bytes.removeAll(keepingCapacity: true)
            chunk.resizeFloats(to: rows * dimensions)
            // Convert in batches of about a megabyte so that the scratch buffer stays small.
            let batchRows = max(1, (1 << 20) / fileRowBytes)
            var done = 0
            while done < rows {
                let batch = min(batchRows, rows - done)
                let byteCount = batch * fileRowBytes
                if scratch.count < byteCount {
                    scratch.append(contentsOf: repeatElement(0, count: byteCount - scratch.count))
                }
                let got = try unsafe scratch.withMutableBytes {
                    (raw) throws(FileFormatError) -> Int in
                    // Safety: `byteCount <= scratch.count`, so the slice is inside `raw`.
                    try unsafe input.read(
                        into: unsafe UnsafeMutableRawBufferPointer(
                            rebasing: unsafe raw[0..<byteCount]))
                }
                try checkComplete(
                    done * fileRowBytes + got, of: rows * fileRowBytes, rowBytes: fileRowBytes)
                VectorFileReader.convert(
                    scratch, count: batch * dimensions, as: dataType,
                    into: &chunk.floats, at: done * dimensions)
                done += batch
            }
        default:
            preconditionFailure("not a .npy encoding")
        }
        return rows
    }

    /// Throws `truncated` when `got < expected` bytes of this read's rows arrived.
    private func checkComplete(
        _ got: Int, of expected: Int, rowBytes: Int
    ) throws(FileFormatError) {
        guard got < expected else { return }
        let row = rowsRead + got / rowBytes
        throw error(
            .truncated, "the file ends inside row \(row) of \(rowCount ?? 0)",
            byteOffset: dataOffset + row * rowBytes, row: row)
    }

    /// Converts `count` elements of `dataType` at the start of `raw` to floats at
    /// `floats[offset...]`.
    static func convert(
        _ raw: [UInt8], count: Int, as dataType: NpyDataType, into floats: inout [Float],
        at offset: Int
    ) {
        // Safety: see below; the pointers do not escape the closures.
        unsafe raw.withUnsafeBytes { source in
            unsafe floats.withUnsafeMutableBufferPointer { destination in
                // Safety: the caller sized `raw` for `count` elements and `floats` for
                // `offset + count`; every load and store below stays inside them.
                switch dataType {
                case .float16(let bigEndian):
                    for index in 0..<count {
                        var bits = unsafe source.loadUnaligned(
                            fromByteOffset: index * 2, as: UInt16.self)
                        bits = bigEndian ? UInt16(bigEndian: bits) : UInt16(littleEndian: bits)
                        unsafe destination[offset + index] = floatFromHalf(bits)
                    }
                case .float32(let bigEndian):
                    for index in 0..<count {
                        var bits = unsafe source.loadUnaligned(
                            fromByteOffset: index * 4, as: UInt32.self)
                        bits = bigEndian ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)
                        unsafe destination[offset + index] = Float(bitPattern: bits)
                    }
                case .float64(let bigEndian):
                    for index in 0..<count {
                        var bits = unsafe source.loadUnaligned(
                            fromByteOffset: index * 8, as: UInt64.self)
                        bits = bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)
                        // Narrowing rounds to nearest; magnitudes past Float's range become
                        // infinity, which the engine rejects like any non-finite component.
                        unsafe destination[offset + index] = Float(Double(bitPattern: bits))
                    }
                case .uint8:
                    preconditionFailure("uint8 is not converted")
                }
            }
        }
    }

    /// Widens an IEEE 754 binary16 value (written out so as not to depend on `Float16`,
    /// which is missing on macOS x86_64).
    static func floatFromHalf(_ half: UInt16) -> Float {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10 & 0x1F)
        let mantissa = UInt32(half & 0x3FF)
        switch exponent {
        case 0x1F:  // infinity or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        case 0:  // zero or subnormal: mantissa · 2^-24, exact in Float
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        default:  // rebias the exponent from 15 to 127
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}

extension FileFormatError {
    /// Returns a copy whose byte offset is moved by `delta` (for offsets found by a parser
    /// that was handed a slice starting at `delta`).
    func shifted(by delta: Int) -> FileFormatError {
        var copy = self
        if let offset = copy.byteOffset { copy.byteOffset = offset + delta }
        return copy
    }
}
