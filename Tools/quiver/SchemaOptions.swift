import ArgumentParser
import Foundation
import Quiver

/// The vector kinds `--kind` accepts.
enum VectorKindName: String, ExpressibleByArgument, CaseIterable {
    case float32, binary, matryoshka
    case multiVector = "multivector"
}

/// The metrics `--metric` accepts.
enum MetricName: String, ExpressibleByArgument, CaseIterable {
    case cosine, dot, l2, hamming

    var metric: Metric {
        switch self {
        case .cosine: .cosine
        case .dot: .dot
        case .l2: .l2
        case .hamming: .hamming
        }
    }
}

/// The key kinds `--key` accepts.
enum KeyKindName: String, ExpressibleByArgument, CaseIterable {
    case uint64, string
}

/// The options that describe a new collection; shared by `create` and `import --create`.
struct SchemaOptions: ParsableArguments {
    @Option(
        help: "Components per vector (bits for binary). `import --create` reads it from the file."
    )
    var dimensions: Int?

    @Option(help: "What each record stores.")
    var kind: VectorKindName = .float32

    @Option(
        help: ArgumentHelp(
            "Matryoshka prefix sizes, ascending, comma-separated.",
            valueName: "64,128,256"
        )
    )
    var prefixes: String?

    @Flag(help: "Binary collections: keep the float vectors too, for rescoring.")
    var keepFloats = false

    @Option(help: "Multi-vector collections: pool each document's tokens to about 1/N of them at ingest (1 keeps every token).")
    var poolFactor: Int?

    @Option(help: "Multi-vector collections: leading tokens kept as they are when pooling (the [CLS] position).")
    var protectedTokens: Int?

    @Option(help: "The distance metric (hamming for binary vectors without kept floats).")
    var metric: MetricName?

    @Option(help: "The kind of record key.")
    var key: KeyKindName = .uint64

    @Option(
        name: .customLong("field"),
        help: ArgumentHelp(
            "A metadata field, repeatable. Types: string, int64, double, bool, stringList; `:nofilter` makes it not filterable.",
            valueName: "name:type[:nofilter]"
        )
    )
    var fields: [String] = []

    /// The schema these options describe; `inferredDimensions` stands in for `--dimensions`.
    func schema(inferredDimensions: Int? = nil) throws -> CollectionSchema {
        guard let dimensions = dimensions ?? inferredDimensions else {
            throw UsageError("--dimensions is required")
        }
        if let inferredDimensions, let dimensions = self.dimensions,
            dimensions != inferredDimensions
        {
            throw UsageError(
                "--dimensions \(dimensions) differs from the file's \(inferredDimensions)"
            )
        }
        guard let metric else {
            throw UsageError(
                "--metric is required (cosine, dot, l2, or hamming for binary vectors)"
            )
        }
        let vectors: VectorKind
        switch kind {
        case .float32:
            vectors = .float32(dimensions: dimensions)
        case .binary:
            vectors = .binary(dimensions: dimensions, keepsFloats: keepFloats)
        case .matryoshka:
            guard let prefixes else {
                throw UsageError("--kind matryoshka needs --prefixes, such as 64,128,256")
            }
            vectors = .matryoshka(
                dimensions: dimensions,
                prefixes: try Self.parsePrefixes(prefixes)
            )
        case .multiVector:
            vectors = .multiVector(dimensions: dimensions, poolFactor: poolFactor ?? 1, protectedTokens: protectedTokens ?? 1)
        }
        if kind != .multiVector, poolFactor != nil || protectedTokens != nil {
            throw UsageError("--pool-factor and --protected-tokens are for --kind multivector")
        }
        if kind != .matryoshka, prefixes != nil {
            throw UsageError("--prefixes is for --kind matryoshka")
        }
        if kind != .binary, keepFloats { throw UsageError("--keep-floats is for --kind binary") }
        let schema = CollectionSchema(
            vectors: vectors,
            metric: metric.metric,
            keyKind: key == .uint64 ? .uint64 : .string,
            fields: try fields.map(Self.parseField)
        )
        try schema.validate()
        return schema
    }

