import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// Random filters over random metadata, checked against a naive evaluation of each record.
@Suite("Filters against a naive evaluation")
struct FilterPropertyTests {
    static let sections = ["libs", "devel", "editors", "games", "net", "x\u{0}y", "x"]
    static let fields = [
        FieldDefinition("section", .string), FieldDefinition("size", .int64), FieldDefinition("score", .double),
        FieldDefinition("ok", .bool), FieldDefinition("tags", .stringList),
    ]

    static func randomMetadata(_ rng: inout SeededGenerator) -> [String: MetadataValue] {
        var m: [String: MetadataValue] = [:]
        if Int.random(in: 0..<10, using: &rng) > 0 { m["section"] = .string(sections.randomElement(using: &rng)!) }
        if Int.random(in: 0..<10, using: &rng) > 1 { m["size"] = .int64(Int64.random(in: -5...20, using: &rng)) }
        if Bool.random(using: &rng) { m["score"] = .double(Double(Int.random(in: -8...8, using: &rng)) / 4) }
        if Bool.random(using: &rng) { m["ok"] = .bool(Bool.random(using: &rng)) }
        if Bool.random(using: &rng) { m["tags"] = .stringList((0..<Int.random(in: 0...3, using: &rng)).map { _ in ["a", "b", "c", "d"].randomElement(using: &rng)! }) }
        return m
    }

    static func randomLiteral(_ field: String, _ rng: inout SeededGenerator) -> MetadataValue {
        switch field {
        case "section": .string(sections.randomElement(using: &rng)!)
        case "size": .int64(Int64.random(in: -6...21, using: &rng))
        case "score": .double(Double(Int.random(in: -9...9, using: &rng)) / 4)
        default: .bool(Bool.random(using: &rng))
        }
    }

    static func randomFilter(_ rng: inout SeededGenerator, depth: Int = 0) -> Filter {
        let choice = Int.random(in: 0..<(depth > 2 ? 5 : 9), using: &rng)
        let scalarFields = ["section", "size", "score", "ok"]
        switch choice {
        case 0, 1:
            let field = scalarFields.randomElement(using: &rng)!
            let ops: [ComparisonOperator] = field == "ok" ? [.equal, .notEqual] : ComparisonOperator.allCases
            return .comparison(field: field, op: ops.randomElement(using: &rng)!, value: randomLiteral(field, &rng))
        case 2:
            let field = scalarFields.randomElement(using: &rng)!
            return .oneOf(field: field, values: (0..<Int.random(in: 0...3, using: &rng)).map { _ in randomLiteral(field, &rng) })
        case 3:
            return .contains(field: "tags", value: ["a", "b", "c", "z"].randomElement(using: &rng)!)
        case 4:
            let field = ["section", "size", "score"].randomElement(using: &rng)!
            return .range(
                field: field, lower: Bool.random(using: &rng) ? randomLiteral(field, &rng) : nil, lowerInclusive: Bool.random(using: &rng),
                upper: Bool.random(using: &rng) ? randomLiteral(field, &rng) : nil, upperInclusive: Bool.random(using: &rng))
        case 5, 6:
            let n = Int.random(in: 2...3, using: &rng)
            let operands = (0..<n).map { _ in randomFilter(&rng, depth: depth + 1) }
            return choice == 5 ? .and(operands) : .or(operands)
        case 7: return .not(randomFilter(&rng, depth: depth + 1))
        default: return .all
        }
    }

    static func order(_ a: MetadataValue, _ b: MetadataValue) -> Int? {
        switch (a, b) {
        case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8)) ? -1 : (x == y ? 0 : 1)
        case (.int64(let x), .int64(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.double(let x), .double(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        default: return nil
        }
    }

    static func matches(_ filter: Filter, _ m: [String: MetadataValue]) -> Bool {
        switch filter {
        case .all: return true
        case .and(let fs): return fs.allSatisfy { matches($0, m) }
        case .or(let fs): return fs.contains { matches($0, m) }
        case .not(let f): return !matches(f, m)
        case .comparison(let field, let op, let value):
            if op == .notEqual { return !matches(.comparison(field: field, op: .equal, value: value), m) }
            guard let v = m[field], let o = order(v, value) else { return false }
            switch op {
            case .equal: return o == 0
            case .less: return o < 0
            case .lessOrEqual: return o <= 0
            case .greater: return o > 0
            case .greaterOrEqual: return o >= 0
            case .notEqual: return false
            }
        case .oneOf(let field, let values):
            return values.contains { matches(.comparison(field: field, op: .equal, value: $0), m) }
        case .contains(let field, let value):
            if case .stringList(let list)? = m[field] { return list.contains(value) }
            return false
        case .range(let field, let lower, let lowerInclusive, let upper, let upperInclusive):
            guard let v = m[field] else { return false }
            if let lower, let o = order(v, lower), o < 0 || (o == 0 && !lowerInclusive) { return false }
            if let upper, let o = order(v, upper), o > 0 || (o == 0 && !upperInclusive) { return false }
            return true
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomFiltersMatchNaiveEvaluation(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("f", schema: CollectionSchema(vectors: .float32(dimensions: 2), metric: .l2, fields: Self.fields))
        var metadata: [UInt64: [String: MetadataValue]] = [:]
        try db.write { tx in
            let c = try tx.collection("f")
            for key in 0..<400 as Range<UInt64> {
                let m = Self.randomMetadata(&rng)
                metadata[key] = m
                try c.upsert(key: .int(key), vector: [Float(key), 0], metadata: m)
            }
        }
        // Churn: delete and replace some records so postings see removals.
        try db.write { tx in
            let c = try tx.collection("f")
            for _ in 0..<80 {
                let key = UInt64.random(in: 0..<400, using: &rng)
                if Bool.random(using: &rng) {
                    try c.delete(key: .int(key))
                    metadata[key] = nil
                } else {
                    let m = Self.randomMetadata(&rng)
                    metadata[key] = m
                    try c.upsert(key: .int(key), vector: [Float(key), 0], metadata: m)
                }
            }
        }
        #expect(try db.verify().isEmpty, "seed \(seed)")
        for _ in 0..<150 {
            let filter = Self.randomFilter(&rng)
            let expected = Set(metadata.filter { Self.matches(filter, $0.value) }.keys.map { RecordKey.int($0) })
            let (count, hits) = try db.read { tx in
                let c = try tx.collection("f")
                return (try c.count(where: filter), try c.search([0, 0], k: 1_000, filter: filter))
            }
            #expect(count == expected.count, "seed \(seed) filter \(filter)")
            #expect(Set(hits.map(\.key)) == expected, "seed \(seed) filter \(filter)")
            // The text syntax parses to the same filter and gives the same rows.
            let reparsed = try Filter.parse(filter.description)
            #expect(try db.read { try $0.collection("f").count(where: reparsed) } == expected.count, "seed \(seed) text \(filter)")
        }
    }

    @Test func nonFilterableFieldsAreRefused() throws {
        let store = TemporaryStore()
        let db = try store.open()
        try db.createCollection("f", schema: CollectionSchema(vectors: .float32(dimensions: 2), metric: .l2, fields: [FieldDefinition("note", .string, filterable: false)]))
        let error = #expect(throws: QuiverError.self) { try db.read { try $0.collection("f").count(where: Field("note") == "x") } }
        #expect(error?.code == .invalidFilter)
        #expect(error?.field == "note")
    }
}
