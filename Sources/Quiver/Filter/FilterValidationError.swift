/// Why a filter does not fit a collection's schema.
///
/// Thrown by ``Filter/validated(against:)``; ``code`` says what kind of mismatch it is,
/// ``field`` and ``expected`` say where, and ``message`` says what to write instead.
public struct FilterValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A kind of validation error; codes may be added in later versions.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String {
            case unknownField, typeMismatch, unsupportedOperator, invalidValue
        }

        private let value: Value

        private init(_ value: Value) {
            self.value = value
        }

        /// The filter names a field the schema does not declare.
        public static let unknownField = Code(.unknownField)
        /// A literal's type does not fit the field's type and cannot be converted exactly,
        /// such as a string compared with an int64 field, or `size == 2.5` on an int64 field.
        public static let typeMismatch = Code(.typeMismatch)
        /// The operator does not apply to the field's type, such as `contains` on a string
        /// field, `<` on a bool field, or `==` on a string-list field.
        public static let unsupportedOperator = Code(.unsupportedOperator)
        /// A literal no field value can be compared with: a NaN or infinite double.
        public static let invalidValue = Code(.invalidValue)

        /// The code's name, such as `typeMismatch`.
        public var description: String { value.rawValue }
    }

    /// What kind of mismatch this is.
    public let code: Code
    /// The field the mismatch is on.
    public let field: String
    /// The field's type in the schema, or `nil` if the schema does not declare the field.
    public let expected: FieldType?
    /// What is wrong and what to write instead.
    public let message: String

    init(_ code: Code, field: String, expected: FieldType?, _ message: String) {
        self.code = code
        self.field = field
        self.expected = expected
        self.message = message
    }

    /// The code and the message.
    public var description: String { "\(code): \(message)" }
}
