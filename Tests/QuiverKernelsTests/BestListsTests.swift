import QuiverKernels
import Testing

/// The probe choice of the IVF multi-vector path (`qv_best_lists`) of every instruction set this
/// machine runs, against the Swift reference, and the radix sort of gathered rows.
@Suite("Best lists and row sort")
struct BestListsTests {
    /// One kernel set's lists per query token, the score table followed by its slack.
    static func run(_ kernels: KernelSet, scores: [Float], queryCount: Int, listCount: Int, probes: Int) -> (lists: [[UInt32]], values: [[Float]]) {
        var table = scores
        table += Array(repeating: .nan, count: Kernels.centroidInteractionSlack)  // slack is never chosen
        var values = [Float](repeating: 7, count: queryCount * probes)
        var lists = [UInt32](repeating: 7, count: queryCount * probes)
        unsafe table.withUnsafeBufferPointer { s in
            unsafe kernels.bestLists(s.baseAddress!, queryCount, listCount, probes, &values, &lists)
        }
        return ((0..<queryCount).map { Array(lists[$0 * probes..<($0 + 1) * probes]) },
                (0..<queryCount).map { Array(values[$0 * probes..<($0 + 1) * probes]) })
    }

    @Test("equals the reference: 1...40 query tokens, 1...7 probes, ties, NaN and -infinity",
          arguments: KernelSet.all)
    func matchesReference(kernels: KernelSet) {
        var random = SplitMix64(seed: 0xB1_0001)
        var failures = 0
        for nq in 1...40 {
            for listCount in [1, 3, 37, 300] {
                // Scores from a few levels, so that ties are common; some NaN and -infinity.
                var scores = (0..<listCount * nq).map { _ in Float(Int(random.next() % 9)) / 4 - 1 }
                for _ in 0..<(listCount * nq / 10) {
                    scores[Int(random.next() % UInt64(scores.count))] = random.next() % 2 == 0 ? .nan : -.infinity
                }
                for probes in [1, 2, 3, 4, 5, 7] {
                    let expected = Kernels.bestListsReference(scores: scores, queryCount: nq, listCount: listCount, probes: probes)
                    let got = Self.run(kernels, scores: scores, queryCount: nq, listCount: listCount, probes: probes)
                    let values = expected.enumerated().map { i, lists in
                        lists.map { $0 == .max ? -Float.infinity : scores[Int($0) * nq + i] }
                    }
                    if (got.lists != expected || got.values != values) && failures < 5 {
                        failures += 1
                        Issue.record("\(kernels) nq=\(nq) lists=\(listCount) probes=\(probes): \(got.lists) vs \(expected)")
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("a case by hand: descending, the lower list first on a tie, empty slots", arguments: KernelSet.all)
    func handComputed(kernels: KernelSet) {
        // Four lists, two query tokens: token 0 scores 1, 3, 3, NaN; token 1 -inf, 2, -inf, -inf.
        let scores: [Float] = [1, -.infinity,
                               3, 2,
                               3, -.infinity,
                               .nan, -.infinity]
        let got = Self.run(kernels, scores: scores, queryCount: 2, listCount: 4, probes: 3)
        #expect(got.lists == [[1, 2, 0], [1, .max, .max]], "\(kernels)")
        #expect(got.values == [[3, 3, 1], [2, -.infinity, -.infinity]], "\(kernels)")
    }

    @Test("the radix sort equals the standard library's, whatever digits the rows share")
    func sortMatches() {
        var random = SplitMix64(seed: 0x50_0001)
        for count in [0, 1, 2, 31, 32, 33, 500, 4_000] {
            for range: UInt64 in [1, 256, 70_000, 1 << 32] {
                var rows = (0..<count).map { _ in UInt32(random.next() % range) }
                let expected = rows.sorted()
                Kernels.sort(&rows)
                #expect(rows == expected, "count \(count), range \(range)")
            }
        }
    }
}
