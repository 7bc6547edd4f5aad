/// The type of a metadata field, declared in a collection's schema.
///
/// Changing a raw value breaks stores: the raw values are written into the stored schema.
public enum FieldType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A UTF-8 string.
    case string
    /// A signed 64-bit integer.
    case int64
    /// A 64-bit IEEE 754 floating-point number.
    case double
    /// A Boolean.
    case bool
    /// A list of UTF-8 strings; filters test membership with `contains`.
    case stringList
}

/// One metadata value of a record, or a literal in a filter.
public enum MetadataValue: Sendable, Hashable {
    /// A UTF-8 string.
    case string(String)
    /// A signed 64-bit integer.
    case int64(Int64)
    /// A 64-bit floating-point number.
    case double(Double)
    /// A Boolean.
    case bool(Bool)
    /// A list of strings.
    case stringList([String])

    /// The field type this value belongs to.
    public var type: FieldType {
        switch self {
        case .string: .string
        case .int64: .int64
        case .double: .double
        case .bool: .bool
        case .stringList: .stringList
        }
    }
}

extension MetadataValue: ExpressibleByStringLiteral {
    /// Creates a string value from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension MetadataValue: ExpressibleByIntegerLiteral {
    /// Creates an integer value from a literal.
    public init(integerLiteral value: Int64) { self = .int64(value) }
}

extension MetadataValue: ExpressibleByFloatLiteral {
    /// Creates a floating-point value from a literal.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension MetadataValue: ExpressibleByBooleanLiteral {
    /// Creates a Boolean value from a literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension MetadataValue: ExpressibleByArrayLiteral {
    /// Creates a string list from a literal.
    public init(arrayLiteral elements: String...) { self = .stringList(elements) }
}

extension MetadataValue: CustomStringConvertible {
    /// The value as it is written in the filter text syntax.
    public var description: String {
        switch self {
        case .string(let s): return quoted(s)
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .stringList(let list): return "[" + list.map(quoted).joined(separator: ", ") + "]"
        }
    }
}

/// Quotes a string for the filter syntax and JSON: backslash, quote and control characters escaped.
func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
