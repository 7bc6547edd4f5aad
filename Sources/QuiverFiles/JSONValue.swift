/// A JSON value, as read from JSON Lines metadata and written back on export.
///
/// Numbers keep the distinction JSON text makes in practice: an integer literal that fits
/// `Int64` is ``int(_:)``, every other number is ``double(_:)``. Objects are unordered
/// dictionaries; ``serialized()`` sorts their keys so that output is stable.
///
/// ```swift
/// let value = try JSONParser.parse(Array(#"{"section": "libs", "size": 12}"#.utf8))
/// value["section"]  // .string("libs")
/// value.serialized()  // {"section":"libs","size":12}
/// ```
public enum JSONValue: Sendable, Equatable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer literal (no fraction, no exponent) that fits `Int64`.
    case int(Int64)
    /// Any other number. Always finite when it comes from ``JSONParser``.
    case double(Double)
    /// A string, with escapes decoded.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object. Keys are unique (the parser rejects duplicates).
    case object([String: JSONValue])

    /// The member named `key` when this is an object that has it; `nil` otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Returns the compact JSON text of this value, with object keys sorted by their UTF-8
    /// bytes, so equal values always give equal text.
    ///
    /// Doubles are written in the shortest form that reads back to the same value (Swift's
    /// `description`, such as `0.1` or `1e-05`); a non-finite double, which JSON cannot
    /// express, is written as `null`. Strings escape `"`, `\` and control characters and keep
    /// other characters as UTF-8.
    ///
    /// - Returns: The JSON text, without a trailing newline.
    /// - Complexity: O(n log n) in the number of object members, for the sorting.
    public func serialized() -> String {
        var bytes: [UInt8] = []
        serialize(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the compact JSON text of this value to `output` (see ``serialized()``).
    ///
    /// - Parameter output: The buffer to append the UTF-8 text to.
    public func serialize(into output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: JSONValue.nullBytes)
        case .bool(let value):
            output.append(contentsOf: value ? JSONValue.trueBytes : JSONValue.falseBytes)
        case .int(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value): JSONValue.appendNumber(value, to: &output)
        case .string(let value): JSONValue.appendString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.serialize(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            JSONValue.appendObject(members, to: &output)
        }
    }

    /// Appends `members` as a JSON object with keys in UTF-8 byte order.
    static func appendObject(_ members: [String: JSONValue], to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        // Sorting by UTF-8 bytes (not by String's Unicode ordering) makes the order the same
        // as `sort_keys=True` in Python for ASCII keys and stable across platforms.
        let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            appendString(key, to: &output)
            output.append(UInt8(ascii: ":"))
            members[key]!.serialize(into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Appends a double in shortest round-trip form, or `null` when it is not finite.
    static func appendNumber(_ value: Double, to output: inout [UInt8]) {
        guard value.isFinite else {
            output.append(contentsOf: nullBytes)
            return
        }
        output.append(contentsOf: value.description.utf8)
    }

    /// Appends a float in shortest round-trip form (as a float), or `null` when not finite.
    static func appendNumber(_ value: Float, to output: inout [UInt8]) {
        guard value.isFinite else {
            output.append(contentsOf: nullBytes)
            return
        }
        output.append(contentsOf: value.description.utf8)
    }

    /// Appends `value` as a quoted JSON string.
    static func appendString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x00..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
}
