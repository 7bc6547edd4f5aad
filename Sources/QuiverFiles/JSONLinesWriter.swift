/// Writes JSON Lines: records `{"id": …, "vector": […], "metadata": {…}}` that
/// ``VectorFileReader`` reads back, or plain objects that ``MetadataTableReader`` reads.
///
/// Floats are written in the shortest form that reads back to the same `Float`, so a
/// round trip is exact; metadata keys are sorted, so equal data gives equal files.
///
/// ```swift
/// var writer = try JSONLinesWriter(path: "export.jsonl")
/// try writer.write(key: .int(42), vector: [0.25, -1], metadata: ["section": .string("libs")])
/// try writer.finish()
/// // {"id":42,"vector":[0.25,-1.0],"metadata":{"section":"libs"}}
/// ```
public struct JSONLinesWriter: ~Copyable, Sendable {
    /// The number of lines written so far.
    public private(set) var lineCount = 0

    private var output: ByteOutput
    private let idField: [UInt8]
    private let vectorField: [UInt8]
    private let metadataField: [UInt8]
    private var line: [UInt8] = []

    /// Creates (or truncates) the file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file to write.
    ///   - idField: The field name for keys.
    ///   - vectorField: The field name for vectors.
    ///   - metadataField: The field name for metadata objects.
    /// - Throws: ``FileFormatError/Code/io`` when the file cannot be created.
    public init(
        path: String, idField: String = "id", vectorField: String = "vector",
        metadataField: String = "metadata"
    ) throws(FileFormatError) {
        self.output = try ByteOutput(path: path)
        func quoted(_ name: String) -> [UInt8] {
            var bytes: [UInt8] = []
            JSONValue.appendString(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            return bytes
        }
        self.idField = quoted(idField)
        self.vectorField = quoted(vectorField)
        self.metadataField = quoted(metadataField)
    }

    /// Writes one record line; each part is left out when `nil`.
    ///
    /// - Parameters:
    ///   - key: The record key, or `nil`.
    ///   - vector: The vector, or `nil`; its components must be finite.
    ///   - metadata: The metadata object, or `nil`.
    /// - Throws: ``FileFormatError/Code/invalidArgument`` for a NaN or infinite component
    ///   (JSON has no way to write one), or an I/O error.
    public mutating func write(
        key: RecordKeyValue?, vector: Span<Float>?, metadata: [String: JSONValue]? = nil
    ) throws(FileFormatError) {
        line.removeAll(keepingCapacity: true)
        line.append(UInt8(ascii: "{"))
        var first = true
        func separator(_ line: inout [UInt8]) {
            if !first { line.append(UInt8(ascii: ",")) }
            first = false
        }
        if let key {
            separator(&line)
            line.append(contentsOf: idField)
            switch key {
            case .int(let value): line.append(contentsOf: String(value).utf8)
            case .string(let value): JSONValue.appendString(value, to: &line)
            }
        }
        if let vector {
            separator(&line)
            line.append(contentsOf: vectorField)
            line.append(UInt8(ascii: "["))
            for index in 0..<vector.count {
                let value = vector[index]
                guard value.isFinite else {
                    throw FileFormatError(
                        .invalidArgument,
                        "vector component \(index) is \(value); JSON cannot express it",
                        path: output.path, line: lineCount + 1, row: lineCount)
                }
                if index > 0 { line.append(UInt8(ascii: ",")) }
                JSONValue.appendNumber(value, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        }
        if let metadata {
            separator(&line)
            line.append(contentsOf: metadataField)
            JSONValue.appendObject(metadata, to: &line)
        }
        line.append(UInt8(ascii: "}"))
        line.append(0x0A)
        try output.write(line)
        lineCount += 1
    }

    /// Writes one record line (see ``write(key:vector:metadata:)-(_,Span<Float>?,_)``).
    ///
    /// - Parameters:
    ///   - key: The record key, or `nil`.
    ///   - vector: The vector; its components must be finite.
    ///   - metadata: The metadata object, or `nil`.
    /// - Throws: ``FileFormatError`` for a non-finite component, or an I/O error.
    public mutating func write(
        key: RecordKeyValue?, vector: [Float], metadata: [String: JSONValue]? = nil
    ) throws(FileFormatError) {
        try write(key: key, vector: vector.span, metadata: metadata)
    }

    /// Writes one object as a line, for metadata tables.
    ///
    /// - Parameter object: The object; its keys are written sorted.
    /// - Throws: ``FileFormatError/Code/io`` when writing fails.
    public mutating func write(object: [String: JSONValue]) throws(FileFormatError) {
        line.removeAll(keepingCapacity: true)
        JSONValue.appendObject(object, to: &line)
        line.append(0x0A)
        try output.write(line)
        lineCount += 1
    }

    /// Writes the remaining lines and closes the file.
    ///
    /// - Throws: ``FileFormatError/Code/io`` when a write or the close fails.
    public consuming func finish() throws(FileFormatError) {
        try output.close()
    }
}
