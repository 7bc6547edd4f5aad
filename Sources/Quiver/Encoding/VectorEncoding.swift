/// A compressed form of a float collection's vectors, stored beside the floats and used to
/// find candidates fast; the candidates are then rescored on the full float vectors (or, where
/// the floats are kept only as int8, on those int8 codes).
///
/// ```swift
/// try db.write { tx in
///     try tx.collection("docs").buildEncoding(.int8)
/// }
/// let hits = try db.read { tx in
///     try tx.collection("docs").search(query, k: 10, options: SearchOptions(candidates: .encoding(.int8), oversample: 4))
/// }
/// ```
public enum VectorEncoding: Sendable, Hashable, CustomStringConvertible {
    /// One byte per dimension: `x_d ≈ offset_d + scale_d × c_d`, with per-dimension ranges
    /// trained on the data (4× smaller than float32).
    case int8
    /// One sign bit per dimension (component `> 0` → 1), scored by Hamming distance; for
    /// cosine and dot collections (32× smaller than float32).
    case binary
    /// Product quantisation (Jégou et al. 2011): `m` sub-vectors, each replaced by the index of
    /// the nearest of 256 centroids trained by k-means; `m` bytes per vector, scored by
    /// per-query lookup tables. `m` divides the dimensions.
    case pq(m: Int)
    /// An inverted file (Jégou et al. 2011, IVFADC): k-means splits the vectors into `nlist`
    /// lists, and each list stores its rows' PQ codes (`m` bytes) of the residual to the list's
    /// centroid, contiguously, so a search reads only the `nprobe` lists nearest the query
    /// (``SearchOptions/nprobe``). The path for collections larger than memory.
    case ivfpq(nlist: Int, m: Int)

    /// `int8`, `binary`, `pq48` or `ivfpq1024x48`.
    public var description: String {
        switch self {
        case .int8: "int8"
        case .binary: "binary"
        case .pq(let m): "pq\(m)"
        case .ivfpq(let nlist, let m): "ivfpq\(nlist)x\(m)"
        }
    }

    /// Parses ``description``'s form (`int8`, `binary`, `pq48`, `ivfpq1024x48`); `nil` for
    /// anything else.
    public init?(_ text: String) {
        switch text {
        case "int8": self = .int8
        case "binary": self = .binary
        default:
            if text.hasPrefix("ivfpq") {
                let parts = text.dropFirst(5).split(separator: "x")
                guard parts.count == 2, let nlist = Int(parts[0]), let m = Int(parts[1]), nlist > 0, m > 0 else { return nil }
                self = .ivfpq(nlist: nlist, m: m)
                return
            }
            guard text.hasPrefix("pq"), let m = Int(text.dropFirst(2)), m > 0 else { return nil }
            self = .pq(m: m)
        }
    }
}

/// How an encoding is trained and on which part of the vector.
public struct EncodingParameters: Sendable, Hashable {
    /// The encoding.
    public var encoding: VectorEncoding
    /// For Matryoshka collections: encode this declared prefix (re-normalised for cosine)
    /// instead of the full vector. `nil` encodes the full vector.
    public var prefix: Int?
    /// Rows drawn (evenly, by a seeded shuffle) to train on; all rows when fewer live.
    public var sampleSize: Int
    /// Seeds the sample and k-means, so one seed and one collection give one set of codes.
    public var seed: UInt64
    /// k-means iterations (PQ).
    public var iterations: Int

    /// Creates parameters; the defaults train on up to 65,536 rows with a fixed seed.
    public init(_ encoding: VectorEncoding, prefix: Int? = nil, sampleSize: Int = 65_536, seed: UInt64 = 0x5155_4956_4552,
                iterations: Int = 20) {
        self.encoding = encoding
        self.prefix = prefix
        self.sampleSize = sampleSize
        self.seed = seed
        self.iterations = iterations
    }
}

/// Where a search takes its candidates from before rescoring.
public enum CandidateSource: Sendable, Hashable {
    /// The collection's most faithful full-vector encoding (int8, then PQ, then binary) when
    /// it has one — or its IVF-PQ lists when it has those and no HNSW index; otherwise the float
    /// vectors themselves.
    case automatic
    /// The float vectors (no encoding); for a collection that keeps its floats only as int8
    /// (``CollectionWriter/keepFloatsOnlyAsInt8(threads:progress:)``), the int8 codes that
    /// stand in for them.
    case floats
    /// This encoding of the full vector (or of ``SearchOptions/prefix`` when set); the search
    /// throws ``QuiverError/Code/encodingNotFound`` when the collection does not have it.
    case encoding(VectorEncoding)
}

/// What ``CollectionReader/encodings`` reports about one encoding.
public struct EncodingInfo: Sendable, Hashable {
    /// How it was trained.
    public var parameters: EncodingParameters
    /// Components encoded: the dimensions, or the prefix.
    public var dimensions: Int
    /// Bytes one row's code takes in a code block (the code, its correction term, padding).
    public var codeBytes: Int
    /// Rows the training used.
    public var trainedRows: Int
}
