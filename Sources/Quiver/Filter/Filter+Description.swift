extension Filter: CustomStringConvertible {
    /// The filter in the text syntax that ``parse(_:)`` reads.
    ///
    /// Parentheses appear only where precedence needs them (`not` binds tighter than `and`,
    /// which binds tighter than `or`), so the text nests no deeper than the text the filter
    /// was parsed from. Field names that are not plain identifiers, or that spell a keyword,
    /// are written in backquotes. For a filter in canonical form (see ``Filter``),
    /// `Filter.parse(description) == self`.
    public var description: String {
        var text = ""
        write(to: &text)
        return text
    }

    private func write(to text: inout String) {
        switch unwrapped {
        case .comparison(let field, let op, let value):
            text += identifierText(field) + " " + op.rawValue + " " + value.description
        case .oneOf(let field, let values):
            text += identifierText(field) + " in ["
            text += values.map(\.description).joined(separator: ", ") + "]"
        case .contains(let field, let value):
            text += identifierText(field) + " contains " + quoted(value)
        case .range(let field, let lower, let lowerInclusive, let upper, let upperInclusive):
            if let lower, let upper, lowerInclusive, upperInclusive {
                text += identifierText(field) + " between " + lower.description
                text += " and " + upper.description
            } else {
                text += (lower?.description ?? "*") + (lowerInclusive ? " <= " : " < ")
                text += identifierText(field)
                // `3 < size` and `3 < size < *` parse alike; print the shorter.
                if upper != nil || upperInclusive {
                    text += (upperInclusive ? " <= " : " < ") + (upper?.description ?? "*")
                }
            }
        case .and(let operands):
            // An `or` inside an `and` needs parentheses for precedence, an `and` to stay a node.
            for (index, operand) in operands.enumerated() {
                if index > 0 { text += " and " }
                switch operand.unwrapped {
                case .and, .or: operand.writeParenthesized(to: &text)
                default: operand.write(to: &text)
                }
            }
        case .or(let operands):
            for (index, operand) in operands.enumerated() {
                if index > 0 { text += " or " }
                if case .or = operand.unwrapped {
                    operand.writeParenthesized(to: &text)
                } else {
                    operand.write(to: &text)
                }
            }
        case .not(let operand):
            switch operand.unwrapped {
            case .all: text += "false"
            case .and, .or:
                text += "not "
                operand.writeParenthesized(to: &text)
            default:
                text += "not "
                operand.write(to: &text)
            }
        case .all:
            text += "true"
        }
    }

    private func writeParenthesized(to text: inout String) {
        text += "("
        write(to: &text)
        text += ")"
    }

    /// The filter with degenerate `and`/`or` nodes (fewer than two operands, which the parser
    /// never builds) replaced by their meaning, so that they print as equivalent text.
    private var unwrapped: Filter {
        var node = self
        while true {
            switch node {
            case .and(let operands) where operands.isEmpty: return .all
            case .or(let operands) where operands.isEmpty: return .not(.all)
            case .and(let operands) where operands.count == 1,
                .or(let operands)
            where operands.count == 1:
                node = operands[0]
            default: return node
            }
        }
    }
}

/// Writes a field name as a bare identifier when the lexer would read it back as one, and in
/// backquotes (a backquote inside doubled) otherwise.
func identifierText(_ name: String) -> String {
    if isBareIdentifier(name) { return name }
    // Scalars, not Characters: a backquote followed by a combining mark is one Character, but
    // the lexer still sees the backquote.
    var text = "`"
    for scalar in name.unicodeScalars {
        text.unicodeScalars.append(scalar)
        if scalar == "`" { text.unicodeScalars.append(scalar) }
    }
    return text + "`"
}

/// Whether `name` matches `[A-Za-z_][A-Za-z0-9_.-]*` and is not a keyword.
private func isBareIdentifier(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard let first = bytes.first, FilterLexer.isIdentifierStart(first) else { return false }
    guard bytes.allSatisfy(FilterLexer.isIdentifierContinuation) else { return false }
    return FilterKeyword(spelling: name) == nil
}
