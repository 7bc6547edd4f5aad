/// Reads texmex `.ivecs` files: per row an `int32` count, then that many `int32`
/// (little-endian). Benchmarks use them for ground truth: row `i` lists the ids of the
/// nearest neighbours of query `i`.
///
/// Unlike ``VectorFileReader`` with `.fvecs`, rows may have different lengths (a range
/// search's ground truth does), and a row may be empty.
///
/// ```swift
/// let truth = try IVecs.readAll(path: "sift_groundtruth.ivecs")
/// let nearestOfQuery0 = truth[0][0]
/// ```
public enum IVecs {
    /// Reads every row of the `.ivecs` file at `path`.
    ///
    /// - Parameter path: The file.
    /// - Returns: The rows, in file order.
    /// - Throws: ``FileFormatError/Code/partialRow`` (with row and offset) when the file
    ///   ends inside a row, ``FileFormatError/Code/malformedHeader`` for a negative count,
    ///   ``FileFormatError/Code/tooLarge`` for a count over 16 M, or an I/O error.
    /// - Complexity: O(n) in the file size.
    public static func readAll(path: String) throws(FileFormatError) -> [[Int32]] {
        var input = try ByteInput(path: path)
        return try readAll(&input)
    }

    /// Reads every row of `.ivecs` data in memory (see ``readAll(path:)``).
    ///
    /// - Parameter bytes: The complete file contents.
    /// - Returns: The rows, in order.
    /// - Throws: ``FileFormatError`` naming the row and byte offset of the first problem.
    public static func readAll(bytes: [UInt8]) throws(FileFormatError) -> [[Int32]] {
        var input = ByteInput(bytes: bytes)
        return try readAll(&input)
    }

    /// The largest count accepted for one row, which bounds what a hostile count can make
    /// the reader allocate before it finds the data missing.
    static let maximumRowLength = 1 << 24

    static func readAll(_ input: inout ByteInput) throws(FileFormatError) -> [[Int32]] {
        var rows: [[Int32]] = []
        while true {
            let rowOffset = input.offset
            guard try input.fill(atLeast: 4) else {
                if input.available == 0 { return rows }
                throw FileFormatError(
                    .partialRow, "the file ends inside the count of row \(rows.count)",
                    path: input.path, byteOffset: rowOffset, row: rows.count)
            }
            let count = VectorFileReader.loadInt32(input.buffer, at: input.start)
            guard count >= 0 else {
                throw FileFormatError(
                    .malformedHeader, "row \(rows.count) declares a negative count \(count)",
                    path: input.path, byteOffset: rowOffset, row: rows.count)
            }
            guard count <= maximumRowLength else {
                throw FileFormatError(
                    .tooLarge, "row \(rows.count) declares \(count) values, too many",
                    path: input.path, byteOffset: rowOffset, row: rows.count)
            }
            let rowBytes = 4 + Int(count) * 4
            if let size = input.size, rowOffset + rowBytes > size {
                throw FileFormatError(
                    .partialRow,
                    "the file ends inside row \(rows.count), which declares \(count) values",
                    path: input.path, byteOffset: rowOffset, row: rows.count)
            }
            guard try input.fill(atLeast: rowBytes) else {
                throw FileFormatError(
                    .partialRow,
                    "the file ends inside row \(rows.count), which declares \(count) values",
                    path: input.path, byteOffset: rowOffset, row: rows.count)
            }
            var row: [Int32] = []
            row.reserveCapacity(Int(count))
            for index in 0..<Int(count) {
                row.append(
                    VectorFileReader.loadInt32(input.buffer, at: input.start + 4 + index * 4))
            }
            input.consume(rowBytes)
            rows.append(row)
        }
    }
}
