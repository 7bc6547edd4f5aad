import QuiverKernels

/// A trained encoding of one collection: what turns a float vector into a code, and a query
/// into what scores codes. Stored in `codes.meta` (docs/file-format.md).
struct Codebook: Hashable {
    enum Model: Hashable {
        /// Per-dimension affine ranges: `x_d ≈ offsets[d] + scales[d] × c_d`.
        case int8(offsets: [Float], scales: [Float])
        /// Sign bits.
        case binary
        /// A product quantiser (`m` × 256 centroids).
        case pq(ProductQuantizer)
        /// `nlist` coarse centroids (row-major) and the product quantiser of the residuals.
        case ivfpq(coarse: [Float], nlist: Int, pq: ProductQuantizer)
    }

    /// The encoding's number within its collection (1...255): the high byte of its code keys.
    let id: UInt8
    let parameters: EncodingParameters
    /// Floats encoded: the dimensions, or the Matryoshka prefix.
    let dimensions: Int
    let model: Model
    let trainedRows: Int

    var encoding: VectorEncoding { parameters.encoding }
    /// Whether the codes live in IVF lists (rather than one code per row in row blocks).
    var isInverted: Bool { if case .ivfpq = model { true } else { false } }

    /// Bytes of one row's code in a code block: int8 codes then the reconstruction's squared
    /// norm (f32, in the last 4 bytes); packed sign bits in whole 64-bit words; PQ codes.
    /// Rounded up to 16 so that rows stay 16-byte aligned in the map.
    var stride: Int {
        switch model {
        case .int8: (dimensions + 4 + 15) / 16 * 16
        case .binary: (words * 8 + 15) / 16 * 16
        case .pq(let pq): (pq.m + 15) / 16 * 16
        // The row's list (u32): its code lives in the list (`ivf.lists`).
        case .ivfpq: 4
        }
    }

    /// 64-bit words of a binary code.
    var words: Int { (dimensions + 63) / 64 }
    /// Bytes of a binary code that hold bits: a float query scores them by one table each.
    var bitBytes: Int { (dimensions + 7) / 8 }

    /// Bytes a prepared query takes (see ``prepare(_:metric:into:)``).
    var queryBytes: Int {
        switch model {
        case .int8: (dimensions + 2) * 4
        case .binary: (bitBytes * 256 + 2) * 4
        case .pq(let pq), .ivfpq(_, _, let pq): pq.m * 256 * 4
        }
    }

    /// The scan kernel of these codes and the components it reads (dimensions, code bytes,
    /// or PQ sub-vectors).
    func kernel(metric: Metric) -> (DistanceKernel, Int) {
        switch model {
        case .int8: (.int8(metric), dimensions)
        case .binary: (.bits(metric), bitBytes)
        case .pq(let pq), .ivfpq(_, _, let pq): (.pq(metric), pq.m)
        }
    }

    /// The part of a stored float row this encoding reads: the prefix, re-normalised for
    /// cosine, into `scratch` (`dimensions` floats) — or the row itself when it is whole.
    func input(_ row: UnsafeRawPointer, metric: Metric, fullDimensions: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        input(row.assumingMemoryBound(to: Float.self), metric: metric, fullDimensions: fullDimensions, scratch: scratch)
    }

    /// ``input(_:metric:fullDimensions:scratch:)`` of a vector already read.
    func input(_ floats: UnsafePointer<Float>, metric: Metric, fullDimensions: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard dimensions != fullDimensions, metric == .cosine else { return floats }
        scratch.update(from: floats, count: dimensions)
        _ = VectorMath.normalize(scratch, count: dimensions)
        return UnsafePointer(scratch)
    }

