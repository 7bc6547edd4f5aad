import Testing

@testable import QuiverFiles

@Suite struct NpyTests {
    static let rows: [[Float]] = (0..<10).map { row in (0..<5).map { Float(row * 10 + $0) + 0.25 } }

    @Test(arguments: [UInt8(1), 2, 3])
    func readsFloat32InEveryVersion(version: UInt8) throws {
        let bytes = npyBytes(
            dictionary: npyDictionary(descr: "<f4", shape: "(10, 5)"),
            data: float32Bytes(NpyTests.rows.flatMap { $0 }), version: version)
        var reader = try VectorFileReader(bytes: bytes, format: .npy)
        #expect(reader.dimensions == 5)
        #expect(reader.rowCount == 10)
        #expect(reader.elementKind == .float32)
        let result = try readAll(&reader, maxRows: 4)
        #expect(result.floats == NpyTests.rows.flatMap { $0 })
        #expect(result.chunks == 3)
        #expect(result.keys.isEmpty)
    }

    @Test func readsFloat16AndFloat64AndBigEndian() throws {
        let values: [Float] = [0, -0, 1, -2.5, 65504, 0.000061035156, 5.9604645e-8, .infinity]
        let halves: [UInt16] = [0x0000, 0x8000, 0x3C00, 0xC100, 0x7BFF, 0x0400, 0x0001, 0x7C00]
        let f2 = npyBytes(
            dictionary: npyDictionary(descr: "<f2", shape: "(2, 4)"),
            data: halves.flatMap { littleEndianBytes($0) })
        var reader = try VectorFileReader(bytes: f2, format: .npy)
        #expect(try readAll(&reader).floats == values)

        let doubles: [Double] = [0.1, -1e300, 3, 1e-50]
        let f8 = npyBytes(
            dictionary: npyDictionary(descr: "<f8", shape: "(1, 4)"),
            data: doubles.flatMap { littleEndianBytes($0.bitPattern) })
        reader = try VectorFileReader(bytes: f8, format: .npy)
        #expect(try readAll(&reader).floats == [0.1, -.infinity, 3, 0])

        let big = npyBytes(
            dictionary: npyDictionary(descr: ">f4", shape: "(1, 2)"),
            data: [Float(1.5), -2].flatMap { littleEndianBytes($0.bitPattern.bigEndian) })
        reader = try VectorFileReader(bytes: big, format: .npy)
        #expect(try readAll(&reader).floats == [1.5, -2])
    }

    @Test func readsUInt8AsBytesOrPackedBits() throws {
        let data: [UInt8] = Array(0..<12)
        let bytes = npyBytes(dictionary: npyDictionary(descr: "|u1", shape: "(3, 4)"), data: data)
        var reader = try VectorFileReader(bytes: bytes, format: .npy)
        #expect(reader.elementKind == .uint8)
        #expect(reader.dimensions == 4)
        #expect(try readAll(&reader, maxRows: 2).bytes == data)

        reader = try VectorFileReader(
            bytes: bytes, format: .npy, options: .init(bytesArePackedBits: true))
        #expect(reader.elementKind == .packedBits(bits: 32))
        #expect(reader.dimensions == 32)
        #expect(reader.bytesPerRow == 4)
        #expect(try readAll(&reader).bytes == data)
    }

