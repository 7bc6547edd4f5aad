import Dispatch
import QuiverKernels
import Testing

@Suite("ProductQuantizer")
struct ProductQuantizerTests {
    /// 16-dimensional points with some structure (a few directions, scaled, plus noise): 400 to
    /// train on, and 200 more from the same distribution to measure the error on.
    static let dimensions = 16
    static let (points, heldOut): ([Float], [Float]) = {
        var random = SplitMix64(seed: 0x5EED_0401)
        let directions = (0..<6).map { _ in random.floats(dimensions) }
        var points: [Float] = []
        for i in 0..<600 {
            let weight = random.floats(1)[0]
            let base = directions[i % 6]
            let noise = random.floats(dimensions)
            for k in 0..<dimensions { points.append(base[k] * (2 + weight) + 0.3 * noise[k]) }
        }
        return (Array(points[0..<(400 * dimensions)]), Array(points[(400 * dimensions)...]))
    }()
    static var count: Int { points.count / dimensions }

    static func train(m: Int, seed: UInt64, iterations: Int = 3,
                      concurrentPerform: KMeans.ConcurrentPerform? = nil) -> ProductQuantizer {
        unsafe points.withUnsafeBufferPointer {
            unsafe ProductQuantizer.train(points: $0.baseAddress!, count: count, dimensions: dimensions, m: m,
                                          iterations: iterations, seed: seed, concurrentPerform: concurrentPerform)
        }
    }

    static func encodeAll(_ pq: ProductQuantizer, stride: Int, points: [Float] = points) -> [UInt8] {
        let count = points.count / dimensions
        var codes = [UInt8](repeating: 0xEE, count: count * stride)
        unsafe points.withUnsafeBufferPointer { p in
            unsafe pq.encode(points: p.baseAddress!, count: count, into: &codes, byteStride: stride)
        }
        return codes
    }

    /// Mean squared error of decode(encode(x)) over the held-out points.
    static func reconstructionError(_ pq: ProductQuantizer) -> Double {
        let codes = encodeAll(pq, stride: pq.m, points: heldOut)
        var decoded = [Float](repeating: 0, count: dimensions)
        var total = 0.0
        let count = heldOut.count / dimensions
        for i in 0..<count {
            unsafe codes.withUnsafeBufferPointer { c in unsafe pq.decode(c.baseAddress! + i * pq.m, into: &decoded) }
            let point = Array(heldOut[i * dimensions..<(i + 1) * dimensions])
            total += Double(Kernels.squaredL2Reference(point, decoded))
        }
        return total / Double(count)
    }

    static let trained: [Int: ProductQuantizer] = {
        var all: [Int: ProductQuantizer] = [:]
        for m in [1, 2, 4, 8] { all[m] = train(m: m, seed: 21) }
        return all
    }()

    @Test("round-trip error on held-out points decreases as m grows")
    func errorDecreasesWithM() {
        let errors = [1, 2, 4, 8].map { Self.reconstructionError(Self.trained[$0]!) }
        #expect(zip(errors, errors.dropFirst()).allSatisfy { $0 > $1 }, "errors \(errors)")
        #expect(errors.last! < 0.25 * errors.first!, "errors \(errors)")
    }

    @Test("each code byte is the nearest centroid; one vector and a batch give the same code")
    func encodeIsNearest() {
        let pq = Self.trained[4]!
        let sub = pq.subDimensions
        let batch = Self.encodeAll(pq, stride: 7)  // 4 code bytes, 3 bytes of padding never written
        for i in 0..<Self.count {
            var single = [UInt8](repeating: 0, count: pq.m)
            unsafe Self.points.withUnsafeBufferPointer { p in unsafe pq.encode(p.baseAddress! + i * Self.dimensions, into: &single) }
            #expect(Array(batch[i * 7..<i * 7 + 4]) == single && batch[i * 7 + 4..<i * 7 + 7].allSatisfy { $0 == 0xEE })
            guard i < 60 else { continue }  // the brute-force check is slow in debug builds
            for j in 0..<pq.m {
                let x = Array(Self.points[i * Self.dimensions + j * sub..<i * Self.dimensions + (j + 1) * sub])
                let distances = (0..<256).map { c in
                    Kernels.squaredL2Reference(x, Array(pq.centroids[(j * 256 + c) * sub..<(j * 256 + c + 1) * sub]))
                }
                let chosen = distances[Int(single[j])]
                #expect(chosen <= distances.min()! * (1 + 1e-5) + 1e-6, "point \(i) sub-quantiser \(j)")
            }
        }
    }