    /// Writes the code of `vector` (`dimensions` floats) into `code` (`stride` bytes).
    func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutableRawPointer) {
        code.initializeMemory(as: UInt8.self, repeating: 0, count: stride)
        switch model {
        case .int8(let offsets, let scales):
            let bytes = code.assumingMemoryBound(to: UInt8.self)
            var norm: Float = 0
            for d in 0..<dimensions {
                let c = Self.quantise(vector[d], offset: offsets[d], scale: scales[d])
                bytes[d] = c
                let x = offsets[d] + scales[d] * Float(c)
                norm += x * x
            }
            code.storeBytes(of: norm, toByteOffset: stride - 4, as: Float.self)
        case .binary:
            packSignBits(UnsafeBufferPointer(start: vector, count: dimensions), into: UnsafeMutableRawBufferPointer(start: code, count: words * 8))
        case .pq(let pq):
            pq.encode(vector, into: code.assumingMemoryBound(to: UInt8.self))
        case .ivfpq:
            preconditionFailure("IVF-PQ codes live in their lists (IVFLists)")
        }
    }

    @inline(__always)
    static func quantise(_ x: Float, offset: Float, scale: Float) -> UInt8 {
        guard scale > 0 else { return 0 }
        return UInt8(max(0, min(255, ((x - offset) / scale).rounded())))
    }

    /// The vector a code stands for (int8 and PQ), into `out` (`dimensions` floats); `false`
    /// for binary codes, which stand for no vector.
    func decode(_ code: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) -> Bool {
        switch model {
        case .int8(let offsets, let scales):
            let bytes = code.assumingMemoryBound(to: UInt8.self)
            for d in 0..<dimensions { out[d] = offsets[d] + scales[d] * Float(bytes[d]) }
            return true
        case .binary:
            return false
        case .pq(let pq):
            pq.decode(code.assumingMemoryBound(to: UInt8.self), into: out)
            return true
        case .ivfpq:
            return false
        }
    }

    /// Turns a query (`dimensions` floats, normalised as the stored vectors are) into what
    /// scores codes, in `buffer` (`queryBytes` bytes):
    /// - int8: `q_d × scale_d` for each d, then `Σ q_d offset_d` and `|q|²`, so that
    ///   `q·x̂ = Σ q'_d c_d + Σ q_d offset_d` (one u8 dot product per row);
    /// - binary: one table per code byte, `table[j × 256 + v]` = the sum of the query
    ///   components whose bits are set in `v` at byte `j`, then `Σ q_d` and `1/√D`: the
    ///   asymmetric estimate `q·x ≈ (2 Σ_{bit d set} q_d − Σ q_d) / √D` of a unit vector from
    ///   its signs ranks far better than Hamming distance to the query's own signs (on debian,
    ///   the true top 10 are 95% within the 40 best by this estimate, 86% by Hamming), and it
    ///   is scored by the PQ kernels, `D/8` lookups per code;
    /// - PQ: the per-query table, `m × 256` inner products (cosine, dot) or squared L2 parts.
    func prepare(_ query: UnsafePointer<Float>, metric: Metric, into buffer: UnsafeMutableRawPointer) {
        switch model {
        case .int8(let offsets, let scales):
            let q = buffer.assumingMemoryBound(to: Float.self)
            var bias: Float = 0
            var norm: Float = 0
            for d in 0..<dimensions {
                q[d] = query[d] * scales[d]
                bias += query[d] * offsets[d]
                norm += query[d] * query[d]
            }
            q[dimensions] = bias
            q[dimensions + 1] = norm
        case .binary:
            let table = buffer.assumingMemoryBound(to: Float.self)
            var sum: Float = 0
            for j in 0..<bitBytes {
                let t = table + j * 256
                t[0] = 0
                // Bit p of byte j stands for component 8j + 7 − p (numpy.packbits order); the
                // entries with bit p set are those without it plus that component.
                for p in 0..<8 {
                    let d = 8 * j + 7 - p
                    let w = d < dimensions ? query[d] : 0
                    let step = 1 << p
                    if step >= 8 {
                        // Eight entries at a time: the halves never overlap.
                        let raw = UnsafeMutableRawPointer(t)
                        for i in Swift.stride(from: 0, to: step, by: 8) {
                            let low = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                            raw.storeBytes(of: low + SIMD8(repeating: w), toByteOffset: (step + i) * 4, as: SIMD8<Float>.self)
                        }
                    } else {
                        for i in 0..<step { t[step + i] = t[i] + w }
                    }
                }
            }
            for d in 0..<dimensions { sum += query[d] }
            table[bitBytes * 256] = sum
            table[bitBytes * 256 + 1] = 1 / Float(dimensions).squareRoot()
        case .pq(let pq):
            let table = buffer.assumingMemoryBound(to: Float.self)
            if metric == .l2 { pq.squaredL2Table(query: query, into: table) } else { pq.innerProductTable(query: query, into: table) }
        case .ivfpq(_, _, let pq):
            // Inner products with the residual codes, for every metric (see IVFSearch).
            pq.innerProductTable(query: query, into: buffer.assumingMemoryBound(to: Float.self))
        }
    }
}
