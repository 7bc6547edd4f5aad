import Foundation
import QuiverKernels
import Testing

/// A reference case of `Fixtures/pooling-cases.json`: tokens, and their pooled vectors for some
/// settings, computed with SciPy by `Fixtures/make_pooling_cases.py` (which records how). Part
/// of them are copied from `../shared/data/pooling-cases/cases.json`, the others are edge
/// cases: one token, n <= p, identical and duplicate tokens, d = 1, ties in merge height,
/// poolFactor > n, tokens that are not unit vectors, a zero mean.
struct PoolingReference: Decodable, Sendable, CustomTestStringConvertible {
    struct Pooled: Decodable, Sendable {
        let protectedTokens: Int
        let poolFactor: Int
        let vectors: [[Double]]
        /// The clusters SciPy's `fcluster(criterion='maxclust')` would keep, where a tie in
        /// merge height at the cut makes it keep fewer than asked.
        let fclusterCount: Int?
    }

    let name: String
    let dimensions: Int
    let tokens: [[Double]]
    let pooled: [Pooled]

    var testDescription: String { name }

    static let all: [PoolingReference] = {
        struct File: Decodable { let cases: [PoolingReference] }
        guard let url = Bundle.module.url(forResource: "pooling-cases", withExtension: "json",
                                          subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(File.self, from: data)
        else { fatalError("Fixtures/pooling-cases.json is missing or unreadable") }
        return file.cases
    }()
}

/// Pools `rows` (one token each) and returns the pooled rows.
private func pool(
    _ rows: [[Float]], _ pooling: TokenPooling, workspace: TokenPoolingWorkspace = TokenPoolingWorkspace()
) -> [[Float]] {
    let dimensions = rows.first?.count ?? 1
    let flat = rows.flatMap { $0 }
    let output = unsafe flat.withUnsafeBufferPointer { buffer in
        unsafe pooling.pool(buffer, count: rows.count, dimensions: dimensions, workspace: workspace)
    }
    #expect(output.count % dimensions == 0)
    return stride(from: 0, to: output.count, by: dimensions).map { Array(output[$0..<$0 + dimensions]) }
}

/// Whether `got` and `expected` hold the same vectors, in any order, each component within
/// `tolerance`.
private func sameSet(_ got: [[Float]], _ expected: [[Float]], tolerance: Float = 1e-5) -> Bool {
    guard got.count == expected.count else { return false }
    var used = [Bool](repeating: false, count: got.count)
    for vector in expected {
        let match = got.indices.first { index in
            !used[index] && got[index].count == vector.count
                && zip(got[index], vector).allSatisfy { abs($0 - $1) <= tolerance }
        }
        guard let match else { return false }
        used[match] = true
    }
    return true
}

private func normalized(_ vector: [Float]) -> [Float] {
    let norm = vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    return vector.map { Float(Double($0) / norm) }
}

/// `count` random unit vectors of `dimensions` floats.
private func unitVectors(_ count: Int, dimensions: Int, _ random: inout SplitMix64) -> [[Float]] {
    (0..<count).map { _ in normalized(random.floats(dimensions)) }
}

/// The oracle: Ward's definition applied greedily, in `Double`. While more than `clusterCount`
/// clusters remain, merge the two whose union increases the within-cluster sum of squares the
/// least, the Ward distance `sqrt(2·|A|·|B| / (|A|+|B|)) · |mean(A) − mean(B)|`; then return
/// each cluster's normalised mean. O(n³), no chain, no Lance–Williams update.
private func wardOracle(_ tokens: [[Float]], clusterCount: Int) -> [[Float]] {
    var clusters = tokens.map { (sum: $0.map(Double.init), size: 1.0) }
    func squaredDistance(_ a: (sum: [Double], size: Double), _ b: (sum: [Double], size: Double)) -> Double {
        var squared = 0.0
        for i in a.sum.indices {
            let difference = a.sum[i] / a.size - b.sum[i] / b.size
            squared += difference * difference
        }
        return 2 * a.size * b.size / (a.size + b.size) * squared
    }
    while clusters.count > clusterCount {
        var best = (distance: Double.infinity, a: 0, b: 0)
        for a in clusters.indices {
            for b in (a + 1)..<clusters.count {
                let distance = squaredDistance(clusters[a], clusters[b])
                if distance < best.distance { best = (distance, a, b) }
            }
        }
        let merged = clusters.remove(at: best.b)
        for i in clusters[best.a].sum.indices { clusters[best.a].sum[i] += merged.sum[i] }
        clusters[best.a].size += merged.size
    }
    return clusters.map { normalized($0.sum.map(Float.init)) }
}

@Suite("TokenPooling")
struct TokenPoolingTests {
    @Test("matches SciPy's Ward linkage and cut on every reference case", arguments: PoolingReference.all)
    func matchesSciPy(reference: PoolingReference) {
        let tokens = reference.tokens.map { $0.map { Float($0) } }
        let workspace = TokenPoolingWorkspace()
        for expected in reference.pooled {
            let pooling = TokenPooling(poolFactor: expected.poolFactor,
                                       protectedTokens: expected.protectedTokens)
            let got = pool(tokens, pooling, workspace: workspace)
            let settings = "p=\(expected.protectedTokens) f=\(expected.poolFactor)"
            #expect(got.count == pooling.pooledCount(forTokens: tokens.count), "\(settings)")
            #expect(sameSet(got, expected.vectors.map { $0.map { Float($0) } }), "\(settings)")
        }
    }

