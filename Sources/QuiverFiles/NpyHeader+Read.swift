extension NpyHeader {
    /// Reads and parses the preamble and header of the `.npy` file at the start of `input`,
    /// leaving `input` at the first byte of data.
    ///
    /// Only the file structure is checked here (magic, version, header length and
    /// dictionary); what the dtype and shape must be is up to the caller, which knows
    /// whether it wants a matrix of vectors or a list of offsets.
    ///
    /// - Parameter input: The input, at offset 0.
    /// - Returns: The header, the preamble's length (10 or 12 bytes: where the dictionary
    ///   starts, for errors about it) and the offset of the data.
    /// - Throws: ``FileFormatError`` naming the byte offset of the problem.
    static func read(
        _ input: inout ByteInput
    ) throws(FileFormatError) -> (header: NpyHeader, preambleLength: Int, dataOffset: Int) {
        let path = input.path
        func failure(
            _ code: FileFormatError.Code, _ message: String, at offset: Int
        ) -> FileFormatError {
            FileFormatError(code, message, path: path, byteOffset: offset)
        }

        _ = try input.fill(atLeast: 12)
        for index in 0..<magic.count {
            guard index < input.available else {
                throw failure(.truncated, "the file ends inside the .npy magic", at: index)
            }
            guard input.buffer[input.start + index] == magic[index] else {
                throw failure(.badMagic, "not a .npy file: it must start with \\x93NUMPY", at: 0)
            }
        }
        guard input.available >= 10 else {
            throw failure(.truncated, "the file ends inside the .npy preamble", at: 6)
        }
        let major = input.buffer[input.start + 6]
        let minor = input.buffer[input.start + 7]
        guard minor == 0, (1...3).contains(major) else {
            throw failure(
                .unsupportedVersion,
                ".npy format version \(major).\(minor) is not supported (1.0, 2.0, 3.0 are)",
                at: 6)
        }
        let preambleLength = major == 1 ? 10 : 12
        guard input.available >= preambleLength else {
            throw failure(.truncated, "the file ends inside the .npy preamble", at: 8)
        }
        var headerLength = 0
        for index in (8..<preambleLength).reversed() {
            headerLength = headerLength << 8 | Int(input.buffer[input.start + index])
        }
        guard headerLength <= maximumHeaderLength else {
            throw failure(
                .tooLarge, "the .npy header claims \(headerLength) bytes (at most "
                    + "\(maximumHeaderLength) accepted)", at: 8)
        }
        let dataOffset = preambleLength + headerLength
        guard try input.fill(atLeast: dataOffset) else {
            throw failure(
                .truncated,
                "the file ends inside the .npy header (\(headerLength) bytes declared)",
                at: input.offset + input.available)
        }
        let headerStart = input.start + preambleLength
        let header: NpyHeader
        do throws(FileFormatError) {
            header = try parse(
                input.buffer.span.extracting(headerStart..<(headerStart + headerLength)))
        } catch {
            throw error.located(path: path).shifted(by: preambleLength)
        }
        input.consume(dataOffset)
        return (header, preambleLength, dataOffset)
    }
}
