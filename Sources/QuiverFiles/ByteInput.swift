#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// POSIX `read()`, named apart from `ByteInput.read(into:)`.
func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        unsafe Glibc.read(descriptor, buffer, count)
    #elseif canImport(Musl)
        unsafe Musl.read(descriptor, buffer, count)
    #else
        unsafe Darwin.read(descriptor, buffer, count)
    #endif
}

/// Bytes from a file, read with POSIX `read()` in large chunks into one reusable buffer, or
/// from memory; the readers parse straight out of ``buffer``.
///
/// The valid bytes are `buffer[start..<end]`; `fileOffset(of:)` maps a buffer index back to
/// a position in the file for error messages. Noncopyable because it owns the descriptor,
/// which `deinit` closes.
///
/// In-memory input comes in two modes: *direct* (the buffer is the bytes, nothing is ever
/// read), and *chunked* (the bytes are handed out in small, short "reads" into a small
/// buffer, as a pipe would), which lets tests and fuzzers drive the refill, compaction and
/// growth paths that large files take.
struct ByteInput: ~Copyable, Sendable {
    /// The file descriptor, or -1 for in-memory input.
    private let descriptor: Int32
    /// The source of chunked in-memory input (empty otherwise).
    private let memory: [UInt8]
    /// The next byte of ``memory`` to hand out.
    private var memoryPosition = 0
    /// The most bytes one simulated read of ``memory`` returns.
    private let memoryReadLimit: Int
    /// The file path, for error messages; `nil` for in-memory input.
    let path: String?
    /// The total size when known up front (regular files and memory); `nil` for pipes.
    let size: Int?
    /// The buffer; bytes `start..<end` are read and not yet consumed.
    private(set) var buffer: [UInt8]
    /// The index in ``buffer`` of the first unconsumed byte.
    var start = 0
    /// The index in ``buffer`` after the last valid byte.
    private(set) var end = 0
    /// The file offset of `buffer[0]`.
    private var bufferOffset = 0
    /// Whether `read()` has returned 0 (or the input is in memory).
    private(set) var reachedEnd = false

    /// The default chunk size: large enough that a `read()` costs little per byte, small
    /// enough to stay in the L2/L3 cache while rows are copied out of it.
    static let defaultBufferSize = 1 << 20

