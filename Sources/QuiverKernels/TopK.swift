/// Keeps the `k` smallest distances seen so far, with their rows, without allocating per push.
///
/// A bounded max-heap: the root is the worst of the kept candidates, so a new candidate is
/// compared with ``worstDistance`` first and most are rejected with one comparison. Candidates
/// are ordered by distance, then by row, so ties resolve to the smaller row and the result is the
/// same whatever the push order: exactly the first `k` of all pushes sorted by `(distance, row)`.
///
/// Each candidate is stored as one `UInt64` key: the distance's bits mapped to an unsigned order
/// in the high half, the row in the low half. Comparing keys compares `(distance, row)`.
/// `-0.0` counts as `0.0`; NaN distances are ignored.
///
/// ```swift
/// var best = TopK(k: 10)
/// best.pushRows(distances: distances, count: rowCount, firstRow: blockStart)
/// let hits = best.sortedResults()   // ascending distance
/// best.reset(k: 10)                 // reuse the storage for the next query
/// ```
public struct TopK: Sendable {
    /// One kept candidate.
    public struct Element: Hashable, Sendable {
        /// The distance (smaller is better).
        public var distance: Float
        /// The row the distance belongs to.
        public var row: UInt32

        /// Creates a candidate.
        public init(distance: Float, row: UInt32) {
            self.distance = distance
            self.row = row
        }
    }

    /// The heap of keys; `_keys[0..<_count]` is valid, `_keys[0]` is the worst.
    @usableFromInline internal var _keys: [UInt64]
    @usableFromInline internal var _count: Int
    @usableFromInline internal var _k: Int
    /// +infinity until full (anything is accepted), -infinity when k == 0, else the root's distance.
    @usableFromInline internal var _worstDistance: Float

    /// Creates an empty selection of the `k` smallest.
    ///
    /// - Parameter k: The number of candidates to keep; storage for `k` is allocated now.
    /// - Precondition: `k >= 0` and `k` fits in the `Int` range of an array.
    public init(k: Int) {
        precondition(k >= 0, "k must not be negative")
        _keys = [UInt64](repeating: 0, count: k)
        _count = 0
        _k = k
        _worstDistance = k == 0 ? -.infinity : .infinity
    }

    /// The number of candidates to keep.
    public var k: Int { _k }

    /// The number of candidates kept so far, at most ``k``.
    public var count: Int { _count }

    /// Whether ``k`` candidates are kept, so that a new one must beat the worst to enter.
    @inlinable
    public var isFull: Bool { _count == _k }

    /// The largest distance a new candidate may have and still enter.
    ///
    /// `+infinity` until the selection is full, then the distance of the worst kept candidate (a
    /// candidate at exactly this distance enters only with a smaller row). Scan loops compare with
    /// it to skip work for rows that cannot enter.
    @inlinable
    public var worstDistance: Float { _worstDistance }

    /// Empties the selection and sets a new `k`, reusing the storage when it is large enough.
    ///
    /// - Parameter k: The number of candidates to keep.
    /// - Complexity: O(1), or O(k) when `k` exceeds every earlier `k` (the storage grows).
    public mutating func reset(k: Int) {
        precondition(k >= 0, "k must not be negative")
        if k > _keys.count { _keys = [UInt64](repeating: 0, count: k) }
        _count = 0
        _k = k
        _worstDistance = k == 0 ? -.infinity : .infinity
    }

    /// Offers one candidate.
    ///
    /// Rejected at once when `distance > worstDistance` or NaN; otherwise it replaces the worst
    /// kept candidate if `(distance, row)` is smaller, or is added while the selection is not full.
    ///
    /// - Parameters:
    ///   - distance: The candidate's distance.
    ///   - row: The candidate's row.
    /// - Complexity: O(1) when rejected, O(log k) otherwise.
    @inlinable
    public mutating func push(distance: Float, row: UInt32) {
        guard distance <= _worstDistance else { return }  // also false for NaN
        _insert(Self._key(distance: distance, row: row))
    }

    /// Offers `count` candidates whose rows are consecutive, starting at `firstRow`.
    ///
    /// The loop a scan runs after a row kernel: `distances[i]` belongs to row `firstRow + i`.
    ///
    /// - Parameters:
    ///   - distances: `count` distances.
    ///   - count: The number of candidates.
    ///   - firstRow: The row of `distances[0]`.
    /// - Precondition: `count >= 0` and `firstRow + count <= 2³²`.
    @inlinable
    public mutating func pushRows(distances: UnsafePointer<Float>, count: Int, firstRow: UInt32) {
        precondition(count >= 0 && UInt64(firstRow) + UInt64(count) <= 1 << 32, "row out of range")
        for i in 0..<count {
            // Safety: the caller passes `count` readable floats.
            let distance = unsafe distances[i]
            if distance <= _worstDistance {
                _insert(Self._key(distance: distance, row: firstRow &+ UInt32(truncatingIfNeeded: i)))
            }
        }
    }

    /// Returns the kept candidates by ascending distance, ties by ascending row.
    ///
    /// The selection is left unchanged.
    ///
    /// - Complexity: O(k log k).
    public func sortedResults() -> [Element] {
        _keys[0..<_count].sorted().map { key in
            Element(distance: Self._distance(of: key), row: UInt32(truncatingIfNeeded: key))
        }
    }

    // MARK: Keys and heap

    /// Maps `(distance, row)` to a key whose unsigned order is the order of the pairs.
    ///
    /// For the distance bits: negative floats have their bits inverted (so more negative is
    /// smaller), non-negative floats get the sign bit set (so they sort above all negatives).
    @inlinable
    internal static func _key(distance: Float, row: UInt32) -> UInt64 {
        let bits = (distance + 0).bitPattern  // + 0 turns -0.0 into +0.0
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 32 | UInt64(row)
    }

    @inlinable
    internal static func _distance(of key: UInt64) -> Float {
        let ordered = UInt32(truncatingIfNeeded: key >> 32)
        let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
        return Float(bitPattern: bits)
    }

    @usableFromInline
    internal mutating func _insert(_ key: UInt64) {
        if _count < _k {
            // Sift up from the new leaf.
            var child = _count
            while child > 0 {
                let parent = (child - 1) / 2
                if _keys[parent] >= key { break }
                _keys[child] = _keys[parent]
                child = parent
            }
            _keys[child] = key
            _count += 1
            if _count == _k { _worstDistance = Self._distance(of: _keys[0]) }
        } else if _count > 0 && key < _keys[0] {
            // Replace the root and sift down.
            var parent = 0
            while true {
                var largest = 2 * parent + 1
                if largest >= _count { break }
                if largest + 1 < _count && _keys[largest + 1] > _keys[largest] { largest += 1 }
                if _keys[largest] <= key { break }
                _keys[parent] = _keys[largest]
                parent = largest
            }
            _keys[parent] = key
            _worstDistance = Self._distance(of: _keys[0])
        }
    }
}
