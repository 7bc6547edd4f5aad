import Foundation
import Quiver
import Testing

@Suite struct FilterParseTests {
    @Test(arguments: [
        (
            #"section == "libs" and size < 1000"#,
            Filter.and([
                .comparison(field: "section", op: .equal, value: "libs"),
                .comparison(field: "size", op: .less, value: 1000),
            ])
        ),
        (
            #"priority in ["required","important"] or not (arch == "all")"#,
            .or([
                .oneOf(field: "priority", values: ["required", "important"]),
                .not(.comparison(field: "arch", op: .equal, value: "all")),
            ])
        ),
        (#"tags contains "gpu""#, .contains(field: "tags", value: "gpu")),
        (
            "size between 3 and 7",
            .range(field: "size", lower: 3, lowerInclusive: true, upper: 7, upperInclusive: true)
        ),
        ("score >= 0.5", .comparison(field: "score", op: .greaterOrEqual, value: 0.5)),
        ("true", .all),
        ("false", .not(.all)),
    ])
    func briefExamples(text: String, expected: Filter) throws {
        #expect(try Filter.parse(text) == expected)
    }

    @Test(arguments: ComparisonOperator.allCases)
    func comparisonOperators(op: ComparisonOperator) throws {
        let filter = try Filter.parse("n \(op.rawValue) -4")
        #expect(filter == .comparison(field: "n", op: op, value: -4))
    }

    @Test func precedenceIsNotThenAndThenOr() throws {
        let a = Filter.comparison(field: "a", op: .equal, value: 1)
        let b = Filter.comparison(field: "b", op: .equal, value: 2)
        let c = Filter.comparison(field: "c", op: .equal, value: 3)
        #expect(try Filter.parse("a == 1 or b == 2 and c == 3") == .or([a, .and([b, c])]))
        #expect(try Filter.parse("a == 1 and b == 2 or c == 3") == .or([.and([a, b]), c]))
        #expect(try Filter.parse("not a == 1 and b == 2") == .and([.not(a), b]))
        #expect(try Filter.parse("not (a == 1 and b == 2)") == .not(.and([a, b])))
        #expect(try Filter.parse("!!a == 1") == .not(.not(a)))
    }

    @Test func chainsFlattenButParenthesesKeepTheirNode() throws {
        let a = Filter.comparison(field: "a", op: .equal, value: 1)
        let b = Filter.comparison(field: "b", op: .equal, value: 2)
        let c = Filter.comparison(field: "c", op: .equal, value: 3)
        #expect(try Filter.parse("a == 1 and b == 2 and c == 3") == .and([a, b, c]))
        #expect(try Filter.parse("(a == 1 and b == 2) and c == 3") == .and([.and([a, b]), c]))
        #expect(try Filter.parse("a == 1 or (b == 2 or c == 3)") == .or([a, .or([b, c])]))
        #expect(try Filter.parse("((((a == 1))))") == a)
    }

    @Test func keywordsAreCaseInsensitiveAndHaveSymbols() throws {
        let expected = try Filter.parse(
            #"not a == 1 and b in [1] or c contains "x" or d between 1 and 2 or true"#
        )
        #expect(
            try Filter.parse(
                #"NOT a == 1 AnD b IN [1] Or c CONTAINS "x" oR d Between 1 AND 2 || TRUE"#
            )
                == expected
        )
        #expect(
            try Filter.parse(#"!a == 1 && b in [1] || c contains "x" || d between 1 and 2 || true"#)
                == expected
        )
    }

    @Test func literals() throws {
        func value(_ text: String) throws -> MetadataValue? {
            guard case .comparison(_, _, let value) = try Filter.parse("x == " + text) else {
                return nil
            }
            return value
        }
        #expect(try value("9223372036854775807") == .int64(.max))
        #expect(try value("-9223372036854775808") == .int64(.min))
        #expect(try value("-0") == .int64(0))
        #expect(try value("1.0") == .double(1))
        #expect(try value("1e3") == .double(1000))
        #expect(try value("2.5E-3") == .double(0.0025))
        #expect(try value("1e+16") == .double(1e16))
        #expect(try value("4.9e-324") == .double(.leastNonzeroMagnitude))
        #expect(try value("TRUE") == .bool(true))
        #expect(try value("false") == .bool(false))
        #expect(try value(#"["a", "b"]"#) == .stringList(["a", "b"]))
        #expect(try value("[]") == .stringList([]))
        #expect(try value(#""""#) == .string(""))
    }

