@testable import Quiver
import QuiverTestSupport
import Testing

/// The centroid-interaction estimate of the IVF path (`MaxSimSearch.interaction`) against a
/// plain sum of maxima, for every way it groups query tokens by eight.
@Suite("Multi-vector centroid interaction")
struct MultiVectorEstimateTests {
    @Test("the estimate is Σ_i max_j S[list(j)][i] for 1...40 query tokens")
    func estimateMatchesReference() {
        var rng = SeededGenerator(seed: 31)
        let lists = 50
        for nq in 1...40 {
            // S list-major, then the 8 floats of slack the search allocates (filled with a
            // value larger than any score: it must never count).
            var scores = (0..<(lists * nq)).map { _ in rng.gaussian() }
            scores += Array(repeating: 100, count: 8)
            for count in [1, 2, 7, 30] {
                var tokens = (0..<count).map { _ in Int.random(in: 0..<lists, using: &rng) }
                if count > 1 { tokens[0] = lists - 1 }
                let offsets = tokens.map { $0 * nq }
                var expected: Float = 0
                for i in 0..<nq { expected += tokens.map { scores[$0 * nq + i] }.max()! }
                let got = scores.withUnsafeBufferPointer { s in
                    offsets.withUnsafeBufferPointer { MaxSimSearch.interaction(s.baseAddress!, queryCount: nq, offsets: $0.baseAddress!, count: count) }
                }
                #expect(abs(got - expected) <= 1e-4 * max(1, abs(expected)), "\(nq) query tokens, \(count) document tokens")
            }
        }
        let none = [Float](repeating: 1, count: 16).withUnsafeBufferPointer { s in
            [0].withUnsafeBufferPointer { MaxSimSearch.interaction(s.baseAddress!, queryCount: 8, offsets: $0.baseAddress!, count: 0) }
        }
        #expect(none == 0)
    }
}
