extension MultiVectorFileReader {
    /// Documents from a `.npy` token matrix, read through a ``VectorFileReader``, cut into
    /// documents by the offsets.
    struct MatrixSource: ~Copyable, Sendable {
        /// The token matrix.
        var tokens: VectorFileReader
        /// The checked offsets: `0`, strictly increasing, ending at the token count.
        let offsets: [Int]
        /// The most bytes of token floats a chunk adds documents up to.
        let maximumChunkBytes: Int
        /// Rows from ``tokens``; its buffer swaps places with the chunk's.
        var rows = VectorChunk()

        /// The token reader's options: `.npy`, float rows, and this reader's buffer sizes.
        static func tokenOptions(_ options: Options) -> VectorFileReader.Options {
            var tokenOptions = VectorFileReader.Options(format: .npy)
            tokenOptions.bufferSize = options.bufferSize
            tokenOptions.maximumChunkBytes = options.maximumChunkBytes
            return tokenOptions
        }

        /// Checks that the tokens are floats and that the offsets cover exactly their rows.
        init(
            tokens: consuming VectorFileReader, offsets: [Int], offsetsPath: String?,
            options: Options
        ) throws(FileFormatError) {
            guard tokens.elementKind == .float32 else {
                throw FileFormatError(
                    .unsupportedDataType,
                    "token vectors must be floats (<f4, or <f2, <f8); this .npy holds bytes",
                    path: tokens.path)
            }
            // The .npy reader knows the row count of every file it opens.
            try TokenOffsets.checkEnd(
                of: offsets, tokenCount: tokens.rowCount ?? 0, path: offsetsPath)
            self.tokens = tokens
            self.offsets = offsets
            self.maximumChunkBytes = options.maximumChunkBytes
        }

        /// Reads up to `maxDocuments` documents, starting at document `first`, into `chunk`
        /// (which is empty).
        mutating func read(
            into chunk: inout TokenChunk, maxDocuments: Int, from first: Int
        ) throws(FileFormatError) -> Int {
            let remaining = offsets.count - 1 - first
            guard remaining > 0 else {
                // After the last document: input from a pipe may still hold trailing bytes,
                // which the token reader reports at its end.
                _ = try tokens.read(into: &rows, maxRows: 1)
                return 0
            }
            // Whole documents, as many as fit the byte limit, and at least one. No product
            // overflows: every offset is at most the token count, whose bytes the .npy
            // reader checked fit `Int`.
            let rowBytes = tokens.dimensions * 4
            let start = offsets[first]
            var documents = 1
            while documents < min(maxDocuments, remaining),
                (offsets[first + documents + 1] - start) * rowBytes <= maximumChunkBytes
            {
                documents += 1
            }
            for document in first..<(first + documents) {
                chunk.tokenCounts.append(offsets[document + 1] - offsets[document])
            }
            let tokenRows = offsets[first + documents] - start
            var done = 0
            while done < tokenRows {
                let got = try tokens.read(into: &rows, maxRows: tokenRows - done)
                guard got > 0 else {
                    // The offsets end at the token count, so the token reader runs dry only
                    // by throwing; this keeps a broken invariant from looping forever.
                    preconditionFailure("the token file ended before the offsets")
                }
                if done == 0 && got == tokenRows {
                    // The usual case: one read holds the whole chunk, so hand its buffer
                    // over instead of copying it (the chunk's old buffer is reused next).
                    swap(&chunk.floats, &rows.floats)
                } else {
                    chunk.floats.append(contentsOf: rows.floats)
                }
                done += got
            }
            return documents
        }
    }
}
