/// The header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0).
///
/// The file starts with the magic `\x93NUMPY`, a major and minor version byte, the header
/// length (`uint16` LE in 1.0, `uint32` LE in 2.0 and 3.0), then the header: a Python
/// dictionary literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1000,
/// 384), }` padded with spaces and a newline so that the data starts at a multiple of 64
/// bytes. See `numpy/lib/format.py`. The dictionary is parsed here, strictly, with a parser
/// that knows only the literals NumPy writes, never a general evaluator.
struct NpyHeader: Equatable {
    /// The dtype string, such as `<f4`.
    var descr: String
    /// Whether the data is in Fortran (column-major) order.
    var fortranOrder: Bool
    /// The array shape.
    var shape: [Int]

    /// The six magic bytes that open every `.npy` file.
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// The longest header accepted (NumPy itself refuses headers over 10,000 bytes by
    /// default); it bounds the memory a hostile file can claim.
    static let maximumHeaderLength = 1 << 20

    /// Parses the header dictionary.
    ///
    /// - Parameter bytes: The header text, after the length field.
    /// - Throws: ``FileFormatError/Code/malformedHeader`` with the offset (relative to
    ///   `bytes`) of the problem: syntax errors, a missing, unknown or duplicate key, or a
    ///   value of the wrong type.
    static func parse(_ bytes: Span<UInt8>) throws(FileFormatError) -> NpyHeader {
        var parser = PythonLiteralParser()
        var descr: String?
        var fortranOrder: Bool?
        var shape: [Int]?
        try parser.parseDictionary(bytes) { (key, keyOffset, parser) throws(FileFormatError) in
            let valueOffset = parser.position
            let value = try parser.parseValue(bytes)
            func wrongType(_ expected: String) -> FileFormatError {
                FileFormatError(
                    .malformedHeader, "'\(key)' must be \(expected)", byteOffset: valueOffset)
            }
            func duplicate() -> FileFormatError {
                FileFormatError(
                    .malformedHeader, "duplicate key '\(key)'", byteOffset: keyOffset)
            }
            switch key {
            case "descr":
                guard descr == nil else { throw duplicate() }
                guard case .string(let text) = value else {
                    throw wrongType("a dtype string such as '<f4'")
                }
                descr = text
            case "fortran_order":
                guard fortranOrder == nil else { throw duplicate() }
                guard case .bool(let flag) = value else { throw wrongType("True or False") }
                fortranOrder = flag
            case "shape":
                guard shape == nil else { throw duplicate() }
                guard case .tuple(let dimensions) = value else {
                    throw wrongType("a tuple of integers")
                }
                shape = dimensions
            default:
                throw FileFormatError(
                    .malformedHeader,
                    "unknown key '\(key)' (expected descr, fortran_order and shape)",
                    byteOffset: keyOffset)
            }
        }
        guard let descr, let fortranOrder, let shape else {
            throw FileFormatError(
                .malformedHeader, "the header must have the keys descr, fortran_order and shape",
                byteOffset: 0)
        }
        return NpyHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }

    /// The header text NumPy would write for this header, padded with spaces and a newline
    /// so that preamble plus header is a multiple of 64 bytes and at least `minimumLength`.
    func encoded(minimumLength: Int = 0) -> [UInt8] {
        let shapeText =
            shape.count == 1
            ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dictionary =
            "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), "
            + "'shape': \(shapeText), }"
        var text = Array(dictionary.utf8)
        // Version 1.0 preamble: magic (6) + version (2) + length (2).
        let preamble = 10
        var total = preamble + text.count + 1
        total = max(total, minimumLength)
        total = (total + 63) / 64 * 64
        text.append(contentsOf: repeatElement(0x20, count: total - preamble - text.count - 1))
        text.append(0x0A)
        return text
    }
}

/// A NumPy dtype that ``VectorFileReader`` reads.
enum NpyDataType: Equatable, Sendable {
    case float16(bigEndian: Bool)
    case float32(bigEndian: Bool)
    case float64(bigEndian: Bool)
    case uint8

    /// The parsed dtype string (`<f4`, `>f8`, `|u1`, …), or `nil` when unsupported.
    init?(descr: String) {
        let bytes = Array(descr.utf8)
        guard bytes.count == 3 else { return nil }
        let order = bytes[0]
        let kind = String(decoding: bytes[1...], as: UTF8.self)
        let bigEndian: Bool
        switch order {
        case UInt8(ascii: "<"): bigEndian = false
        case UInt8(ascii: ">"): bigEndian = true
        case UInt8(ascii: "|"):
            guard kind == "u1" else { return nil }
            bigEndian = false
        default: return nil
        }
        switch kind {
        case "f2": self = .float16(bigEndian: bigEndian)
        case "f4": self = .float32(bigEndian: bigEndian)
        case "f8": self = .float64(bigEndian: bigEndian)
        case "u1": self = .uint8
        default: return nil
        }
    }

    /// The size of one element in bytes.
    var size: Int {
        switch self {
        case .float16: 2
        case .float32: 4
        case .float64: 8
        case .uint8: 1
        }
    }
}

/// A parser for the few Python literals a `.npy` header holds: a dictionary with string
/// keys, and string, `True`/`False`, integer and tuple-of-integer values.
struct PythonLiteralParser {
    /// A parsed value.
    enum Value {
        case string(String)
        case bool(Bool)
        case integer(Int)
        case tuple([Int])
    }

