import CQuiverKernels
import QuiverKernels
import Testing

/// The batch kernels at the sizes the engine uses: up to 64 queries and long vectors, so that the
/// outer-product panels (16 queries on AVX2, 8 on SSE2, 32 on AVX-512), their zero-padded ragged
/// end, the horizontal-sum tiles for the other ragged ends, the row tails of every tile height and
/// the slices of long vectors all run against the scalar references.
@Suite("Batch kernels")
struct BatchKernelsTests {
    /// Rows and queries of one dimension, with the references of every pair computed once.
    struct Case: Sendable {
        let n: Int
        let rows: [[Float]]
        let queries: [[Float]]
        let expectedDot: [[Float]]
        let expectedL2: [[Float]]
        let scales: [[Double]]

        init(n: Int, rowCount: Int, queryCount: Int, random: inout SplitMix64, duplicates: Bool = false) {
            self.n = n
            let queries = (0..<queryCount).map { _ in random.floats(n) }
            var rows = (0..<rowCount).map { _ in random.floats(n) }
            if duplicates {
                // A row equal to a query (distance exactly 0) and one a few ulps away: the pairs
                // a |x|^2 + |q|^2 - 2 x.q formula would get wrong by cancellation.
                rows[rowCount / 2] = queries[queryCount - 1]
                rows[rowCount - 1] = queries[0].map { $0 * (1 + 0x1p-20) }
            }
            self.rows = rows
            self.queries = queries
            expectedDot = rows.map { row in queries.map { Kernels.dotReference(row, $0) } }
            expectedL2 = rows.map { row in queries.map { Kernels.squaredL2Reference(row, $0) } }
            scales = rows.map { row in queries.map { magnitudeSum(row, $0) } }
        }

        /// The first `rowCount` rows at a misaligned base and an odd stride.
        func rowBuffer(_ rowCount: Int) -> RowBuffer {
            RowBuffer(Array(rows[0..<rowCount]), stride: n * 4 + 12, offset: 4)
        }

        /// The first `count` queries (all by default) at a misaligned base, NaN between them
        /// (stride n + 3 floats).
        func queryBuffer(_ count: Int? = nil) -> RowBuffer {
            RowBuffer(queries[0..<(count ?? queries.count)].map { $0 + [Float](repeating: .nan, count: 3) },
                      stride: (n + 3) * 4, offset: 4)
        }

        /// Runs both kernels on the rows of `rowBuffer` and the first `queryCount` queries of
        /// `queryBuffer`, and returns the number of wrong results, recording the first few.
        func check(_ kernels: KernelSet, _ rowBuffer: RowBuffer, _ queryBuffer: RowBuffer, queryCount: Int,
                   seed: UInt64) -> Int {
            let rowCount = rowBuffer.count
            let queryStride = n + 3
            var dots = [Float](repeating: .nan, count: rowCount * queryCount + 1)
            var l2 = dots
            let q = unsafe queryBuffer.base.assumingMemoryBound(to: Float.self)
            unsafe kernels.batch(l2: false, q, queryCount, queryStride, rowBuffer, n, &dots)
            unsafe kernels.batch(l2: true, q, queryCount, queryStride, rowBuffer, n, &l2)
            var failures = 0
            for r in 0..<rowCount {
                for j in 0..<queryCount {
                    let got = dots[r * queryCount + j], gotL2 = l2[r * queryCount + j]
                    let exact = expectedL2[r][j] == 0 ? gotL2 == 0 : true
                    if !isClose(got, expectedDot[r][j], scale: scales[r][j])
                        || !isClose(gotL2, expectedL2[r][j], scale: Double(expectedL2[r][j])) || !exact {
                        if failures < 3 {
                            Issue.record("""
                                \(kernels) n=\(n) rows=\(rowCount) queries=\(queryCount) r=\(r) j=\(j) \
                                seed=\(seed): dot \(got) vs \(expectedDot[r][j]), l2 \(gotL2) vs \(expectedL2[r][j])
                                """)
                        }
                        failures += 1
                    }
                }
            }
            if !dots[rowCount * queryCount].isNaN || !l2[rowCount * queryCount].isNaN {
                Issue.record("\(kernels) wrote past the output, n=\(n) rows=\(rowCount) queries=\(queryCount)")
                failures += 1
            }
            return failures
        }
    }

