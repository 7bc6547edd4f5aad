/// A set of rows as a bitmap over `0 ..< capacity`: the result of evaluating a filter, with an
/// exact count, and the row selection an exact scan walks.
struct RowSet {
    var words: [UInt64]

    init(capacity: Int) { words = [UInt64](repeating: 0, count: (capacity + 63) / 64) }

    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    func contains(_ row: UInt32) -> Bool {
        let w = Int(row >> 6)
        return w < words.count && words[w] & (1 << UInt64(row & 63)) != 0
    }

    mutating func insert(_ row: UInt32) {
        words[Int(row >> 6)] |= 1 << UInt64(row & 63)
    }

    mutating func formUnion(_ other: RowSet) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    mutating func formIntersection(_ other: RowSet) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    mutating func subtract(_ other: RowSet) {
        for i in words.indices { words[i] &= ~other.words[i] }
    }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Calls `body` with every row in ascending order.
    func forEach(_ body: (UInt32) throws -> Void) rethrows {
        for (w, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                try body(UInt32(w * 64 + bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
    }
}
