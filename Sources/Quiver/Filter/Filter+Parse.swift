extension Filter {
    /// How deeply parentheses and `not` may nest in filter text.
    ///
    /// Deeper text is rejected rather than parsed, so that no text can exhaust the stack: at
    /// this depth the parser needs about 100 KiB of stack in a release build and 300 KiB in a
    /// debug build, and a tree parsed from such text is as deep as the text.
    public static let maximumDepth = 128

    /// Parses filter text.
    ///
    /// ```swift
    /// let filter = try Filter.parse(#"priority in ["required", "important"] or size < 1000"#)
    /// ```
    ///
    /// The grammar, in which keywords are case-insensitive and whitespace separates tokens:
    ///
    /// ```
    /// filter    = or
    /// or        = and { ("or" | "||") and }
    /// and       = unary { ("and" | "&&") unary }
    /// unary     = ("not" | "!") unary | primary
    /// primary   = "(" or ")" | "true" | "false" | predicate | chain
    /// predicate = field ( ("==" | "!=" | "<" | "<=" | ">" | ">=") value
    ///                   | "in" "[" [ value { "," value } ] "]"
    ///                   | "contains" string
    ///                   | "between" value "and" value )
    /// chain     = bound ("<" | "<=") field [ ("<" | "<=") bound ]
    /// bound     = value | "*"
    /// value     = string | integer | double | "true" | "false"
    ///           | "[" [ string { "," string } ] "]"
    /// field     = [A-Za-z_][A-Za-z0-9_.-]*  (not a keyword)  |  "`" any text "`"
    /// ```
    ///
    /// - `true` matches every record and `false` none, except before `<` or `<=`, where they
    ///   are a chain's lower bound (`false < flag`). `not` binds tighter than `and`, which
    ///   binds tighter than `or`. A chain of `and`s (or `or`s) becomes one node; parentheses
    ///   keep their own node, so `(a and b) and c` is an `and` inside an `and`.
    /// - Strings are in double quotes with JSON's escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`,
    ///   `\r`, `\t`, `\uXXXX`, surrogate pairs as two `\u` escapes); other characters,
    ///   line feeds included, stand for themselves.
    /// - A number without `.` or exponent is an Int64; with them, a Double, rounded to the
    ///   nearest. NaN and infinity have no syntax. Whitespace is space, tab, CR and LF.
    /// - In a backquoted field name a doubled backquote stands for one; write a field whose
    ///   name is a keyword in backquotes: `` `in` == 1``.
    /// - A list after `in` holds values of one type; a list value (compared with `==`) holds
    ///   strings. `size between 3 and 7` includes both bounds; a chain states each bound's
    ///   inclusiveness and `*` stands for no bound: `0 <= size < 10`, `0.5 < score`.
    ///
    /// Empty text (or only whitespace) is an error: write `true` to match every record.
    ///
    /// - Parameter text: The filter text.
    /// - Returns: The filter's syntax tree.
    /// - Throws: ``FilterSyntaxError`` with the UTF-8 offset, line and column of the first
    ///   error: an unexpected character or token, an unterminated string or field name, a bad
    ///   escape, an integer that overflows Int64, a double out of range, a list that mixes
    ///   types, nesting deeper than ``maximumDepth``, empty text, or text after the filter.
    /// - Complexity: O(n) in the length of `text`.
    public static func parse(_ text: String) throws(FilterSyntaxError) -> Filter {
        var parser = try FilterParser(text)
        return try parser.parseFilter()
    }
}

/// The recursive-descent parser behind ``Filter/parse(_:)``; one token of lookahead, two
/// where `true` or `false` may start a chain.
struct FilterParser {
    private var lexer: FilterLexer
    private var token: FilterToken
    private var depth = 0

    init(_ text: String) throws(FilterSyntaxError) {
        lexer = FilterLexer(text)
        token = try lexer.next()
    }

    mutating func parseFilter() throws(FilterSyntaxError) -> Filter {
        if token.kind == .end {
            throw error(at: token, "empty filter: write `true` to match every record")
        }
        let filter = try parseOr()
        guard token.kind == .end else {
            throw error(at: token, "expected `and`, `or` or the end of the filter, found \(found)")
        }
        return filter
    }

    // MARK: Tokens

    @inline(never)
    private mutating func advance() throws(FilterSyntaxError) {
        token = try lexer.next()
    }

    private func error(at token: FilterToken, _ message: String) -> FilterSyntaxError {
        lexer.error(at: token.offset, message)
    }

    /// The current token as an error message names it.
    private var found: String {
        switch token.kind {
        case .end: return "the end of the filter"
        case .string: return "a string"
        case .integer, .double: return "the number \(lexer.text(token.offset..<token.endOffset))"
        case .identifier(let name): return "the field name \(identifierText(name))"
        case .keyword: return "the keyword `\(lexer.text(token.offset..<token.endOffset))`"
        default: return "`\(lexer.text(token.offset..<token.endOffset))`"
        }
    }

