import CQuiverKernels
import QuiverKernels
import Testing

/// MaxSim on u8 codes: every instruction set's kernel against the Swift oracle (the integer sums
/// are exact, so the scores are equal bit for bit), and the kernel against float MaxSim of the
/// vectors the codes stand for.
@Suite("MaxSim on u8 codes")
struct U8MaxSimTests {
    /// Document tokens as separate rows of `dimensions` codes followed by 3 bytes of 0xFF (what
    /// the kernels may read past the codes, multiplied by weights of zero) and a gap.
    final class Rows {
        let storage: UnsafeMutableRawPointer
        var addresses: [UnsafeRawPointer] = []

        init(_ codes: [[UInt8]], dimensions: Int) {
            let stride = dimensions + 3 + 13
            storage = .allocate(byteCount: max(1, codes.count * stride) + 1, alignment: 64)
            // One byte in, so that rows sit at odd addresses.
            let base = storage + 1
            for (j, code) in codes.enumerated() {
                let row = base + j * stride
                row.initializeMemory(as: UInt8.self, repeating: 0xFF, count: stride)
                for d in 0..<dimensions { row.storeBytes(of: code[d], toByteOffset: d, as: UInt8.self) }
                addresses.append(UnsafeRawPointer(row))
            }
        }

        deinit { storage.deallocate() }
    }

    /// Scores with one kernel set: the query prepared by the C call, the kernel from the set's
    /// table (the dispatched one through ``U8MaxSimQuery``).
    static func run(_ kernels: KernelSet, weights: [[Float]], biases: [Float], codes: [[UInt8]], dimensions n: Int) -> Float {
        let flat = weights.flatMap { $0 }
        let rows = Rows(codes, dimensions: n)
        guard let table = unsafe kernels.table else {
            let query = U8MaxSimQuery(weights: flat, biases: biases, queryCount: weights.count, dimensions: n)
            return rows.addresses.withUnsafeBufferPointer { query.score(tokens: $0.baseAddress!, count: codes.count) }
        }
        var prepared = [UInt8](repeating: 0, count: max(1, qv_maxsim_u8_query_bytes(weights.count, n)))
        unsafe qv_maxsim_u8_prepare(flat, biases, weights.count, n, &prepared)
        var best = [Int32](repeating: 0, count: max(1, weights.count))
        return rows.addresses.withUnsafeBufferPointer { tokens in
            unsafe table.pointee.maxsim_u8(prepared, weights.count, n, tokens.baseAddress!, codes.count, &best)
        }
    }

    @Test("equals the oracle bit for bit: 1...40 query tokens, 1...9 document tokens, 1...130 dimensions",
          arguments: KernelSet.all)
    func matchesReference(kernels: KernelSet) {
        var random = SplitMix64(seed: 0x1A_0001)
        var failures = 0
        for n in [1, 3, 4, 5, 31, 128, 130] {
            for tokenCount in [1, 2, 3, 4, 5, 9] {
                for queryCount in [1, 2, 7, 8, 9, 12, 16, 17, 40] {
                    var weights = (0..<queryCount).map { _ in random.floats(n).map { $0 * 0.01 } }
                    if queryCount > 2 { weights[1] = [Float](repeating: 0, count: n) } // weights of zero
                    if queryCount > 3 { weights[2][n / 2] = .infinity }                // not finite
                    let biases = random.floats(queryCount)
                    let codes = (0..<tokenCount).map { _ in random.bytes(n) }
                    let expected = U8MaxSimQuery.scoreReference(weights: weights, biases: biases, codes: codes)
                    let got = Self.run(kernels, weights: weights, biases: biases, codes: codes, dimensions: n)
                    if !(got == expected || (got.isNaN && expected.isNaN)) && failures < 5 {
                        failures += 1
                        Issue.record("\(kernels) n=\(n) tokens=\(tokenCount) nq=\(queryCount): \(got) != \(expected)")
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("approximates float MaxSim of the decoded vectors within 0.5% of the score's scale")
    func approximatesFloats() {
        var random = SplitMix64(seed: 0x1A_0002)
        let n = 128, queryCount = 12, tokenCount = 30
        // Codes over per-dimension ranges, as the int8 encoding trains them.
        let offsets = (0..<n).map { _ in -0.3 + random.floats(1)[0] * 0.05 }
        let scales = (0..<n).map { _ in (0.6 + random.floats(1)[0] * 0.1) / 255 }
        var worst: Float = 0
        for _ in 0..<20 {
            let codes = (0..<tokenCount).map { _ in random.bytes(n) }
            let tokens = codes.map { code in (0..<n).map { offsets[$0] + scales[$0] * Float(code[$0]) } }
            let query = (0..<queryCount).map { _ in random.floats(n) }
            let weights = query.map { q in (0..<n).map { q[$0] * scales[$0] } }
            let biases = query.map { q in (0..<n).reduce(Float(0)) { $0 + q[$1] * offsets[$1] } }
            let got = Self.run(KernelSet(name: "dispatched"), weights: weights, biases: biases, codes: codes, dimensions: n)
            let exact = Kernels.maxSimReference(query: query, tokens: tokens).score
            // The scale of one query token's dot products: |q| |x|.
            let scale = query.map { q in q.reduce(0) { $0 + $1 * $1 }.squareRoot() }.reduce(0, +)
                * tokens.map { x in x.reduce(0) { $0 + $1 * $1 }.squareRoot() }.max()!
            worst = max(worst, abs(got - exact) / scale)
        }
        #expect(worst < 0.005, "worst relative error \(worst)")
        #expect(worst > 0, "the weights are quantised, so the scores differ from float MaxSim")
    }

    @Test("each query token's weight step is its largest weight magnitude over 63; weights of zero step by 0")
    func weightSteps() {
        var random = SplitMix64(seed: 0x1A_0003)
        let n = 37
        var weights = (0..<5).map { _ in random.floats(n).map { $0 * 0.01 } }
        weights[3] = [Float](repeating: 0, count: n)
        let query = U8MaxSimQuery(weights: weights.flatMap { $0 }, biases: [Float](repeating: 0, count: 5), queryCount: 5, dimensions: n)
        for (i, w) in weights.enumerated() {
            #expect(query.weightStep(ofToken: i) == w.map { abs($0) }.max()! / 63, "token \(i)")
        }
        #expect(query.weightStep(ofToken: 3) == 0)
    }

    @Test("nothing to score: no query tokens or no document tokens score 0")
    func empty() {
        #expect(Self.run(KernelSet(name: "dispatched"), weights: [], biases: [], codes: [[1, 2, 3, 4]], dimensions: 4) == 0)
        #expect(Self.run(KernelSet(name: "dispatched"), weights: [[1, 2, 3, 4]], biases: [5], codes: [], dimensions: 4) == 0)
    }
}
