extension VectorFileReader {
    /// Reads the first row's dimension (without consuming it) and, when the file size is
    /// known, derives the row count and checks that the size is a whole number of rows.
    static func readVecsHeader(
        _ input: inout ByteInput, format: VectorFileFormat, options: Options
    ) throws(FileFormatError) -> Header {
        let elementSize = format == .fvecs ? 4 : 1
        let path = input.path
        _ = try input.fill(atLeast: 4)
        if input.available == 0 {
            // An empty file holds no vectors; it is valid (an export of an empty collection).
            let kind: VectorElementKind = elementSize == 4 ? .float32 : .uint8
            return Header(
                dimensions: 0, rowCount: 0, elementKind: kind,
                encoding: .vecs(elementSize: elementSize))
        }
        guard input.available >= 4 else {
            throw FileFormatError(
                .partialRow, "the file ends inside the dimension field of row 0", path: path,
                byteOffset: 0, row: 0)
        }
        let declared = VectorFileReader.loadInt32(input.buffer, at: input.start)
        guard declared > 0 else {
            throw FileFormatError(
                .malformedHeader,
                "row 0 declares dimension \(declared); it must be positive (is this a "
                    + ".\(format.rawValue) file?)", path: path, byteOffset: 0, row: 0)
        }
        let components = Int(declared)
        let rowBytes = 4 + components * elementSize
        guard rowBytes <= maximumRowBytes else {
            throw FileFormatError(
                .tooLarge, "row 0 declares dimension \(declared), too large", path: path,
                byteOffset: 0, row: 0)
        }
        var rowCount: Int?
        if let size = input.size {
            guard size % rowBytes == 0 else {
                let partial = size / rowBytes
                throw FileFormatError(
                    .partialRow,
                    "the file size \(size) is not a multiple of the row size \(rowBytes) "
                        + "(4 + \(components) × \(elementSize) bytes): row \(partial) is partial",
                    path: path, byteOffset: partial * rowBytes, row: partial)
            }
            rowCount = size / rowBytes
        }
        var dimensions = components
        let elementKind: VectorElementKind
        if elementSize == 4 {
            elementKind = .float32
        } else if options.bytesArePackedBits {
            dimensions *= 8
            elementKind = .packedBits(bits: dimensions)
        } else {
            elementKind = .uint8
        }
        return Header(
            dimensions: dimensions, rowCount: rowCount, elementKind: elementKind,
            encoding: .vecs(elementSize: elementSize))
    }

    /// Reads up to `maxRows` `.fvecs`/`.bvecs` rows into `chunk`, checking that every row
    /// repeats the first row's dimension.
    mutating func readVecsRows(
        into chunk: inout VectorChunk, maxRows: Int, elementSize: Int
    ) throws(FileFormatError) -> Int {
        let payload = bytesPerRow
        let components = payload / elementSize
        let rowBytes = 4 + payload
        var wanted = min(maxRows, max(1, options.maximumChunkBytes / rowBytes))
        if let rowCount { wanted = min(wanted, rowCount - rowsRead) }
        if elementSize == 4 {
            chunk.bytes.removeAll(keepingCapacity: true)
        } else {
            chunk.floats.removeAll(keepingCapacity: true)
        }
        guard payload > 0 else {
            chunk.floats.removeAll(keepingCapacity: true)
            chunk.bytes.removeAll(keepingCapacity: true)
            return 0
        }
        // With a known row count the chunk is sized once; from a pipe it grows per batch.
        let reserved = rowCount == nil ? 0 : wanted
        resizeVecsChunk(&chunk, rows: reserved, payload: payload, elementSize: elementSize)
        var produced = 0
        while produced < wanted {
            guard try input.fill(atLeast: rowBytes) else {
                if input.available == 0 && rowCount == nil { break }
                let row = rowsRead + produced
                if input.available == 0 {
                    throw error(
                        .truncated, "the file ended early, at row \(row); was it truncated "
                            + "while being read?", byteOffset: input.offset, row: row)
                }
                throw error(
                    .partialRow, "the file ends inside row \(row)", byteOffset: input.offset,
                    row: row)
            }
            let batch = min(input.available / rowBytes, wanted - produced)
            if rowCount == nil {
                resizeVecsChunk(
                    &chunk, rows: produced + batch, payload: payload, elementSize: elementSize)
            }
            let start = input.start
            let firstDestination = produced * payload
            let mismatch = VectorFileReader.copyRows(
                from: input.buffer, at: start, count: batch, components: components,
                payload: payload, into: &chunk, at: firstDestination, floats: elementSize == 4)
            if let (index, found) = mismatch {
                let row = rowsRead + produced + index
                throw error(
                    .dimensionMismatch,
                    "row \(row) declares dimension \(found), but row 0 declares \(components); "
                        + "all rows of a .\(format.rawValue) file must have the same dimension",
                    byteOffset: input.fileOffset(of: start + index * rowBytes), row: row)
            }
            input.consume(batch * rowBytes)
            produced += batch
        }
        if rowCount == nil {
            resizeVecsChunk(&chunk, rows: produced, payload: payload, elementSize: elementSize)
        }
        return produced
    }

