extension Filter {
    /// Checks the filter against a schema and returns it with its literals converted to the
    /// types of their fields.
    ///
    /// Each field must be declared, and each operator must fit its field's type:
    ///
    /// | field type   | operators                                                  |
    /// |--------------|------------------------------------------------------------|
    /// | `string`     | `==` `!=` `<` `<=` `>` `>=` `in` `between`, chains          |
    /// | `int64`      | `==` `!=` `<` `<=` `>` `>=` `in` `between`, chains          |
    /// | `double`     | `==` `!=` `<` `<=` `>` `>=` `in` `between`, chains          |
    /// | `bool`       | `==` `!=` `in`                                              |
    /// | `stringList` | `contains`                                                  |
    ///
    /// Numbers convert exactly between int64 and double, so the converted filter matches the
    /// records the written one means:
    ///
    /// - An int64 literal on a double field becomes a double; `size == 2.0` on an int64
    ///   field becomes `size == 2`.
    /// - Equality (`==`, `!=`, `in`) with a number the field's type cannot hold exactly
    ///   (`size == 2.5` on an int64 field) throws rather than silently matching nothing.
    /// - An order or range bound moves to the nearest value the type holds, turning strict
    ///   into inclusive where needed: `size < 2.5` becomes `size <= 2`, `size > 2.5`
    ///   becomes `size >= 3`, and `size < 1e300` becomes `size <= 9223372036854775807`.
    ///
    /// The tree's shape is kept; only predicates change.
    ///
    /// ```swift
    /// let filter = try Filter.parse("size < 2.5").validated(against: ["size": .int64])
    /// // filter == .comparison(field: "size", op: .lessOrEqual, value: .int64(2))
    /// ```
    ///
    /// - Parameter schema: Each field's declared type.
    /// - Returns: The filter with every literal of its field's type.
    /// - Throws: ``FilterValidationError`` for the first predicate, depth first, that does
    ///   not fit: ``FilterValidationError/Code/unknownField``,
    ///   ``FilterValidationError/Code/typeMismatch``,
    ///   ``FilterValidationError/Code/unsupportedOperator`` or
    ///   ``FilterValidationError/Code/invalidValue`` (a NaN or infinite double).
    /// - Complexity: O(n) in the size of the filter.
    public func validated(
        against schema: [String: FieldType]
    ) throws(FilterValidationError) -> Filter {
        switch self {
        case .comparison(let field, let op, let value):
            let check = try FieldCheck(field, schema)
            switch op {
            case .equal, .notEqual:
                try check.requireEquality(op.rawValue)
                return .comparison(field: field, op: op, value: try check.equalityValue(value))
            case .less, .lessOrEqual:
                try check.requireOrdering(op.rawValue)
                let (bound, inclusive) = try check.upperBound(value, inclusive: op == .lessOrEqual)
                return .comparison(
                    field: field,
                    op: inclusive ? .lessOrEqual : .less,
                    value: bound
                )
            case .greater, .greaterOrEqual:
                try check.requireOrdering(op.rawValue)
                let (bound, inclusive) = try check.lowerBound(
                    value,
                    inclusive: op == .greaterOrEqual
                )
                return .comparison(
                    field: field,
                    op: inclusive ? .greaterOrEqual : .greater,
                    value: bound
                )
            }
        case .oneOf(let field, let values):
            let check = try FieldCheck(field, schema)
            try check.requireEquality("in")
            var converted: [MetadataValue] = []
            for value in values { converted.append(try check.equalityValue(value)) }
            return .oneOf(field: field, values: converted)
        case .contains(let field, let value):
            let check = try FieldCheck(field, schema)
            guard check.type == .stringList else {
                throw check.failure(
                    .unsupportedOperator,
                    "`contains` applies only to stringList fields, and `\(field)` is "
                        + "\(check.type.rawValue): write `\(identifierText(field)) == "
                        + "\(quoted(value))`"
                )
            }
            return self
        case .range(let field, let lower, let lowerInclusive, let upper, let upperInclusive):
            let check = try FieldCheck(field, schema)
            try check.requireOrdering("a range")
            var newLower: MetadataValue? = nil
            var newLowerInclusive = lowerInclusive
            if let lower {
                (newLower, newLowerInclusive) = try check.lowerBound(
                    lower,
                    inclusive: lowerInclusive
                )
            }
            var newUpper: MetadataValue? = nil
            var newUpperInclusive = upperInclusive
            if let upper {
                (newUpper, newUpperInclusive) = try check.upperBound(
                    upper,
                    inclusive: upperInclusive
                )
            }
            return .range(
                field: field,
                lower: newLower,
                lowerInclusive: newLowerInclusive,
                upper: newUpper,
                upperInclusive: newUpperInclusive
            )
        case .and(let operands):
            var converted: [Filter] = []
            for operand in operands { converted.append(try operand.validated(against: schema)) }
            return .and(converted)
        case .or(let operands):
            var converted: [Filter] = []
            for operand in operands { converted.append(try operand.validated(against: schema)) }
            return .or(converted)
        case .not(let operand):
            return .not(try operand.validated(against: schema))
        case .all:
            return .all
        }
    }
}

