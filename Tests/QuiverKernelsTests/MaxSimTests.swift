import CQuiverKernels
import QuiverKernels
import Testing

/// The MaxSim kernel of every instruction set this machine runs, against the scalar Swift twin.
@Suite("MaxSim")
struct MaxSimTests {
    /// One shape and its expected results. Query token `i` and document token `j` are slices of
    /// `pool` (so the cases cost little memory); the twin runs once per case, not per kernel set.
    struct Case: Sendable {
        let n: Int
        let queryStarts: [Int]
        let tokenStarts: [Int]
        let best: [Float]
        let score: Float
        /// Per query token, the largest Σ |q[k] * t[k]| over the tokens: bounds the rounding
        /// error of its maximum in any summation order.
        let scales: [Double]
    }

    static let pool: [Float] = {
        var random = SplitMix64(seed: 0x5EED_0301)
        return random.floats(6_144)
    }()

    static func slice(_ start: Int, _ n: Int) -> [Float] { Array(pool[start..<start + n]) }

    /// Every dimension count of the kernels' edge cases (vector widths 4, 8, 16 and their tails,
    /// the ColBERT 128, up to 1024), each against query counts 1...40 (tiles of 4 and 8, tails
    /// 1-3) and token counts 1...200 (tiles of 3, tails 1-2): the token count rotates through
    /// its samples and is capped so that a case costs at most about 10^5 products.
    static let cases: [Case] = {
        let dimensions = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 127, 128, 129, 384, 1_023, 1_024]
        let queryCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 24, 31, 32, 33, 40]
        let tokenCounts = [1, 2, 3, 4, 5, 6, 7, 8, 20, 79, 80, 81, 150, 200]
        var cases: [Case] = []
        for (a, n) in dimensions.enumerated() {
            for (b, nq) in queryCounts.enumerated() {
                var nt = tokenCounts[(a * 5 + b * 3) % tokenCounts.count]
                if nq * nt * n > 100_000 { nt = Swift.max(1, 100_000 / (nq * n)) }
                let span = pool.count - n
                let queryStarts = (0..<nq).map { (($0 * 409 + n * 13) % span) }
                let tokenStarts = (0..<nt).map { (($0 * 1_777 + n * 7 + 2_048) % span) }
                let query = queryStarts.map { slice($0, n) }
                let tokens = tokenStarts.map { slice($0, n) }
                let expected = Kernels.maxSimReference(query: query, tokens: tokens)
                let scales = query.map { q in tokens.map { magnitudeSum(q, $0) }.max()! }
                cases.append(Case(n: n, queryStarts: queryStarts, tokenStarts: tokenStarts, best: expected.best,
                                  score: expected.score, scales: scales))
            }
        }
        return cases
    }()

    /// Runs one kernel set on `query` (nq x n, contiguous) against `tokens`, each copied to its
    /// own misaligned place: in reverse order at an odd stride (n * 4 + 5 bytes), so the tokens
    /// start at every address modulo 4. Returns the score and `best` plus one NaN sentinel.
    static func run(_ kernels: KernelSet, query: [[Float]], tokens: [[Float]], n: Int) -> (score: Float, best: [Float]) {
        let buffer = RowBuffer(Array(tokens.reversed()), stride: n * 4 + 5, offset: 1)
        let pointers = UnsafeMutablePointer<UnsafeRawPointer>.allocate(capacity: Swift.max(1, tokens.count))
        defer { unsafe pointers.deallocate() }
        for j in tokens.indices {
            unsafe pointers[j] = UnsafeRawPointer(buffer.base + (tokens.count - 1 - j) * buffer.stride)
        }
        var best = [Float](repeating: .nan, count: query.count + 1)
        var flat: [Float] = query.flatMap { $0 }
        flat.append(0)  // never empty, so the base address exists
        let score = withExtendedLifetime(buffer) {
            unsafe flat.withUnsafeBufferPointer { q in
                unsafe best.withUnsafeMutableBufferPointer { b in
                    unsafe kernels.maxSim(q.baseAddress!, query.count, pointers, tokens.count, n, b.baseAddress!)
                }
            }
        }
        return (score, best)
    }

    @Test("MaxSim matches the reference twin: dimensions 1...1024, 1...40 query tokens, 1...200 tokens",
          arguments: KernelSet.all)
    func matchesReference(kernels: KernelSet) {
        var failures = 0
        for c in Self.cases {
            let query = c.queryStarts.map { Self.slice($0, c.n) }
            let tokens = c.tokenStarts.map { Self.slice($0, c.n) }
            let (score, best) = Self.run(kernels, query: query, tokens: tokens, n: c.n)
            var ok = best[query.count].isNaN  // nothing written past best[nq - 1]
            for i in query.indices where !isClose(best[i], c.best[i], scale: c.scales[i]) { ok = false }
            ok = ok && isClose(score, c.score, scale: c.scales.reduce(0, +))
            if !ok && failures < 5 {
                failures += 1
                Issue.record("""
                    \(kernels) n=\(c.n) nq=\(query.count) nt=\(tokens.count): score \(score) vs \(c.score), \
                    best \(best.prefix(8)) vs \(c.best.prefix(8))
                    """)
            }
        }
        #expect(failures == 0)
    }

    @Test("a small case computed by hand, with a NaN token that never wins", arguments: KernelSet.all)
    func handComputed(kernels: KernelSet) {
        let query: [[Float]] = [[1, 2, 0], [-1, -1, -1]]
        let tokens: [[Float]] = [[1, 1, 1], [2, 0, -1], [-1, 3, 2]]
        // Query token 0: dots 3, 2, 5 -> 5. Query token 1: dots -3, -1, -4 -> -1 (all negative).
        let (score, best) = Self.run(kernels, query: query, tokens: tokens, n: 3)
        #expect(score == 4, "\(kernels)")
        #expect(Array(best.prefix(2)) == [5, -1], "\(kernels)")
        let reference = Kernels.maxSimReference(query: query, tokens: tokens)
        #expect(reference.score == 4 && reference.best == [5, -1])

        let withNaN = [tokens[0], [1, .nan, 0], tokens[1], tokens[2]]
        let (nanScore, nanBest) = Self.run(kernels, query: query, tokens: withNaN, n: 3)
        #expect(nanScore == 4 && Array(nanBest.prefix(2)) == [5, -1], "\(kernels)")
    }

    @Test("zero query tokens or zero document tokens give 0 and write nothing; zero dimensions give 0",
          arguments: KernelSet.all)
    func emptyCounts(kernels: KernelSet) {
        let query: [[Float]] = [[1, 2], [3, 4]]
        let tokens: [[Float]] = [[5, 6]]
        let noTokens = Self.run(kernels, query: query, tokens: [], n: 2)
        #expect(noTokens.score == 0 && noTokens.best.allSatisfy(\.isNaN), "\(kernels)")
        let noQuery = Self.run(kernels, query: [], tokens: tokens, n: 2)
        #expect(noQuery.score == 0 && noQuery.best.allSatisfy(\.isNaN), "\(kernels)")
        let noDimensions = Self.run(kernels, query: [[], []], tokens: [[], []], n: 0)
        #expect(noDimensions.score == 0 && noDimensions.best.prefix(2).allSatisfy { $0 == 0 }, "\(kernels)")
        #expect(noDimensions.best[2].isNaN, "\(kernels)")
        #expect(Kernels.maxSimReference(query: query, tokens: []) == (0, []))
    }
}