    static func parsePrefixes(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { part in
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw UsageError("--prefixes: \(quote(String(part))) is not a positive integer")
            }
            return value
        }
    }

    /// Parses `name:type[:nofilter]`.
    static func parseField(_ text: String) throws -> FieldDefinition {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty else {
            throw UsageError("--field \(quote(text)): write name:type or name:type:nofilter")
        }
        guard let type = fieldType(parts[1]) else {
            throw UsageError(
                "--field \(quote(text)): unknown type \(quote(parts[1])); use string, int64, double, bool or stringList"
            )
        }
        var filterable = true
        if parts.count == 3 {
            switch parts[2].lowercased() {
            case "nofilter", "no-filter": filterable = false
            case "filter": filterable = true
            default:
                throw UsageError("--field \(quote(text)): the third part is `nofilter` or nothing")
            }
        }
        return FieldDefinition(parts[0], type, filterable: filterable)
    }

    static func fieldType(_ name: String) -> FieldType? {
        switch name.lowercased() {
        case "string", "str", "text": .string
        case "int64", "int", "integer": .int64
        case "double", "float", "float64", "number": .double
        case "bool", "boolean": .bool
        case "stringlist", "string-list", "string_list", "strings", "list", "tags": .stringList
        default: nil
        }
    }
}

/// `text` in double quotes, for messages.
func quote(_ text: String) -> String { jsonQuoted(text) }

/// A schema in one line: `float32 × 384, cosine, uint64 keys, fields section:string …`.
func describe(_ schema: CollectionSchema) -> String {
    let vectors: String
    switch schema.vectors {
    case .float32(let d): vectors = "float32 × \(d)"
    case .binary(let d, let keeps): vectors = "binary × \(d) bits" + (keeps ? " (floats kept)" : "")
    case .matryoshka(let d, let prefixes):
        vectors = "matryoshka × \(d) (prefixes \(prefixes.map(String.init).joined(separator: ",")))"
    case .multiVector(let d, let poolFactor, let protectedTokens):
        vectors = "multivector × \(d) per token (pool factor \(poolFactor), \(protectedTokens) protected)"
    }
    var text = "\(vectors), \(schema.metric.rawValue), \(schema.keyKind.rawValue) keys"
    if !schema.fields.isEmpty {
        text +=
            ", fields "
            + schema.fields.map {
                "\($0.name):\($0.type.rawValue)" + ($0.filterable ? "" : ":nofilter")
            }.joined(separator: " ")
    }
    return text
}

/// The schema as JSON (the shape `inspect --json` prints).
func schemaJSON(_ schema: CollectionSchema) -> JSONOutput {
    var members: [(String, JSONOutput)] = []
    switch schema.vectors {
    case .float32(let d):
        members += [("kind", .string("float32")), ("dimensions", .number(d))]
    case .binary(let d, let keeps):
        members += [
            ("kind", .string("binary")), ("dimensions", .number(d)), ("keeps_floats", .bool(keeps)),
        ]
    case .matryoshka(let d, let prefixes):
        members += [
            ("kind", .string("matryoshka")), ("dimensions", .number(d)),
            ("prefixes", .array(prefixes.map { .number($0) })),
        ]
    case .multiVector(let d, let poolFactor, let protectedTokens):
        members += [
            ("kind", .string("multivector")), ("dimensions", .number(d)),
            ("pool_factor", .number(poolFactor)), ("protected_tokens", .number(protectedTokens)),
        ]
    }
    members.append(("metric", .string(schema.metric.rawValue)))
    members.append(("key", .string(schema.keyKind.rawValue)))
    members.append(
        (
            "fields",
            .array(
                schema.fields.map {
                    .object([
                        ("name", .string($0.name)), ("type", .string($0.type.rawValue)),
                        ("filterable", .bool($0.filterable)),
                    ])
                }
            )
        )
    )
    return .object(members)
}
