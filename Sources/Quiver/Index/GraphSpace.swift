import QuiverKernels

/// The distance a graph is built and searched with, over vectors read in place.
///
/// Smaller is closer, as everywhere in Quiver. Queries are prepared once (normalised, cut to a
/// prefix, or binarised) into a buffer the caller owns; stored rows are read where they lie.
struct GraphSpace {
    enum Kind {
        /// `1 - q·x` for unit vectors (cosine collections store normalised vectors).
        case cosineUnit
        /// `-q·x`.
        case negativeDot
        /// `|q - x|²`.
        case squaredL2
        /// `1 - q·x / |x|` on a prefix: the query prefix is unit, the stored prefix is not.
        case cosinePrefix
        /// Differing bits.
        case hamming
    }

    let kind: Kind
    /// Floats, or 64-bit words for ``Kind/hamming``.
    let components: Int
    let rows: VectorRows

    init(header: HNSWHeader, metric: Metric, rows: VectorRows) {
        self.rows = rows
        components = header.components
        switch header.space {
        case .bits: kind = .hamming
        case .prefix: kind = metric == .cosine ? .cosinePrefix : (metric == .dot ? .negativeDot : .squaredL2)
        case .floats: kind = metric == .cosine ? .cosineUnit : (metric == .dot ? .negativeDot : .squaredL2)
        }
    }

    /// Bytes a prepared query takes.
    var queryBytes: Int { kind == .hamming ? components * 8 : components * 4 }

    /// The distance from a prepared query to the stored vector of `row`.
    @inline(__always)
    func distance(_ query: UnsafeRawPointer, _ row: UInt32) -> Float {
        distance(query, at: rows.pointer(row))
    }

    @inline(__always)
    func distance(_ query: UnsafeRawPointer, at x: UnsafeRawPointer) -> Float {
        switch kind {
        case .cosineUnit:
            return 1 - Kernels.dot(query.assumingMemoryBound(to: Float.self), x, count: components)
        case .negativeDot:
            return -Kernels.dot(query.assumingMemoryBound(to: Float.self), x, count: components)
        case .squaredL2:
            return Kernels.squaredL2(query.assumingMemoryBound(to: Float.self), x, count: components)
        case .cosinePrefix:
            let (dot, norm) = Kernels.dotAndSquaredNorm(query.assumingMemoryBound(to: Float.self), x, count: components)
            return norm > 0 ? 1 - dot / norm.squareRoot() : 1
        case .hamming:
            return Float(Kernels.hamming(query.assumingMemoryBound(to: UInt64.self), x, words: components))
        }
    }

    /// Distances from a prepared query to `count` stored vectors at `pointers`, into `out`:
    /// the neighbours of one node scored together (see ``Kernels/dotGather(query:rows:count:dimensions:into:)``).
    @inline(__always)
    func distances(_ query: UnsafeRawPointer, _ pointers: UnsafeMutablePointer<UnsafeRawPointer?>, count: Int,
                   into out: UnsafeMutablePointer<Float>) {
        switch kind {
        case .cosineUnit:
            Kernels.dotGather(query: query.assumingMemoryBound(to: Float.self), rows: pointers, count: count, dimensions: components, into: out)
            for i in 0..<count { out[i] = 1 - out[i] }
        case .negativeDot:
            Kernels.dotGather(query: query.assumingMemoryBound(to: Float.self), rows: pointers, count: count, dimensions: components, into: out)
            for i in 0..<count { out[i] = -out[i] }
        case .squaredL2:
            Kernels.squaredL2Gather(query: query.assumingMemoryBound(to: Float.self), rows: pointers, count: count, dimensions: components, into: out)
        case .cosinePrefix, .hamming:
            for i in 0..<count { out[i] = distance(query, at: pointers[i]!) }
        }
    }

    /// `row`'s stored vector as a query: the row in place, or for a cosine prefix a normalised
    /// copy in `scratch` (`queryBytes` bytes).
    func rowAsQuery(_ row: UInt32, scratch: UnsafeMutableRawPointer) -> UnsafeRawPointer {
        let stored = rows.pointer(row)
        guard kind == .cosinePrefix else { return stored }
        let q = scratch.assumingMemoryBound(to: Float.self)
        q.update(from: stored.assumingMemoryBound(to: Float.self), count: components)
        _ = VectorMath.normalize(q, count: components)
        return UnsafeRawPointer(scratch)
    }
}
