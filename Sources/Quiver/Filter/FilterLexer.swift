/// A keyword of the filter syntax; keywords are case-insensitive.
enum FilterKeyword: String, CaseIterable {
    case and, or, not, `in`, contains, between, `true`, `false`

    /// The keyword spelled by `spelling` in any case, or `nil`.
    init?(spelling: String) {
        // Keywords are ASCII, so ASCII lowercasing is enough and avoids locale rules.
        let lowered = String(
            decoding: spelling.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 },
            as: UTF8.self
        )
        self.init(rawValue: lowered)
    }
}

/// One token of filter text.
struct FilterToken {
    enum Kind: Equatable {
        /// A field name, bare or backquoted.
        case identifier(String)
        case keyword(FilterKeyword)
        case string(String)
        case integer(Int64)
        case double(Double)
        case comparison(ComparisonOperator)
        case leftParenthesis, rightParenthesis, leftBracket, rightBracket, comma, star
        case end
    }

    var kind: Kind
    /// The UTF-8 offset of the token's first byte.
    var offset: Int
    /// The UTF-8 offset just past the token's last byte.
    var endOffset: Int
}

/// Splits filter text into tokens, one at a time, so that errors come in text order.
struct FilterLexer {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    static func isIdentifierContinuation(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || isDigit(byte) || byte == 0x2E || byte == 0x2D  // . -
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The text of `bytes[range]`; ranges start and end at ASCII bytes, so the text is valid.
    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    func error(at offset: Int, _ message: String) -> FilterSyntaxError {
        FilterSyntaxError(bytes: bytes, offset: offset, message: message)
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        position + ahead < bytes.count ? bytes[position + ahead] : nil
    }

    /// Reads the next token, or `.end` at the end of the text.
    mutating func next() throws(FilterSyntaxError) -> FilterToken {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
        let start = position
        guard let byte = peek() else {
            return FilterToken(kind: .end, offset: start, endOffset: start)
        }
        let kind: FilterToken.Kind
        switch byte {
        case UInt8(ascii: "("): kind = punctuation(.leftParenthesis)
        case UInt8(ascii: ")"): kind = punctuation(.rightParenthesis)
        case UInt8(ascii: "["): kind = punctuation(.leftBracket)
        case UInt8(ascii: "]"): kind = punctuation(.rightBracket)
        case UInt8(ascii: ","): kind = punctuation(.comma)
        case UInt8(ascii: "*"): kind = punctuation(.star)
        case UInt8(ascii: "="):
            guard peek(1) == UInt8(ascii: "=") else {
                throw error(at: start, "unexpected `=`: write `==` to test equality")
            }
            position += 2
            kind = .comparison(.equal)
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") {
                position += 2
                kind = .comparison(.notEqual)
            } else {
                position += 1
                kind = .keyword(.not)
            }
        case UInt8(ascii: "<"), UInt8(ascii: ">"):
            let orEqual = peek(1) == UInt8(ascii: "=")
            position += orEqual ? 2 : 1
            kind =
                byte == UInt8(ascii: "<")
                ? .comparison(orEqual ? .lessOrEqual : .less)
                : .comparison(orEqual ? .greaterOrEqual : .greater)
        case UInt8(ascii: "&"), UInt8(ascii: "|"):
            guard peek(1) == byte else {
                let spelling = byte == UInt8(ascii: "&") ? "`&&` or `and`" : "`||` or `or`"
                throw error(at: start, "unexpected `\(UnicodeScalar(byte))`: write \(spelling)")
            }
            position += 2
            kind = .keyword(byte == UInt8(ascii: "&") ? .and : .or)
        case UInt8(ascii: "\""):
            kind = .string(try lexString())
        case UInt8(ascii: "`"):
            kind = .identifier(try lexBackquoted())
        case UInt8(ascii: "-"), 0x30...0x39:
            kind = try lexNumber()
        default:
            guard Self.isIdentifierStart(byte) else {
                throw error(at: start, "unexpected character \(characterDescription(at: start))")
            }
            while let next = peek(), Self.isIdentifierContinuation(next) { position += 1 }
            let word = text(start..<position)
            kind = FilterKeyword(spelling: word).map { .keyword($0) } ?? .identifier(word)
        }
        return FilterToken(kind: kind, offset: start, endOffset: position)
    }

    private mutating func punctuation(_ kind: FilterToken.Kind) -> FilterToken.Kind {
        position += 1
        return kind
    }

