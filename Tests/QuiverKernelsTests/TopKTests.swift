import QuiverKernels
import Testing

@Suite("TopK")
struct TopKTests {
    /// The oracle: all pushes sorted by (distance, row), first k, NaN dropped.
    private func expected(_ pushes: [TopK.Element], k: Int) -> [TopK.Element] {
        let sorted = pushes.filter { !$0.distance.isNaN }.sorted {
            ($0.distance, $0.row) < ($1.distance, $1.row)
        }
        return Array(sorted.prefix(k))
    }

    @Test("keeps the k smallest, ties by smaller row, for any push order", arguments: [0, 1, 2, 3, 10, 64, 200])
    func matchesSorting(k: Int) {
        let seed: UInt64 = 0x70_9C00 + UInt64(k)
        var random = SplitMix64(seed: seed)
        var top = TopK(k: k)
        for round in 0..<20 {
            let count = Int(random.next() % 300)
            // Few distinct distances (many ties), negative ones, and ±0.
            let pushes = (0..<count).map { i in
                TopK.Element(distance: Float(Int(random.next() % 41) - 20) / 4, row: UInt32(random.next() % 1_000))
            }
            top.reset(k: k)
            for element in pushes { top.push(distance: element.distance, row: element.row) }
            let results = top.sortedResults()
            #expect(results.map(\.row) == expected(pushes, k: k).map(\.row), "k=\(k) round=\(round) seed=\(seed)")
            #expect(results.map(\.distance) == expected(pushes, k: k).map(\.distance), "k=\(k) round=\(round) seed=\(seed)")
            #expect(top.count == min(k, count))
            #expect(top.isFull == (count >= k))
            if top.isFull && k > 0 {
                #expect(top.worstDistance == results.last!.distance)
            } else if k > 0 {
                #expect(top.worstDistance == .infinity)
            }
        }
    }

    @Test("pushRows numbers rows from firstRow and skips NaN")
    func pushRows() {
        var random = SplitMix64(seed: 0x70_9C01)
        var distances = random.floats(1_000)
        distances[17] = .nan
        distances[18] = -.infinity
        var top = TopK(k: 25)
        unsafe distances.withUnsafeBufferPointer { p in
            unsafe top.pushRows(distances: p.baseAddress!, count: p.count, firstRow: 5_000)
        }
        let pushes = distances.enumerated().map { TopK.Element(distance: $1, row: 5_000 + UInt32($0)) }
        #expect(top.sortedResults() == expected(pushes, k: 25))
        #expect(top.sortedResults().first == TopK.Element(distance: -.infinity, row: 5_018))
    }

    @Test("negative zero equals zero, and distances keep their exact value")
    func keyOrder() {
        var top = TopK(k: 4)
        top.push(distance: 0, row: 9)
        top.push(distance: -0.0, row: 3)
        top.push(distance: -Float.leastNonzeroMagnitude, row: 50)
        top.push(distance: Float.greatestFiniteMagnitude, row: 1)
        top.push(distance: .infinity, row: 0)
        let results = top.sortedResults()
        #expect(results.map(\.row) == [50, 3, 9, 1])
        #expect(results[0].distance == -Float.leastNonzeroMagnitude)
        #expect(results[3].distance == .greatestFiniteMagnitude)
    }

    @Test("reset reuses storage and forgets earlier candidates")
    func reset() {
        var top = TopK(k: 3)
        for row in 0..<10 { top.push(distance: Float(row), row: UInt32(row)) }
        #expect(top.sortedResults().map(\.row) == [0, 1, 2])
        top.reset(k: 2)
        #expect(top.count == 0 && top.k == 2 && !top.isFull && top.worstDistance == .infinity)
        top.push(distance: 5, row: 7)
        top.push(distance: 5, row: 6)
        top.push(distance: 5, row: 8)
        #expect(top.sortedResults() == [TopK.Element(distance: 5, row: 6), TopK.Element(distance: 5, row: 7)])
        top.reset(k: 6)  // grows
        for row in 0..<10 { top.push(distance: Float(10 - row), row: UInt32(row)) }
        #expect(top.sortedResults().map(\.row) == [9, 8, 7, 6, 5, 4])
    }
}
