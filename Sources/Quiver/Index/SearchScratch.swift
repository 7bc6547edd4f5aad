import QuiverKernels

/// A candidate of a graph search packed in one `UInt64`: the distance's bits mapped to an
/// unsigned order in the high half, the node (row or slot) in the low half, so that comparing
/// keys compares `(distance, node)` with one integer compare.
@inline(__always)
func candidateKey(_ distance: Float, _ node: UInt32) -> UInt64 {
    let bits = distance.bitPattern
    let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(ordered) << 32 | UInt64(node)
}

@inline(__always)
func candidateDistance(_ key: UInt64) -> Float {
    let ordered = UInt32(truncatingIfNeeded: key >> 32)
    return Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
}

@inline(__always)
func candidateNode(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key) }

/// A binary heap of candidate keys in memory it owns and reuses: no allocation per search once
/// it has grown to the largest `ef` seen. `isMax` picks a max-heap (the results: the root is the
/// worst kept) or a min-heap (the candidates to expand: the root is the nearest).
struct KeyHeap {
    private(set) var keys: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private var capacity: Int
    let isMax: Bool

    init(isMax: Bool, capacity: Int = 256) {
        self.isMax = isMax
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
    }

    func release() { keys.deallocate() }

    var isEmpty: Bool { count == 0 }
    /// The root: the worst of a max-heap, the nearest of a min-heap.
    @inline(__always) var top: UInt64 { keys[0] }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    private func before(_ a: UInt64, _ b: UInt64) -> Bool { isMax ? a > b : a < b }

    @inline(__always)
    mutating func push(_ key: UInt64) {
        if count == capacity { grow() }
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard before(key, keys[parent]) else { break }
            keys[i] = keys[parent]
            i = parent
        }
        keys[i] = key
    }

    @inline(__always)
    @discardableResult
    mutating func pop() -> UInt64 {
        let root = keys[0]
        count -= 1
        if count > 0 { siftDown(keys[count]) }
        return root
    }

    /// Replaces the root with `key` (a bounded heap taking a better candidate).
    @inline(__always)
    mutating func replaceTop(_ key: UInt64) { siftDown(key) }

    @inline(__always)
    private mutating func siftDown(_ key: UInt64) {
        var i = 0
        let half = count >> 1
        while i < half {
            var child = 2 * i + 1
            if child + 1 < count && before(keys[child + 1], keys[child]) { child += 1 }
            guard before(keys[child], key) else { break }
            keys[i] = keys[child]
            i = child
        }
        keys[i] = key
    }

    private mutating func grow() {
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity * 2)
        grown.update(from: keys, count: count)
        keys.deallocate()
        keys = grown
        capacity *= 2
    }

    /// Sorts the kept keys ascending in place and returns them; the heap order is gone, so
    /// the next search starts with ``removeAll()``. No allocation.
    mutating func sortInPlace() -> UnsafeMutableBufferPointer<UInt64> {
        var buffer = UnsafeMutableBufferPointer(start: keys, count: count)
        buffer.sort()
        return buffer
    }

    /// The keys in ascending order, as a new array (the heap is unchanged).
    mutating func sortedAscending() -> [UInt64] {
        var out = [UInt64](UnsafeBufferPointer(start: keys, count: count))
        out.sort()
        return out
    }
}

/// Which nodes a search has seen: one 16-bit mark per node, cleared by bumping an epoch, so
/// starting a search costs nothing (hnswlib's `VisitedList`).
struct VisitedSet {
    private var marks: UnsafeMutablePointer<UInt16>
    private var capacity: Int
    private var epoch: UInt16 = 0
    /// Nodes at or above this were not sized for: a damaged link never writes out of bounds,
    /// it reads as already visited.
    private var limit = 0

    init() {
        capacity = 1
        marks = .allocate(capacity: 1)
        marks.initialize(to: 0)
    }

    func release() { marks.deallocate() }

    /// Starts a new search over nodes `0..<count`.
    mutating func reset(count: Int) {
        if count > capacity {
            marks.deallocate()
            capacity = max(count, capacity * 2)
            marks = .allocate(capacity: capacity)
            marks.initialize(repeating: 0, count: capacity)
            epoch = 0
        }
        if epoch == UInt16.max {
            marks.update(repeating: 0, count: capacity)
            epoch = 0
        }
        epoch += 1
        limit = count
    }

    /// Marks `node`; returns whether it was unmarked. `node` must be below the reset count.
    @inline(__always)
    mutating func insert(_ node: UInt32) -> Bool {
        guard Int(node) < limit else { return false }
        let p = marks + Int(node)
        if p.pointee == epoch { return false }
        p.pointee = epoch
        return true
    }

    @inline(__always)
    func contains(_ node: UInt32) -> Bool { Int(node) >= limit || marks[Int(node)] == epoch }

    /// Starts loading `node`'s mark into cache (a hop checks all its neighbours' marks).
    @inline(__always)
    func prefetch(_ node: UInt32) { Kernels.prefetch(UnsafeRawPointer(marks + min(Int(node), limit)), lines: 1) }
}
