import Quiver

/// The libFuzzer entry point for the filter parser and validator.
///
/// Decodes the input as UTF-8 (invalid bytes become U+FFFD) and parses it. Whatever the input,
/// parsing must return or throw, never trap or exhaust the stack. A filter that parses must
/// print as text that parses back to the same filter, and, validated against a schema that
/// gives each of its fields a type picked from the field's name, must validate to a filter
/// that also round trips and validates to itself. A broken promise traps: it is a bug.
///
/// - Parameters:
///   - start: The input's first byte.
///   - count: The number of input bytes.
/// - Returns: 0, as libFuzzer requires.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // Safety: libFuzzer passes `count` readable bytes at `start`, valid during this call.
    let bytes = unsafe UnsafeRawBufferPointer(start: start, count: count)
    let text = unsafe String(decoding: bytes, as: UTF8.self)
    guard let parsed = try? Filter.parse(text) else { return 0 }
    checkRoundTrip(parsed, input: text)

    var schema: [String: FieldType] = [:]
    for field in parsed.fields {
        let types = FieldType.allCases
        schema[field] = types[field.utf8.count % types.count]
    }
    guard let validated = try? parsed.validated(against: schema) else { return 0 }
    checkRoundTrip(validated, input: text)
    guard (try? validated.validated(against: schema)) == validated else {
        preconditionFailure("validation is not idempotent for \(validated) (input \(text))")
    }
    return 0
}

/// Traps unless `filter.description` parses back to `filter`.
private func checkRoundTrip(_ filter: Filter, input: String) {
    let printed = filter.description
    do {
        let reparsed = try Filter.parse(printed)
        guard reparsed == filter else {
            preconditionFailure(
                "round trip changed the filter\ninput: \(input)\nprinted: \(printed)\n"
                    + "reparsed: \(reparsed)"
            )
        }
    } catch {
        preconditionFailure("printed filter does not parse\ninput: \(input)\n\(error)")
    }
}