    @Test("ties in merge height at the cut: exactly pooledCount vectors, where fcluster keeps fewer")
    func tiesAtTheCut() {
        var tied = 0
        for reference in PoolingReference.all {
            let tokens = reference.tokens.map { $0.map { Float($0) } }
            for expected in reference.pooled {
                guard let fclusterCount = expected.fclusterCount else { continue }
                tied += 1
                let pooling = TokenPooling(poolFactor: expected.poolFactor,
                                           protectedTokens: expected.protectedTokens)
                let clusters = pool(tokens, pooling).count - expected.protectedTokens
                #expect(clusters == pooling.pooledCount(forTokens: tokens.count) - expected.protectedTokens)
                #expect(clusters > fclusterCount, "\(reference.name)")
            }
        }
        #expect(tied >= 8)  // identical-tokens, scipy-doc-ties, d1-signs
    }

    @Test("poolFactor 1 returns the tokens unchanged, not re-normalised", arguments: [0, 1, 5, 9])
    func factorOne(protectedTokens: Int) {
        var random = SplitMix64(seed: 0x7001 + UInt64(protectedTokens))
        let tokens = (0..<9).map { _ in random.floats(12).map { $0 * 3 } }
        #expect(pool(tokens, TokenPooling(poolFactor: 1, protectedTokens: protectedTokens)) == tokens,
                "seed=\(random.seed)")
    }

    @Test("n <= protectedTokens returns the tokens unchanged", arguments: [0, 1, 3])
    func allProtected(count: Int) {
        var random = SplitMix64(seed: 0x7002 + UInt64(count))
        let tokens = (0..<count).map { _ in random.floats(5).map { $0 * 3 } }
        for protectedTokens in count...(count + 2) {
            let pooling = TokenPooling(poolFactor: 2, protectedTokens: protectedTokens)
            #expect(pool(tokens, pooling) == tokens, "seed=\(random.seed)")
            #expect(pooling.pooledCount(forTokens: count) == count)
        }
    }

    @Test("protected tokens come first and unchanged; a lone unprotected token is re-normalised")
    func protectedFirst() {
        let tokens: [[Float]] = [[3, 4, 0], [0, 0, -2], [0, 6, 8]]
        let lone = pool(tokens, TokenPooling(poolFactor: 2, protectedTokens: 2))
        #expect(Array(lone.prefix(2)) == [[3, 4, 0], [0, 0, -2]])
        #expect(sameSet(Array(lone.dropFirst(2)), [[0, 0.6, 0.8]]))
        let pooled = pool(tokens, TokenPooling(poolFactor: 3, protectedTokens: 1))
        #expect(pooled.count == 2)
        #expect(pooled[0] == [3, 4, 0])
        #expect(sameSet([pooled[1]], [normalized([0, 6, 6])]))
    }

    @Test("identical tokens pool to pooledCount copies of the normalised token")
    func identicalTokens() {
        let tokens = [[Float]](repeating: [1, -2, 2], count: 10)
        let pooling = TokenPooling(poolFactor: 3, protectedTokens: 0)
        let pooled = pool(tokens, pooling)
        #expect(pooled.count == 3)
        #expect(sameSet(pooled, [[Float]](repeating: [1.0 / 3, -2.0 / 3, 2.0 / 3], count: 3)))
    }

    @Test("poolFactor above the token count keeps one normalised mean")
    func factorAboveCount() {
        var random = SplitMix64(seed: 0x7003)
        let tokens = unitVectors(6, dimensions: 8, &random)
        let mean = (0..<8).map { i in tokens[1...].reduce(Float(0)) { $0 + $1[i] } }
        let pooled = pool(tokens, TokenPooling(poolFactor: 50))
        #expect(pooled.count == 2, "seed=\(random.seed)")
        #expect(pooled[0] == tokens[0])
        #expect(sameSet([pooled[1]], [normalized(mean)]), "seed=\(random.seed)")
    }

    @Test("a zero mean stays zero")
    func zeroMean() {
        let tokens: [[Float]] = [[0, 1, 0], [0.6, 0, 0.8], [-0.6, 0, -0.8]]
        #expect(pool(tokens, TokenPooling(poolFactor: 2)) == [[0, 1, 0], [0, 0, 0]])
    }