/// A field and its declared type, with the conversions of literals to that type.
private struct FieldCheck {
    let field: String
    let type: FieldType

    init(_ field: String, _ schema: [String: FieldType]) throws(FilterValidationError) {
        guard let type = schema[field] else {
            throw FilterValidationError(
                .unknownField,
                field: field,
                expected: nil,
                "unknown field `\(field)`: the schema declares "
                    + (schema.isEmpty
                        ? "no fields"
                        : schema.keys.sorted().map { "`\($0)`" }.joined(separator: ", "))
            )
        }
        self.field = field
        self.type = type
    }

    func failure(_ code: FilterValidationError.Code, _ message: String) -> FilterValidationError {
        FilterValidationError(code, field: field, expected: type, message)
    }

    func requireEquality(_ op: String) throws(FilterValidationError) {
        guard type != .stringList else {
            throw failure(
                .unsupportedOperator,
                "`\(op)` does not apply to the stringList field `\(field)`: write "
                    + "`\(identifierText(field)) contains \"...\"`"
            )
        }
    }

    func requireOrdering(_ op: String) throws(FilterValidationError) {
        switch type {
        case .string, .int64, .double: return
        case .bool:
            throw failure(
                .unsupportedOperator,
                "\(op) does not apply to the bool field `\(field)`: use `==`, `!=` or `in`"
            )
        case .stringList:
            try requireEquality(op)
        }
    }

    private func mismatch(_ value: MetadataValue) -> FilterValidationError {
        failure(
            .typeMismatch,
            "`\(field)` is \(type.rawValue), but \(value) is \(value.type.rawValue)"
        )
    }

    private func requireFinite(_ value: MetadataValue) throws(FilterValidationError) {
        if case .double(let double) = value, !double.isFinite {
            throw failure(
                .invalidValue,
                "`\(field)` cannot be compared with \(double): it is not finite"
            )
        }
    }

    /// `value` as a value of the field's type that equals exactly the same records.
    func equalityValue(_ value: MetadataValue) throws(FilterValidationError) -> MetadataValue {
        try requireFinite(value)
        switch (type, value) {
        case (.string, .string), (.int64, .int64), (.double, .double), (.bool, .bool):
            return value
        case (.int64, .double(let double)):
            // Not `Int64(exactly:)`, which needs libm (see `truncated(_:)`).
            let (integer, isWhole) =
                double >= -0x1p63 && double < 0x1p63 ? truncated(double) : (0, false)
            guard isWhole else {
                throw failure(
                    .typeMismatch,
                    "`\(field)` is int64, and \(double) is not an int64, so no record can equal "
                        + "it; compare with a whole number"
                )
            }
            return .int64(integer)
        case (.double, .int64(let integer)):
            guard let double = Double(exactly: integer) else {
                let (below, above) = doubleNeighbours(of: integer)
                throw failure(
                    .typeMismatch,
                    "`\(field)` is double, and \(integer) lies between the doubles \(below) and "
                        + "\(above), so no record can equal it"
                )
            }
            return .double(double)
        default:
            throw mismatch(value)
        }
    }

