import CQuiverKernels

// The Euclidean distances token pooling clusters on (Ward linkage, in Double, as SciPy).
extension Kernels {
    /// Doubles of scratch ``poolDistances(coordinates:count:dimensions:norms:transposed:into:)``
    /// needs for `count` rows of `dimensions`.
    public static func poolDistancesScratch(count: Int, dimensions: Int) -> Int {
        precondition(count >= 0 && dimensions >= 0, "negative count")
        return qv_pool_transposed_doubles(count, dimensions)
    }

    /// Writes the distances between the `count` rows at `coordinates` (`dimensions` doubles
    /// each, row-major): `out[i * count + j] = sqrt(max(0, (|a_i|² + |a_j|²) − 2 a_i·a_j))` for
    /// `i ≠ j`, `+infinity` on the diagonal, and `norms[i] = |a_i|²`. Every dot product sums the
    /// products of even and of odd components apart, in order, adds the two, then the last
    /// product when `dimensions` is odd, with no fused multiply-add: equal rows are at distance
    /// exactly 0, and every kernel set returns the same bits
    /// (``poolDistancesReference(_:count:dimensions:)``). The C call is `qv_pool_distances`.
    ///
    /// - Parameters:
    ///   - norms: `count` doubles, written.
    ///   - transposed: ``poolDistancesScratch(count:dimensions:)`` doubles of scratch.
    ///   - out: `count × count` doubles, written.
    @inlinable
    public static func poolDistances(
        coordinates: UnsafePointer<Double>, count: Int, dimensions: Int, norms: UnsafeMutablePointer<Double>,
        transposed: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>
    ) {
        precondition(count >= 0 && dimensions >= 0, "negative count")
        // Safety: reads count * dimensions doubles, writes the extents documented above.
        unsafe qv_pool_distances(coordinates, count, dimensions, norms, transposed, out)
    }

    /// The oracle for ``poolDistances(coordinates:count:dimensions:norms:transposed:into:)``:
    /// the same operations, one pair at a time, in Swift (which never fuses a multiply-add).
    public static func poolDistancesReference(_ coordinates: [Double], count: Int, dimensions: Int) -> [Double] {
        func dot(_ i: Int, _ j: Int) -> Double {
            var even = 0.0, odd = 0.0
            var k = 0
            while k + 2 <= dimensions {
                even += coordinates[i * dimensions + k] * coordinates[j * dimensions + k]
                odd += coordinates[i * dimensions + k + 1] * coordinates[j * dimensions + k + 1]
                k += 2
            }
            var result = even + odd
            if k < dimensions { result += coordinates[i * dimensions + k] * coordinates[j * dimensions + k] }
            return result
        }
        let norms = (0..<count).map { dot($0, $0) }
        var out = [Double](repeating: .infinity, count: count * count)
        for i in 0..<count {
            for j in 0..<count where j != i {
                let squared = (norms[i] + norms[j]) - 2 * dot(i, j)
                out[i * count + j] = (squared > 0 ? squared : 0).squareRoot()
            }
        }
        return out
    }
}
