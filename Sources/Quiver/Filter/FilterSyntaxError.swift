/// An error in filter text, with the position it was found at.
///
/// Its ``description`` shows the offending line with a caret under the position:
///
/// ```
/// line 1, column 12: unterminated string: it needs a closing `"`
///     section == "libs
///                ^
/// ```
public struct FilterSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 byte offset of the error in the text; the text's UTF-8 count at its end.
    public let offset: Int
    /// The 1-based line of ``offset``; lines end at line feeds.
    public let line: Int
    /// The 1-based column of ``offset``, counted in characters (grapheme clusters).
    public let column: Int
    /// What is wrong and, where it helps, what to write instead.
    public let message: String
    /// The line of text that holds ``offset``, without its line ending.
    public let sourceLine: String

    /// Locates `offset` in `bytes`, the text's UTF-8.
    init(bytes: [UInt8], offset: Int, message: String) {
        precondition(offset >= 0 && offset <= bytes.count, "error offset outside the text")
        let lineStart = bytes[..<offset].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        var lineEnd = bytes[offset...].firstIndex(of: 0x0A) ?? bytes.count
        if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        self.offset = offset
        self.line = 1 + bytes[..<lineStart].count { $0 == 0x0A }
        // Errors sit at ASCII bytes, so the prefix decodes cleanly; before a combining mark
        // (`e` then U+0301) the column counts the `e` as a character of its own.
        self.column = 1 + String(decoding: bytes[lineStart..<offset], as: UTF8.self).count
        self.message = message
        self.sourceLine = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
    }

    /// The position, the message, and the line of text with a caret under the position.
    public var description: String {
        // Tabs in the line are kept under it so the caret lines up however tabs are shown.
        let padding = sourceLine.prefix(column - 1).map { $0 == "\t" ? "\t" : " " }.joined()
        return "line \(line), column \(column): \(message)\n    \(sourceLine)\n    \(padding)^"
    }
}
