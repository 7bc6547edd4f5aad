import Quiver
import Testing

@Suite struct FilterValidationTests {
    static let schema: [String: FieldType] = [
        "section": .string, "size": .int64, "score": .double, "stable": .bool,
        "tags": .stringList,
    ]

    private func validate(_ text: String) throws -> Filter {
        try Filter.parse(text).validated(against: Self.schema)
    }

    /// Parses `text`, validates it, and returns the error it must throw.
    private func validationError(_ text: String) throws -> FilterValidationError? {
        let filter = try Filter.parse(text)
        do {
            _ = try filter.validated(against: Self.schema)
            Issue.record("\(text) validated")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        #"section == "libs" and section < "m" and section in ["a", "b"]"#,
        #""a" <= section < "n""#,
        "size != 3 and size between 1 and 9 and size in [1, 2] and 0 <= size < 10",
        "score >= 0.5 and score in [0.5] and score between -1.5 and 1.5",
        "stable == true or stable != false or stable in [true]",
        #"tags contains "gpu""#,
        "true and not false",
    ])
    func wellTypedFiltersAreUnchanged(text: String) throws {
        let filter = try Filter.parse(text)
        #expect(try filter.validated(against: Self.schema) == filter)
    }

    @Test(arguments: [
        // An int64 literal on a double field becomes a double.
        ("score == 1", "score == 1.0"),
        ("score < -3", "score < -3.0"),
        ("score in [1, 2]", "score in [1.0, 2.0]"),
        ("score between 0 and 1", "score between 0.0 and 1.0"),
        // Whole doubles on an int64 field become int64s.
        ("size == 2.0", "size == 2"),
        ("size != -0.0", "size != 0"),
        ("size in [1.0, 2e3]", "size in [1, 2000]"),
        // Fractional bounds move inward, strict ones becoming inclusive.
        ("size < 2.5", "size <= 2"),
        ("size <= 2.5", "size <= 2"),
        ("size > 2.5", "size >= 3"),
        ("size >= 2.5", "size >= 3"),
        ("size < -2.5", "size <= -3"),
        ("size > -2.5", "size >= -2"),
        ("size < 2.0", "size < 2"),
        ("size >= 2.0", "size >= 2"),
        ("size between 0.5 and 7.5", "size between 1 and 7"),
        ("0.5 < size < 7.0", "1 <= size < 7"),
        ("* < size <= 7.9", "* < size <= 7"),
        // Bounds beyond the int64 range admit all or nothing.
        ("size < 1e300", "size <= 9223372036854775807"),
        ("size > 1e300", "size > 9223372036854775807"),
        ("size > -1e300", "size >= -9223372036854775808"),
        ("size <= -1e300", "size < -9223372036854775808"),
        ("size < 9223372036854775808.0", "size <= 9223372036854775807"),
        ("size >= -9223372036854775808.0", "size >= -9223372036854775808"),
        // Integers a double cannot hold move to the neighbouring doubles.
        ("score < 9007199254740993", "score <= 9007199254740992.0"),
        ("score > 9007199254740993", "score >= 9007199254740994.0"),
        ("score <= 9223372036854775807", "score <= 9223372036854774784.0"),
        (
            "score between 9007199254740993 and 9007199254740995",
            "score between 9007199254740994.0 and 9007199254740994.0"
        ),
    ])
    func literalsConvertExactly(text: String, expected: String) throws {
        #expect(try validate(text) == (try Filter.parse(expected)))
    }