    @Test func acceptsNumPyHeaderVariants() throws {
        // Python 2 long suffixes, no trailing comma, double quotes, odd spacing, 16-byte padding.
        for dictionary in [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }",
            "{\"shape\":(2,1),\"descr\":\"<f4\",\"fortran_order\":False}",
            "{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 1 , ) }",
        ] {
            let bytes = npyBytes(dictionary: dictionary, data: float32Bytes([1, 2]))
            var reader = try VectorFileReader(bytes: bytes, format: .npy)
            #expect(try readAll(&reader).floats == [1, 2], "\(dictionary)")
        }
        let unpadded = npyBytes(
            dictionary: npyDictionary(descr: "<f4", shape: "(1, 1)"), data: float32Bytes([7]),
            pad: false)
        var reader = try VectorFileReader(bytes: unpadded, format: .npy)
        #expect(try readAll(&reader).floats == [7])
    }

    @Test func emptyArray() throws {
        let bytes = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: "(0, 8)"), data: [])
        var reader = try VectorFileReader(bytes: bytes, format: .npy)
        #expect(reader.rowCount == 0)
        #expect(reader.dimensions == 8)
        #expect(try readAll(&reader).rows == 0)
    }

    @Test func badMagic() {
        let error = expectFileError(.badMagic) {
            _ = try VectorFileReader(bytes: Array("PK\u{3}\u{4}not numpy".utf8), format: .npy)
        }
        #expect(error?.byteOffset == 0)
    }

    @Test func truncatedPreambleAndHeader() {
        let full = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: "(1, 1)"), data: float32Bytes([1]))
        for length in [0, 3, 6, 9] {
            expectFileError(.truncated) {
                _ = try VectorFileReader(bytes: Array(full.prefix(length)), format: .npy)
            }
        }
        let error = expectFileError(.truncated) {
            _ = try VectorFileReader(bytes: Array(full.prefix(40)), format: .npy)
        }
        #expect(error?.byteOffset == 40)
    }

    @Test func unsupportedVersion() {
        var bytes = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: "(1, 1)"), data: float32Bytes([1]))
        bytes[6] = 4
        let error = expectFileError(.unsupportedVersion) { _ = try VectorFileReader(bytes: bytes, format: .npy) }
        #expect(error?.byteOffset == 6)
    }

    @Test(arguments: ["<i4", "<f16", "|b1", "<c8", "u1", "|f4", "<U10"])
    func wrongDataType(descr: String) {
        let bytes = npyBytes(dictionary: npyDictionary(descr: descr, shape: "(1, 1)"), data: [0, 0, 0, 0])
        let error = expectFileError(.unsupportedDataType) { _ = try VectorFileReader(bytes: bytes, format: .npy) }
        #expect(error?.message.contains(descr) == true)
    }

    @Test func fortranOrderAndWrongShapes() {
        let fortran = npyBytes(
            dictionary: npyDictionary(descr: "<f4", shape: "(2, 2)", fortran: true), data: float32Bytes([1, 2, 3, 4]))
        let error = expectFileError(.unsupportedLayout) { _ = try VectorFileReader(bytes: fortran, format: .npy) }
        #expect(error?.message.contains("fortran_order") == true)
        for shape in ["(4,)", "(1, 2, 2)", "()", "(4, 0)"] {
            let bytes = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: shape), data: float32Bytes([1, 2, 3, 4]))
            expectFileError(.unsupportedLayout) { _ = try VectorFileReader(bytes: bytes, format: .npy) }
        }
    }

    @Test(arguments: [
        "{'descr': '<f4', 'fortran_order': False}",  // missing shape
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'extra': 1}",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)}",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1, 1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': [1, 1]}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)} x",
        "{'descr': '<f4' 'fortran_order': False, 'shape': (1, 1)}",
        "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1, 1)}",
        "{'descr': '<f4, 'fortran_order': False, 'shape': (1, 1)}",
        "{'descr': '<f4', 'fortran_order': Fals, 'shape': (1, 1)}",
        "__import__('os').system('true')",
    ])
    func malformedHeader(dictionary: String) {
        let bytes = npyBytes(dictionary: dictionary, data: float32Bytes([1]))
        let error = expectFileError(.malformedHeader) { _ = try VectorFileReader(bytes: bytes, format: .npy) }
        // Offsets point into the header, after the 10-byte preamble.
        #expect((error?.byteOffset ?? 0) >= 10)
    }

    @Test func hugeShapeIsRejected() {
        let bytes = npyBytes(
            dictionary: npyDictionary(descr: "<f4", shape: "(99999999999999999999, 4)"), data: [])
        expectFileError(.tooLarge) { _ = try VectorFileReader(bytes: bytes, format: .npy) }
        let overflow = npyBytes(
            dictionary: npyDictionary(descr: "<f8", shape: "(4611686018427387904, 4)"), data: [])
        expectFileError(.tooLarge) { _ = try VectorFileReader(bytes: overflow, format: .npy) }
    }

    @Test func truncatedData() {
        let header = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: "(4, 2)"), data: [])
        let bytes = header + float32Bytes([1, 2, 3, 4, 5])  // 2.5 rows of 4
        let error = expectFileError(.truncated) { _ = try VectorFileReader(bytes: bytes, format: .npy) }
        #expect(error?.row == 2)
        #expect(error?.byteOffset == header.count + 16)
    }

    @Test func trailingData() {
        let header = npyBytes(dictionary: npyDictionary(descr: "<f4", shape: "(1, 2)"), data: [])
        let error = expectFileError(.trailingData) {
            _ = try VectorFileReader(bytes: header + float32Bytes([1, 2, 3]), format: .npy)
        }
        #expect(error?.byteOffset == header.count + 8)
    }

    @Test func writerRoundTripsFloat32AndUInt8() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.npy")
        var writer = try NpyWriter(path: path, elementType: .float32, dimensions: 5)
        try writer.write(NpyTests.rows.prefix(3).flatMap { $0 })
        try writer.write(NpyTests.rows.dropFirst(3).flatMap { $0 })
        #expect(writer.rowCount == 10)
        try writer.finish()
        let bytes = try directory.read("out.npy")
        #expect(Array(bytes.prefix(6)) == NpyHeader.magic)
        let headerEnd = bytes.count - 10 * 5 * 4
        #expect(headerEnd % 64 == 0)
        #expect(String(decoding: bytes[10..<headerEnd], as: UTF8.self).hasPrefix(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 5), }"))
        var reader = try VectorFileReader(path: path)
        #expect(reader.rowCount == 10)
        #expect(try readAll(&reader, maxRows: 3).floats == NpyTests.rows.flatMap { $0 })

        let bitsPath = directory.path("bits.npy")
        var bits = try NpyWriter(path: bitsPath, elementType: .uint8, dimensions: 2)
        try bits.write([0xFF, 0x01, 0x80, 0x00] as [UInt8])
        try bits.finish()
        reader = try VectorFileReader(path: bitsPath, options: .init(bytesArePackedBits: true))
        #expect(reader.elementKind == .packedBits(bits: 16))
        #expect(try readAll(&reader).bytes == [0xFF, 0x01, 0x80, 0x00])
    }

    @Test func writerRejectsPartialRowsAndWrongType() throws {
        let directory = try TemporaryDirectory()
        var writer = try NpyWriter(path: directory.path("x.npy"), elementType: .float32, dimensions: 3)
        expectFileError(.invalidArgument) { try writer.write([1, 2] as [Float]) }
        expectFileError(.invalidArgument) { try writer.write([1, 2, 3] as [UInt8]) }
        expectFileError(.invalidArgument) {
            _ = try NpyWriter(path: directory.path("y.npy"), elementType: .uint8, dimensions: 0)
        }
        try writer.finish()
    }

    @Test func unfinishedWriterLeavesAFileTheReaderRejects() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("partial.npy")
        do {
            var writer = try NpyWriter(path: path, elementType: .float32, dimensions: 2)
            try writer.write([1, 2, 3, 4] as [Float])
            _ = consume writer
        }
        // Depending on what was flushed: an empty file, or a header declaring 0 rows.
        #expect(throws: FileFormatError.self) { _ = try VectorFileReader(path: path) }
    }

    @Test func halfFloatConversionIsExactForAllValues() {
        for bits in UInt16.min...UInt16.max {
            let expected = halfReference(bits)
            let got = VectorFileReader.floatFromHalf(bits)
            if expected.isNaN {
                #expect(got.isNaN)
            } else {
                #expect(got.bitPattern == expected.bitPattern)
            }
        }
    }

    /// binary16 by definition: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024.
    private func halfReference(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int(bits >> 10 & 0x1F)
        let mantissa = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa / 1024 * Float(sign: .plus, exponent: -14, significand: 1)
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
