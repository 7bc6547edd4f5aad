/// A condition on a record's metadata: the syntax tree every filter becomes.
///
/// Build a filter from text with ``parse(_:)``, or in Swift with ``Field``:
///
/// ```swift
/// let a = try Filter.parse(#"section == "libs" and size < 1000"#)
/// let b = Field("section") == "libs" && Field("size") < 1000
/// // a == b
/// ```
///
/// A filter names fields but does not know their types; ``validated(against:)`` checks it
/// against a collection's schema and converts its literals to the field types.
///
/// ## Semantics
///
/// - A predicate (``comparison(field:op:value:)``, ``oneOf(field:values:)``,
///   ``contains(field:value:)``, ``range(field:lower:lowerInclusive:upper:upperInclusive:)``)
///   matches the records whose field is present and satisfies it. A record without the field
///   matches no predicate on it.
/// - `!=` is defined as `not (==)`: `arch != "all"` matches every record whose `arch` is
///   present and different, and every record that has no `arch`.
/// - ``not(_:)`` complements against all live records, so `not size < 10` matches records
///   without `size` as well as those with `size >= 10`.
/// - ``and(_:)`` of no filters matches every record; ``or(_:)`` of no filters matches none.
/// - Strings compare by their UTF-8 bytes (which is Unicode scalar order); int64 and double
///   compare numerically; a range whose lower bound exceeds its upper bound matches nothing.
///
/// ## Text form
///
/// ``description`` prints a filter in the syntax ``parse(_:)`` reads, and
/// `Filter.parse(filter.description) == filter` holds for every filter in canonical form:
/// each ``and(_:)`` and ``or(_:)`` has at least two operands (the parser and the `&&` and `||`
/// operators never build fewer), every double is finite (NaN never equals itself), and the
/// nesting of parentheses and `not` stays within ``maximumDepth``. A filter outside that form
/// still prints as an equivalent filter.
public indirect enum Filter: Sendable, Hashable {
    /// Matches records whose `field` is present and compares true against `value`,
    /// except `!=`, which also matches records without `field`.
    ///
    /// Text: `size < 1000`, `section == "libs"`, `arch != "all"`.
    case comparison(field: String, op: ComparisonOperator, value: MetadataValue)

    /// Matches records whose `field` is present and equal to one of `values`.
    ///
    /// Text: `priority in ["required", "important"]`. No values matches nothing.
    case oneOf(field: String, values: [MetadataValue])

    /// Matches records whose string-list `field` holds `value`.
    ///
    /// Text: `tags contains "gpu"`.
    case contains(field: String, value: String)

    /// Matches records whose `field` is present and lies between the bounds; a `nil` bound is
    /// no bound, and its inclusive flag is ignored (it is kept only so the text round trips).
    ///
    /// Text: `size between 3 and 7` (both bounds inclusive), or a chain with `<` and `<=`
    /// in which `*` stands for no bound: `0 <= size < 10`, `0.5 < score`, `* < size <= 7`.
    case range(
        field: String,
        lower: MetadataValue?,
        lowerInclusive: Bool,
        upper: MetadataValue?,
        upperInclusive: Bool
    )

    /// Matches records that every operand matches; no operands matches every record.
    ///
    /// Text: `a and b`, or `a && b`.
    case and([Filter])

    /// Matches records that at least one operand matches; no operands matches nothing.
    ///
    /// Text: `a or b`, or `a || b`.
    case or([Filter])

    /// Matches every live record that the operand does not match.
    ///
    /// Text: `not a`, or `!a`.
    case not(Filter)

    /// Matches every live record.
    ///
    /// Text: `true`; its negation prints as `false`.
    case all

    /// The names of all the fields the filter refers to.
    ///
    /// - Complexity: O(n) in the number of nodes.
    public var fields: Set<String> {
        var names: Set<String> = []
        collectFields(into: &names)
        return names
    }

    private func collectFields(into names: inout Set<String>) {
        switch self {
        case .comparison(let field, _, _), .oneOf(let field, _), .contains(let field, _),
            .range(let field, _, _, _, _):
            names.insert(field)
        case .and(let operands), .or(let operands):
            for operand in operands { operand.collectFields(into: &names) }
        case .not(let operand):
            operand.collectFields(into: &names)
        case .all:
            break
        }
    }
}

/// The operator of a ``Filter/comparison(field:op:value:)``; its raw value is its text form.
public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    /// `==`: the field is present and equal to the value.
    case equal = "=="
    /// `!=`: defined as `not (==)`, so records without the field match.
    case notEqual = "!="
    /// `<`: the field is present and less than the value.
    case less = "<"
    /// `<=`: the field is present and less than or equal to the value.
    case lessOrEqual = "<="
    /// `>`: the field is present and greater than the value.
    case greater = ">"
    /// `>=`: the field is present and greater than or equal to the value.
    case greaterOrEqual = ">="

    /// Whether the operator orders values (`<`, `<=`, `>`, `>=`) rather than tests equality.
    public var isOrdering: Bool {
        switch self {
        case .equal, .notEqual: false
        case .less, .lessOrEqual, .greater, .greaterOrEqual: true
        }
    }
}
