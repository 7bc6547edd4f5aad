/// A small, strict JSON parser (RFC 8259) for metadata and JSON Lines vectors.
///
/// Strict means that everything RFC 8259 does not allow is an error, with the byte offset
/// (and line and column) where it was found:
/// - trailing garbage after the value, comments, trailing commas, single quotes;
/// - `NaN`, `Infinity`, leading zeros, `+1`, `.5`, `1.`;
/// - control characters in strings, invalid UTF-8 (overlong forms, encoded surrogates, bytes
///   past U+10FFFF) and unpaired surrogate escapes such as `"\ud800"`;
/// - numbers whose magnitude does not fit `Double` (`1e400`) — they would silently become
///   infinity ( ``FileFormatError/Code/numberOutOfRange`` );
/// - **duplicate keys** in one object ( ``FileFormatError/Code/duplicateKey`` ). RFC 8259
///   leaves their meaning open and parsers disagree (first wins, last wins, both kept), so
///   Quiver refuses to guess which metadata value the user meant.
/// - nesting deeper than ``maximumDepth``.
///
/// Integer literals that fit `Int64` become ``JSONValue/int(_:)``; all other numbers become
/// ``JSONValue/double(_:)`` (an integer beyond `Int64` then loses precision past 2^53).
/// Conversion is correctly rounded (Eisel-Lemire, with Clinger's fast path). A UTF-8 byte
/// order mark is not skipped here: the line-oriented readers skip one at the start of a file.
///
/// ```swift
/// let value = try JSONParser.parse(#"{"tags": ["a", "b"], "score": 0.5}"#)
/// var vector: [Float] = []
/// try JSONParser.parseFloatArray(Array("[0.25, -1, 3e-2]".utf8), into: &vector)
/// ```
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted; a top-level array is depth 1.
    public static let maximumDepth = 64

    /// Parses one JSON value from UTF-8 bytes.
    ///
    /// - Parameter bytes: The complete JSON text; whitespace may surround the value.
    /// - Returns: The value.
    /// - Throws: ``FileFormatError`` with ``FileFormatError/byteOffset``,
    ///   ``FileFormatError/line`` and ``FileFormatError/column`` of the first problem.
    /// - Complexity: O(n) in the length of the text (object keys are hashed).
    public static func parse(_ bytes: Span<UInt8>) throws(FileFormatError) -> JSONValue {
        var scanner = JSONScanner()
        do throws(FileFormatError) {
            scanner.skipWhitespace(bytes)
            let value = try scanner.parseValue(bytes)
            scanner.skipWhitespace(bytes)
            guard scanner.position == bytes.count else {
                throw DecimalLiteral.syntaxError(
                    bytes, at: scanner.position, expected: "the end of the input")
            }
            return value
        } catch {
            throw addLineAndColumn(to: error, in: bytes)
        }
    }

    /// Parses one JSON value from UTF-8 bytes (see ``parse(_:)-(Span<UInt8>)``).
    ///
    /// - Parameter bytes: The complete JSON text.
    /// - Returns: The value.
    /// - Throws: ``FileFormatError`` naming the offset, line and column of the first problem.
    public static func parse(_ bytes: [UInt8]) throws(FileFormatError) -> JSONValue {
        try parse(bytes.span)
    }

    /// Parses one JSON value from a string (see ``parse(_:)-(Span<UInt8>)``).
    ///
    /// - Parameter text: The complete JSON text.
    /// - Returns: The value.
    /// - Throws: ``FileFormatError`` naming the offset, line and column of the first problem.
    public static func parse(_ text: String) throws(FileFormatError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a JSON array of numbers into `floats`, replacing its contents and keeping its
    /// capacity: the fast path that JSON Lines vectors take, with no per-element allocation.
    ///
    /// Each number is correctly rounded to `Float` directly from its decimal digits.
    ///
    /// - Parameters:
    ///   - bytes: The JSON text of one array, such as `[0.5, -1e-3, 2]`; whitespace may
    ///     surround it.
    ///   - floats: Receives the numbers in order.
    /// - Throws: ``FileFormatError/Code/invalidVector`` for an element that is not a number
    ///   (such as `null` or `"NaN"`), ``FileFormatError/Code/numberOutOfRange`` for a number
    ///   beyond `Float`'s range (such as `1e39`), ``FileFormatError/Code/invalidJSON`` for
    ///   anything else, each with offset, line and column.
    public static func parseFloatArray(
        _ bytes: Span<UInt8>, into floats: inout [Float]
    ) throws(FileFormatError) {
        floats.removeAll(keepingCapacity: true)
        var scanner = JSONScanner()
        do throws(FileFormatError) {
            scanner.skipWhitespace(bytes)
            try scanner.parseFloatArray(bytes, appendingTo: &floats)
            scanner.skipWhitespace(bytes)
            guard scanner.position == bytes.count else {
                throw DecimalLiteral.syntaxError(
                    bytes, at: scanner.position, expected: "the end of the input")
            }
        } catch {
            throw addLineAndColumn(to: error, in: bytes)
        }
    }

    /// Parses a JSON array of numbers into `floats` (see
    /// ``parseFloatArray(_:into:)-(Span<UInt8>,_)``).
    ///
    /// - Parameters:
    ///   - bytes: The JSON text of one array of numbers.
    ///   - floats: Receives the numbers in order, replacing its contents.
    /// - Throws: ``FileFormatError`` naming the offset, line and column of the first problem.
    public static func parseFloatArray(
        _ bytes: [UInt8], into floats: inout [Float]
    ) throws(FileFormatError) {
        try parseFloatArray(bytes.span, into: &floats)
    }

    /// Fills in the line and column of an error whose byte offset is relative to `bytes`.
    private static func addLineAndColumn(
        to error: FileFormatError, in bytes: Span<UInt8>
    ) -> FileFormatError {
        guard let offset = error.byteOffset else { return error }
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return error.located(path: nil, line: line, column: offset - lineStart + 1)
    }
}

