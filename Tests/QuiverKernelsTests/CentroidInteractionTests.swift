import QuiverKernels
import Testing

/// The centroid-interaction kernel of every instruction set this machine runs, against the
/// Swift reference: the maxima are exact and summed in query order, so the results are equal.
@Suite("Centroid interaction")
struct CentroidInteractionTests {
    /// Runs one kernel set with the list numbers at an odd address (they are read unaligned
    /// from the map) and the score table followed by its slack.
    static func run(_ kernels: KernelSet, scores: [Float], queryCount: Int, lists: [UInt32], listCount: UInt32) -> Float {
        var table = scores
        table += Array(repeating: .nan, count: Kernels.centroidInteractionSlack)  // slack never counts
        var bytes: [UInt8] = [0x5A]
        for list in lists { withUnsafeBytes(of: list.littleEndian) { bytes += $0 } }
        return unsafe table.withUnsafeBufferPointer { s in
            unsafe bytes.withUnsafeBytes { b in
                unsafe kernels.centroidInteraction(s.baseAddress!, queryCount, b.baseAddress! + 1, lists.count, listCount)
            }
        }
    }

    @Test("equals the reference: 1...70 query tokens, 1...300 tokens, tokens without a list",
          arguments: KernelSet.all)
    func matchesReference(kernels: KernelSet) {
        var random = SplitMix64(seed: 0xC1_0001)
        let listCount: UInt32 = 37
        var failures = 0
        for nq in 1...70 {
            // Rows 0..<listCount of scores, then the row of -infinity for tokens without a list.
            var scores = random.floats(Int(listCount) * nq)
            scores += Array(repeating: -.infinity, count: nq)
            for count in [1, 2, 3, 7, 80, 300] {
                var lists = (0..<count).map { _ in UInt32(random.next() % UInt64(listCount)) }
                lists[count / 2] = listCount - 1  // the last row, whose partial vectors read the slack
                if count > 2 { lists[1] = .max }  // no list
                let expected = Kernels.centroidInteractionReference(scores: scores, queryCount: nq, lists: lists, listCount: listCount)
                let got = Self.run(kernels, scores: scores, queryCount: nq, lists: lists, listCount: listCount)
                if got != expected && failures < 5 {
                    failures += 1
                    Issue.record("\(kernels) nq=\(nq) count=\(count): \(got) vs \(expected)")
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("a case by hand: NaN never wins, a token without a list adds nothing, no tokens give 0",
          arguments: KernelSet.all)
    func handComputed(kernels: KernelSet) {
        // Two lists, three query tokens; row 2 is the row for tokens without a list.
        let scores: [Float] = [1, -2, .nan,
                               3, -5, 0.5,
                               -.infinity, -.infinity, -.infinity]
        #expect(Self.run(kernels, scores: scores, queryCount: 3, lists: [0, 1], listCount: 2) == 3 + -2 + 0.5, "\(kernels)")
        #expect(Self.run(kernels, scores: scores, queryCount: 3, lists: [0, 9], listCount: 2) == -.infinity, "\(kernels)")
        #expect(Self.run(kernels, scores: scores, queryCount: 3, lists: [1, 9], listCount: 2) == 3 + -5 + 0.5, "\(kernels)")
        #expect(Self.run(kernels, scores: scores, queryCount: 3, lists: [], listCount: 2) == 0, "\(kernels)")
        #expect(Self.run(kernels, scores: scores, queryCount: 0, lists: [0], listCount: 2) == 0, "\(kernels)")
    }
}