    private func resizeVecsChunk(
        _ chunk: inout VectorChunk, rows: Int, payload: Int, elementSize: Int
    ) {
        if elementSize == 4 {
            chunk.resizeFloats(to: rows * payload / 4)
        } else {
            chunk.resizeBytes(to: rows * payload)
        }
    }

    /// Copies `count` rows (int32 dimension + payload) from `source[start...]` into the
    /// chunk's floats or bytes at byte offset `destinationOffset`; returns the index and
    /// dimension of the first row whose dimension differs from `components`, if any.
    private static func copyRows(
        from source: [UInt8], at start: Int, count: Int, components: Int, payload: Int,
        into chunk: inout VectorChunk, at destinationOffset: Int, floats: Bool
    ) -> (Int, Int32)? {
        let rowBytes = 4 + payload
        precondition(start + count * rowBytes <= source.count, "rows past the buffer")
        func copy(into destination: UnsafeMutableRawBufferPointer) -> (Int, Int32)? {
            precondition(
                destinationOffset + count * payload <= destination.count, "rows past the chunk")
            // Safety: the pointer does not escape the closure.
            return unsafe source.withUnsafeBytes { raw in
                for index in 0..<count {
                    let rowStart = start + index * rowBytes
                    // Safety: rowStart + rowBytes <= source.count (first precondition).
                    let declared = Int32(
                        littleEndian: unsafe raw.loadUnaligned(
                            fromByteOffset: rowStart, as: Int32.self))
                    if declared != components { return (index, declared) }
                    // Safety: the destination range is inside `destination` (second
                    // precondition), the source range inside `raw`.
                    unsafe (destination.baseAddress! + destinationOffset + index * payload)
                        .copyMemory(from: raw.baseAddress! + rowStart + 4, byteCount: payload)
                }
                return nil
            }
        }
        let mismatch: (Int, Int32)?
        if floats {
            // Safety: the pointer does not escape the closure.
            mismatch = unsafe chunk.floats.withUnsafeMutableBytes { unsafe copy(into: $0) }
            #if _endian(big)
                for index in (destinationOffset / 4)..<(destinationOffset / 4 + count * components) {
                    chunk.floats[index] = Float(
                        bitPattern: chunk.floats[index].bitPattern.byteSwapped)
                }
            #endif
        } else {
            // Safety: the pointer does not escape the closure.
            mismatch = unsafe chunk.bytes.withUnsafeMutableBytes { unsafe copy(into: $0) }
        }
        return mismatch
    }

    /// Loads a little-endian int32 at `index` (bounds-checked).
    static func loadInt32(_ bytes: [UInt8], at index: Int) -> Int32 {
        var value: UInt32 = 0
        for offset in (0..<4).reversed() { value = value << 8 | UInt32(bytes[index + offset]) }
        return Int32(bitPattern: value)
    }
}
