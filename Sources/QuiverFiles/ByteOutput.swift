#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file written through one reusable buffer, flushed with POSIX `write()` about a
/// megabyte at a time. Noncopyable because it owns the descriptor; ``close()`` flushes and
/// reports errors, and `deinit` closes without flushing if the writer was abandoned.
struct ByteOutput: ~Copyable, Sendable {
    private let descriptor: Int32
    /// The file path, for error messages.
    let path: String
    /// Bytes not yet written.
    private(set) var pending: [UInt8] = []
    /// Bytes written to the file so far.
    private(set) var flushed = 0
    private var closed = false

    /// The size at which ``pending`` is flushed.
    static let flushSize = 1 << 20

    /// Creates (or truncates) the file at `path`.
    ///
    /// - Throws: ``FileFormatError/Code/io`` when the file cannot be created.
    init(path: String) throws(FileFormatError) {
        // Safety: the path is converted to a C string that lives for the call.
        let descriptor = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ByteInput.systemError("cannot create file", path: path)
        }
        self.descriptor = descriptor
        self.path = path
        pending.reserveCapacity(ByteOutput.flushSize + 4096)
    }

    deinit {
        if !closed { _ = systemClose(descriptor) }
    }

    /// The number of bytes written so far, pending ones included.
    var count: Int { flushed + pending.count }

    /// Appends bytes, flushing when the buffer is full.
    mutating func write(_ bytes: [UInt8]) throws(FileFormatError) {
        pending.append(contentsOf: bytes)
        if pending.count >= ByteOutput.flushSize { try flush() }
    }

    /// Appends one byte (no flush; call ``flushIfFull()`` at record boundaries).
    mutating func append(_ byte: UInt8) {
        pending.append(byte)
    }

    /// Flushes when the buffer has reached ``flushSize``.
    mutating func flushIfFull() throws(FileFormatError) {
        if pending.count >= ByteOutput.flushSize { try flush() }
    }

    /// Appends the raw bytes of `span` (host byte order, which callers have made
    /// little-endian), flushing when the buffer is full.
    mutating func write<Element: BitwiseCopyable>(raw span: Span<Element>) throws(FileFormatError) {
        // Safety: the bytes are copied out inside the closure and not kept.
        unsafe span.withUnsafeBytes { raw in
            unsafe pending.append(contentsOf: raw)
        }
        if pending.count >= ByteOutput.flushSize { try flush() }
    }

    /// Writes the pending bytes to the file.
    mutating func flush() throws(FileFormatError) {
        let total = pending.count
        var done = 0
        while done < total {
            let descriptor = self.descriptor
            let start = done
            // Safety: `start < total == raw.count`; the pointer does not escape.
            let result = unsafe pending.withUnsafeBytes { raw in
                unsafe systemWrite(descriptor, raw.baseAddress! + start, total - start)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw ByteInput.systemError("write failed", path: path, byteOffset: flushed + done)
            }
            done += result
        }
        flushed += total
        pending.removeAll(keepingCapacity: true)
    }

    /// Overwrites bytes already flushed, at `offset` (to patch a header at the end).
    mutating func overwrite(_ bytes: [UInt8], at offset: Int) throws(FileFormatError) {
        precondition(offset + bytes.count <= flushed, "overwrite past the flushed bytes")
        var done = 0
        while done < bytes.count {
            let descriptor = self.descriptor
            let start = done
            // Safety: `start < bytes.count == raw.count`; the pointer does not escape.
            let result = unsafe bytes.withUnsafeBytes { raw in
                unsafe pwrite(
                    descriptor, raw.baseAddress! + start, bytes.count - start,
                    off_t(offset + start))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw ByteInput.systemError("write failed", path: path, byteOffset: offset + done)
            }
            done += result
        }
    }

    /// Flushes and closes the file.
    ///
    /// - Throws: ``FileFormatError/Code/io`` when a write or the close fails (a full disk
    ///   can show up only at close on some file systems).
    mutating func close() throws(FileFormatError) {
        guard !closed else { return }
        defer { closed = true }
        do throws(FileFormatError) {
            try flush()
        } catch {
            _ = systemClose(descriptor)
            throw error
        }
        if systemClose(descriptor) != 0 {
            throw ByteInput.systemError("close failed", path: path)
        }
    }
}

/// POSIX `write()`.
func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        unsafe Glibc.write(descriptor, buffer, count)
    #elseif canImport(Musl)
        unsafe Musl.write(descriptor, buffer, count)
    #else
        unsafe Darwin.write(descriptor, buffer, count)
    #endif
}

/// POSIX `close()`.
func systemClose(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
        Glibc.close(descriptor)
    #elseif canImport(Musl)
        Musl.close(descriptor)
    #else
        Darwin.close(descriptor)
    #endif
}