/// The parser's state: a position in a span that every method is handed (a span cannot be
/// stored without the experimental lifetime features), a nesting depth, and a scratch
/// buffer reused for strings with escapes.
struct JSONScanner {
    var position = 0
    var depth = 0
    var scratch: [UInt8] = []

    init(position: Int = 0) {
        self.position = position
    }

    /// Skips the four whitespace characters of RFC 8259.
    @inline(__always)
    mutating func skipWhitespace(_ bytes: Span<UInt8>) {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// Parses the value at the current position (which must not be whitespace).
    mutating func parseValue(_ bytes: Span<UInt8>) throws(FileFormatError) -> JSONValue {
        guard position < bytes.count else {
            throw DecimalLiteral.syntaxError(bytes, at: position, expected: "a value")
        }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object(try parseObject(bytes))
        case UInt8(ascii: "["): return try parseArray(bytes)
        case UInt8(ascii: "\""): return .string(try parseString(bytes))
        case UInt8(ascii: "t"):
            try expectLiteral("true", bytes)
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false", bytes)
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null", bytes)
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber(bytes)
        default:
            throw DecimalLiteral.syntaxError(bytes, at: position, expected: "a value")
        }
    }

    /// Consumes `literal` (`true`, `false` or `null`) or throws.
    mutating func expectLiteral(
        _ literal: StaticString, _ bytes: Span<UInt8>
    ) throws(FileFormatError) {
        let start = position
        let count = literal.utf8CodeUnitCount
        for index in 0..<count {
            // Safety: `index < utf8CodeUnitCount`, and a StaticString's storage is immortal.
            let expected = unsafe literal.utf8Start[index]
            guard position < bytes.count, bytes[position] == expected else {
                throw FileFormatError(
                    .invalidJSON, "invalid literal; expected '\(literal)'", byteOffset: start)
            }
            position += 1
        }
    }

    /// Parses a number into `.int` when it is an integer literal that fits `Int64`, else
    /// into a finite `.double`.
    mutating func parseNumber(_ bytes: Span<UInt8>) throws(FileFormatError) -> JSONValue {
        let start = position
        let (literal, end) = try DecimalLiteral.scan(bytes, from: position)
        position = end
        if let integer = literal.int64Value { return .int(integer) }
        let value = literal.doubleValue ?? JSONScanner.slowDouble(bytes, start..<end)
        guard value.isFinite else {
            throw FileFormatError(
                .numberOutOfRange, "number is too large for a 64-bit float", byteOffset: start)
        }
        return .double(value)
    }

    /// Parses a number as a vector component: correctly rounded to `Float`, and finite.
    @inline(__always)
    mutating func parseFloat(_ bytes: Span<UInt8>) throws(FileFormatError) -> Float {
        let start = position
        let (literal, end) = try DecimalLiteral.scan(bytes, from: position)
        position = end
        let value = literal.floatValue ?? JSONScanner.slowFloat(bytes, start..<end)
        guard value.isFinite else {
            throw FileFormatError(
                .numberOutOfRange, "number is too large for a 32-bit float", byteOffset: start)
        }
        return value
    }

    /// The standard library's conversion, for the rare literals that the fast algorithms
    /// leave undecided (more than 19 significant digits near a rounding boundary).
    static func slowDouble(_ bytes: Span<UInt8>, _ range: Range<Int>) -> Double {
        Double(text(of: bytes, range)) ?? .nan
    }

    /// See ``slowDouble(_:_:)``.
    static func slowFloat(_ bytes: Span<UInt8>, _ range: Range<Int>) -> Float {
        Float(text(of: bytes, range)) ?? .nan
    }