    /// The bound that admits exactly the field values `v` with `v > value` (or `>=` if
    /// `inclusive`), and whether it is inclusive.
    func lowerBound(
        _ value: MetadataValue,
        inclusive: Bool
    ) throws(FilterValidationError) -> (MetadataValue, Bool) {
        try requireFinite(value)
        switch (type, value) {
        case (.string, .string), (.int64, .int64), (.double, .double):
            return (value, inclusive)
        case (.int64, .double(let double)):
            if double >= 0x1p63 { return (.int64(.max), false) }  // no int64 is above
            if double < -0x1p63 { return (.int64(.min), true) }  // every int64 is above
            let (whole, isWhole) = truncated(double)
            if isWhole { return (.int64(whole), inclusive) }
            // Safe: `whole + 1` cannot overflow, as a double with a fraction is below 2^53.
            return (.int64(double > 0 ? whole + 1 : whole), true)  // the ceiling
        case (.double, .int64(let integer)):
            if let double = Double(exactly: integer) { return (.double(double), inclusive) }
            return (.double(doubleNeighbours(of: integer).above), true)
        default:
            throw mismatch(value)
        }
    }

    /// The bound that admits exactly the field values `v` with `v < value` (or `<=` if
    /// `inclusive`), and whether it is inclusive.
    func upperBound(
        _ value: MetadataValue,
        inclusive: Bool
    ) throws(FilterValidationError) -> (MetadataValue, Bool) {
        try requireFinite(value)
        switch (type, value) {
        case (.string, .string), (.int64, .int64), (.double, .double):
            return (value, inclusive)
        case (.int64, .double(let double)):
            if double < -0x1p63 { return (.int64(.min), false) }  // no int64 is below
            if double >= 0x1p63 { return (.int64(.max), true) }  // every int64 is below
            let (whole, isWhole) = truncated(double)
            if isWhole { return (.int64(whole), inclusive) }
            // Safe: `whole - 1` cannot overflow, as a double with a fraction is above -2^53.
            return (.int64(double < 0 ? whole - 1 : whole), true)  // the floor
        case (.double, .int64(let integer)):
            if let double = Double(exactly: integer) { return (.double(double), inclusive) }
            return (.double(doubleNeighbours(of: integer).below), true)
        default:
            throw mismatch(value)
        }
    }
}

/// The doubles just below and just above `integer`, which no double equals exactly.
private func doubleNeighbours(of integer: Int64) -> (below: Double, above: Double) {
    let nearest = Double(integer)
    return isGreater(nearest, than: integer)
        ? (nearest.nextDown, nearest) : (nearest, nearest.nextUp)
}

/// Whether the finite `double` is greater than `integer`, compared exactly.
private func isGreater(_ double: Double, than integer: Int64) -> Bool {
    if double >= 0x1p63 { return true }
    if double < -0x1p63 { return false }
    // `double` lies strictly between `whole - 1` and `whole + 1`.
    let (whole, isWhole) = truncated(double)
    return whole != integer ? whole > integer : !isWhole && double > 0
}

/// `double` rounded toward zero, and whether that lost nothing.
///
/// Conversion rather than `rounded(_:)`, which calls libm's `floor` and `ceil`: an executable
/// that links Quiver and not Foundation does not link libm on Linux.
///
/// - Precondition: `-2^63 <= double < 2^63`.
private func truncated(_ double: Double) -> (Int64, isWhole: Bool) {
    let whole = Int64(double)
    // Exact: a whole number below 2^63 in magnitude converts back to the same double.
    return (whole, Double(whole) == double)
}