    /// Shared by the kernel sets (the references are slow in debug builds).
    static let shortSeed: UInt64 = 0x5EED_0101
    static let shortCases: [Case] = {
        var random = SplitMix64(seed: shortSeed)
        return [1, 9, 33, 100].map { Case(n: $0, rowCount: 37, queryCount: 64, random: &random, duplicates: true) }
    }()
    static let longSeed: UInt64 = 0x5EED_0102
    static let longCases: [Case] = {
        var random = SplitMix64(seed: longSeed)
        return [191, 384, 385, 777, 1024, 1027].map {
            Case(n: $0, rowCount: 29, queryCount: 64, random: &random, duplicates: true)
        }
    }()

    @Test("1...64 queries: whole panels, padded and horizontal-sum ragged ends, every row tail",
          arguments: KernelSet.all)
    func everyQueryCount(kernels: KernelSet) {
        let seed = Self.shortSeed
        var failures = 0
        for c in Self.shortCases {
            let queryBuffer = c.queryBuffer()
            for rowCount in [1, 5, 7, 37] {
                let rowBuffer = c.rowBuffer(rowCount)
                for queryCount in 1...64 {
                    failures += c.check(kernels, rowBuffer, queryBuffer, queryCount: queryCount, seed: seed)
                }
            }
        }
        #expect(failures == 0, "\(kernels) seed=\(seed)")
    }

    @Test("long vectors up to 1024 + tails: slices of components added up", arguments: KernelSet.all)
    func longVectors(kernels: KernelSet) {
        let seed = Self.longSeed
        var failures = 0
        for c in Self.longCases {
            let queryBuffer = c.queryBuffer()
            for rowCount in [6, 29] {
                let rowBuffer = c.rowBuffer(rowCount)
                for queryCount in [1, 8, 15, 16, 17, 31, 32, 47, 63, 64] {
                    failures += c.check(kernels, rowBuffer, queryBuffer, queryCount: queryCount, seed: seed)
                }
            }
        }
        #expect(failures == 0, "\(kernels) seed=\(seed)")
    }

    @Test("concurrent calls share the scratch pool safely", arguments: KernelSet.all)
    func concurrentCalls(kernels: KernelSet) async {
        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                let c = Self.longCases[task % 2 == 0 ? 1 : 5]  // scratch of different sizes
                group.addTask {
                    let queryBuffer = c.queryBuffer()
                    let rowBuffer = c.rowBuffer(29)
                    var failures = 0
                    for round in 0..<6 {
                        let queryCount = [64, 31, 16, 48, 63, 32][(task + round) % 6]
                        failures += c.check(kernels, rowBuffer, queryBuffer, queryCount: queryCount, seed: Self.longSeed)
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0, "\(kernels) seed=\(Self.longSeed)")
    }

    @Test("more queries than one pass packs (groups of panels), and many rows (row blocks)",
          arguments: KernelSet.all)
    func manyQueriesAndRows(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0103
        var random = SplitMix64(seed: seed)
        var failures = 0
        let wide = Case(n: 400, rowCount: 13, queryCount: 203, random: &random)
        let wideQueries = wide.queryBuffer()
        failures += wide.check(kernels, wide.rowBuffer(13), wideQueries, queryCount: 203, seed: seed)
        failures += wide.check(kernels, wide.rowBuffer(7), wideQueries, queryCount: 176, seed: seed)
        let tall = Case(n: 96, rowCount: 700, queryCount: 33, random: &random, duplicates: true)
        let tallQueries = tall.queryBuffer()
        failures += tall.check(kernels, tall.rowBuffer(700), tallQueries, queryCount: 33, seed: seed)
        failures += tall.check(kernels, tall.rowBuffer(697), tallQueries, queryCount: 31, seed: seed)
        // Buffers holding exactly the queries used (a zero-padded panel must not read past them;
        // run under the address sanitizer to see it).
        failures += tall.check(kernels, tall.rowBuffer(5), tall.queryBuffer(31), queryCount: 31, seed: seed)
        failures += wide.check(kernels, wide.rowBuffer(13), wide.queryBuffer(15), queryCount: 15, seed: seed)
        #expect(failures == 0, "\(kernels) seed=\(seed)")
    }
}