    /// The character starting at `offset`, quoted, or its code point if it is invisible.
    private func characterDescription(at offset: Int) -> String {
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }  // continuation bytes
        let character = String(decoding: bytes[offset..<end], as: UTF8.self)
        let scalar = character.unicodeScalars.first!
        if scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7F {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return "`\(character)`"
    }

    /// Reads `-?digits(.digits)?([eE][+-]?digits)?`: an Int64 without `.` or exponent,
    /// a finite Double with them.
    private mutating func lexNumber() throws(FilterSyntaxError) -> FilterToken.Kind {
        let start = position
        if peek() == UInt8(ascii: "-") {
            guard let next = peek(1), Self.isDigit(next) else {
                throw error(at: start, "unexpected `-`: a digit must follow a minus sign")
            }
            position += 1
        }
        var isInteger = true
        func skipDigits(_ lexer: inout FilterLexer) -> Bool {
            let before = lexer.position
            while let byte = lexer.peek(), Self.isDigit(byte) { lexer.position += 1 }
            return lexer.position > before
        }
        _ = skipDigits(&self)
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard skipDigits(&self) else {
                throw error(at: start, "malformed number: a digit must follow the decimal point")
            }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard skipDigits(&self) else {
                throw error(at: start, "malformed number: a digit must follow the exponent mark")
            }
        }
        if let next = peek(), Self.isIdentifierContinuation(next) {
            throw error(at: start, "malformed number: `\(text(start..<position + 1))`")
        }
        let literal = text(start..<position)
        if isInteger {
            guard let value = Int64(literal) else {
                throw error(
                    at: start,
                    "integer \(literal) overflows Int64 (\(Int64.min) through \(Int64.max))"
                )
            }
            return .integer(value)
        }
        // Double(String) rounds correctly; only overflow makes it infinite.
        guard let value = Double(literal), value.isFinite else {
            throw error(at: start, "number \(literal) is out of the range of Double")
        }
        return .double(value)
    }

    /// Reads a double-quoted string with JSON escapes.
    private mutating func lexString() throws(FilterSyntaxError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw error(at: start, "unterminated string: it needs a closing `\"`")
            }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                utf8.append(contentsOf: String(try lexEscape(stringStart: start)).utf8)
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    /// Reads one escape at `position` (a backslash): `\" \\ \/ \b \f \n \r \t \uXXXX`, with
    /// UTF-16 surrogate pairs written as two `\u` escapes, as in JSON.
    private mutating func lexEscape(stringStart: Int) throws(FilterSyntaxError) -> Character {
        let start = position
        guard let letter = peek(1) else {
            throw error(at: stringStart, "unterminated string: it needs a closing `\"`")
        }
        position += 2
        switch letter {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try lexHexUnit(escapeStart: start)
            switch unit {
            case 0xD800...0xDBFF:
                let lowStart = position
                guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else {
                    throw error(at: start, "bad escape: lone UTF-16 high surrogate")
                }
                position += 2
                let low = try lexHexUnit(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error(at: start, "bad escape: lone UTF-16 high surrogate")
                }
                let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                return Character(UnicodeScalar(value)!)  // Safe: 0x10000...0x10FFFF is valid
            case 0xDC00...0xDFFF:
                throw error(at: start, "bad escape: lone UTF-16 low surrogate")
            default:
                return Character(UnicodeScalar(unit)!)  // Safe: surrogates excluded above
            }
        default:
            throw error(
                at: start,
                "bad escape: a backslash followed by \(characterDescription(at: start + 1)); "
                    + #"use \", \\, \/, \b, \f, \n, \r, \t or \uXXXX"#
            )
        }
    }

    /// Reads the four hex digits after `\u`.
    private mutating func lexHexUnit(escapeStart: Int) throws(FilterSyntaxError) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexValue(byte) else {
                throw error(at: escapeStart, "bad escape: \\u needs four hex digits")
            }
            unit = unit << 4 | UInt16(digit)
            position += 1
        }
        return unit
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Reads a backquoted field name, in which a doubled backquote stands for one.
    private mutating func lexBackquoted() throws(FilterSyntaxError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw error(at: start, "unterminated field name: it needs a closing backquote")
            }
            position += 1
            if byte == UInt8(ascii: "`") {
                guard peek() == UInt8(ascii: "`") else { break }
                position += 1
            }
            utf8.append(byte)
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
