import Foundation

/// Replays a byte string as a workload on a multi-vector collection: documents upserted
/// (pooled or not), replaced and deleted in small transactions, token index and encoding builds,
/// and searches. After every transaction the store must verify (documents against the token
/// space, the token graph, codes), the exact scan must equal a plain MaxSim over the stored
/// tokens of every live document, and an index search whose candidate lists cover every stored
/// token must equal the exact scan.
///
/// The fuzz target `FuzzMultiVector` feeds it arbitrary bytes; the unit tests seeded random bytes.
@_spi(Fuzzing)
public enum MultiVectorWorkload {
    /// A broken expectation, with the step that exposed it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `bytes` against a new store at `path` (which must not exist).
    public static func run(_ bytes: [UInt8], storePath path: String) throws {
        var input = bytes.makeIterator()
        func next() -> UInt8? { input.next() }
        guard let setup = next() else { return }
        let metric: Metric = setup & 1 == 0 ? .cosine : .dot
        let dimensions = 2 + Int(setup >> 1) % 6
        let poolFactor = 1 + Int(setup >> 4) % 4
        let protectedTokens = Int(next() ?? 0) % 3
        let db = try Database(path: path, configuration: .init(syncMode: .noSync, initialMapSize: 8 << 20))
        try db.createCollection("m", schema: CollectionSchema(
            vectors: .multiVector(dimensions: dimensions, poolFactor: poolFactor, protectedTokens: protectedTokens), metric: metric,
            fields: [FieldDefinition("tag", .int64)]))
        func token() -> [Float] {
            var v = (0..<dimensions).map { _ in Float(Int8(bitPattern: next() ?? 1)) / 16 }
            if v.allSatisfy({ $0 == 0 }) { v[0] = 1 }
            return v
        }
        func tokens(_ count: Int) -> [[Float]] { (0..<count).map { _ in token() } }
        var indexed = false
        var steps = 0
        while let op = next(), steps < 300 {
            steps += 1
            switch op % 6 {
            case 0, 1, 2:
                // A write transaction of up to 6 document upserts and deletes.
                let count = 1 + Int(op >> 3) % 6
                try db.write { tx in
                    let c = try tx.collection("m")
                    for _ in 0..<count {
                        guard let key = next(), let kind = next() else { break }
                        if kind % 4 == 0 {
                            try c.delete(key: .int(UInt64(key % 64)))
                        } else {
                            try c.upsert(key: .int(UInt64(key % 64)), tokens: tokens(1 + Int(kind >> 2) % 12),
                                         metadata: ["tag": .int64(Int64(kind % 3))])
                        }
                    }
                }
            case 3:
                if indexed && op & 0x80 != 0 {
                    try db.dropIndex(collection: "m")
                    indexed = false
                } else {
                    try db.buildIndex(collection: "m", HNSWParameters(m: 2 + Int(op >> 3) % 6, efConstruction: 16), threads: 1 + Int(op >> 7))
                    indexed = true
                }
            case 4:
                do {
                    try db.buildEncoding(collection: "m", EncodingParameters(op & 0x08 == 0 ? .int8 : .binary))
                } catch let error as QuiverError where error.code == .invalidArgument {
                    // Too few tokens to train on.
                }
            default:
                let query = tokens(1 + Int(op >> 3) % 5)
                let k = 1 + Int(op >> 5) % 8
                let filter: Filter? = op & 0x10 != 0 ? Field("tag") == .int64(Int64(op % 3)) : nil
                try db.read { tx in
                    let c = try tx.collection("m")
                    let exact = try c.search(tokens: query, k: k, filter: filter, options: SearchOptions(strategy: .exact))
                    try checkAgainstReference(c, query: query, filter: filter, got: exact, metric: metric, step: steps)
                    guard indexed else { return }
                    // The walks need not reach every token (HNSW links are directed), but every
                    // document returned is rescored exactly, in order, once, and passes the filter.
                    var options = SearchOptions(candidates: .floats, oversample: 1_000, efSearch: 10_000, strategy: filter == nil ? .index : .automatic)
                    options.tokenCandidates = 10_000
                    let index = try c.search(tokens: query, k: k, filter: filter, options: options)
                    let exactAll = Dictionary(try c.search(tokens: query, k: 64, filter: filter, options: SearchOptions(strategy: .exact)).map { ($0.key, $0.distance) },
                                              uniquingKeysWith: { a, _ in a })
                    guard index.count <= exact.count, Set(index.map(\.key)).count == index.count,
                          zip(index, index.dropFirst()).allSatisfy({ $0.distance <= $1.distance }),
                          index.allSatisfy({ hit in exactAll[hit.key].map { abs($0 - hit.distance) <= 1e-3 * max(1, abs($0)) } ?? false })
                    else {
                        throw Failure(description: "index \(index.map(\.distance)) vs exact \(exact.map(\.distance)) (step \(steps))")
                    }
                }
            }
            let violations = try db.verify()
            if !violations.isEmpty {
                throw Failure(description: "after step \(steps) (op \(op)): \(violations.prefix(3).map(\.description))")
            }
        }
    }

    /// The exact scan's scores equal a plain MaxSim over every live passing document's stored tokens.
    static func checkAgainstReference(_ c: CollectionReader, query: [[Float]], filter: Filter?, got: [SearchResult], metric: Metric, step: Int) throws {
        let q = metric == .cosine ? query.map { t in
            let n = t.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return t.map { $0 / n }
        } : query
        let passing = try c.search(tokens: query, k: 64, filter: filter, options: SearchOptions(includeMetadata: false, strategy: .exact))
        var scores: [Float] = []
        for hit in passing {
            guard let stored = try c.get(hit.key)?.tokens, !stored.isEmpty else {
                throw Failure(description: "document \(hit.key) has no tokens (step \(step))")
            }
            let score = q.reduce(Float(0)) { sum, a in sum + stored.map { b in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }.max()! }
            guard abs(score + hit.distance) <= 1e-3 * max(1, abs(score)) else {
                throw Failure(description: "document \(hit.key): distance \(hit.distance), plain MaxSim \(score) (step \(step))")
            }
            scores.append(score)
        }
        let expected = c.count == 0 ? 0 : min(got.count, passing.count)
        guard got.count == expected, zip(got, passing).allSatisfy({ $0.distance == $1.distance }) else {
            throw Failure(description: "top \(got.count) is not the head of the full ranking (step \(step))")
        }
        guard zip(scores, scores.dropFirst()).allSatisfy({ $0 >= $1 - 1e-5 }) else {
            throw Failure(description: "results out of order (step \(step))")
        }
    }
}
