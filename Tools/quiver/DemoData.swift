import Foundation
import Quiver

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator, so the demo's data and
/// results are the same on every run and machine.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A standard normal sample (Box–Muller).
    mutating func gaussian() -> Float {
        let u = max(unit(), 1e-300)
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit()))
    }

    /// An index drawn with probability proportional to `weights`.
    mutating func pick(_ cumulative: [Double]) -> Int {
        let x = unit() * cumulative.last!
        return cumulative.firstIndex { $0 > x } ?? cumulative.count - 1
    }
}

/// The demo's synthetic corpus: clustered vectors whose leading components carry most of the
/// signal (as Matryoshka embeddings do), with a section, a size and tags per record.
struct DemoData {
    static let sections = [
        "libs", "docs", "tests", "tools", "net", "ui", "db", "math", "misc", "legacy",
    ]
    static let tags = [
        "swift", "linux", "simd", "lmdb", "json", "async", "cli", "gpu", "web", "ml", "crypto",
        "bench",
    ]

    let dimensions: Int
    let count: Int
    /// `count × dimensions` floats, row-major.
    let vectors: [Float]
    let metadata: [[String: MetadataValue]]
    let centers: [[Float]]
    /// Each component's scale.
    let scale: [Float]

    /// - Parameter decaying: scale component `i` by `1 / (1 + i / 16)`, so that prefixes hold
    ///   most of the variance (for the Matryoshka funnel); otherwise every component has the
    ///   same scale (for binary codes, which weigh every bit alike).
    /// - Parameter latent: when set, a record is its cluster's centre plus a random linear
    ///   image of `latent` hidden factors plus a little noise: data of low intrinsic
    ///   dimension, whose neighbours are well defined, as with real embeddings.
    init(
        count: Int,
        dimensions: Int = 128,
        clusters: Int = 32,
        decaying: Bool = true,
        latent: Int? = nil,
        seed: UInt64 = 2026
    ) {
        var rng = SeededGenerator(seed: seed)
        self.count = count
        self.dimensions = dimensions
        let scale = (0..<dimensions).map { decaying ? Float(1 / (1 + Double($0) / 16)) : 1 }
        self.scale = scale
        let centers = (0..<clusters).map { _ in (0..<dimensions).map { scale[$0] * rng.gaussian() }
        }
        self.centers = centers
        let factors = (0..<dimensions * (latent ?? 0)).map { _ in
            rng.gaussian() / Float(latent ?? 1).squareRoot()
        }
        let sectionWeights = cumulativeSums(
            (1...Self.sections.count).map { 1 / pow(Double($0), 1.1) }
        )
        let tagWeights = cumulativeSums((1...Self.tags.count).map { 1 / Double($0).squareRoot() })
        var vectors = [Float](repeating: 0, count: count * dimensions)
        var metadata: [[String: MetadataValue]] = []
        metadata.reserveCapacity(count)
        for row in 0..<count {
            let cluster = Int(rng.next() % UInt64(clusters))
            if let latent {
                let z = (0..<latent).map { _ in rng.gaussian() }
                for c in 0..<dimensions {
                    var x = 0.5 * centers[cluster][c] + 0.15 * rng.gaussian()
                    for j in 0..<latent { x += factors[c * latent + j] * z[j] }
                    vectors[row * dimensions + c] = scale[c] * x
                }
            } else {
                for c in 0..<dimensions {
                    vectors[row * dimensions + c] =
                        centers[cluster][c] + 0.9 * scale[c] * rng.gaussian()
                }
            }
            // Sections lean towards a cluster's "home" section, so filters change the results.
            let section =
                rng.unit() < 0.5 ? cluster % Self.sections.count : rng.pick(sectionWeights)
            let size = Int64(exp(log(10.0) + rng.unit() * (log(1_000_000.0) - log(10.0))))
            var tags = Set<String>()
            for _ in 0..<Int(rng.next() % 4) { tags.insert(Self.tags[rng.pick(tagWeights)]) }
            metadata.append([
                "section": .string(Self.sections[section]),
                "size": .int64(size),
                "tags": .stringList(tags.sorted()),
                "title": .string("doc-\(row)"),
            ])
        }
        self.vectors = vectors
        self.metadata = metadata
    }

    /// A query near a random record of the corpus (the record plus noise).
    func queries(_ n: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in
            let row = Int(rng.next() % UInt64(count))
            return (0..<dimensions).map {
                vectors[row * dimensions + $0] + 0.2 * scale[$0] * rng.gaussian()
            }
        }
    }

    /// The rows nearest to `query` by cosine, nearest first (brute force: the oracle).
    func nearest(_ query: [Float], k: Int) -> [Int] {
        let queryNorm = query.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var scored: [(row: Int, similarity: Float)] = []
        scored.reserveCapacity(count)
        for row in 0..<count {
            var dot: Float = 0
            var norm: Float = 0
            for c in 0..<dimensions {
                let x = vectors[row * dimensions + c]
                dot += x * query[c]
                norm += x * x
            }
            scored.append((row, dot / (norm.squareRoot() * queryNorm)))
        }
        scored.sort { $0.similarity > $1.similarity }
        return scored.prefix(k).map(\.row)
    }
}

func cumulativeSums(_ values: [Double]) -> [Double] {
    var total = 0.0
    return values.map {
        total += $0
        return total
    }
}
