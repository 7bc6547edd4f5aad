/// A metadata field named in a filter built in Swift.
///
/// Comparing a field with a value makes a ``Filter``; literals become ``MetadataValue``s, and
/// `&&`, `||` and `!` combine filters. The result is the tree ``Filter/parse(_:)`` makes from
/// the same condition written as text:
///
/// ```swift
/// let filter = Field("section") == "libs" && Field("size") < 1000
/// // == try Filter.parse(#"section == "libs" and size < 1000"#)
/// ```
public struct Field: Sendable {
    /// The field's name.
    public let name: String

    /// Names a field.
    ///
    /// - Parameter name: The field's name, as declared in the collection's schema.
    public init(_ name: String) {
        self.name = name
    }

    /// Matches records whose field is present and equal to `value`.
    public static func == (field: Field, value: MetadataValue) -> Filter {
        .comparison(field: field.name, op: .equal, value: value)
    }

    /// Matches records whose field is absent or different from `value`.
    public static func != (field: Field, value: MetadataValue) -> Filter {
        .comparison(field: field.name, op: .notEqual, value: value)
    }

    /// Matches records whose field is present and less than `value`.
    public static func < (field: Field, value: MetadataValue) -> Filter {
        .comparison(field: field.name, op: .less, value: value)
    }

    /// Matches records whose field is present and less than or equal to `value`.
    public static func <= (field: Field, value: MetadataValue) -> Filter {
        .comparison(field: field.name, op: .lessOrEqual, value: value)
    }

    /// Matches records whose field is present and greater than `value`.
    public static func > (field: Field, value: MetadataValue) -> Filter {
        .comparison(field: field.name, op: .greater, value: value)
    }

    /// Matches records whose field is present and greater than or equal to `value`.
    public static func >= (field: Field, value: MetadataValue) -> Filter {
        .comparison(field: field.name, op: .greaterOrEqual, value: value)
    }

    /// Matches records whose field is present and equal to one of `values`; text: `field in
    /// [...]`.
    ///
    /// - Parameter values: The values to match; none matches nothing.
    /// - Returns: The filter `field in [values]`.
    public func isIn(_ values: [MetadataValue]) -> Filter {
        .oneOf(field: name, values: values)
    }

    /// Matches records whose string-list field holds `string`; text: `field contains "..."`.
    public func contains(_ string: String) -> Filter {
        .contains(field: name, value: string)
    }

    /// Matches records whose field is present and within `lower...upper`, both included; text:
    /// `field between lower and upper`.
    public func between(_ lower: MetadataValue, _ upper: MetadataValue) -> Filter {
        .range(field: name, lower: lower, lowerInclusive: true, upper: upper, upperInclusive: true)
    }

    /// Matches records whose int64 field is present and within `range`, both ends included.
    public func `in`(_ range: ClosedRange<Int64>) -> Filter {
        between(.int64(range.lowerBound), .int64(range.upperBound))
    }

    /// Matches records whose int64 field is present and within `range`, its upper bound
    /// excluded; text: `lower <= field < upper`.
    public func `in`(_ range: Range<Int64>) -> Filter {
        .range(
            field: name,
            lower: .int64(range.lowerBound),
            lowerInclusive: true,
            upper: .int64(range.upperBound),
            upperInclusive: false
        )
    }

    // Disfavoured so that `in(3...7)`, whose literals fit Int64 and Double alike, means Int64.
    /// Matches records whose double field is present and within `range`, both ends included.
    @_disfavoredOverload
    public func `in`(_ range: ClosedRange<Double>) -> Filter {
        between(.double(range.lowerBound), .double(range.upperBound))
    }

    /// Matches records whose double field is present and within `range`, its upper bound
    /// excluded; text: `lower <= field < upper`.
    @_disfavoredOverload
    public func `in`(_ range: Range<Double>) -> Filter {
        .range(
            field: name,
            lower: .double(range.lowerBound),
            lowerInclusive: true,
            upper: .double(range.upperBound),
            upperInclusive: false
        )
    }
}

extension Filter {
    /// Matches records that both filters match; operands that are `and`s are merged, so
    /// `a && b && c` is one `and` of three, as `a and b and c` parses.
    public static func && (lhs: Filter, rhs: Filter) -> Filter {
        .and(lhs.andOperands + rhs.andOperands)
    }

    /// Matches records that either filter matches; operands that are `or`s are merged, so
    /// `a || b || c` is one `or` of three, as `a or b or c` parses.
    public static func || (lhs: Filter, rhs: Filter) -> Filter {
        .or(lhs.orOperands + rhs.orOperands)
    }

    /// Matches every live record that `operand` does not match.
    public static prefix func ! (operand: Filter) -> Filter {
        .not(operand)
    }

    private var andOperands: [Filter] {
        if case .and(let operands) = self { operands } else { [self] }
    }

    private var orOperands: [Filter] {
        if case .or(let operands) = self { operands } else { [self] }
    }
}
