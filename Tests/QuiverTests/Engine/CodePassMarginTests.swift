@testable import Quiver
import QuiverKernels
import Testing

/// The codes pass of the multi-vector fast paths keeps for the floats the best `k` documents by
/// MaxSim on int8 codes and those within the codes' error margin of the `k`-th.
@Suite("Codes pass margin")
struct CodePassMarginTests {
    @Test("keeps the first k, then those within the margin of the k-th, ties included")
    func withinMargin() {
        #expect(MaxSimSearch.withinMargin([1, 2, 3, 4, 5], k: 2, margin: 1.5) == 3)
        #expect(MaxSimSearch.withinMargin([1, 2, 3, 4, 5], k: 2, margin: 0) == 2)
        #expect(MaxSimSearch.withinMargin([1, 2, 2, 2, 5], k: 2, margin: 0) == 4)
        #expect(MaxSimSearch.withinMargin([1, 2, 3], k: 2, margin: .infinity) == 3)
        #expect(MaxSimSearch.withinMargin([1, 2], k: 5, margin: 0) == 2)
        #expect(MaxSimSearch.withinMargin([-3, -2.5, -1], k: 1, margin: 0.5) == 2)
    }

    /// Codes over per-dimension ranges (as the int8 encoding trains them, codes spread evenly as
    /// the margin assumes), decoded to the floats the codes stand for; query tokens of unit
    /// length. Each document's error is its score on the codes less its float MaxSim.
    @Test("three standard deviations of the difference of two documents' errors: rarely exceeded, and not loose")
    func marginIsCalibrated() {
        var random = SplitMix64(seed: 0x3A_0001)
        func uniform() -> Float { Float(random.next() >> 40) / Float(1 << 24) }
        let n = 128, queryCount = 12, tokenCount = 20, documentCount = 300
        let offsets = (0..<n).map { _ in -0.3 + uniform() * 0.05 }
        let scales = (0..<n).map { _ in (0.6 + uniform() * 0.1) / 255 }
        var pairs = 0, beyond = 0
        var ratios: [Float] = []
        for _ in 0..<4 {
            let query = (0..<queryCount).map { _ -> [Float] in
                let q = (0..<n).map { _ in uniform() - 0.5 }
                let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return q.map { $0 / norm }
            }
            let weights = query.flatMap { q in (0..<n).map { q[$0] * scales[$0] } }
            let biases = query.map { q in (0..<n).reduce(Float(0)) { $0 + q[$1] * offsets[$1] } }
            let prepared = U8MaxSimQuery(weights: weights, biases: biases, queryCount: queryCount, dimensions: n)
            let margin = CodeMaxSimScorer.scoreErrorMargin(weights: weights, steps: prepared, dimensions: n)
            var errors: [Float] = []
            for _ in 0..<documentCount {
                let codes = (0..<tokenCount).map { _ in (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
                let tokens = codes.map { code in (0..<n).map { offsets[$0] + scales[$0] * Float(code[$0]) } }
                let onCodes = codes.withRowAddresses { prepared.score(tokens: $0, count: tokenCount) }
                errors.append(onCodes - Kernels.maxSimReference(query: query, tokens: tokens).score)
            }
            var squares: Float = 0
            for d in stride(from: 0, to: documentCount - 1, by: 2) {
                let difference = errors[d] - errors[d + 1]
                squares += difference * difference
                pairs += 1
                if abs(difference) > margin { beyond += 1 }
            }
            let deviation = (squares / Float(documentCount / 2)).squareRoot()
            ratios.append(margin / deviation)
        }
        // Three deviations: 0.3% of a normal difference lies beyond; the bound's assumptions
        // (independent tokens, evenly spread codes) may make it somewhat wider, not narrower.
        #expect(Double(beyond) / Double(pairs) <= 0.01, "\(beyond) of \(pairs) differences beyond the margin")
        for ratio in ratios { #expect(ratio >= 3 && ratio <= 6, "margin / observed deviation \(ratio)") }
    }
}

private extension Array where Element == [UInt8] {
    /// Each row copied with 4 bytes of slack (what the kernels may read past a row), and the
    /// copies' addresses, for the time of `body`.
    func withRowAddresses<R>(_ body: (UnsafePointer<UnsafeRawPointer>) -> R) -> R {
        let rows = map { row in
            let copy = UnsafeMutableRawPointer.allocate(byteCount: row.count + 4, alignment: 4)
            copy.initializeMemory(as: UInt8.self, repeating: 0, count: row.count + 4)
            copy.copyMemory(from: row, byteCount: row.count)
            return copy
        }
        defer { rows.forEach { $0.deallocate() } }
        let addresses = rows.map { UnsafeRawPointer($0) }
        return addresses.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