    private mutating func expect(
        _ kind: FilterToken.Kind,
        _ description: String
    ) throws(FilterSyntaxError) {
        guard token.kind == kind else {
            throw error(at: token, "expected \(description), found \(found)")
        }
        try advance()
    }

    /// Counts one level of nesting at `token` (a `(` or `not`).
    private mutating func enterNesting() throws(FilterSyntaxError) {
        depth += 1
        if depth > Filter.maximumDepth { throw tooDeep() }
    }

    @inline(never)
    private func tooDeep() -> FilterSyntaxError {
        error(
            at: token,
            "the filter nests deeper than \(Filter.maximumDepth) levels of `(` and `not`"
        )
    }

    // MARK: Logic

    // Nesting recurses through `parseOr` and `parseOperand` only. They keep their stack frames
    // small (about 400 bytes a level in a release build) by leaving tokens to `advance`, atoms
    // to `parseAtom` and error messages to other functions, none of them inlined: a frame holds
    // the locals of everything inlined into it.

    /// Parses `or` and the `and`s inside it in one loop, so one frame serves both levels of
    /// precedence: operands gather into an `and` until an `or` or the end of the group.
    private mutating func parseOr() throws(FilterSyntaxError) -> Filter {
        var orOperands: [Filter] = []
        var andOperands: [Filter] = []
        while true {
            andOperands.append(try parseOperand())
            if case .keyword(.and) = token.kind {
                try advance()
                continue
            }
            orOperands.append(andOperands.count == 1 ? andOperands[0] : .and(andOperands))
            guard case .keyword(.or) = token.kind else { break }
            andOperands = []
            try advance()
        }
        return orOperands.count == 1 ? orOperands[0] : .or(orOperands)
    }

    /// Parses `{"not"} ("(" or ")" | atom)`; a run of `not`s is a loop, not recursion.
    private mutating func parseOperand() throws(FilterSyntaxError) -> Filter {
        var negations = 0
        while case .keyword(.not) = token.kind {
            try enterNesting()
            negations += 1
            try advance()
        }
        var filter: Filter
        if case .leftParenthesis = token.kind {
            let openOffset = token.offset
            try enterNesting()
            try advance()
            filter = try parseOr()
            guard case .rightParenthesis = token.kind else {
                throw unclosedParenthesis(openedAt: openOffset)
            }
            depth -= 1
            try advance()
        } else {
            filter = try parseAtom()
        }
        depth -= negations
        for _ in 0..<negations { filter = .not(filter) }
        return filter
    }

    /// Parses `"true" | "false" | predicate | chain`.
    @inline(never)
    private mutating func parseAtom() throws(FilterSyntaxError) -> Filter {
        switch token.kind {
        case .keyword(.true), .keyword(.false):
            if startsChain() { return try parseChain() }
            let isTrue = token.kind == .keyword(.true)
            try advance()
            return isTrue ? .all : .not(.all)
        case .identifier(let field):
            try advance()
            return try parsePredicate(field: field)
        case .string, .integer, .double, .leftBracket, .star:
            return try parseChain()
        default:
            throw unexpectedOperand()
        }
    }

    @inline(never)
    private func unclosedParenthesis(openedAt offset: Int) -> FilterSyntaxError {
        let position = lexer.error(at: offset, "")
        return error(
            at: token,
            "expected `)` to close the `(` at line \(position.line), column \(position.column), "
                + "found \(found)"
        )
    }

    @inline(never)
    private func unexpectedOperand() -> FilterSyntaxError {
        var message = "expected a field name, `(`, `not`, `true` or `false`, found \(found)"
        if case .keyword(let keyword) = token.kind {
            message += "; write `` `\(keyword.rawValue)` `` for a field of that name"
        }
        return error(at: token, message)
    }

    /// Whether the `true` or `false` at `token` is a chain's lower bound (`true < flag`).
    private func startsChain() -> Bool {
        var lookahead = lexer
        // An error after the keyword is reported when the parser reaches it.
        guard let next = try? lookahead.next() else { return false }
        return next.kind == .comparison(.less) || next.kind == .comparison(.lessOrEqual)
    }

    // MARK: Predicates

    @inline(never)
    private mutating func parsePredicate(field: String) throws(FilterSyntaxError) -> Filter {
        switch token.kind {
        case .comparison(let op):
            try advance()
            return .comparison(field: field, op: op, value: try parseValue())
        case .keyword(.in):
            try advance()
            return .oneOf(field: field, values: try parseList(elementsMayBeLists: true))
        case .keyword(.contains):
            try advance()
            guard case .string(let value) = token.kind else {
                throw error(at: token, "expected a string after `contains`, found \(found)")
            }
            try advance()
            return .contains(field: field, value: value)
        case .keyword(.between):
            try advance()
            let lower = try parseValue()
            try expect(.keyword(.and), "`and` between the bounds of `between`")
            let upper = try parseValue()
            return .range(
                field: field,
                lower: lower,
                lowerInclusive: true,
                upper: upper,
                upperInclusive: true
            )
        default:
            throw error(
                at: token,
                "expected an operator after the field name \(identifierText(field)) (`==`, `!=`, "
                    + "`<`, `<=`, `>`, `>=`, `in`, `contains` or `between`), found \(found)"
            )
        }
    }

