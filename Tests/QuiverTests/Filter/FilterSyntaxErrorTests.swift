import Quiver
import Testing

@Suite struct FilterSyntaxErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var text: String
        var offset: Int
        var message: String  // a fragment of the message
        var testDescription: String { text.debugDescription }
    }

    @Test(arguments: [
        // Empty text.
        Case(text: "", offset: 0, message: "empty filter"),
        Case(text: "  \n ", offset: 4, message: "empty filter"),
        // Unexpected tokens and characters.
        Case(text: "a == ", offset: 5, message: "expected a value"),
        Case(text: "a", offset: 1, message: "expected an operator"),
        Case(text: "a 1", offset: 2, message: "expected an operator"),
        Case(text: "a = 1", offset: 2, message: "write `==`"),
        Case(text: "a == 1 & b == 2", offset: 7, message: "`&&` or `and`"),
        Case(text: "a == 1 | b == 2", offset: 7, message: "`||` or `or`"),
        Case(text: "a == @", offset: 5, message: "unexpected character `@`"),
        Case(text: "a == 1 and", offset: 10, message: "expected a field name"),
        Case(text: "in == 1", offset: 0, message: "write `` `in` ``"),
        Case(text: "(a == 1", offset: 7, message: "expected `)` to close the `(` at line 1"),
        Case(text: "a contains 1", offset: 11, message: "expected a string after `contains`"),
        Case(text: "a between 1 or 2", offset: 12, message: "expected `and` between"),
        Case(text: "a in 1", offset: 5, message: "expected `[`"),
        Case(text: "a in [1 2]", offset: 8, message: "expected `,` or `]`"),
        Case(text: "a in [1,]", offset: 8, message: "expected a value"),
        Case(text: "3 > a", offset: 2, message: "expected `<` or `<=`"),
        Case(text: "3 < 4", offset: 4, message: "expected a field name in the range"),
        Case(text: "a == *", offset: 5, message: "`*` (no bound)"),
        Case(text: "a == nan", offset: 5, message: "NaN and infinity"),
        Case(text: "a == -Infinity", offset: 5, message: "unexpected `-`"),
        Case(text: "a == é", offset: 5, message: "unexpected character `é`"),
        Case(text: "a ==\u{A0}1", offset: 4, message: "U+00A0"),
        // Trailing input.
        Case(text: "a == 1)", offset: 6, message: "expected `and`, `or` or the end"),
        Case(text: "a == 1 b == 2", offset: 7, message: "expected `and`, `or` or the end"),
        Case(text: "3 < a == 4", offset: 6, message: "expected `and`, `or` or the end"),
        // Strings and escapes.
        Case(text: #"a == "libs"#, offset: 5, message: "unterminated string"),
        Case(text: #"a == "libs\"#, offset: 5, message: "unterminated string"),
        Case(text: #"a == "x\q""#, offset: 7, message: "bad escape"),
        Case(text: #"a == "x\u12g4""#, offset: 7, message: "four hex digits"),
        Case(text: #"a == "é\uD800""#, offset: 8, message: "lone UTF-16 high surrogate"),
        Case(text: #"a == "\uD800\u0041""#, offset: 6, message: "lone UTF-16 high surrogate"),
        Case(text: #"a == "\uDC00""#, offset: 6, message: "lone UTF-16 low surrogate"),
        Case(text: "`a == 1", offset: 0, message: "unterminated field name"),
        // Numbers.
        Case(text: "a == 9223372036854775808", offset: 5, message: "overflows Int64"),
        Case(text: "a == -9223372036854775809", offset: 5, message: "overflows Int64"),
        Case(text: "a == 1e309", offset: 5, message: "out of the range of Double"),
        Case(text: "a == 1.", offset: 5, message: "decimal point"),
        Case(text: "a == 1e", offset: 5, message: "exponent"),
        Case(text: "a == 12abc", offset: 5, message: "malformed number: `12a`"),
        // Lists.
        Case(text: #"a in [1, "x"]"#, offset: 9, message: "mixes int64 and string"),
        Case(text: "a in [1, 2, 2.5]", offset: 12, message: "decimal point, as in 1.0"),
        Case(text: #"a in [["x"], "y"]"#, offset: 13, message: "mixes stringList and string"),
        Case(text: "a == [1]", offset: 6, message: "a list value holds only strings"),
        Case(text: #"a == [["x"]]"#, offset: 6, message: "a list cannot hold a list"),
        Case(text: #"a in [[["x"]]]"#, offset: 7, message: "a list cannot hold a list"),
    ])
    func errorPosition(_ example: Case) {
        #expect {
            try Filter.parse(example.text)
        } throws: { error in
            guard let error = error as? FilterSyntaxError else { return false }
            #expect(error.offset == example.offset, "\(error)")
            #expect(error.message.contains(example.message), "\(error)")
            return true
        }
    }

    @Test func depthLimit() {
        let limit = Filter.maximumDepth
        let parentheses =
            String(repeating: "(", count: limit + 1) + "a == 1"
            + String(repeating: ")", count: limit + 1)
        #expect(throws: FilterSyntaxError.self) { try Filter.parse(parentheses) }
        do {
            _ = try Filter.parse(parentheses)
        } catch {
            #expect(error.offset == limit)
            #expect(error.message.contains("deeper than \(limit)"))
        }
        // `not`s and parentheses count together; the error is at the first one too many.
        let mixed =
            String(repeating: "not (", count: limit / 2) + "not true"
            + String(repeating: ")", count: limit / 2)
        do {
            _ = try Filter.parse(mixed)
            Issue.record("expected a depth error")
        } catch {
            #expect(error.offset == (limit / 2) * 5)
        }
    }

    @Test func deepInputNeverOverflowsTheStack() {
        for opener in ["(", "not ", "!", "[", "a in ["] {
            let text = String(repeating: opener, count: 100_000)
            #expect(throws: FilterSyntaxError.self) { try Filter.parse(text) }
        }
    }

    @Test func lineAndColumn() throws {
        do {
            _ = try Filter.parse("a == 1 and\n\tb == \"é\u{301}😀\" and\r\n c ==")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 38)
            #expect(error.line == 3)
            #expect(error.column == 6)
            #expect(error.sourceLine == " c ==")
        }
        do {
            _ = try Filter.parse("a == 1 and\n\tb == \"é\u{301}😀\" @")
            Issue.record("expected an error")
        } catch {
            // Columns count characters: "é" with a combining accent is one, as is 😀.
            #expect(error.offset == 28)
            #expect(error.line == 2)
            #expect(error.column == 12)
        }
    }

    @Test func descriptionShowsACaret() throws {
        do {
            _ = try Filter.parse(#"section == "libs"#)
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description == """
                    line 1, column 12: unterminated string: it needs a closing `"`
                        section == "libs
                                   ^
                    """
            )
        }
        do {
            _ = try Filter.parse("a == 1 and\n\tb ? 2")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasSuffix("\n    \tb ? 2\n    \t  ^"))
        }
    }
}
