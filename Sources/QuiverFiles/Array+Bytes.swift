extension Array {
    /// `withUnsafeMutableBytes` for a body with typed throws (the standard library's
    /// version is `rethrows`, which erases the error type to `any Error`).
    ///
    /// - Parameter body: Gets the array's storage as raw bytes; it must not escape them.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    mutating func withMutableBytes<Result>(
        _ body: (UnsafeMutableRawBufferPointer) throws(FileFormatError) -> Result
    ) throws(FileFormatError) -> Result {
        // Safety: the buffer is used only inside `body`, which must not escape it.
        let outcome: Swift.Result<Result, FileFormatError> = unsafe withUnsafeMutableBytes {
            raw in
            do throws(FileFormatError) {
                return .success(try unsafe body(raw))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
