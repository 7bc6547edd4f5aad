extension JSONScanner {
    /// Parses a string literal at the current position (an opening `"`), validating UTF-8
    /// (RFC 3629) and decoding escapes, including surrogate pairs.
    mutating func parseString(_ bytes: Span<UInt8>) throws(FileFormatError) -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes, so the string is a slice of the input.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = JSONScanner.string(from: bytes, start..<position)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw controlCharacterError() }
            if byte < 0x80 {
                position += 1
            } else {
                position = try JSONScanner.validateUTF8Sequence(bytes, at: position)
            }
        }
        // Slow path: copy what was scanned, then decode escapes into the scratch buffer.
        scratch.removeAll(keepingCapacity: true)
        for index in start..<position { scratch.append(bytes[index]) }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                try decodeEscape(bytes)
            } else if byte < 0x20 {
                throw controlCharacterError()
            } else if byte < 0x80 {
                scratch.append(byte)
                position += 1
            } else {
                let end = try JSONScanner.validateUTF8Sequence(bytes, at: position)
                for index in position..<end { scratch.append(bytes[index]) }
                position = end
            }
        }
        throw FileFormatError(
            .invalidJSON, "unterminated string (it starts at byte \(start - 1))",
            byteOffset: position)
    }

    private func controlCharacterError() -> FileFormatError {
        FileFormatError(
            .invalidJSON, "control characters in strings must be escaped", byteOffset: position)
    }

    /// Decodes the escape at `position` (a backslash) and appends its UTF-8 to `scratch`.
    private mutating func decodeEscape(_ bytes: Span<UInt8>) throws(FileFormatError) {
        let escapeStart = position
        guard position + 1 < bytes.count else {
            throw FileFormatError(.invalidJSON, "unterminated escape", byteOffset: escapeStart)
        }
        let kind = bytes[position + 1]
        position += 2
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(kind)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4(bytes)
            if (0xDC00...0xDFFF).contains(scalar) {
                throw FileFormatError(
                    .invalidUTF8, "unpaired low surrogate escape", byteOffset: escapeStart)
            }
            if (0xD800...0xDBFF).contains(scalar) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw FileFormatError(
                        .invalidUTF8, "high surrogate escape not followed by a low surrogate",
                        byteOffset: escapeStart)
                }
                position += 2
                let low = try readHex4(bytes)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw FileFormatError(
                        .invalidUTF8, "high surrogate escape not followed by a low surrogate",
                        byteOffset: escapeStart)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            appendUTF8(scalar)
        default:
            throw FileFormatError(
                .invalidJSON, "invalid escape '\\\(DecimalLiteral.describe(kind))'",
                byteOffset: escapeStart)
        }
    }

    /// Reads four hex digits at `position`.
    private mutating func readHex4(_ bytes: Span<UInt8>) throws(FileFormatError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else {
                throw FileFormatError(
                    .invalidJSON, "\\u escape needs four hex digits", byteOffset: position)
            }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw FileFormatError(
                    .invalidJSON, "\\u escape needs four hex digits", byteOffset: position)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Appends a Unicode scalar (not a surrogate) to `scratch` as UTF-8.
    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Checks the multi-byte UTF-8 sequence at `start` (whose first byte is >= 0x80) and
    /// returns the index after it.
    ///
    /// - Throws: ``FileFormatError/Code/invalidUTF8`` at `start` for a stray continuation
    ///   byte, an overlong form, an encoded surrogate, a scalar past U+10FFFF or a sequence
    ///   cut short.
    static func validateUTF8Sequence(
        _ bytes: Span<UInt8>, at start: Int
    ) throws(FileFormatError) -> Int {
        let lead = bytes[start]
        let length: Int
        // The allowed range of the second byte (RFC 3629, section 4), which excludes
        // overlong forms, surrogates and values past U+10FFFF.
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default:
            throw FileFormatError(
                .invalidUTF8, "invalid UTF-8 lead byte \(DecimalLiteral.describe(lead))",
                byteOffset: start)
        }
        guard start + length <= bytes.count else {
            throw FileFormatError(.invalidUTF8, "truncated UTF-8 sequence", byteOffset: start)
        }
        guard secondRange.contains(bytes[start + 1]) else {
            throw FileFormatError(.invalidUTF8, "invalid UTF-8 sequence", byteOffset: start)
        }
        for index in (start + 2)..<(start + length) where bytes[index] & 0xC0 != 0x80 {
            throw FileFormatError(.invalidUTF8, "invalid UTF-8 sequence", byteOffset: start)
        }
        return start + length
    }

    /// Checks that all of `bytes[range]` is valid UTF-8; returns the offset of the first
    /// invalid sequence, or `nil`.
    static func firstInvalidUTF8(_ bytes: Span<UInt8>, _ range: Range<Int>) -> Int? {
        var index = range.lowerBound
        while index < range.upperBound {
            if bytes[index] < 0x80 {
                index += 1
                continue
            }
            do {
                // Validate within the range only: a sequence must not run past its end.
                let end = try validateUTF8Sequence(bytes.extracting(..<range.upperBound), at: index)
                index = end
            } catch {
                return index
            }
        }
        return nil
    }

    /// The (already validated) UTF-8 bytes in `range` as a string.
    static func string(from bytes: Span<UInt8>, _ range: Range<Int>) -> String {
        // Safety: the buffer pointer is used only inside the closure, while the span is alive.
        unsafe bytes.extracting(range).withUnsafeBufferPointer { buffer in
            unsafe String(decoding: buffer, as: UTF8.self)
        }
    }
}
