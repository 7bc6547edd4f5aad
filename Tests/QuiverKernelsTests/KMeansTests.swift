import Dispatch
import QuiverKernels
import Testing

@Suite("KMeans")
struct KMeansTests {
    /// `clusters` centers spread over [-100, 100)^dimensions, `perCluster` points within ±1 of each.
    static func separated(clusters: Int, perCluster: Int, dimensions: Int, seed: UInt64)
        -> (points: [Float], centers: [[Float]]) {
        var random = SplitMix64(seed: seed)
        let centers = (0..<clusters).map { _ in random.floats(dimensions).map { $0 * 100 } }
        var points: [Float] = []
        for i in 0..<(clusters * perCluster) {
            let center = centers[i % clusters]  // interleaved, so no cluster is one run of rows
            points += zip(center, random.floats(dimensions)).map { $0 + $1 }
        }
        return (points, centers)
    }

    static func train(_ points: [Float], dimensions: Int, clusters: Int, iterations: Int = 10, seed: UInt64,
                      concurrentPerform: KMeans.ConcurrentPerform? = nil) -> [Float] {
        unsafe points.withUnsafeBufferPointer {
            unsafe KMeans.train(points: $0.baseAddress!, count: points.count / dimensions, dimensions: dimensions,
                                clusters: clusters, iterations: iterations, seed: seed,
                                concurrentPerform: concurrentPerform)
        }
    }

    @Test("same seed, same centroids; another seed, other centroids")
    func determinism() {
        var random = SplitMix64(seed: 0x5EED_0301)
        let points = random.floats(600 * 8)
        let a = Self.train(points, dimensions: 8, clusters: 10, seed: 1)
        let b = Self.train(points, dimensions: 8, clusters: 10, seed: 1)
        let c = Self.train(points, dimensions: 8, clusters: 10, seed: 2)
        #expect(a.count == 80)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(a != c)
    }

    @Test("bit-identical with several threads, whatever the order blocks run in")
    func concurrencyDoesNotChangeTheResult() {
        // 5,000 points: two blocks in seeding (4,096 points each) and in the assignment.
        var random = SplitMix64(seed: 0x5EED_0302)
        let points = random.floats(5_000 * 4)
        let serial = Self.train(points, dimensions: 4, clusters: 16, iterations: 5, seed: 9)
        let dispatched = Self.train(points, dimensions: 4, clusters: 16, iterations: 5, seed: 9,
                                    concurrentPerform: DispatchQueue.concurrentPerform)
        let reversed = Self.train(points, dimensions: 4, clusters: 16, iterations: 5, seed: 9,
                                  concurrentPerform: { n, body in for i in (0..<n).reversed() { body(i) } })
        #expect(serial.map(\.bitPattern) == dispatched.map(\.bitPattern))
        #expect(serial.map(\.bitPattern) == reversed.map(\.bitPattern))
    }

    @Test("recovers well-separated clusters")
    func separatedClusters() {
        let (points, centers) = Self.separated(clusters: 8, perCluster: 40, dimensions: 6, seed: 0x5EED_0303)
        let centroids = Self.train(points, dimensions: 6, clusters: 8, iterations: 20, seed: 3)
        var matched = Set<Int>()
        for center in centers {
            // The nearest trained centroid lies within the ±1 noise of the true center.
            let (index, distance) = unsafe center.withUnsafeBufferPointer { p in
                unsafe centroids.withUnsafeBufferPointer { c in
                    unsafe KMeans.nearest(point: p.baseAddress!, centroids: c.baseAddress!, count: 8, dimensions: 6)
                }
            }
            #expect(distance < 1, "center \(center) is \(distance) from centroid \(index)")
            matched.insert(index)
        }
        #expect(matched.count == 8)
    }

    @Test("more clusters than points: the points in order, then repeated")
    func moreClustersThanPoints() {
        let points: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]  // 5 points of 2 dimensions
        let centroids = Self.train(points, dimensions: 2, clusters: 12, seed: 5)
        var expected: [Float] = []
        for c in 0..<12 { expected += points[(c % 5) * 2..<(c % 5) * 2 + 2] }
        #expect(centroids == expected)
        #expect(Self.train(points, dimensions: 2, clusters: 5, seed: 5) == points)
    }

    @Test("few distinct points: empty clusters are split, deterministically, and stay finite")
    func emptyClusters() {
        // 90 points on 3 spots, 7 clusters: seeding runs out of distinct points and Lloyd's
        // step leaves clusters empty, which the split re-seeds.
        var points: [Float] = []
        for i in 0..<90 { points += [[0, 0], [10, 0], [0, 10]][i % 3] }
        var progress: [(Int, Int)] = []
        let a = unsafe points.withUnsafeBufferPointer {
            unsafe KMeans.train(points: $0.baseAddress!, count: 90, dimensions: 2, clusters: 7, iterations: 6, seed: 11,
                                progress: { progress.append(($0, $1)) })
        }
        let b = Self.train(points, dimensions: 2, clusters: 7, iterations: 6, seed: 11)
        let finite = a.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        #expect(progress.last.map { $0 == (6, 6) } ?? false)
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.0 < $1.0 })
        // Every spot keeps a centroid on it (within the split's relative 1/1024).
        for spot: [Float] in [[0, 0], [10, 0], [0, 10]] {
            var nearest = Float.infinity
            for c in 0..<7 {
                let dx = a[c * 2] - spot[0], dy = a[c * 2 + 1] - spot[1]
                nearest = min(nearest, dx * dx + dy * dy)
            }
            #expect(nearest < 0.1)
        }
    }

    @Test("nearest and assign agree with brute force")
    func nearestAndAssign() {
        var random = SplitMix64(seed: 0x5EED_0305)
        let dimensions = 12, clusters = 37, count = 300
        let centroids = random.floats(clusters * dimensions)
        let points = random.floats(count * dimensions)
        var assignments = [UInt32](repeating: .max, count: count)
        var distances = [Float](repeating: .nan, count: count)
        unsafe points.withUnsafeBufferPointer { p in
            unsafe centroids.withUnsafeBufferPointer { c in
                unsafe KMeans.assign(points: p.baseAddress!, count: count, centroids: c.baseAddress!, clusters: clusters,
                                     dimensions: dimensions, into: &assignments, distances: &distances)
            }
        }
        for i in 0..<count {
            let point = Array(points[i * dimensions..<(i + 1) * dimensions])
            let exact = (0..<clusters).map {
                Kernels.squaredL2Reference(point, Array(centroids[$0 * dimensions..<($0 + 1) * dimensions]))
            }
            let best = exact.min()!
            let (index, distance) = unsafe point.withUnsafeBufferPointer { p in
                unsafe centroids.withUnsafeBufferPointer { c in
                    unsafe KMeans.nearest(point: p.baseAddress!, centroids: c.baseAddress!, count: clusters,
                                          dimensions: dimensions)
                }
            }
            // Random data has no ties within float rounding, so the indices are the exact ones.
            #expect(exact[index] == best && Int(assignments[i]) == index, "point \(i)")
            #expect(abs(distance - best) <= 1e-5 * best && abs(distances[i] - best) <= 1e-5 * best)
        }
    }
}
