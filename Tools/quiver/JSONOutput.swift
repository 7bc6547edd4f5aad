import Quiver
import QuiverFiles

/// A JSON value for the tool's output: objects keep their key order so that summaries read
/// in a fixed, documented order (docs/cli.md), which `JSONValue` (sorted keys) does not.
enum JSONOutput {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case float(Float)
    case string(String)
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    static func number(_ value: Int) -> JSONOutput { .int(Int64(value)) }

    /// Rounds to `places` decimals so that rates and timings print readably.
    static func rounded(_ value: Double, _ places: Int = 3) -> JSONOutput {
        guard value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return .double((value * scale).rounded() / scale)
    }

    /// Compact JSON text; with `indent`, one member per line.
    func rendered(indent: Int? = nil) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: Int?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .double(let d):
            if !d.isFinite {
                out += "null"
            } else if d == d.rounded(), abs(d) < 1e15 {
                out += String(Int64(d)) + ".0"
            } else {
                out += "\(d)"
            }
        case .float(let f): out += f.isFinite ? "\(f)" : "null"
        case .string(let s): out += jsonQuoted(s)
        case .array(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 {
                    out += indent == nil ? ", " : ",\n"
                } else if indent != nil {
                    out += "\n"
                }
                if let indent { out += String(repeating: " ", count: indent * (level + 1)) }
                item.write(to: &out, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: " ", count: indent * level) }
            out += "]"
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 {
                    out += indent == nil ? ", " : ",\n"
                } else if indent != nil {
                    out += "\n"
                }
                if let indent { out += String(repeating: " ", count: indent * (level + 1)) }
                out += jsonQuoted(key) + ": "
                value.write(to: &out, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: " ", count: indent * level) }
            out += "}"
        }
    }
}

extension JSONOutput {
    init(_ key: RecordKey) {
        switch key {
        case .int(let i): self = .uint(i)
        case .string(let s): self = .string(s)
        }
    }

    init(_ value: MetadataValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .int64(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .stringList(let list): self = .array(list.map { .string($0) })
        }
    }

    /// Metadata as an object with fields in the schema's order.
    init(_ metadata: [String: MetadataValue], schema: CollectionSchema) {
        var members: [(String, JSONOutput)] = []
        for field in schema.fields {
            if let value = metadata[field.name] { members.append((field.name, JSONOutput(value))) }
        }
        self = .object(members)
    }
}

/// `s` as a JSON string literal (QuiverFiles' serializer: one escaping rule everywhere).
func jsonQuoted(_ s: String) -> String {
    JSONValue.string(s).serialized()
}

/// Prints a JSON document on stdout, indented by two spaces.
func printJSON(_ value: JSONOutput) {
    print(value.rendered(indent: 2))
}