    /// A converted order comparison admits exactly the values the written one does: checked on
    /// the values next to each bound, where an off-by-one would show.
    @Test(arguments: ComparisonOperator.allCases.filter(\.isOrdering))
    func orderConversionsKeepTheMatchingValues(op: ComparisonOperator) throws {
        func holds<T: Comparable>(_ lhs: T, _ op: ComparisonOperator, _ rhs: T) -> Bool {
            switch op {
            case .less: lhs < rhs
            case .lessOrEqual: lhs <= rhs
            case .greater: lhs > rhs
            case .greaterOrEqual: lhs >= rhs
            case .equal: lhs == rhs
            case .notEqual: lhs != rhs
            }
        }
        // Doubles against the int64 field `size`; every candidate int64 is exact as a double,
        // so comparing as doubles is the exact answer.
        let doubles: [Double] = [
            0, -0.0, 0.5, -0.5, 2.5, -2.5, 3, -3, 1e-300, -1e-300, 0x1p52 + 0.5, -0x1p52 - 0.5,
            0x1p53, 0x1p53 + 2, -0x1p53 - 2,
        ]
        for literal in doubles {
            let converted = try Filter.comparison(field: "size", op: op, value: .double(literal))
                .validated(against: Self.schema)
            guard case .comparison(_, let newOp, .int64(let bound)) = converted else {
                Issue.record("\(literal): \(converted)")
                continue
            }
            let middle = Int64(literal)
            for candidate in middle - 2...middle + 2 where Double(exactly: candidate) != nil {
                #expect(
                    holds(candidate, newOp, bound) == holds(Double(candidate), op, literal),
                    "size \(op.rawValue) \(literal) became \(converted); size = \(candidate)"
                )
            }
        }
        // Int64s against the double field `score`; every candidate double is whole, so
        // comparing as int64s is the exact answer.
        let integers: [Int64] = [
            1 << 53 + 1, 1 << 53 + 3, -(1 << 53) - 1, 1 << 60 + 1, .max, .min + 1, 1 << 62 - 1,
        ]
        for literal in integers {
            let converted = try Filter.comparison(field: "score", op: op, value: .int64(literal))
                .validated(against: Self.schema)
            guard case .comparison(_, let newOp, .double(let bound)) = converted else {
                Issue.record("\(literal): \(converted)")
                continue
            }
            var candidates = [Double(literal)]
            for _ in 0..<2 {
                candidates = [candidates.first!.nextDown] + candidates + [candidates.last!.nextUp]
            }
            for candidate in candidates where candidate >= -0x1p63 && candidate < 0x1p63 {
                #expect(
                    holds(candidate, newOp, bound) == holds(Int64(candidate), op, literal),
                    "score \(op.rawValue) \(literal) became \(converted); score = \(candidate)"
                )
            }
        }
    }

    @Test func treeShapeIsKept() throws {
        let validated = try validate("not (size < 2.5 or score == 1) and (stable == true)")
        #expect(
            validated == (try Filter.parse("not (size <= 2 or score == 1.0) and stable == true"))
        )
    }

    @Test func unknownField() throws {
        let error = try #require(try validationError("size == 1 or sise == 1"))
        #expect(error.code == .unknownField)
        #expect(error.field == "sise")
        #expect(error.expected == nil)
        #expect(error.message.contains("`score`, `section`, `size`, `stable`, `tags`"))
        #expect(error.description.hasPrefix("unknownField: unknown field `sise`"))
    }

    @Test(arguments: [
        (#"size == "3""#, "size", FieldType.int64),
        ("size == true", "size", .int64),
        ("size == 2.5", "size", .int64),
        ("size in [1.0, 2.5]", "size", .int64),
        ("size != 1e19", "size", .int64),
        (#"size between 1 and "9""#, "size", .int64),
        (#""a" < size"#, "size", .int64),
        ("score == 9007199254740993", "score", .double),
        (#"score >= "0.5""#, "score", .double),
        ("section == 1", "section", .string),
        (#"section < ["a"]"#, "section", .string),
        ("stable == 1", "stable", .bool),
        ("stable in [1]", "stable", .bool),
    ])
    func typeMismatch(text: String, field: String, expected: FieldType) throws {
        let filter = try Filter.parse(text)
        #expect {
            try filter.validated(against: Self.schema)
        } throws: { error in
            guard let error = error as? FilterValidationError else { return false }
            return error.code == .typeMismatch && error.field == field
                && error.expected == expected
        }
    }

    @Test func typeMismatchMessages() throws {
        let fraction = try #require(try validationError("size == 2.5"))
        #expect(fraction.message.contains("2.5 is not an int64"))
        let inexact = try #require(try validationError("score != 9007199254740993"))
        #expect(
            inexact.message.contains(
                "between the doubles 9007199254740992.0 and 9.007199254740994e+15"
            )
        )
    }

    @Test(arguments: [
        (#"section contains "x""#, "section"),
        ("size contains \"1\"", "size"),
        ("stable < true", "stable"),
        ("stable between false and true", "stable"),
        ("false <= stable", "stable"),
        (#"tags == ["a"]"#, "tags"),
        (#"tags != "a""#, "tags"),
        (#"tags in ["a"]"#, "tags"),
        (#"tags < "a""#, "tags"),
        (#"tags between "a" and "b""#, "tags"),
    ])
    func unsupportedOperator(text: String, field: String) throws {
        let error = try #require(try validationError(text))
        #expect(error.code == .unsupportedOperator, "\(error)")
        #expect(error.field == field)
        #expect(error.expected == Self.schema[field])
    }

    @Test func unsupportedOperatorMessagesSuggestAFix() throws {
        let contains = try #require(try validationError(#"section contains "x""#))
        #expect(contains.message.contains(#"write `section == "x"`"#))
        let equals = try #require(try validationError(#"tags == ["a"]"#))
        #expect(equals.message.contains(#"write `tags contains "..."`"#))
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteDoublesAreInvalid(value: Double) throws {
        for filter in [
            Field("score") == .double(value), Field("size") < .double(value),
            Field("score").isIn([.double(value)]), Field("size").between(0, .double(value)),
        ] {
            #expect {
                try filter.validated(against: Self.schema)
            } throws: { error in
                (error as? FilterValidationError)?.code == .invalidValue
            }
        }
    }

    @Test func firstErrorDepthFirstIsReported() throws {
        let error = try #require(try validationError(#"(nope == 1 or size == "x") and other == 1"#))
        #expect(error.field == "nope")
    }

    @Test func validatedFiltersRoundTripAndAreFixedPoints() throws {
        let validated = try validate(
            "size < 2.5 and score > 9007199254740993 and (size in [1.0] or not score == 2)"
        )
        #expect(try Filter.parse(validated.description) == validated)
        #expect(try validated.validated(against: Self.schema) == validated)
    }
}
