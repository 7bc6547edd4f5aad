/// A JSON number literal taken apart: `±significand · 10^exponent`, plus what the text looked
/// like. Converting it to binary floating point is done here rather than with `strtod`, which
/// needs a NUL-terminated copy and is locale-dependent, and rather than with
/// `Double(String)`, which costs a String per number (about 300 ns, measured), too slow for
/// JSON Lines files holding a hundred million vector components.
struct DecimalLiteral {
    /// The first (up to) 19 significant digits, which always fit `UInt64`.
    var significand: UInt64 = 0
    /// The power of ten that scales ``significand`` to the literal's value (ignoring digits
    /// dropped after the 19th significant one).
    var exponent = 0
    /// Whether the literal starts with `-`.
    var isNegative = false
    /// Whether the literal has neither a fraction nor an exponent part.
    var isInteger = true
    /// Whether non-zero digits after the 19th significant one were dropped, in which case
    /// ``significand`` is a lower bound of the true digits.
    var isTruncated = false

    /// The most significant digits kept; 10^19 - 1 < 2^64.
    static let maximumDigits = 19

    /// Scans an RFC 8259 number starting at `start` and returns it with the index after it.
    ///
    /// Only the number's own grammar is checked: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE]
    /// [+-]? [0-9]+)?`. The caller checks what follows (a delimiter).
    ///
    /// - Throws: ``FileFormatError/Code/invalidJSON`` with the offset (in `bytes`) of the first
    ///   byte that breaks the grammar.
    static func scan(
        _ bytes: Span<UInt8>, from start: Int
    ) throws(FileFormatError) -> (literal: DecimalLiteral, end: Int) {
        var literal = DecimalLiteral()
        var position = start
        let count = bytes.count

        if position < count && bytes[position] == UInt8(ascii: "-") {
            literal.isNegative = true
            position += 1
        }
        let integerStart = position
        guard position < count, isDigit(bytes[position]) else {
            throw syntaxError(bytes, at: position, expected: "a digit")
        }
        // Accumulate every digit without bounds on the count, which keeps the loops to a
        // handful of instructions a digit; more than 19 digits (rare) are redone below.
        var significand: UInt64 = 0
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < count && isDigit(bytes[position]) {
                throw FileFormatError(
                    .invalidJSON, "numbers must not have leading zeros", byteOffset: position)
            }
        } else {
            while position < count, isDigit(bytes[position]) {
                significand = significand &* 10 &+ UInt64(bytes[position] &- 48)
                position += 1
            }
        }
        let integerEnd = position
        var fractionDigits = 0
        if position < count && bytes[position] == UInt8(ascii: ".") {
            literal.isInteger = false
            position += 1
            let fractionStart = position
            guard position < count, isDigit(bytes[position]) else {
                throw syntaxError(bytes, at: position, expected: "a digit after '.'")
            }
            // Eight digits with one load (SWAR), for the long fractions of Python's output
            // (0.10000000149011612): tried once, as short fractions make it fail.
            if position + 8 <= count {
                // Safety: `position + 8 <= count`, and every bit pattern is a UInt64.
                let word = UInt64(
                    littleEndian: unsafe bytes.bytes.unsafeLoadUnaligned(
                        fromByteOffset: position, as: UInt64.self))
                if isEightDigits(word) {
                    significand = significand &* 100_000_000 &+ parseEightDigits(word)
                    position += 8
                }
            }
            while position < count, isDigit(bytes[position]) {
                significand = significand &* 10 &+ UInt64(bytes[position] &- 48)
                position += 1
            }
            fractionDigits = position - fractionStart
        }
        let digitsEnd = position
        literal.significand = significand
        literal.exponent = -fractionDigits
        if (integerEnd - integerStart) + fractionDigits > maximumDigits {
            literal.takeLeadingDigits(
                bytes, integer: integerStart..<integerEnd,
                fraction: (digitsEnd - fractionDigits)..<digitsEnd)
        }
        if position < count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            literal.isInteger = false
            position += 1
            var exponentIsNegative = false
            if position < count
                && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-"))
            {
                exponentIsNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < count, isDigit(bytes[position]) else {
                throw syntaxError(bytes, at: position, expected: "a digit in the exponent")
            }
            var explicitExponent = 0
            while position < count, isDigit(bytes[position]) {
                // Saturate: any exponent past a million gives zero or infinity anyway.
                if explicitExponent < 1_000_000 {
                    explicitExponent = explicitExponent * 10 + Int(bytes[position] &- 48)
                }
                position += 1
            }
            literal.exponent += exponentIsNegative ? -explicitExponent : explicitExponent
        }
        return (literal, position)
    }

    /// Redoes the digits of a literal with more than 19: keeps the first 19 significant
    /// ones (leading zeros do not count), scales for the integer digits dropped, and notes
    /// whether any dropped digit was non-zero.
    private mutating func takeLeadingDigits(
        _ bytes: Span<UInt8>, integer: Range<Int>, fraction: Range<Int>
    ) {
        significand = 0
        exponent = 0
        isTruncated = false
        var significantDigits = 0
        for index in integer {
            let digit = UInt64(bytes[index] &- 48)
            if significantDigits < DecimalLiteral.maximumDigits {
                significand = significand * 10 + digit
                if significand != 0 { significantDigits += 1 }
            } else {
                exponent += 1
                if digit != 0 { isTruncated = true }
            }
        }
        for index in fraction {
            let digit = UInt64(bytes[index] &- 48)
            if significantDigits < DecimalLiteral.maximumDigits {
                significand = significand * 10 + digit
                exponent -= 1
                // Zeros before the first non-zero digit scale the value but are not
                // significant, so they do not use up the 19 digits.
                if significand != 0 { significantDigits += 1 }
            } else if digit != 0 {
                isTruncated = true
            }
        }
    }

    /// The literal as an `Int64` when it is an integer literal in range, else `nil`.
    var int64Value: Int64? {
        guard isInteger, !isTruncated, exponent == 0 else { return nil }
        if isNegative {
            guard significand <= UInt64(Int64.max) + 1 else { return nil }
            return significand == UInt64(Int64.max) + 1 ? Int64.min : -Int64(significand)
        }
        guard significand <= UInt64(Int64.max) else { return nil }
        return Int64(significand)
    }

    /// The literal correctly rounded to `Double`, or `nil` in the rare cases the fast
    /// algorithms cannot decide (more than 19 significant digits near a rounding boundary);
    /// the caller then falls back to the standard library.
    var doubleValue: Double? {
        if !isTruncated, significand <= 1 << 53, (-22...22).contains(exponent) {
            // Clinger's fast path: both operands are exact doubles, so the one rounding of
            // the multiplication or division is the correct rounding.
            var value = Double(significand)
            if exponent < 0 {
                value /= DecimalLiteral.doublePowersOfTen[-exponent]
            } else {
                value *= DecimalLiteral.doublePowersOfTen[exponent]
            }
            return isNegative ? -value : value
        }
        let bits = DecimalLiteral.eiselLemire(exponent, significand, .binary64)
        if isTruncated {
            // The true digits lie between significand and significand + 1; if both ends
            // round to the same double, so does the literal.
            let upper = DecimalLiteral.eiselLemire(exponent, significand + 1, .binary64)
            guard upper == bits else { return nil }
        }
        let pattern = UInt64(bits.power2) << 52 | bits.mantissa
        return Double(bitPattern: pattern | (isNegative ? 1 << 63 : 0))
    }

    /// The literal correctly rounded to `Float` (directly, not through `Double`), or `nil`
    /// when the caller must fall back to the standard library (see ``doubleValue``).
    var floatValue: Float? {
        if !isTruncated, significand <= 1 << 24, (-10...10).contains(exponent) {
            // Clinger's fast path for binary32: 10^10 = 2^10 · 5^10 and 5^10 < 2^24 are exact.
            var value = Float(significand)
            if exponent < 0 {
                value /= DecimalLiteral.floatPowersOfTen[-exponent]
            } else {
                value *= DecimalLiteral.floatPowersOfTen[exponent]
            }
            return isNegative ? -value : value
        }
        let bits = DecimalLiteral.eiselLemire(exponent, significand, .binary32)
        if isTruncated {
            let upper = DecimalLiteral.eiselLemire(exponent, significand + 1, .binary32)
            guard upper == bits else { return nil }
        }
        let pattern = UInt32(bits.power2) << 23 | UInt32(bits.mantissa)
        return Float(bitPattern: pattern | (isNegative ? 1 << 31 : 0))
    }

    /// The parameters of an IEEE 754 binary format for ``eiselLemire(_:_:_:)``.
    struct BinaryFormat {
        var mantissaBits: Int
        var minimumExponent: Int
        var infinitePower: Int
        var smallestPowerOfTen: Int
        var largestPowerOfTen: Int
        var minimumRoundToEvenExponent: Int
        var maximumRoundToEvenExponent: Int

        static let binary64 = BinaryFormat(
            mantissaBits: 52, minimumExponent: -1023, infinitePower: 0x7FF,
            smallestPowerOfTen: -342, largestPowerOfTen: 308,
            minimumRoundToEvenExponent: -4, maximumRoundToEvenExponent: 23)
        static let binary32 = BinaryFormat(
            mantissaBits: 23, minimumExponent: -127, infinitePower: 0xFF,
            smallestPowerOfTen: -65, largestPowerOfTen: 38,
            minimumRoundToEvenExponent: -17, maximumRoundToEvenExponent: 10)
    }

    /// Computes `w · 10^q` correctly rounded to `format`, as the biased exponent and the
    /// mantissa without its implicit bit (infinity when too large, zero when too small).
    ///
    /// The Eisel-Lemire algorithm (D. Lemire, "Number Parsing at a Gigabyte per Second",
    /// 2021, algorithm 1; the version in fast_float, which N. Mushtak and D. Lemire proved
    /// needs no fallback for `w < 2^64`): multiply `w` by a 128-bit truncated `5^q` and
    /// round, with a round-half-even correction where `5^q` is exact.
    @inline(__always)
    static func eiselLemire(
        _ q: Int, _ w: UInt64, _ format: BinaryFormat
    ) -> (mantissa: UInt64, power2: Int) {
        if w == 0 || q < format.smallestPowerOfTen { return (0, 0) }
        if q > format.largestPowerOfTen { return (0, format.infinitePower) }
        let leadingZeros = w.leadingZeroBitCount
        let normalized = w << UInt64(leadingZeros)
        let index = 2 * (q - smallestPowerOfFive)
        var (high, low) = normalized.multipliedFullWidth(by: powersOfFive[index])
        let precisionMask = UInt64.max >> UInt64(format.mantissaBits + 3)
        if high & precisionMask == precisionMask {
            // The truncated 64-bit product may be off by one in the bits that matter;
            // the second word of the power settles it.
            let second = normalized.multipliedFullWidth(by: powersOfFive[index + 1]).high
            low &+= second
            if second > low { high &+= 1 }
        }
        let upperBit = Int(high >> 63)
        let shift = upperBit + 64 - format.mantissaBits - 3
        var mantissa = high >> UInt64(shift)
        // (217706 · q) >> 16 is floor(q · log2(5)) + q for |q| < 400 (a floor for negative q).
        var power2 = ((217_706 * q) >> 16) + 63 + upperBit - leadingZeros - format.minimumExponent
        if power2 <= 0 {
            // Subnormal, or zero when more than 64 bits below the smallest exponent.
            if -power2 + 1 >= 64 { return (0, 0) }
            mantissa >>= UInt64(-power2 + 1)
            mantissa += mantissa & 1
            mantissa >>= 1
            power2 = mantissa < (1 << UInt64(format.mantissaBits)) ? 0 : 1
            return (mantissa, power2)
        }
        if low <= 1, q >= format.minimumRoundToEvenExponent,
            q <= format.maximumRoundToEvenExponent, mantissa & 3 == 1,
            mantissa << UInt64(shift) == high
        {
            // Exactly halfway between two floats: round to even instead of up.
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= (2 << UInt64(format.mantissaBits)) {
            mantissa = 1 << UInt64(format.mantissaBits)
            power2 += 1
        }
        mantissa &= ~(1 << UInt64(format.mantissaBits))
        if power2 >= format.infinitePower { return (0, format.infinitePower) }
        return (mantissa, power2)
    }

    private static let doublePowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    private static let floatPowersOfTen: [Float] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
    ]

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Whether all eight bytes of a little-endian word are ASCII digits (SWAR: each byte's
    /// high nibble is 3, and adding 6 does not carry into it).
    @inline(__always)
    static func isEightDigits(_ word: UInt64) -> Bool {
        (word & 0xF0F0_F0F0_F0F0_F0F0)
            | (((word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
            == 0x3333_3333_3333_3333
    }

    /// The value of eight ASCII digits in a little-endian word, first digit most
    /// significant: pairs, then quadruples, then the whole, each step one multiplication
    /// (the technique of fast_float's `parse_eight_digits_unrolled`).
    @inline(__always)
    static func parseEightDigits(_ word: UInt64) -> UInt64 {
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let multiplier1: UInt64 = 100 + (1_000_000 << 32)
        let multiplier2: UInt64 = 1 + (10_000 << 32)
        var value = word &- 0x3030_3030_3030_3030
        value = (value &* 10) &+ (value >> 8)
        value = (((value & mask) &* multiplier1) &+ (((value >> 16) & mask) &* multiplier2)) >> 32
        return value & 0xFFFF_FFFF
    }

    /// An `invalidJSON` error at `position` saying what was expected and what was found.
    static func syntaxError(
        _ bytes: Span<UInt8>, at position: Int, expected: String
    ) -> FileFormatError {
        let found = position < bytes.count ? describe(bytes[position]) : "the end of the input"
        return FileFormatError(
            .invalidJSON, "expected \(expected), found \(found)", byteOffset: position)
    }

    /// A byte as a human would want to see it in an error message.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count < 2 ? "0" + hex : hex)
    }
}
