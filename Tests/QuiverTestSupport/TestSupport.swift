import Foundation
import Quiver

/// A store in a fresh temporary folder, removed when the value is deinitialised.
public final class TemporaryStore {
    /// The folder.
    public let directory: URL
    /// The data file's path.
    public var path: String { directory.appendingPathComponent("store.quiver").path }

    /// Creates the folder.
    public init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Opens (creating) the store.
    public func open(_ configuration: Database.Configuration = .init()) throws -> Database {
        try Database(path: path, configuration: configuration)
    }
}

/// SplitMix64: a small, fast, seeded generator, so random tests can print and replay their seed.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    /// The seed it started from.
    public let seed: UInt64
    /// Creates a generator.
    public init(seed: UInt64) {
        self.seed = seed
        self.state = seed
    }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A normally distributed float (Box-Muller).
    public mutating func gaussian() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

/// Synthetic data sets for tests.
public enum Datasets {
    /// `count` vectors around `clusters` random centres, row-major.
    public static func clustered(count: Int, dimensions: Int, clusters: Int = 16, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        let centres = (0..<clusters).map { _ in (0..<dimensions).map { _ in rng.gaussian() } }
        return (0..<count).map { _ in
            let c = centres[Int.random(in: 0..<clusters, using: &rng)]
            return c.map { $0 + 0.3 * rng.gaussian() }
        }
    }
}

/// The exact oracle: brute-force distances in double precision.
public enum BruteForce {
    /// The distance Quiver reports for `metric` (smaller is closer), in double precision.
    public static func distance(_ q: [Float], _ x: [Float], metric: Metric) -> Double {
        switch metric {
        case .dot: return -zip(q, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        case .cosine:
            let dot = zip(q, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let nq = q.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let nx = x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return 1 - dot / (nq * nx)
        case .l2: return zip(q, x).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        case .hamming: preconditionFailure("use hamming(_:_:)")
        }
    }

    /// Differing bits of two packed-bit vectors.
    public static func hamming(_ a: [UInt8], _ b: [UInt8]) -> Int {
        zip(a, b).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
    }

    /// The `k` nearest of `candidates` (index, distance), nearest first; ties by index.
    public static func topK(_ distances: [(Int, Double)], k: Int) -> [(Int, Double)] {
        Array(distances.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(k))
    }

    /// Packs signs as Quiver does (`numpy.packbits` order).
    public static func signBits(_ v: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (v.count + 7) / 8)
        for (i, x) in v.enumerated() where x > 0 { out[i / 8] |= 0x80 >> UInt8(i % 8) }
        return out
    }
}

/// Checks that `results` are a correct top-k given the oracle's distances: same length,
/// distances ascending, each within `tolerance` of the oracle's k-th best, and each
/// result's distance equal to its oracle distance.
public func recall(_ got: [RecordKey], _ expected: [RecordKey]) -> Double {
    guard !expected.isEmpty else { return got.isEmpty ? 1 : 0 }
    return Double(Set(got).intersection(expected).count) / Double(expected.count)
}
