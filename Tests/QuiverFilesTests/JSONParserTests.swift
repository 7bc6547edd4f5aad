import Testing

@testable import QuiverFiles

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let text = #"""
             {"null": null, "t": true, "f": false, "int": -42, "big": 9223372036854775807,
              "double": 0.5, "exp": 1E3, "string": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00",
              "array": [1, [2, {}], []], "object": {"nested": "yes"}} 
            """#
        let value = try JSONParser.parse(text)
        #expect(value["null"] == .null)
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["int"] == .int(-42))
        #expect(value["big"] == .int(Int64.max))
        #expect(value["double"] == .double(0.5))
        #expect(value["exp"] == .double(1000))
        #expect(value["string"] == .string("a\"b\\c/d\u{8}\u{c}\n\r\té😀"))
        #expect(value["array"] == .array([.int(1), .array([.int(2), .object([:])]), .array([])]))
        #expect(value["object"] == .object(["nested": .string("yes")]))
    }

    @Test func scalarsAtTopLevel() throws {
        #expect(try JSONParser.parse("  12  ") == .int(12))
        #expect(try JSONParser.parse("\"x\"") == .string("x"))
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse("-0") == .int(0))
        #expect(try JSONParser.parse("-0.0") == .double(-0.0))
    }

    @Test func integersBeyondInt64BecomeDoubles() throws {
        #expect(try JSONParser.parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSONParser.parse("-9223372036854775809") == .double(-9223372036854775809))
        #expect(try JSONParser.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
        #expect(try JSONParser.parse("1e2") == .double(100))
    }

    @Test func hugeNumbersAreOutOfRange() throws {
        let error = expectFileError(.numberOutOfRange) { _ = try JSONParser.parse("[1, 1e400]") }
        #expect(error?.byteOffset == 4)
        #expect(error?.column == 5)
        expectFileError(.numberOutOfRange) { _ = try JSONParser.parse("-1e99999999999") }
        // Tiny numbers underflow to zero, which is representable.
        #expect(try JSONParser.parse("1e-400") == .double(0))
    }

    @Test(arguments: [
        ("", 0), ("nul", 0), ("[1,]", 3), ("[1 2]", 3), ("{\"a\" 1}", 5), ("{a:1}", 1),
        ("{\"a\":1,}", 7), ("01", 1), ("1.", 2), (".5", 0), ("+1", 0), ("1e", 2), ("-", 1),
        ("NaN", 0), ("Infinity", 0), ("-Infinity", 1), ("[1] x", 4), ("'a'", 0),
        ("\"abc", 4), ("\"\\x\"", 1), ("\"\\u12g4\"", 5), ("\"a\u{1}\"", 2), ("[", 1),
        ("{\"a\":1 /* c */}", 7), ("truex", 4), ("tru", 0),
    ])
    func rejectsInvalidJSON(text: String, offset: Int) {
        let error = expectFileError(.invalidJSON) { _ = try JSONParser.parse(text) }
        #expect(error?.byteOffset == offset, "\(text): \(String(describing: error))")
        #expect(error?.line == 1)
        #expect(error?.column == offset + 1)
    }

    @Test func reportsLineAndColumnInMultilineText() {
        let error = expectFileError(.invalidJSON) { _ = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": ?\n}") }
        #expect(error?.line == 3)
        #expect(error?.column == 8)
        #expect(error?.byteOffset == 19)
    }

    @Test func rejectsDuplicateKeys() {
        let error = expectFileError(.duplicateKey) { _ = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#) }
        #expect(error?.byteOffset == 17)
        #expect(error?.message.contains("\"a\"") == true)
    }

    @Test func limitsNesting() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let error = expectFileError(.nestingTooDeep) { _ = try JSONParser.parse(deep) }
        #expect(error?.byteOffset == 64)
        let hostile = String(repeating: "{\"a\":", count: 100_000)
        expectFileError(.nestingTooDeep) { _ = try JSONParser.parse(hostile) }
    }

    @Test(arguments: [
        ([0x22, 0xFF, 0x22], 1),  // invalid lead byte
        ([0x22, 0xC0, 0x80, 0x22], 1),  // overlong NUL
        ([0x22, 0xE0, 0x80, 0x80, 0x22], 1),  // overlong
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // encoded surrogate
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // past U+10FFFF
        ([0x22, 0x61, 0xC3, 0x22], 2),  // cut short
        ([0x22, 0x80, 0x22], 1),  // stray continuation
    ] as [([UInt8], Int)])
    func rejectsInvalidUTF8(bytes: [UInt8], offset: Int) {
        let error = expectFileError(.invalidUTF8) { _ = try JSONParser.parse(bytes) }
        #expect(error?.byteOffset == offset)
    }

    @Test func rejectsUnpairedSurrogateEscapes() throws {
        expectFileError(.invalidUTF8) { _ = try JSONParser.parse(#""\ud800""#) }
        expectFileError(.invalidUTF8) { _ = try JSONParser.parse(#""\ud800\u0041""#) }
        expectFileError(.invalidUTF8) { _ = try JSONParser.parse(#""\udc00""#) }
        #expect(try JSONParser.parse(#""\uD834\uDD1E""#) == .string("𝄞"))
    }

    @Test func acceptsValidMultibyteUTF8() throws {
        #expect(try JSONParser.parse("\"é€𝄞\"") == .string("é€𝄞"))
    }

    @Test func floatArrayFastPath() throws {
        var floats: [Float] = [9, 9, 9, 9, 9]
        try JSONParser.parseFloatArray(Array(" [0.5, -1, 3e-2, 0.10000000149011612, 1e-50 ] ".utf8), into: &floats)
        #expect(floats == [0.5, -1, 0.03, 0.1, 0])
        try JSONParser.parseFloatArray(Array("[]".utf8), into: &floats)
        #expect(floats.isEmpty)
    }

    @Test func floatArrayRejectsNonNumbers() {
        var floats: [Float] = []
        for (text, offset) in [("[1, null]", 4), ("[\"NaN\"]", 1), ("[1, NaN]", 4), ("[Infinity]", 1), ("[true]", 1)] {
            let error = expectFileError(.invalidVector) {
                try JSONParser.parseFloatArray(Array(text.utf8), into: &floats)
            }
            #expect(error?.byteOffset == offset, "\(text)")
        }
        expectFileError(.numberOutOfRange) { try JSONParser.parseFloatArray(Array("[1e39]".utf8), into: &floats) }
        expectFileError(.invalidJSON) { try JSONParser.parseFloatArray(Array("[1,]".utf8), into: &floats) }
        expectFileError(.invalidJSON) { try JSONParser.parseFloatArray(Array("[1] 2".utf8), into: &floats) }
        expectFileError(.invalidVector) { try JSONParser.parseFloatArray(Array("{}".utf8), into: &floats) }
    }

    /// Decimal to binary conversion against the standard library (strtod), which rounds
    /// correctly, on literals of every shape including halfway cases.
    @Test func conversionMatchesStandardLibrary() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        var floats: [Float] = []
        for _ in 0..<20_000 {
            let literal: String
            switch Int.random(in: 0..<5, using: &generator) {
            case 0:
                literal = Double(bitPattern: UInt64.random(in: 0...0x7FEF_FFFF_FFFF_FFFF, using: &generator)).description
            case 1:
                literal = Double(Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &generator))).description
            case 2:
                var digits = String(Int.random(in: 1...9, using: &generator))
                for _ in 0..<Int.random(in: 0...24, using: &generator) {
                    digits += String(Int.random(in: 0...9, using: &generator))
                }
                literal = digits + "e" + String(Int.random(in: -350...320, using: &generator))
            case 3:
                // Exactly halfway between two floats, written out in full.
                let low = Float(bitPattern: UInt32.random(in: 0x0080_0000...0x7F00_0000, using: &generator))
                let mid = (Double(low) + Double(low.nextUp)) / 2
                literal = mid.description
            default:
                literal = "0." + String(UInt64.random(in: 0...UInt64.max, using: &generator))
            }
            let expectedDouble = Double(literal)!
            if expectedDouble.isFinite {
                let parsed = try JSONParser.parse(literal)
                switch parsed {
                case .double(let value): #expect(value.bitPattern == expectedDouble.bitPattern, "\(literal)")
                case .int(let value): #expect(Double(value) == expectedDouble, "\(literal)")
                default: Issue.record("\(literal) parsed as \(parsed)")
                }
            }
            let expectedFloat = Float(literal)!
            if expectedFloat.isFinite {
                try JSONParser.parseFloatArray(Array("[\(literal)]".utf8), into: &floats)
                #expect(floats[0].bitPattern == expectedFloat.bitPattern, "\(literal)")
            }
        }
    }

    @Test func decimalLiteralEdgeCases() throws {
        var floats: [Float] = []
        let cases: [(String, Float)] = [
            ("3.4028235e38", .greatestFiniteMagnitude), ("1.4e-45", .leastNonzeroMagnitude),
            ("7e-46", 0), ("7.1e-46", .leastNonzeroMagnitude), ("1.17549435e-38", .leastNormalMagnitude),
            ("16777217", 16777216), ("16777219", 16777220), ("0.000000000000000000000000000001", 1e-30),
        ]
        for (literal, expected) in cases {
            try JSONParser.parseFloatArray(Array("[\(literal)]".utf8), into: &floats)
            #expect(floats[0] == expected, "\(literal)")
        }
        // More than 19 digits, with leading zeros that do not count as significant.
        for literal in [
            "0.00000000000000000000123456789012345678901234", "123456789012345678901234.5e-3",
            "0.1000000000000000000000000000001", "9999999999999999999.9", "00.5".dropFirst().description,
            "1.00000000000000000000000000000000000000000000001e-45", "3.40282356779733661637539395458142568448e38",
        ] {
            #expect(try JSONParser.parse(literal) == .double(Double(literal)!), "\(literal)")
            if let expected = Float(literal), expected.isFinite {
                try JSONParser.parseFloatArray(Array("[\(literal)]".utf8), into: &floats)
                #expect(floats[0].bitPattern == expected.bitPattern, "\(literal)")
            }
        }
        #expect(try JSONParser.parse("2.2250738585072011e-308") == .double(2.2250738585072011e-308))
        #expect(try JSONParser.parse("4.9406564584124654e-324") == .double(.leastNonzeroMagnitude))
        #expect(try JSONParser.parse("1.7976931348623157e308") == .double(.greatestFiniteMagnitude))
        #expect(try JSONParser.parse("9007199254740993") == .int(9007199254740993))
        #expect(try JSONParser.parse("9007199254740993.0") == .double(9007199254740992))
    }
}

@Suite struct JSONValueTests {
    @Test func serializesCompactlyWithSortedKeys() {
        let value = JSONValue.object([
            "b": .array([.int(1), .double(0.5), .null, .bool(true)]), "a": .string("x\"\n\u{1}é"),
            "c": .object([:]), "d": .double(.infinity), "e": .double(1e-5), "f": .int(-3),
        ])
        #expect(value.serialized() == #"{"a":"x\"\n\u0001é","b":[1,0.5,null,true],"c":{},"d":null,"e":1e-05,"f":-3}"#)
    }

    @Test func roundTrips() throws {
        let value = JSONValue.object([
            "tags": .array([.string("libs"), .string("net")]), "size": .int(1234), "score": .double(0.125),
            "nested": .object(["deep": .array([.null, .bool(false), .double(-2.5e-300)])]),
            "text": .string("tab\there \\ \"quoted\" \u{7f} 😀"),
        ])
        #expect(try JSONParser.parse(value.serialized()) == value)
    }
}