    /// Parses `bound ("<" | "<=") field [("<" | "<=") bound]`.
    @inline(never)
    private mutating func parseChain() throws(FilterSyntaxError) -> Filter {
        let lower = try parseBound()
        let lowerInclusive = try parseChainOperator()
        guard case .identifier(let field) = token.kind else {
            throw error(at: token, "expected a field name in the range, found \(found)")
        }
        try advance()
        guard token.kind == .comparison(.less) || token.kind == .comparison(.lessOrEqual) else {
            return .range(
                field: field,
                lower: lower,
                lowerInclusive: lowerInclusive,
                upper: nil,
                upperInclusive: false
            )
        }
        let upperInclusive = try parseChainOperator()
        let upper = try parseBound()
        return .range(
            field: field,
            lower: lower,
            lowerInclusive: lowerInclusive,
            upper: upper,
            upperInclusive: upperInclusive
        )
    }

    /// Parses `<` (returning false) or `<=` (returning true).
    private mutating func parseChainOperator() throws(FilterSyntaxError) -> Bool {
        switch token.kind {
        case .comparison(.less):
            try advance()
            return false
        case .comparison(.lessOrEqual):
            try advance()
            return true
        default:
            throw error(
                at: token,
                "expected `<` or `<=` after a range's lower bound (a range reads upward, as in "
                    + "`0 <= size < 10`), found \(found)"
            )
        }
    }

    private mutating func parseBound() throws(FilterSyntaxError) -> MetadataValue? {
        if token.kind == .star {
            try advance()
            return nil
        }
        return try parseValue()
    }

    // MARK: Values

    /// Parses a literal; a list here is a string list.
    private mutating func parseValue() throws(FilterSyntaxError) -> MetadataValue {
        let value: MetadataValue
        switch token.kind {
        case .string(let string): value = .string(string)
        case .integer(let integer): value = .int64(integer)
        case .double(let double): value = .double(double)
        case .keyword(.true): value = .bool(true)
        case .keyword(.false): value = .bool(false)
        case .leftBracket:
            var strings: [String] = []
            for (element, offset) in try parseElements(elementsMayBeLists: false) {
                guard case .string(let string) = element else {
                    throw lexer.error(
                        at: offset,
                        "a list value holds only strings; to match one of several values, "
                            + "write `field in [...]`"
                    )
                }
                strings.append(string)
            }
            return .stringList(strings)
        case .star:
            throw error(
                at: token,
                "`*` (no bound) is allowed only in a range such as `* < size <= 10`"
            )
        case .identifier(let name) where ["nan", "inf", "infinity"].contains(name.lowercased()):
            throw error(at: token, "NaN and infinity are not allowed in filters")
        default:
            throw error(
                at: token,
                "expected a value (a string, number, `true`, `false` or list), found \(found)"
            )
        }
        try advance()
        return value
    }

    /// Parses `"[" [value {"," value}] "]"` whose values all have one type.
    private mutating func parseList(
        elementsMayBeLists: Bool
    ) throws(FilterSyntaxError) -> [MetadataValue] {
        let elements = try parseElements(elementsMayBeLists: elementsMayBeLists)
        guard let first = elements.first?.value else { return [] }
        for (element, offset) in elements.dropFirst() where element.type != first.type {
            var message =
                "the list mixes \(first.type.rawValue) and \(element.type.rawValue) values"
            if (first.type == .int64 && element.type == .double)
                || (first.type == .double && element.type == .int64)
            {
                message += "; write every number with a decimal point, as in 1.0"
            }
            throw lexer.error(at: offset, message)
        }
        return elements.map(\.value)
    }

    /// Parses the elements of a bracketed list, each with its offset; an element is a list
    /// itself only if `elementsMayBeLists`, so lists nest one level at most.
    private mutating func parseElements(
        elementsMayBeLists: Bool
    ) throws(FilterSyntaxError) -> [(value: MetadataValue, offset: Int)] {
        try expect(.leftBracket, "`[` to start a list")
        var elements: [(value: MetadataValue, offset: Int)] = []
        if token.kind == .rightBracket {
            try advance()
            return elements
        }
        while true {
            if token.kind == .leftBracket && !elementsMayBeLists {
                throw error(at: token, "a list cannot hold a list here")
            }
            let offset = token.offset
            elements.append((try parseValue(), offset))
            switch token.kind {
            case .comma: try advance()
            case .rightBracket:
                try advance()
                return elements
            default:
                throw error(at: token, "expected `,` or `]` in the list, found \(found)")
            }
        }
    }
}
