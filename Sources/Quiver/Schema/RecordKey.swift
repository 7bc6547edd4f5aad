/// The user's key of a record: a `UInt64` or a `String`, fixed per collection.
///
/// Internally every record also has a dense row number; the key is what the user sees.
public enum RecordKey: Hashable, Sendable, CustomStringConvertible {
    /// An unsigned integer key.
    case int(UInt64)
    /// A UTF-8 string key of 1 to 400 bytes.
    case string(String)

    /// The key's kind.
    public var kind: KeyKind {
        switch self {
        case .int: .uint64
        case .string: .string
        }
    }

    /// The key as text: digits for integers, a quoted string otherwise.
    public var description: String {
        switch self {
        case .int(let i): String(i)
        case .string(let s): quoted(s)
        }
    }
}

extension RecordKey: ExpressibleByIntegerLiteral {
    /// Creates an integer key from a literal.
    public init(integerLiteral value: UInt64) { self = .int(value) }
}

extension RecordKey: ExpressibleByStringLiteral {
    /// Creates a string key from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

/// Which kind of key a collection uses.
///
/// Changing a raw value breaks stores.
public enum KeyKind: String, Sendable, Hashable, Codable {
    /// `UInt64` keys.
    case uint64
    /// String keys.
    case string
}
