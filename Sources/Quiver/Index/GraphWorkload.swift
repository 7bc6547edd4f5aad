import Foundation

/// Replays a byte string as a workload of upserts, deletes, index and encoding builds, the
/// switch to floats kept only as int8, and searches on a fresh store, checking after every
/// transaction that the graph, the code blocks and the IVF lists keep their invariants
/// (``Database/verify()``) and that index searches and fully rescored code scans agree with the
/// exact scan.
///
/// The fuzz target `FuzzHNSW` feeds it arbitrary bytes; the unit tests feed it seeded random
/// bytes. Keys are one byte (at most 256 records), so a search with efSearch 256 must visit
/// every reachable node and return exactly what the exact scan returns.
@_spi(Fuzzing)
public enum GraphWorkload {
    /// A broken expectation, with the operation that exposed it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `bytes` against a new store at `path` (which must not exist).
    /// - Throws: ``Failure`` when an invariant or an expectation breaks; ``QuiverError`` only
    ///   for errors the workload does not expect.
    public static func run(_ bytes: [UInt8], storePath path: String) throws {
        var input = bytes.makeIterator()
        func next() -> UInt8? { input.next() }
        guard let setup = next() else { return }
        let metrics: [Metric] = [.cosine, .dot, .l2]
        let metric = metrics[Int(setup % 3)]
        let dimensions = 2 + Int(setup >> 2) % 7
        let m = 2 + Int((next() ?? 0) % 5)
        let db = try Database(path: path, configuration: .init(syncMode: .noSync, initialMapSize: 8 << 20))
        try db.createCollection("g", schema: CollectionSchema(vectors: .float32(dimensions: dimensions), metric: metric,
                                                               fields: [FieldDefinition("tag", .int64)]))
        var indexed = false
        var encodings: [VectorEncoding] = []
        func vector() -> [Float] {
            (0..<dimensions).map { _ in Float(Int8(bitPattern: next() ?? 1)) / 16 + 0.01 }
        }
        var steps = 0
        while let op = next(), steps < 400 {
            steps += 1
            switch op % 8 {
            case 0, 1, 2:
                // A write transaction of up to 8 upserts and deletes.
                let count = 1 + Int(op >> 3) % 8
                try db.write { tx in
                    let c = try tx.collection("g")
                    for _ in 0..<count {
                        guard let key = next(), let kind = next() else { break }
                        if kind % 3 == 0 {
                            try c.delete(key: .int(UInt64(key)))
                        } else {
                            var v = vector()
                            if metric == .cosine && v.allSatisfy({ $0 == 0 }) { v[0] = 1 }
                            try c.upsert(key: .int(UInt64(key)), vector: v, metadata: ["tag": .int64(Int64(kind % 4))])
                        }
                    }
                }
            case 3:
                try db.buildIndex(collection: "g", HNSWParameters(m: m, efConstruction: max(m, 8 + Int(op >> 3) % 32)),
                                  threads: 1 + Int(op >> 7))
                indexed = true
            case 4:
                if indexed && op & 0x80 != 0 {
                    try db.dropIndex(collection: "g")
                    indexed = false
                } else if op & 0x80 != 0 {
                    // From here on the int8 codes are the vectors: every check below compares
                    // searches on them with the exact scan of them.
                    do {
                        try db.write { tx in _ = try tx.collection("g").keepFloatsOnlyAsInt8(threads: 1) }
                        if !encodings.contains(.int8) { encodings.append(.int8) }
                    } catch let error as QuiverError where error.code == .invalidArgument {
                        // No rows to train on.
                    }
                } else {
                    // int8 codes, or two IVF lists of 1-byte PQ codes (m = 1 divides every dimension).
                    let encoding: VectorEncoding = op & 0x08 == 0 ? .int8 : .ivfpq(nlist: 2, m: 1)
                    do {
                        try db.buildEncoding(collection: "g", EncodingParameters(encoding, iterations: 4))
                        if !encodings.contains(encoding) { encodings.append(encoding) }
                    } catch let error as QuiverError where error.code == .invalidArgument {
                        // Too few rows to train on: nothing was built.
                    }
                }
            case 5 where !encodings.isEmpty:
                // Every row rescored (k × oversample ≥ 256 records): codes only choose the order of
                // candidates, so the answer is the exact one.
                let query = vector()
                let k = 1 + Int(op >> 3) % 10
                try db.read { tx in
                    let c = try tx.collection("g")
                    let exact = try c.search(query, k: k, options: SearchOptions(candidates: .floats, strategy: .exact))
                    for encoding in encodings {
                        var options = SearchOptions(candidates: .encoding(encoding), oversample: 256, strategy: .exact)
                        if case .ivfpq(let nlist, _) = encoding { options.nprobe = nlist }
                        let coded = try c.search(query, k: k, options: options)
                        guard coded.map(\.distance) == exact.map(\.distance) || zip(coded, exact).allSatisfy({ abs($0.distance - $1.distance) <= 1e-4 * max(1, abs($1.distance)) }),
                              coded.count == exact.count
                        else { throw Failure(description: "\(encoding): \(coded.map(\.distance)) vs exact \(exact.map(\.distance)) (step \(steps))") }
                    }
                }
            default:
                guard indexed else { continue }
                let query = vector()
                let k = 1 + Int(op >> 3) % 10
                let filter: Filter? = op & 0x80 != 0 ? Field("tag") == .int64(Int64(op % 4)) : nil
                try db.read { tx in
                    let c = try tx.collection("g")
                    // Unfiltered, the graph alone must find everything (ef 256 ≥ records); filtered,
                    // the planner's answer must be exact, and the graph alone may return fewer
                    // (a tight filter can strand the two-hop walk) but nothing wrong.
                    let strategy: SearchStrategy = filter == nil ? .index : .automatic
                    let index = try c.search(query, k: k, filter: filter, options: SearchOptions(candidates: .floats, efSearch: 256, strategy: strategy))
                    let exact = try c.search(query, k: k, filter: filter, options: SearchOptions(candidates: .floats, strategy: .exact))
                    guard index.count == exact.count else {
                        throw Failure(description: "index returned \(index.count) results, exact \(exact.count) (step \(steps))")
                    }
                    for (a, b) in zip(index, exact) where abs(a.distance - b.distance) > 1e-3 * max(1, abs(b.distance)) {
                        throw Failure(description: "index distance \(a.distance) for \(a.key), exact \(b.distance) for \(b.key) (step \(steps))")
                    }
                    if let filter {
                        let graphOnly = try c.search(query, k: k, filter: filter, options: SearchOptions(candidates: .floats, efSearch: 256, strategy: .index))
                        let passing = Set(try c.search(query, k: 256, filter: filter, options: SearchOptions(candidates: .floats, strategy: .exact)).map(\.key))
                        guard graphOnly.allSatisfy({ passing.contains($0.key) }), graphOnly.count <= exact.count,
                              zip(graphOnly, graphOnly.dropFirst()).allSatisfy({ $0.distance <= $1.distance })
                        else { throw Failure(description: "a filtered graph search returned rows that fail the filter (step \(steps))") }
                    }
                }
            }
            let violations = try db.verify()
            if !violations.isEmpty {
                throw Failure(description: "after step \(steps) (op \(op)): \(violations.prefix(3).map(\.description))")
            }
        }
    }
}
