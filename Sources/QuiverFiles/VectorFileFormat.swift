/// The vector file formats that ``VectorFileReader`` reads.
public enum VectorFileFormat: String, Sendable, CaseIterable {
    /// NumPy `.npy`: a 2-D array of `<f4` (also `<f2`, `<f8`, widened or narrowed to
    /// `Float`) or `|u1`.
    case npy
    /// texmex `.fvecs`: per row an `int32` dimension, then that many `float32`, little-endian.
    case fvecs
    /// texmex `.bvecs`: per row an `int32` dimension, then that many `uint8`.
    case bvecs
    /// JSON Lines (`.jsonl`, `.ndjson`): one object per line with `id`, `vector`, `metadata`.
    case jsonLines

    /// The format that a file extension names, or `nil`.
    ///
    /// - Parameter pathExtension: The extension without the dot, in any case: `npy`,
    ///   `fvecs`, `bvecs`, `jsonl` or `ndjson`.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "npy": self = .npy
        case "fvecs": self = .fvecs
        case "bvecs": self = .bvecs
        case "jsonl", "ndjson": self = .jsonLines
        default: return nil
        }
    }

    /// Returns the format of the file at `path`, judged by its extension.
    ///
    /// - Parameter path: A file path such as `data/base.fvecs`.
    /// - Returns: The format.
    /// - Throws: ``FileFormatError/Code/unknownFormat`` when the extension names none.
    public static func detect(path: String) throws(FileFormatError) -> VectorFileFormat {
        guard let format = VectorFileFormat(pathExtension: pathExtension(of: path)) else {
            throw FileFormatError(
                .unknownFormat,
                "cannot tell the vector format from the extension; "
                    + "use .npy, .fvecs, .bvecs, .jsonl or .ndjson",
                path: path)
        }
        return format
    }
}

/// The extension of the last path component, without the dot ("" when there is none).
func pathExtension(of path: String) -> String {
    let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return String(name[name.index(after: dot)...])
}

/// What one vector component is, and so where ``VectorChunk`` holds it.
public enum VectorElementKind: Sendable, Hashable {
    /// 32-bit floats, in ``VectorChunk/floats``.
    case float32
    /// Bytes, each one component, in ``VectorChunk/bytes``.
    case uint8
    /// Bits packed eight to a byte (most significant bit first, as `numpy.packbits`), in
    /// ``VectorChunk/bytes``; `bits` is the vector's dimension, a multiple of 8.
    case packedBits(bits: Int)
}

/// A record key read from a JSON Lines `id` field.
public enum RecordKeyValue: Sendable, Hashable {
    /// A non-negative integer id.
    case int(UInt64)
    /// A string id.
    case string(String)
}

/// Rows read by ``VectorFileReader/read(into:maxRows:)``, in buffers that are reused from
/// one call to the next so that reading allocates nothing per row.
///
/// Make one chunk and pass it to every call; each call replaces its contents.
public struct VectorChunk: Sendable {
    /// The float32 components, row-major: row `i` is `floats[i * dimensions ..< (i + 1) *
    /// dimensions]`. Empty for byte formats.
    public var floats: [Float] = []
    /// The uint8 components or packed bits, row-major, ``VectorFileReader/bytesPerRow``
    /// bytes per row. Empty for float formats.
    public var bytes: [UInt8] = []
    /// One key per row when the file has keys (JSON Lines with an `id` field); else empty.
    public var keys: [RecordKeyValue] = []
    /// One metadata object per row for JSON Lines (empty when a line has none); else empty.
    public var metadata: [[String: JSONValue]] = []
    /// The zero-based index in the file of the chunk's first row.
    public var firstRow = 0
    /// The number of rows in the chunk.
    public var rowCount = 0

    /// Creates an empty chunk.
    public init() {}

    /// Empties the chunk for a read starting at `row`, keeping every buffer's capacity.
    mutating func reset(firstRow row: Int) {
        firstRow = row
        rowCount = 0
        keys.removeAll(keepingCapacity: true)
        metadata.removeAll(keepingCapacity: true)
    }

    /// Sets `floats.count` to `count`, keeping capacity; new elements are zero.
    mutating func resizeFloats(to count: Int) {
        if floats.count > count {
            floats.removeLast(floats.count - count)
        } else if floats.count < count {
            floats.append(contentsOf: repeatElement(0, count: count - floats.count))
        }
    }

    /// Sets `bytes.count` to `count`, keeping capacity; new elements are zero.
    mutating func resizeBytes(to count: Int) {
        if bytes.count > count {
            bytes.removeLast(bytes.count - count)
        } else if bytes.count < count {
            bytes.append(contentsOf: repeatElement(0, count: count - bytes.count))
        }
    }
}
