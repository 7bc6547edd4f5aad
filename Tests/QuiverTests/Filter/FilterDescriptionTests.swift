import Foundation
import Quiver
import Testing

@Suite struct FilterDescriptionTests {
    @Test(arguments: [
        #"section == "libs" and size < 1000"#,
        #"priority in ["required", "important"] or not arch == "all""#,
        #"tags contains "gpu""#,
        "size between 3 and 7",
        "score >= 0.5",
        "0 <= size < 10",
        "0.5 < score",
        "* < size <= 7",
        #""a" <= name <= *"#,
        "* < size",
        "true",
        "false",
        "not false",
        "(a == 1 or b == 2) and c == 3",
        "a == 1 and b == 2 or c == 3",
        "(a == 1 and b == 2) and c == 3",
        "a == 1 or (b == 2 or c == 3)",
        "not (a == 1 and b == 2)",
        "not not a == 1",
        "`in` == 1 and `a b` != 2.5 and `` == true",
        #"`x``y` == ["a\"b", "\u0001"]"#,
        "n in [1, 2]",
        #"n in [["a"], []]"#,
        "x == 1e+16 or x == -1e-07 or x == 5e-324",
    ])
    func canonicalTextPrintsAsItself(text: String) throws {
        #expect(try Filter.parse(text).description == text)
    }

    @Test func spellingsPrintCanonically() throws {
        #expect(
            try Filter.parse(#"NOT (A == 1) && b IN ["x"] || !TRUE"#).description
                == #"not A == 1 and b in ["x"] or false"#
        )
        #expect(try Filter.parse("1 <= x <= 2").description == "x between 1 and 2")
        #expect(try Filter.parse("3 < x < *").description == "3 < x")
        #expect(try Filter.parse("x == 1.50").description == "x == 1.5")
    }

    /// Degenerate `and`/`or` nodes, which the parser never builds, print as equivalent text.
    @Test func degenerateNodesPrintTheirMeaning() {
        let a = Filter.comparison(field: "a", op: .equal, value: 1)
        let b = Filter.comparison(field: "b", op: .equal, value: 2)
        #expect(Filter.and([]).description == "true")
        #expect(Filter.or([]).description == "false")
        #expect(Filter.and([a]).description == "a == 1")
        #expect(Filter.not(.or([])).description == "not false")
        // The lone `or` inside keeps its parentheses under the outer `and`.
        #expect(
            Filter.and([b, .and([.or([a, b])])]).description == "b == 2 and (a == 1 or b == 2)"
        )
        #expect(Filter.not(.and([.or([a, b])])).description == "not (a == 1 or b == 2)")
    }

    /// Found by FuzzFilter: a backquote followed by a combining mark is one Character, and
    /// was not doubled when the name was printed.
    @Test func backquoteBeforeCombiningMarkRoundTrips() throws {
        let filter = Filter.comparison(field: "a`\u{5A0}", op: .less, value: 1)
        #expect(filter.description == "`a``\u{5A0}` < 1")
        #expect(try Filter.parse(filter.description) == filter)
    }

    @Test func randomFiltersRoundTrip() throws {
        let seed =
            ProcessInfo.processInfo.environment["QUIVER_FILTER_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("randomFiltersRoundTrip seed: \(seed) (rerun with QUIVER_FILTER_SEED=\(seed))")
        var generator = RandomFilters(seed: seed)
        for iteration in 0..<3_000 {
            let filter = generator.filter(depth: 4)
            let text = filter.description
            let parsed: Filter
            do {
                parsed = try Filter.parse(text)
            } catch {
                Issue.record("seed \(seed) #\(iteration): \(text) does not parse: \(error)")
                return
            }
            #expect(parsed == filter, "seed \(seed) #\(iteration): \(text)")
            if parsed != filter { return }
        }
    }
}

/// Random filters in canonical form (see ``Filter``), from a seeded SplitMix64 generator.
struct RandomFilters {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// SplitMix64 (Steele, Lea and Flood 2014).
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    private mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    private static let fieldNames = [
        "size", "section", "a.b-c_9", "_x", "tags", "in", "AND", "Not", "true", "between",
        "nan", "a b", "`", "x``y", "é", "😀", "", "line\nbreak", "1st", "-x", "a\"b",
        "`\u{301}", "\u{5A0}`\u{5A0}",
    ]

    private static let stringPieces = [
        "", "a", "libs", " ", "\"", "\\", "\n", "\t", "\r", "\u{0}", "\u{1F}", "\u{7F}", "é",
        "e\u{301}", "😀", "`", "[", "]", "and", "*", "\u{2028}", "/", "\u{FEFF}", "\u{301}",
        "\"\u{301}", "\\\u{301}",
    ]

    mutating func fieldName() -> String {
        let names = Self.fieldNames
        return chance(80) ? names[below(names.count)] : "f\(below(1000))"
    }

    mutating func string() -> String {
        (0..<below(4)).map { _ in Self.stringPieces[below(Self.stringPieces.count)] }.joined()
    }

    mutating func int64() -> Int64 {
        switch below(4) {
        case 0: [Int64.min, .max, 0, -1, 1][below(5)]
        case 1: Int64(below(2001)) - 1000
        default: Int64(bitPattern: next())
        }
    }

    mutating func double() -> Double {
        switch below(5) {
        case 0:
            return [
                0.0, -0.0, 0.5, -1.5, 1e16, 1e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                -.leastNormalMagnitude, -1e300,
            ][below(10)]
        case 1: return Double(below(2001) - 1000) / 8
        default:
            // Any finite bit pattern, subnormals included.
            while true {
                let value = Double(bitPattern: next())
                if value.isFinite { return value }
            }
        }
    }

    mutating func scalar(of type: FieldType) -> MetadataValue {
        switch type {
        case .string: .string(string())
        case .int64: .int64(int64())
        case .double: .double(double())
        case .bool: .bool(chance(50))
        case .stringList: .stringList((0..<below(3)).map { _ in string() })
        }
    }

    mutating func value() -> MetadataValue {
        scalar(of: FieldType.allCases[below(FieldType.allCases.count)])
    }

    mutating func filter(depth: Int) -> Filter {
        let pick = below(depth > 0 ? 11 : 5)
        switch pick {
        case 0:
            return .comparison(
                field: fieldName(),
                op: ComparisonOperator.allCases[below(6)],
                value: value()
            )
        case 1:
            let type = FieldType.allCases[below(FieldType.allCases.count)]
            return .oneOf(field: fieldName(), values: (0..<below(4)).map { _ in scalar(of: type) })
        case 2:
            return .contains(field: fieldName(), value: string())
        case 3:
            return .range(
                field: fieldName(),
                lower: chance(75) ? value() : nil,
                lowerInclusive: chance(50),
                upper: chance(75) ? value() : nil,
                upperInclusive: chance(50)
            )
        case 4:
            return chance(50) ? .all : .not(.all)
        case 5, 6:
            return .and((0..<2 + below(3)).map { _ in filter(depth: depth - 1) })
        case 7, 8:
            return .or((0..<2 + below(3)).map { _ in filter(depth: depth - 1) })
        default:
            return .not(filter(depth: depth - 1))
        }
    }
}