    /// The bytes in `range` (already validated as ASCII digits and signs) as a string.
    private static func text(of bytes: Span<UInt8>, _ range: Range<Int>) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(range.count)
        for index in range { characters.append(bytes[index]) }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Parses `[ value, … ]`.
    mutating func parseArray(_ bytes: Span<UInt8>) throws(FileFormatError) -> JSONValue {
        try enterContainer(bytes)
        position += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace(bytes)
        if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace(bytes)
            elements.append(try parseValue(bytes))
            if try closeElement(bytes) {
                depth -= 1
                return .array(elements)
            }
        }
    }

    /// Parses `{ "key": value, … }`, rejecting duplicate keys.
    mutating func parseObject(
        _ bytes: Span<UInt8>
    ) throws(FileFormatError) -> [String: JSONValue] {
        var members: [String: JSONValue] = [:]
        try parseObjectMembers(bytes) { (key, keyOffset, scanner) throws(FileFormatError) in
            let value = try scanner.parseValue(bytes)
            if members.updateValue(value, forKey: key) != nil {
                throw FileFormatError(
                    .duplicateKey, "duplicate key \"\(key)\" in object", byteOffset: keyOffset)
            }
        }
        return members
    }

    /// Walks `{ "key": value, … }`, calling `member` with each key, the key's offset, and the
    /// scanner positioned at the value, which `member` must consume.
    mutating func parseObjectMembers(
        _ bytes: Span<UInt8>,
        _ member: (String, Int, inout JSONScanner) throws(FileFormatError) -> Void
    ) throws(FileFormatError) {
        try enterContainer(bytes)
        position += 1  // '{'
        skipWhitespace(bytes)
        if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace(bytes)
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw DecimalLiteral.syntaxError(
                    bytes, at: position, expected: "a string key in double quotes")
            }
            let keyOffset = position
            let key = try parseString(bytes)
            skipWhitespace(bytes)
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw DecimalLiteral.syntaxError(bytes, at: position, expected: "':'")
            }
            position += 1
            skipWhitespace(bytes)
            try member(key, keyOffset, &self)
            skipWhitespace(bytes)
            guard position < bytes.count else {
                throw DecimalLiteral.syntaxError(bytes, at: position, expected: "',' or '}'")
            }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return
            } else {
                throw DecimalLiteral.syntaxError(bytes, at: position, expected: "',' or '}'")
            }
        }
    }

    /// Counts one more level of nesting, or throws past ``JSONParser/maximumDepth``.
    private mutating func enterContainer(_ bytes: Span<UInt8>) throws(FileFormatError) {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw FileFormatError(
                .nestingTooDeep,
                "arrays and objects are nested deeper than \(JSONParser.maximumDepth) levels",
                byteOffset: position)
        }
    }

    /// Consumes an array's `[` and the whitespace after it, and the `]` too when the array is
    /// empty; throws ``FileFormatError/Code/invalidVector`` naming `expected` when there is
    /// no `[`.
    /// - Returns: whether the array is empty (and fully consumed).
    mutating func openArray(_ bytes: Span<UInt8>, expected: String) throws(FileFormatError) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else {
            throw FileFormatError(
                .invalidVector,
                "expected \(expected), found "
                    + (position < bytes.count
                        ? DecimalLiteral.describe(bytes[position]) : "the end of the input"),
                byteOffset: position)
        }
        position += 1
        skipWhitespace(bytes)
        if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
            position += 1
            return true
        }
        return false
    }

    /// After an array element: skips whitespace and consumes the `,` before the next element
    /// or the `]` that closes the array.
    /// - Returns: whether the array is closed.
    mutating func closeElement(_ bytes: Span<UInt8>) throws(FileFormatError) -> Bool {
        skipWhitespace(bytes)
        guard position < bytes.count else {
            throw DecimalLiteral.syntaxError(bytes, at: position, expected: "',' or ']'")
        }
        switch bytes[position] {
        case UInt8(ascii: ","):
            position += 1
            return false
        case UInt8(ascii: "]"):
            position += 1
            return true
        default:
            throw DecimalLiteral.syntaxError(bytes, at: position, expected: "',' or ']'")
        }
    }

    /// Parses `[ number, … ]` and appends the numbers as floats: the JSON Lines fast path.
    mutating func parseFloatArray(
        _ bytes: Span<UInt8>, appendingTo floats: inout [Float]
    ) throws(FileFormatError) {
        if try openArray(bytes, expected: "a vector as an array of numbers") { return }
        var index = 0
        while true {
            skipWhitespace(bytes)
            guard position < bytes.count,
                bytes[position] == UInt8(ascii: "-") || DecimalLiteral.isDigit(bytes[position])
            else {
                if position < bytes.count {
                    let found = bytes[position]
                    if found == UInt8(ascii: "]") || found == UInt8(ascii: ",") {
                        throw DecimalLiteral.syntaxError(bytes, at: position, expected: "a number")
                    }
                    throw FileFormatError(
                        .invalidVector,
                        "vector component \(index) is not a number (null, strings, NaN and "
                            + "infinity are rejected)",
                        byteOffset: position)
                }
                throw DecimalLiteral.syntaxError(bytes, at: position, expected: "a number")
            }
            floats.append(try parseFloat(bytes))
            index += 1
            if try closeElement(bytes) { return }
        }
    }
}
