import Foundation
import Testing

@testable import QuiverFiles

@Suite struct MetadataTableReaderTests {
    /// Reads every row in chunks of `maxRows`.
    private func readRows(_ table: inout MetadataTableReader, maxRows: Int = 2) throws -> [[String: JSONValue]] {
        var all: [[String: JSONValue]] = []
        while true {
            let rows = try table.read(maxRows: maxRows)
            if rows.isEmpty { return all }
            #expect(rows.count <= maxRows)
            all += rows
        }
    }

    @Test func readsTSV() throws {
        let text = "doc_index\tname\tsection\n0\t0ad\tgames\n\n1\tlib x\t\r\n2\t\"q\"\tnet"
        var table = try MetadataTableReader(bytes: Array(text.utf8), format: .tsv)
        #expect(table.columns == ["doc_index", "name", "section"])
        let rows = try readRows(&table)
        #expect(rows == [
            ["doc_index": .string("0"), "name": .string("0ad"), "section": .string("games")],
            ["doc_index": .string("1"), "name": .string("lib x"), "section": .string("")],
            ["doc_index": .string("2"), "name": .string("\"q\""), "section": .string("net")],
        ])
        #expect(table.rowsRead == 3)
    }

    @Test func readsCSVWithRFC4180Quoting() throws {
        let text = "\u{FEFF}id,text,n\r\n1,\"a, b\",2\r\n2,\"line1\nline2\",\"\"\r\n3,\"say \"\"hi\"\"\",\n4,,x"
        var table = try MetadataTableReader(bytes: Array(text.utf8), format: .csv)
        #expect(table.columns == ["id", "text", "n"])
        let rows = try readRows(&table, maxRows: 3)
        #expect(rows.map { $0["text"] } == [.string("a, b"), .string("line1\nline2"), .string("say \"hi\""), .string("")])
        #expect(rows.map { $0["n"] } == [.string("2"), .string(""), .string(""), .string("x")])
    }

    @Test func readsJSONLines() throws {
        let text = "{\"a\": 1}\n\n{\"a\": 2, \"b\": [true]}\n"
        var table = try MetadataTableReader(bytes: Array(text.utf8), format: .jsonLines)
        #expect(table.columns.isEmpty)
        #expect(try readRows(&table) == [["a": .int(1)], ["a": .int(2), "b": .array([.bool(true)])]])
    }

    @Test func wrongCellCountNamesLineAndRow() {
        let text = "a\tb\n1\t2\n\n3\n"
        let error = expectFileError(.invalidTable) {
            var table = try MetadataTableReader(bytes: Array(text.utf8), format: .tsv)
            _ = try readRows(&table)
        }
        #expect(error?.line == 4)
        #expect(error?.row == 1)
        #expect(error?.byteOffset == 9)
    }

    @Test(arguments: [
        ("a,b\n1,\"x\"y\n", 2, 6),  // text after a closing quote
        ("a,b\n1,x\"y\n", 2, 4),  // quote inside an unquoted cell
        ("a,b\n1,\"unterminated\n", 2, 3),
        ("a,b\n1,2,3\n", 2, 1),
        ("a,b\n\"multi\nline\",x\"\n", 3, 8),  // error on the second line of a record
    ])
    func csvErrors(text: String, line: Int, column: Int) {
        let error = expectFileError(.invalidTable) {
            var table = try MetadataTableReader(bytes: Array(text.utf8), format: .csv)
            _ = try readRows(&table)
        }
        #expect(error?.line == line, "\(text)")
        #expect(error?.column == column, "\(text)")
    }

    @Test func headerProblems() {
        expectFileError(.invalidTable) { _ = try MetadataTableReader(bytes: [], format: .csv) }
        expectFileError(.duplicateKey) { _ = try MetadataTableReader(bytes: Array("a\tb\ta\n".utf8), format: .tsv) }
        expectFileError(.invalidTable) { _ = try MetadataTableReader(bytes: Array("a,,b\n".utf8), format: .csv) }
    }

    @Test func invalidUTF8AndBadJSON() {
        let error = expectFileError(.invalidUTF8) {
            var table = try MetadataTableReader(bytes: Array("a\tb\n".utf8) + [0x31, 0x09, 0xFF], format: .tsv)
            _ = try readRows(&table)
        }
        #expect(error?.line == 2)
        #expect(error?.column == 3)
        let json = expectFileError(.invalidJSON) {
            var table = try MetadataTableReader(bytes: Array("{\"a\": 1}\n[1]\n".utf8), format: .jsonLines)
            _ = try readRows(&table)
        }
        #expect(json?.line == 2)
        #expect(json?.row == 1)
        let syntax = expectFileError(.invalidJSON) {
            var table = try MetadataTableReader(bytes: Array("{\"a\": 1}\n{\"a\" 1}\n".utf8), format: .jsonLines)
            _ = try readRows(&table)
        }
        #expect(syntax?.line == 2)
        #expect(syntax?.column == 6)
        #expect(syntax?.byteOffset == 14)
    }

    @Test func smallBuffersGiveTheSameRows() throws {
        var text = "id,name,notes\n"
        for index in 0..<300 {
            text += "\(index),name \(index),\"multi\nline, \"\"quoted\"\" \(index)\"\n"
        }
        var direct = try MetadataTableReader(bytes: Array(text.utf8), format: .csv)
        let expected = try readRows(&direct, maxRows: 50)
        #expect(expected.count == 300)
        for (bufferSize, readLimit) in [(1, 1), (7, 3), (64, 1000), (4096, 17)] {
            var chunked = try MetadataTableReader(
                chunkedBytes: Array(text.utf8), format: .csv, bufferSize: bufferSize,
                readLimit: readLimit, sizeKnown: false)
            #expect(try readRows(&chunked, maxRows: 7) == expected)
        }
    }

    @Test func debianMetadataIfPresent() throws {
        // The shared data sits beside the repository on developer machines; a user's clone has
        // none, and the test then checks nothing more.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = repository.deletingLastPathComponent().appendingPathComponent("shared/data/debian/meta.tsv").path
        guard FileManager.default.fileExists(atPath: path) else { return }
        var table = try MetadataTableReader(path: path)
        #expect(table.columns == ["doc_index", "name", "section", "priority", "size_bucket", "arch"])
        let rows = try table.read(maxRows: 3)
        #expect(rows.count == 3)
        #expect(rows[0]["name"] == .string("0ad"))
        #expect(rows[0]["section"] == .string("games"))
    }
}

@Suite("MetadataTableReader lines")
struct MetadataTableReaderLineTests {
    @Test func reportsTheLineEachRowStartsOn() throws {
        let csv = "name,note\na,\"two\nlines\"\n\nb,plain\nc,x\n"
        var table = try MetadataTableReader(bytes: Array(csv.utf8), format: .csv)
        let rows = try table.read(maxRows: 2)
        #expect(rows.count == 2)
        // Row a starts on line 2 and spans 3; line 4 is blank; row b is on line 5.
        #expect(table.lastReadLines == [2, 5])
        _ = try table.read(maxRows: 10)
        #expect(table.lastReadLines == [6])
    }
}
