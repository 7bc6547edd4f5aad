import Foundation
import QuiverKernels

/// The distance a graph is built and searched with, over vectors read in place.
///
/// Smaller is closer, as everywhere in Quiver. Queries are prepared once (normalised, cut to a
/// prefix, or binarised) into a buffer the caller owns; stored rows are read where they lie.
struct GraphSpace {
    /// The same distances the exact scan computes (one set of cases for both, and one way to
    /// turn kernel output into distances: ``CodeDistance``).
    typealias Kind = DistanceKernel

    let kind: Kind
    /// Floats, or 64-bit words for ``Kind/hamming``.
    let components: Int
    let rows: VectorRows
    /// The encoding whose codes `rows` are (`nil` for floats and bits): a stored int8 code
    /// becomes a query by decoding it (``rowAsQuery(_:scratch:)``).
    let codebook: Codebook?

    /// The space an index is built and walked on: the plane its header names, or for a
    /// collection that keeps its floats only as int8 codes (`floatCodes`, the space on them)
    /// those codes in place of the floats.
    init(index header: HNSWHeader, snapshot: CollectionSnapshot, floatCodes: GraphSpace?) {
        if header.space == .floats, let floatCodes {
            self = floatCodes
        } else {
            self.init(header: header, metric: snapshot.descriptor.schema.metric, rows: VectorRows(snapshot: snapshot, bits: header.space == .bits))
        }
    }

    init(header: HNSWHeader, metric: Metric, rows: VectorRows) {
        self.rows = rows
        codebook = nil
        components = header.components
        switch header.space {
        case .bits: kind = .hamming
        case .prefix: kind = .forFloats(metric: metric, prefix: true)
        case .floats: kind = .forFloats(metric: metric, prefix: false)
        }
    }

    /// Walks the graph on an encoding's codes (`rows` are the code rows).
    init(codebook: Codebook, metric: Metric, rows: VectorRows) {
        self.rows = rows
        self.codebook = codebook
        switch codebook.model {
        case .int8:
            kind = .int8(metric)
            components = codebook.dimensions
        case .binary:
            kind = .bits(metric)
            components = codebook.bitBytes
        case .pq(let pq):
            kind = .pq(metric)
            components = pq.m
        case .ivfpq:
            preconditionFailure("IVF-PQ codes live in lists, not rows")
        }
    }

    /// Bytes a prepared query takes.
    var queryBytes: Int {
        switch kind {
        case .hamming: components * 8
        case .int8: (components + 2) * 4
        case .pq: components * 256 * 4
        case .bits: (components * 256 + 2) * 4
        default: components * 4
        }
    }

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
        case .int8(let metric):
            let q = query.assumingMemoryBound(to: Float.self)
            return CodeDistance.int8(Kernels.dotU8(q, x, count: components), query: q, dimensions: components, code: x, stride: rows.stride, metric: metric)
        case .pq(let metric):
            return CodeDistance.pq(Kernels.pqDistance(table: query.assumingMemoryBound(to: Float.self), m: components, code: x), metric: metric)
        case .bits(let metric):
            let table = query.assumingMemoryBound(to: Float.self)
            return CodeDistance.bits(Kernels.pqDistance(table: table, m: components, code: x), table: table, bytes: components, metric: metric)
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
        case .int8(let metric):
            let q = query.assumingMemoryBound(to: Float.self)
            Kernels.dotU8Gather(query: q, rows: pointers, count: count, dimensions: components, into: out)
            for i in 0..<count {
                out[i] = CodeDistance.int8(out[i], query: q, dimensions: components, code: pointers[i]!, stride: rows.stride, metric: metric)
            }
        case .pq(let metric):
            Kernels.pqGather(table: query.assumingMemoryBound(to: Float.self), m: components, rows: pointers, count: count, into: out)
            for i in 0..<count { out[i] = CodeDistance.pq(out[i], metric: metric) }
        case .bits(let metric):
            let table = query.assumingMemoryBound(to: Float.self)
            Kernels.pqGather(table: table, m: components, rows: pointers, count: count, into: out)
            for i in 0..<count { out[i] = CodeDistance.bits(out[i], table: table, bytes: components, metric: metric) }
        case .cosinePrefix, .hamming:
            for i in 0..<count { out[i] = distance(query, at: pointers[i]!) }
        }
    }

    /// Whether rows `a` and `b` hold byte-identical stored vectors (or codes).
    func storesSameVector(_ a: UInt32, _ b: UInt32) -> Bool {
        memcmp(rows.pointer(a), rows.pointer(b), rows.stride) == 0
    }

    /// Bytes of the scratch ``rowAsQuery(_:scratch:)`` needs: the prepared query, and for
    /// int8 codes the decoded vector after it.
    var rowQueryBytes: Int { codebook == nil ? queryBytes : queryBytes + components * 4 }

    /// `row`'s stored vector as a query: the row in place, for a cosine prefix a normalised
    /// copy, for an int8 code its decoded vector prepared as a query; in `scratch`
    /// (``rowQueryBytes`` bytes).
    func rowAsQuery(_ row: UInt32, scratch: UnsafeMutableRawPointer) -> UnsafeRawPointer {
        let stored = rows.pointer(row)
        if case .int8(let metric) = kind, let codebook {
            let decoded = (scratch + queryBytes).assumingMemoryBound(to: Float.self)
            _ = codebook.decode(stored, into: decoded)
            codebook.prepare(decoded, metric: metric, into: scratch)
            return UnsafeRawPointer(scratch)
        }
        guard case .cosinePrefix = kind else { return stored }
        let q = scratch.assumingMemoryBound(to: Float.self)
        q.update(from: stored.assumingMemoryBound(to: Float.self), count: components)
        _ = VectorMath.normalize(q, count: components)
        return UnsafeRawPointer(scratch)
    }
}

/// Turns what the code kernels return into distances (smaller is closer), for every metric.
enum CodeDistance {
    /// From `raw = Σ q'_d c_d` of an int8 code: `q·x̂ = raw + Σ q_d offset_d` (stored after the
    /// query's scaled components, with `|q|²` after it); L2 adds the code's `|x̂|²`, kept in the
    /// last 4 bytes of its row.
    @inline(__always)
    static func int8(_ raw: Float, query: UnsafePointer<Float>, dimensions: Int, code: UnsafeRawPointer, stride: Int, metric: Metric) -> Float {
        let ip = raw + query[dimensions]
        switch metric {
        case .cosine: return 1 - ip
        case .l2: return query[dimensions + 1] - 2 * ip + code.loadUnaligned(fromByteOffset: stride - 4, as: Float.self)
        default: return -ip
        }
    }

    /// From the table sum of a binary code (the query components whose bits are set): the
    /// estimate `q·x ≈ (2 raw − Σ q) / √D`, as a cosine or dot distance.
    @inline(__always)
    static func bits(_ raw: Float, table: UnsafePointer<Float>, bytes: Int, metric: Metric) -> Float {
        let ip = (2 * raw - table[bytes * 256]) * table[bytes * 256 + 1]
        return metric == .cosine ? 1 - ip : -ip
    }

    /// From the table sum of a PQ code: an inner product (cosine, dot) or the squared L2 distance.
    @inline(__always)
    static func pq(_ raw: Float, metric: Metric) -> Float {
        switch metric {
        case .cosine: 1 - raw
        case .l2: raw
        default: -raw
        }
    }
}
