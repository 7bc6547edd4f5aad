import CQuiverKernels

/// A multi-vector query prepared to score documents whose tokens are stored as u8 codes (int8
/// scalar quantisation, `x_d ≈ offset_d + scale_d × c_d`) by MaxSim, in exact integer sums:
/// the cheap first rescoring of multi-vector candidates, before the best of them are scored on
/// their floats.
///
/// The caller folds the code ranges into each query token `i`: weights `w_id = q_id × scale_d`
/// and a bias `Σ_d q_id × offset_d`, so that `q_i · x ≈ Σ_d w_id c_d + bias_i`. The weights are
/// quantised to 7 bits per token (their own scale) and laid out with query tokens in lanes, so
/// a document token's code bytes meet 16 query tokens in one byte multiply-add (`VPDPBUSD` on
/// AVX-512 VNNI, `VPMADDUBSW` on AVX2) with no horizontal sums and no copy of the document.
/// Every kernel set returns the same bits. The C calls are `qv_maxsim_u8_prepare` and
/// `qv_maxsim_u8`.
// Safety: the class owns its two buffers, writes the prepared query only in init, and hands the
// buffers only to the C kernels, which read and write within the extents the layout defines.
@safe public final class U8MaxSimQuery {
    /// Query tokens.
    public let queryCount: Int
    /// Components per token.
    public let dimensions: Int
    private let prepared: UnsafeMutableRawPointer
    private let best: UnsafeMutablePointer<Int32>

    /// Prepares `queryCount` tokens: `weights` holds `queryCount × dimensions` floats
    /// (row-major, `w_id = q_id × scale_d`), `biases` one float per token.
    /// - Precondition: counts are non-negative.
    public init(weights: UnsafePointer<Float>, biases: UnsafePointer<Float>, queryCount: Int, dimensions: Int) {
        precondition(queryCount >= 0 && dimensions >= 0, "negative count")
        self.queryCount = queryCount
        self.dimensions = dimensions
        prepared = .allocate(byteCount: max(1, qv_maxsim_u8_query_bytes(queryCount, dimensions)), alignment: 64)
        best = .allocate(capacity: max(1, queryCount))
        // Safety: reads the weights and biases described, writes the prepared layout's bytes.
        unsafe qv_maxsim_u8_prepare(weights, biases, queryCount, dimensions, prepared)
    }

    deinit {
        prepared.deallocate()
        best.deallocate()
    }

    /// Query token `i`'s weight step `a_i = max_d |w_id| / 63`: its weights are rounded to
    /// multiples of it.
    /// - Precondition: `i` is in `0..<queryCount`.
    public func weightStep(ofToken i: Int) -> Float {
        precondition((0..<queryCount).contains(i), "query token \(i) out of 0..<\(queryCount)")
        // Safety: reads one float of the prepared layout.
        return unsafe qv_maxsim_u8_weight_step(prepared, queryCount, dimensions, i)
    }

    /// The approximate MaxSim score of a document of `count` tokens, token `j`'s u8 codes at
    /// `tokens[j]` (any alignment), or 0 when either count is 0.
    /// - Precondition: each address is readable for `dimensions` rounded up to 4 bytes (the
    ///   bytes past `dimensions` are multiplied by zero): int8 code rows are, since the
    ///   reconstruction's norm follows the codes.
    public func score(tokens: UnsafePointer<UnsafeRawPointer>, count: Int) -> Float {
        precondition(count >= 0, "negative count")
        // Safety: reads the prepared query, `count` addresses and the code bytes at each;
        // writes `queryCount` integers of `best`.
        return unsafe qv_maxsim_u8(prepared, queryCount, dimensions, tokens, count, best)
    }

    /// The oracle for ``score(tokens:count:)``: the same quantisation, integer sums and float
    /// operations, one query token and one document token at a time, in Swift.
    /// - Parameters:
    ///   - weights: per query token, `dimensions` weights.
    ///   - biases: per query token, its bias.
    ///   - codes: per document token, `dimensions` codes.
    public static func scoreReference(weights: [[Float]], biases: [Float], codes: [[UInt8]]) -> Float {
        guard !weights.isEmpty, !codes.isEmpty else { return 0 }
        var score: Float = 0
        for (i, w) in weights.enumerated() {
            let largest = w.reduce(Float(0)) { max($0, abs($1)) }
            // The weights' sum in four chains (components d mod 4), added pairwise, as the kernel sums.
            var chains: [Float] = [0, 0, 0, 0]
            for (d, x) in w.enumerated() { chains[d % 4] += x }
            let total = (chains[0] + chains[1]) + (chains[2] + chains[3])
            let constant = 128 * total + biases[i]
            guard largest > 0, w.allSatisfy(\.isFinite) else {
                score += Float(0) + constant // the kernel's 0 × 0 + constant
                continue
            }
            let inverse = 63 / largest
            let quantised = w.map { x -> Int32 in
                let scaled = x * inverse
                return max(-63, min(63, Int32(scaled + (scaled >= 0 ? 0.5 : -0.5))))
            }
            var top = Int32.min
            for code in codes {
                var sum: Int32 = 0
                for d in 0..<w.count { sum += quantised[d] * Int32(code[d]) }
                top = max(top, sum)
            }
            score += (largest / 63) * Float(top - 128 * quantised.reduce(0, +)) + constant
        }
        return score
    }
}