    @Test("table distances equal the distances to the decoded vectors", arguments: [1, 2, 4, 8])
    func tablesMatchDecodedDistances(m: Int) {
        let pq = Self.trained[m]!
        var random = SplitMix64(seed: 0x5EED_0402)
        let codes = Self.encodeAll(pq, stride: m)
        var l2Table = [Float](repeating: .nan, count: m * 256)
        var ipTable = l2Table
        for _ in 0..<5 {
            let query = random.floats(Self.dimensions).map { $0 * 3 }
            unsafe query.withUnsafeBufferPointer { q in
                unsafe pq.squaredL2Table(query: q.baseAddress!, into: &l2Table)
                unsafe pq.innerProductTable(query: q.baseAddress!, into: &ipTable)
            }
            var l2 = [Float](repeating: 0, count: Self.count)
            var ip = l2
            unsafe codes.withUnsafeBufferPointer { c in
                unsafe Kernels.pqScanRows(table: l2Table, m: m, rows: c.baseAddress!, byteStride: m, rowCount: Self.count, into: &l2)
                unsafe Kernels.pqScanRows(table: ipTable, m: m, rows: c.baseAddress!, byteStride: m, rowCount: Self.count, into: &ip)
            }
            var decoded = [Float](repeating: 0, count: Self.dimensions)
            for i in 0..<Self.count {
                unsafe codes.withUnsafeBufferPointer { c in unsafe pq.decode(c.baseAddress! + i * m, into: &decoded) }
                let exactL2 = Kernels.squaredL2Reference(query, decoded)
                let exactIP = Kernels.dotReference(query, decoded)
                #expect(isClose(l2[i], exactL2, scale: Double(exactL2)), "m=\(m) row \(i): \(l2[i]) vs \(exactL2)")
                #expect(isClose(ip[i], exactIP, scale: magnitudeSum(query, decoded)), "m=\(m) row \(i): \(ip[i]) vs \(exactIP)")
            }
        }
    }

    @Test("training is deterministic, with or without threads; init from the centroids is equal")
    func trainingDeterminism() {
        let a = Self.trained[1]!
        let b = Self.train(m: 1, seed: 21)
        let threaded = Self.train(m: 1, seed: 21, concurrentPerform: DispatchQueue.concurrentPerform)
        let other = Self.train(m: 1, seed: 22)
        #expect(a == b && a.centroids.map(\.bitPattern) == b.centroids.map(\.bitPattern))
        #expect(a.centroids.map(\.bitPattern) == threaded.centroids.map(\.bitPattern))
        #expect(a != other)
        let copy = ProductQuantizer(dimensions: a.dimensions, m: a.m, centroids: a.centroids)
        #expect(copy == a && copy.hashValue == a.hashValue)
        #expect(a.subDimensions == 16 && a.centroids.count == 256 * 16)
    }

    @Test("fewer training points than centroids: the extra centroids repeat points")
    func fewPoints() {
        let sample = Array(Self.points[0..<(40 * Self.dimensions)])
        var progress: [Int] = []
        let pq = unsafe sample.withUnsafeBufferPointer {
            unsafe ProductQuantizer.train(points: $0.baseAddress!, count: 40, dimensions: Self.dimensions, m: 4,
                                          seed: 1, progress: { done, total in progress.append(done); #expect(total == 4) })
        }
        #expect(progress == [1, 2, 3, 4])
        // Every training point is encoded exactly (its sub-vectors are centroids).
        var code = [UInt8](repeating: 0, count: 4)
        var decoded = [Float](repeating: 0, count: Self.dimensions)
        for i in 0..<40 {
            unsafe sample.withUnsafeBufferPointer { p in unsafe pq.encode(p.baseAddress! + i * Self.dimensions, into: &code) }
            unsafe pq.decode(code, into: &decoded)
            #expect(decoded == Array(sample[i * Self.dimensions..<(i + 1) * Self.dimensions]))
        }
    }
}