    /// Opens `path` for reading.
    ///
    /// - Throws: ``FileFormatError/Code/io`` when the file cannot be opened or is a directory.
    init(path: String, bufferSize: Int = ByteInput.defaultBufferSize) throws(FileFormatError) {
        // Safety: the path is converted to a C string that lives for the call.
        let descriptor = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ByteInput.systemError("cannot open file", path: path)
        }
        var info = stat()
        // Safety: `info` is a local that outlives the call.
        guard unsafe fstat(descriptor, &info) == 0 else {
            let error = ByteInput.systemError("cannot stat file", path: path)
            close(descriptor)
            throw error
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw FileFormatError(.io, "is a directory, not a file", path: path)
        }
        self.descriptor = descriptor
        self.memory = []
        self.memoryReadLimit = 0
        self.path = path
        self.size = info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : nil
        self.buffer = [UInt8](repeating: 0, count: max(bufferSize, 1))
    }

    /// Wraps bytes already in memory, directly: no copy is made and nothing is read.
    init(bytes: [UInt8]) {
        self.descriptor = -1
        self.memory = []
        self.memoryReadLimit = 0
        self.path = nil
        self.size = bytes.count
        self.buffer = bytes
        self.end = bytes.count
        self.reachedEnd = true
    }

    /// Wraps bytes in memory in chunked mode: at most `readLimit` bytes per simulated read
    /// into a buffer of `bufferSize`, with the size hidden when `sizeKnown` is false (as
    /// for a pipe). For tests and fuzzing.
    init(bytes: [UInt8], bufferSize: Int, readLimit: Int, sizeKnown: Bool) {
        self.descriptor = -1
        self.memory = bytes
        self.memoryReadLimit = max(readLimit, 1)
        self.path = nil
        self.size = sizeKnown ? bytes.count : nil
        self.buffer = [UInt8](repeating: 0, count: max(bufferSize, 1))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The number of read, unconsumed bytes.
    var available: Int { end - start }

    /// The file offset of the first unconsumed byte.
    var offset: Int { bufferOffset + start }

    /// The file offset of `buffer[index]`.
    func fileOffset(of index: Int) -> Int { bufferOffset + index }

    /// Consumes `count` bytes.
    mutating func consume(_ count: Int) {
        precondition(count <= available, "consumed past the read bytes")
        start += count
    }

    /// Makes at least `count` unconsumed bytes available, reading (and growing the buffer)
    /// as needed; returns `false` when the input ends first, leaving what there is.
    ///
    /// Buffer indices change when this compacts the buffer: callers hold offsets relative
    /// to ``start`` across calls, never absolute indices.
    mutating func fill(atLeast count: Int) throws(FileFormatError) -> Bool {
        if available >= count { return true }
        if reachedEnd { return false }
        compact()
        while available < count && !reachedEnd {
            if end == buffer.count {
                // Grow as data arrives, not by what was asked for: a hostile size field
                // then costs only as much memory as the input really has.
                let grown = min(max(buffer.count * 2, 4096), count)
                buffer.append(contentsOf: repeatElement(0, count: grown - buffer.count))
            }
            try readMore()
        }
        return available >= count
    }

    /// Reads whatever fits into the free end of the buffer; sets ``reachedEnd`` at the end.
    private mutating func readMore() throws(FileFormatError) {
        let free = buffer.count - end
        precondition(free > 0, "readMore with a full buffer")
        let used = end
        let offset = bufferOffset + end
        // Take the buffer out so that `self` can be used while its bytes are written.
        var storage = buffer
        buffer = []
        defer { buffer = storage }
        // Safety: `used + free == raw.count`, so the destination range is inside `raw`.
        let got = try unsafe storage.withMutableBytes { (raw) throws(FileFormatError) -> Int in
            try unsafe readFully(
                into: UnsafeMutableRawBufferPointer(rebasing: unsafe raw[used..<(used + free)]),
                offset: offset, atMostOnce: true)
        }
        if got == 0 { reachedEnd = true }
        end += got
    }

    /// Moves the unconsumed bytes to the front of the buffer.
    private mutating func compact() {
        guard start > 0 else { return }
        let count = available
        if count > 0 {
            let from = start
            // Safety: both ranges lie inside `raw`; memmove allows overlap.
            unsafe buffer.withUnsafeMutableBytes { raw in
                _ = unsafe memmove(raw.baseAddress!, raw.baseAddress! + from, count)
            }
        }
        bufferOffset += start
        start = 0
        end = count
    }

    /// Copies `destination.count` bytes into `destination`: first the buffered ones, then
    /// straight from the file with no intermediate copy. Returns the bytes copied, fewer
    /// only at the end of the input.
    mutating func read(into destination: UnsafeMutableRawBufferPointer) throws(FileFormatError)
        -> Int
    {
        let fromBuffer = min(available, destination.count)
        if fromBuffer > 0 {
            let from = start
            // Safety: `from + fromBuffer <= end <= raw.count`, and `fromBuffer` fits in
            // `destination`.
            unsafe buffer.withUnsafeBytes { raw in
                unsafe destination.baseAddress!.copyMemory(
                    from: raw.baseAddress! + from, byteCount: fromBuffer)
            }
            start += fromBuffer
        }
        var copied = fromBuffer
        if copied < destination.count && !reachedEnd {
            // Everything buffered was consumed: continue at the file position after `end`.
            bufferOffset += end
            start = 0
            end = 0
            let rest = unsafe UnsafeMutableRawBufferPointer(rebasing: destination[copied...])
            let got = try unsafe readFully(into: rest, offset: bufferOffset, atMostOnce: false)
            bufferOffset += got
            copied += got
            if copied < destination.count { reachedEnd = true }
        }
        return copied
    }

    /// Calls `read()` until `destination` is full or the file ends (or, with `atMostOnce`,
    /// until one call returned data), retrying on `EINTR`.
    private mutating func readFully(
        into destination: UnsafeMutableRawBufferPointer, offset: Int, atMostOnce: Bool
    ) throws(FileFormatError) -> Int {
        if descriptor < 0 {
            // Chunked in-memory input: short reads of at most `memoryReadLimit` bytes.
            var total = 0
            while total < destination.count && memoryPosition < memory.count {
                let count = min(
                    destination.count - total, memory.count - memoryPosition, memoryReadLimit)
                let from = memoryPosition
                // Safety: `from + count <= memory.count` and `total + count <=
                // destination.count`.
                unsafe memory.withUnsafeBytes { raw in
                    unsafe (destination.baseAddress! + total).copyMemory(
                        from: raw.baseAddress! + from, byteCount: count)
                }
                memoryPosition += count
                total += count
                if atMostOnce { break }
            }
            return total
        }
        var total = 0
        while total < destination.count {
            // Safety: `total < destination.count`, so the pointer and length stay inside.
            let result = unsafe systemRead(
                descriptor, destination.baseAddress! + total, destination.count - total)
            if result < 0 {
                if errno == EINTR { continue }
                throw ByteInput.systemError("read failed", path: path, byteOffset: offset + total)
            }
            if result == 0 { break }
            total += result
            if atMostOnce { break }
        }
        return total
    }

    /// Finds the next line, consumes it with its terminator, and returns its range in
    /// ``buffer`` without the `\n` (or `\r\n`); `nil` at the end of the input. The range is
    /// valid until the next call that reads.
    ///
    /// - Parameter maximumLength: The longest line accepted, to bound memory on hostile input.
    /// - Throws: ``FileFormatError/Code/lineTooLong`` naming the line's offset, or an I/O error.
    mutating func nextLine(maximumLength: Int) throws(FileFormatError) -> Range<Int>? {
        var scanned = 0  // bytes after `start` known to hold no newline
        while true {
            if let newline = findNewline(from: start + scanned) {
                try checkLength(newline - start, maximumLength: maximumLength)
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = start..<lineEnd
                start = newline + 1
                return line
            }
            scanned = available
            if reachedEnd {
                if available == 0 { return nil }
                try checkLength(available, maximumLength: maximumLength)
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = start..<lineEnd
                start = end
                return line
            }
            try readMoreOfRecord(maximumLength: maximumLength)
        }
    }

    /// Like ``nextLine(maximumLength:)``, but a newline inside double quotes does not end the
    /// record (CSV, RFC 4180: a quoted field may span lines; `""` is an escaped quote, which
    /// toggles the state twice and so leaves it alone).
    mutating func nextQuotedRecord(maximumLength: Int) throws(FileFormatError) -> Range<Int>? {
        var scanned = 0
        var inQuotes = false
        while true {
            var index = start + scanned
            while index < end {
                let byte = buffer[index]
                if byte == 0x22 {
                    inQuotes.toggle()
                } else if byte == 0x0A && !inQuotes {
                    try checkLength(index - start, maximumLength: maximumLength)
                    var recordEnd = index
                    if recordEnd > start && buffer[recordEnd - 1] == 0x0D { recordEnd -= 1 }
                    let record = start..<recordEnd
                    start = index + 1
                    return record
                }
                index += 1
            }
            scanned = available
            if reachedEnd {
                // An unterminated quote runs to the end; the CSV parser reports it.
                if available == 0 { return nil }
                try checkLength(available, maximumLength: maximumLength)
                var recordEnd = end
                if buffer[recordEnd - 1] == 0x0D { recordEnd -= 1 }
                let record = start..<recordEnd
                start = end
                return record
            }
            try readMoreOfRecord(maximumLength: maximumLength)
        }
    }

    /// Throws ``FileFormatError/Code/lineTooLong`` for a line of `length` bytes (found, or
    /// found so far) past the limit; the same whether the input is buffered whole or not.
    private func checkLength(_ length: Int, maximumLength: Int) throws(FileFormatError) {
        if length > maximumLength {
            throw FileFormatError(
                .lineTooLong, "line is longer than \(maximumLength) bytes", path: path,
                byteOffset: offset)
        }
    }

    /// Reads more input for a line or record that is not complete in the buffer yet.
    private mutating func readMoreOfRecord(maximumLength: Int) throws(FileFormatError) {
        try checkLength(available, maximumLength: maximumLength)
        if start == 0 && end == buffer.count {
            // One line fills the whole buffer: double it (within the limit).
            buffer.append(contentsOf: repeatElement(0, count: buffer.count))
        }
        compact()
        try readMore()
    }

    /// The index of the first `\n` in `buffer[from..<end]`, found with `memchr`.
    private func findNewline(from index: Int) -> Int? {
        guard index < end else { return nil }
        let end = self.end
        // Safety: `index < end <= raw.count`.
        return unsafe buffer.withUnsafeBytes { raw -> Int? in
            guard let found = unsafe memchr(raw.baseAddress! + index, 0x0A, end - index) else {
                return nil
            }
            return unsafe raw.baseAddress!.distance(to: UnsafeRawPointer(found))
        }
    }

    /// An ``FileFormatError/Code/io`` error carrying `strerror(errno)`.
    static func systemError(
        _ what: String, path: String?, byteOffset: Int? = nil
    ) -> FileFormatError {
        let code = errno
        let reason = unsafe String(cString: strerror(code))
        return FileFormatError(.io, "\(what): \(reason)", path: path, byteOffset: byteOffset)
    }
}