    @Test("pooledCount is p + max(1, (n - p) / f), or n when f = 1 or n <= p",
          arguments: [(2, 1, 0, 0), (2, 1, 1, 1), (2, 1, 2, 2), (2, 1, 3, 2), (2, 1, 129, 65),
                      (3, 1, 128, 43), (4, 0, 128, 32), (4, 0, 3, 1), (1, 0, 7, 7), (1, 4, 9, 9),
                      (2, 5, 5, 5), (2, 5, 6, 6), (2, 5, 8, 6), (100, 1, 30, 2)])
    func pooledCount(factor: Int, protectedTokens: Int, count: Int, expected: Int) {
        let pooling = TokenPooling(poolFactor: factor, protectedTokens: protectedTokens)
        #expect(pooling.pooledCount(forTokens: count) == expected)
    }

    @Test("agrees with a brute-force Ward oracle on random tokens", arguments: [2, 3, 4])
    func bruteForceOracle(factor: Int) {
        var random = SplitMix64(seed: 0x7004 + UInt64(factor))
        let workspace = TokenPoolingWorkspace()
        for round in 0..<4 {
            let count = 16 + 8 * round
            let tokens = unitVectors(count, dimensions: 16 + round, &random)
            let pooling = TokenPooling(poolFactor: factor)
            let expected = [tokens[0]] + wardOracle(Array(tokens[1...]), clusterCount: (count - 1) / factor)
            #expect(sameSet(pool(tokens, pooling, workspace: workspace), expected),
                    "round=\(round) seed=\(random.seed)")
        }
    }

    @Test("deterministic: the same output from a fresh workspace or one reused across sizes")
    func deterministic() {
        var random = SplitMix64(seed: 0x7005)
        let documents = [50, 7, 130, 3, 50, 1, 64].map { unitVectors($0, dimensions: 24, &random) }
        let pooling = TokenPooling(poolFactor: 3)
        let reused = TokenPoolingWorkspace()
        let first = documents.map { pool($0, pooling, workspace: reused) }
        let second = documents.map { pool($0, pooling, workspace: reused) }
        let fresh = documents.map { pool($0, pooling) }
        #expect(first == second, "seed=\(random.seed)")
        #expect(first == fresh, "seed=\(random.seed)")
        for (document, pooled) in zip(documents, first) {
            #expect(pooled.count == pooling.pooledCount(forTokens: document.count))
        }
    }

    @Test("a pool factor below 1 traps")
    func invalidFactor() async {
        await #expect(processExitsWith: .failure) {
            _ = TokenPooling(poolFactor: 0)
        }
    }

    @Test("a buffer that is not n × dimensions traps")
    func raggedBuffer() async {
        await #expect(processExitsWith: .failure) {
            let floats = [Float](repeating: 1, count: 10)
            _ = unsafe floats.withUnsafeBufferPointer { buffer in
                unsafe TokenPooling(poolFactor: 2).pool(buffer, count: 3, dimensions: 4)
            }
        }
    }
}

/// The token-pooling distance kernel of every instruction set this machine runs, against the
/// Swift oracle, bit for bit.
@Suite("Token pooling distances")
struct PoolDistancesTests {
    @Test("equal the oracle bit for bit: 1...40 rows, 1...131 dimensions, equal rows at 0",
          arguments: KernelSet.all)
    func matchesReference(kernels: KernelSet) {
        var random = SplitMix64(seed: 0x9D_0001)
        var failures = 0
        for count in [1, 2, 3, 7, 8, 9, 16, 17, 33, 40] {
            for dimensions in [1, 2, 3, 7, 8, 64, 127, 131] {
                var coordinates = random.floats(count * dimensions).map { Double($0) }
                if count > 3 {  // two equal rows: distance exactly 0
                    for k in 0..<dimensions { coordinates[3 * dimensions + k] = coordinates[k] }
                }
                let expected = Kernels.poolDistancesReference(coordinates, count: count, dimensions: dimensions)
                var norms = [Double](repeating: .nan, count: count)
                var scratch = [Double](repeating: .nan, count: Kernels.poolDistancesScratch(count: count, dimensions: dimensions))
                var out = [Double](repeating: .nan, count: count * count)
                unsafe kernels.poolDistances(coordinates, count, dimensions, &norms, &scratch, &out)
                let same = zip(out, expected).allSatisfy { $0.bitPattern == $1.bitPattern }
                if !same && failures < 5 {
                    failures += 1
                    Issue.record("\(kernels) count \(count) dimensions \(dimensions)")
                }
                if count > 3 { #expect(out[3] == 0 && out[3 * count] == 0) }
            }
        }
        #expect(failures == 0)
    }
}