    @Test func stringEscapes() throws {
        let text = #"x == "q\" b\\ s\/ \b\f\n\r\t \u00e9 \uD83D\uDE00 raw é 😀""#
        let filter = try Filter.parse(text)
        #expect(
            filter
                == .comparison(
                    field: "x",
                    op: .equal,
                    value: .string("q\" b\\ s/ \u{8}\u{C}\n\r\t é 😀 raw é 😀")
                )
        )
    }

    @Test func identifiers() throws {
        #expect(
            try Filter.parse("a.b-c_9 == 1") == .comparison(field: "a.b-c_9", op: .equal, value: 1)
        )
        #expect(try Filter.parse("`in` == 1") == .comparison(field: "in", op: .equal, value: 1))
        #expect(
            try Filter.parse("`odd ``name`` é` == 1")
                == .comparison(field: "odd `name` é", op: .equal, value: 1)
        )
        #expect(try Filter.parse("`` == 1") == .comparison(field: "", op: .equal, value: 1))
        // Not keywords, so bare identifiers are fine.
        #expect(try Filter.parse("nan == 1") == .comparison(field: "nan", op: .equal, value: 1))
    }

    @Test func listsAfterIn() throws {
        #expect(try Filter.parse("n in [1, 2, 3]") == .oneOf(field: "n", values: [1, 2, 3]))
        #expect(try Filter.parse("n in []") == .oneOf(field: "n", values: []))
        #expect(try Filter.parse("n in [1.5, 2.0]") == .oneOf(field: "n", values: [1.5, 2.0]))
        #expect(try Filter.parse("b in [true,false]") == .oneOf(field: "b", values: [true, false]))
        #expect(
            try Filter.parse(#"t in [["a"], []]"#)
                == .oneOf(field: "t", values: [.stringList(["a"]), .stringList([])])
        )
    }

    @Test func ranges() throws {
        #expect(
            try Filter.parse("0 <= size < 10")
                == .range(
                    field: "size",
                    lower: 0,
                    lowerInclusive: true,
                    upper: 10,
                    upperInclusive: false
                )
        )
        #expect(
            try Filter.parse("0.5 < score")
                == .range(
                    field: "score",
                    lower: 0.5,
                    lowerInclusive: false,
                    upper: nil,
                    upperInclusive: false
                )
        )
        #expect(
            try Filter.parse("* < size <= 7")
                == .range(
                    field: "size",
                    lower: nil,
                    lowerInclusive: false,
                    upper: 7,
                    upperInclusive: true
                )
        )
        #expect(
            try Filter.parse(#""a" <= name <= *"#)
                == .range(
                    field: "name",
                    lower: "a",
                    lowerInclusive: true,
                    upper: nil,
                    upperInclusive: true
                )
        )
        // `true` followed by `<` is a bound, not the filter `true`.
        #expect(
            try Filter.parse("true < flag")
                == .range(
                    field: "flag",
                    lower: true,
                    lowerInclusive: false,
                    upper: nil,
                    upperInclusive: false
                )
        )
        #expect(
            try Filter.parse("size between -1.5 and 2e3")
                == .range(
                    field: "size",
                    lower: -1.5,
                    lowerInclusive: true,
                    upper: 2000.0,
                    upperInclusive: true
                )
        )
    }

    @Test func whitespaceAndLineBreaks() throws {
        #expect(
            try Filter.parse("\n\t a==1\r\n&&b!=2 ")
                == .and([
                    .comparison(field: "a", op: .equal, value: 1),
                    .comparison(field: "b", op: .notEqual, value: 2),
                ])
        )
    }

    @Test func nestingUpToTheLimitParses() throws {
        let depth = Filter.maximumDepth
        let parenthesized =
            String(repeating: "(", count: depth) + "a == 1"
            + String(repeating: ")", count: depth)
        #expect(try Filter.parse(parenthesized) == .comparison(field: "a", op: .equal, value: 1))
        var expected = Filter.all
        for _ in 0..<depth { expected = .not(expected) }
        #expect(try Filter.parse(String(repeating: "not ", count: depth) + "true") == expected)
    }

    /// Parsing recurses once per parenthesis; at the depth limit it must still fit the
    /// smallest stack a thread commonly gets (512 KiB, macOS's secondary threads), even in a
    /// debug build.
    @Test func nestingAtTheLimitFitsInASmallStack() async {
        let depth = Filter.maximumDepth
        let text =
            String(repeating: "(a == 1 or ", count: depth) + "true"
            + String(repeating: ")", count: depth)
        let parsed = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: (try? Filter.parse(text))?.fields)
            }
            thread.stackSize = 512 * 1024
            thread.start()
        }
        #expect(parsed == ["a"])
    }

    @Test func fieldsListsEveryFieldOnce() throws {
        let filter = try Filter.parse(
            #"a == 1 and (b in [1] or not c contains "x") or 1 < d or e between 1 and 2 or a > 2"#
        )
        #expect(filter.fields == ["a", "b", "c", "d", "e"])
        #expect(Filter.all.fields.isEmpty)
    }
}
