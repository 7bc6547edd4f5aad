// TEMPORARY: a plain product quantiser so the engine builds before the kernels branch lands.
import QuiverKernels

struct ProductQuantizer: Sendable, Hashable {
    let dimensions: Int
    let m: Int
    var subDimensions: Int { dimensions / m }
    let centroids: [Float]

    init(dimensions: Int, m: Int, centroids: [Float]) {
        self.dimensions = dimensions
        self.m = m
        self.centroids = centroids
    }

    static func train(points: UnsafePointer<Float>, count: Int, dimensions: Int, m: Int, iterations: Int, seed: UInt64,
                      progress: ((Int, Int) -> Void)?) -> ProductQuantizer {
        let ds = dimensions / m
        var centroids = [Float](repeating: 0, count: 256 * dimensions)
        for j in 0..<m {
            var c = [Float](repeating: 0, count: 256 * ds)
            for k in 0..<256 {
                let p = (k * 7919 + Int(seed % 1000)) % count
                for t in 0..<ds { c[k * ds + t] = points[p * dimensions + j * ds + t] }
            }
            for _ in 0..<iterations {
                var sums = [Float](repeating: 0, count: 256 * ds)
                var counts = [Int](repeating: 0, count: 256)
                for i in 0..<count {
                    var best = 0; var bd = Float.infinity
                    for k in 0..<256 {
                        var d: Float = 0
                        for t in 0..<ds { let x = points[i * dimensions + j * ds + t] - c[k * ds + t]; d += x * x }
                        if d < bd { bd = d; best = k }
                    }
                    counts[best] += 1
                    for t in 0..<ds { sums[best * ds + t] += points[i * dimensions + j * ds + t] }
                }
                for k in 0..<256 where counts[k] > 0 { for t in 0..<ds { c[k * ds + t] = sums[k * ds + t] / Float(counts[k]) } }
            }
            for k in 0..<256 { for t in 0..<ds { centroids[(j * 256 + k) * ds + t] = c[k * ds + t] } }
            progress?(j + 1, m)
        }
        return ProductQuantizer(dimensions: dimensions, m: m, centroids: centroids)
    }

    func encode(_ v: UnsafePointer<Float>, into code: UnsafeMutablePointer<UInt8>) {
        let ds = subDimensions
        for j in 0..<m {
            var best = 0; var bd = Float.infinity
            for k in 0..<256 {
                var d: Float = 0
                for t in 0..<ds { let x = v[j * ds + t] - centroids[(j * 256 + k) * ds + t]; d += x * x }
                if d < bd { bd = d; best = k }
            }
            code[j] = UInt8(best)
        }
    }

    func decode(_ code: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
        let ds = subDimensions
        for j in 0..<m { for t in 0..<ds { out[j * ds + t] = centroids[(j * 256 + Int(code[j])) * ds + t] } }
    }

    func innerProductTable(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let ds = subDimensions
        for j in 0..<m { for k in 0..<256 {
            var d: Float = 0
            for t in 0..<ds { d += query[j * ds + t] * centroids[(j * 256 + k) * ds + t] }
            table[j * 256 + k] = d
        } }
    }

    func squaredL2Table(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let ds = subDimensions
        for j in 0..<m { for k in 0..<256 {
            var d: Float = 0
            for t in 0..<ds { let x = query[j * ds + t] - centroids[(j * 256 + k) * ds + t]; d += x * x }
            table[j * 256 + k] = d
        } }
    }
}

enum KMeans {
    static func train(points: UnsafePointer<Float>, count: Int, dimensions: Int, clusters: Int, iterations: Int = 20, seed: UInt64,
                      progress: ((Int, Int) -> Void)? = nil) -> [Float] {
        var c = [Float](repeating: 0, count: clusters * dimensions)
        for k in 0..<clusters {
            let p = (k * 7919 + Int(seed % 1000)) % count
            for t in 0..<dimensions { c[k * dimensions + t] = points[p * dimensions + t] }
        }
        for it in 0..<iterations {
            var sums = [Float](repeating: 0, count: clusters * dimensions)
            var counts = [Int](repeating: 0, count: clusters)
            for i in 0..<count {
                var best = 0; var bd = Float.infinity
                for k in 0..<clusters {
                    let d = c.withUnsafeBufferPointer { Kernels.squaredL2(points + i * dimensions, UnsafeRawPointer($0.baseAddress! + k * dimensions), count: dimensions) }
                    if d < bd { bd = d; best = k }
                }
                counts[best] += 1
                for t in 0..<dimensions { sums[best * dimensions + t] += points[i * dimensions + t] }
            }
            for k in 0..<clusters where counts[k] > 0 { for t in 0..<dimensions { c[k * dimensions + t] = sums[k * dimensions + t] / Float(counts[k]) } }
            progress?(it + 1, iterations)
        }
        return c
    }
}