    var position = 0

    /// Parses `{ 'key': value, … }` followed only by whitespace, calling `entry` with each
    /// key, its offset and the parser positioned at the value, which `entry` must consume.
    mutating func parseDictionary(
        _ bytes: Span<UInt8>,
        _ entry: (String, Int, inout PythonLiteralParser) throws(FileFormatError) -> Void
    ) throws(FileFormatError) {
        skipWhitespace(bytes)
        try expect(UInt8(ascii: "{"), bytes)
        while true {
            skipWhitespace(bytes)
            if peek(bytes) == UInt8(ascii: "}") { break }
            let keyOffset = position
            guard case .string(let key) = try parseValue(bytes) else {
                throw FileFormatError(
                    .malformedHeader, "dictionary keys must be strings", byteOffset: keyOffset)
            }
            skipWhitespace(bytes)
            try expect(UInt8(ascii: ":"), bytes)
            skipWhitespace(bytes)
            try entry(key, keyOffset, &self)
            skipWhitespace(bytes)
            if peek(bytes) == UInt8(ascii: ",") {
                position += 1
            } else if peek(bytes) != UInt8(ascii: "}") {
                throw syntaxError(bytes, expected: "',' or '}'")
            }
        }
        position += 1  // '}'
        skipWhitespace(bytes)
        guard position == bytes.count else {
            throw syntaxError(bytes, expected: "only padding after the dictionary")
        }
    }

    /// Parses one value.
    mutating func parseValue(_ bytes: Span<UInt8>) throws(FileFormatError) -> Value {
        guard let first = peek(bytes) else { throw syntaxError(bytes, expected: "a value") }
        switch first {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            let start = position + 1
            var index = start
            while index < bytes.count && bytes[index] != first {
                // No escapes, no control characters, ASCII only: nothing NumPy writes needs
                // more, and anything else is a sign of a damaged or hostile header.
                guard bytes[index] >= 0x20, bytes[index] < 0x7F, bytes[index] != 0x5C else {
                    throw FileFormatError(
                        .malformedHeader, "unsupported character in a string",
                        byteOffset: index)
                }
                index += 1
            }
            guard index < bytes.count else {
                throw FileFormatError(
                    .malformedHeader, "unterminated string", byteOffset: position)
            }
            position = index + 1
            return .string(JSONScanner.string(from: bytes, start..<index))
        case UInt8(ascii: "T"):
            try expectWord("True", bytes)
            return .bool(true)
        case UInt8(ascii: "F"):
            try expectWord("False", bytes)
            return .bool(false)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try parseInteger(bytes))
        case UInt8(ascii: "("):
            position += 1
            var elements: [Int] = []
            var sawComma = false
            while true {
                skipWhitespace(bytes)
                if peek(bytes) == UInt8(ascii: ")") { break }
                guard let digit = peek(bytes), DecimalLiteral.isDigit(digit) else {
                    throw syntaxError(bytes, expected: "a non-negative integer")
                }
                elements.append(try parseInteger(bytes))
                if elements.count > 32 {
                    throw FileFormatError(
                        .malformedHeader, "too many dimensions", byteOffset: position)
                }
                skipWhitespace(bytes)
                if peek(bytes) == UInt8(ascii: ",") {
                    position += 1
                    sawComma = true
                } else if peek(bytes) != UInt8(ascii: ")") {
                    throw syntaxError(bytes, expected: "',' or ')'")
                }
            }
            position += 1  // ')'
            if elements.count == 1 && !sawComma {
                // `(3)` is the integer 3 in Python, not a tuple.
                throw FileFormatError(
                    .malformedHeader, "a one-element tuple needs a trailing comma",
                    byteOffset: position - 1)
            }
            return .tuple(elements)
        default:
            throw syntaxError(bytes, expected: "a value")
        }
    }

    /// Parses a non-negative decimal integer, with the `L` suffix of Python 2 allowed.
    private mutating func parseInteger(_ bytes: Span<UInt8>) throws(FileFormatError) -> Int {
        let start = position
        var value = 0
        while let byte = peek(bytes), DecimalLiteral.isDigit(byte) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte &- 48))
            guard !overflow1, !overflow2 else {
                throw FileFormatError(.tooLarge, "integer is too large", byteOffset: start)
            }
            value = sum
            position += 1
        }
        if peek(bytes) == UInt8(ascii: "L") { position += 1 }
        return value
    }

    private mutating func expectWord(
        _ word: String, _ bytes: Span<UInt8>
    ) throws(FileFormatError) {
        let start = position
        for expected in word.utf8 {
            guard peek(bytes) == expected else {
                throw FileFormatError(
                    .malformedHeader, "invalid literal; expected \(word)", byteOffset: start)
            }
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ bytes: Span<UInt8>) throws(FileFormatError) {
        guard peek(bytes) == byte else {
            throw syntaxError(bytes, expected: "'\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    private func peek(_ bytes: Span<UInt8>) -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace(_ bytes: Span<UInt8>) {
        while let byte = peek(bytes),
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        {
            position += 1
        }
    }

    private func syntaxError(_ bytes: Span<UInt8>, expected: String) -> FileFormatError {
        var error = DecimalLiteral.syntaxError(bytes, at: position, expected: expected)
        error.code = .malformedHeader
        return error
    }
}
