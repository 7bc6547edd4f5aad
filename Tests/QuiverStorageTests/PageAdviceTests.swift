import Foundation
@testable import QuiverStorage
import Testing

#if canImport(Glibc)
import Glibc

@Suite("Page advice")
struct PageAdviceTests {
    static let pageBytes = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// A synced file of `pages` pages (page p's bytes all equal to p % 251), mapped read-only,
    /// with its pages dropped from the page cache where the file system allows it (not tmpfs).
    final class MappedFile {
        let base: UnsafeRawPointer
        let bytes: Int
        private let fd: Int32

        init(pages: Int) throws {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-advice-\(UUID().uuidString)").path
            bytes = pages * PageAdviceTests.pageBytes
            var contents = [UInt8](repeating: 0, count: bytes)
            for p in 0..<pages { contents.withUnsafeMutableBufferPointer { $0[p * PageAdviceTests.pageBytes..<(p + 1) * PageAdviceTests.pageBytes].update(repeating: UInt8(p % 251)) } }
            try Data(contents).write(to: URL(fileURLWithPath: path))
            fd = open(path, O_RDONLY)
            unlink(path)
            try #require(fd >= 0)
            fsync(fd)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
            let mapped = mmap(nil, bytes, PROT_READ, MAP_SHARED, fd, 0)
            try #require(mapped != MAP_FAILED)
            base = UnsafeRawPointer(mapped!)
        }

        deinit {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes)
            close(fd)
        }

        /// Every page's first byte, summed: touches each page once.
        func touch() -> Int {
            (0..<bytes / PageAdviceTests.pageBytes).reduce(0) { $0 + Int(base.load(fromByteOffset: $1 * PageAdviceTests.pageBytes, as: UInt8.self)) }
        }
    }

    @Test("advice on scattered mapped rows is taken, and the rows read the same after it")
    func willNeedOnMappedRows() throws {
        let file = try MappedFile(pages: 64)
        // Rows of 1,536 bytes at scattered offsets, some across a page boundary.
        let offsets = [0, 5 * Self.pageBytes + 3000, 17 * Self.pageBytes + 100, 40 * Self.pageBytes - 700, 62 * Self.pageBytes]
        let starts: [UnsafeRawPointer?] = offsets.map { file.base + $0 }
        #expect(PageAdvice.willNeed(starts, count: starts.count, bytes: 1536))
        #expect(PageAdvice.willNeed(starts, count: 0, bytes: 1536))
        let lengths = [1536, 3 * Self.pageBytes, 1, 700, Self.pageBytes]
        #expect(PageAdvice.willNeed(starts, lengths: lengths, count: starts.count))
        for offset in offsets {
            #expect(file.base.load(fromByteOffset: offset, as: UInt8.self) == UInt8(offset / Self.pageBytes % 251))
        }
    }

    @Test("the adaptive advice turns on after a read that faults, advises the next span reads, then watches one again")
    func adaptiveAdvice() throws {
        let file = try MappedFile(pages: 256)
        let starts: [UnsafeRawPointer?] = (0..<256).map { file.base + $0 * Self.pageBytes }
        var advice = PageAdvice.Adaptive()
        #expect(!advice.isAdvising)

        // The first read, of pages dropped from the cache: on when it faulted from disk (it
        // cannot where the file system keeps every page in memory, as tmpfs does).
        let before = PageAdvice.threadMajorFaults()
        let sum = advice.read(advising: { PageAdvice.willNeed(starts, count: starts.count, bytes: 1) }) { file.touch() }
        let faulted = PageAdvice.threadMajorFaults() > before
        #expect(sum == (0..<256).reduce(0) { $0 + $1 % 251 })
        #expect(advice.isAdvising == faulted)

        // From on: span advised reads (cached pages now), then a watched read that does not
        // fault turns it off.
        advice.remaining = PageAdvice.Adaptive.span
        for _ in 0..<PageAdvice.Adaptive.span {
            #expect(advice.isAdvising)
            _ = advice.read(advising: { PageAdvice.willNeed(starts, count: starts.count, bytes: 1) }) { file.touch() }
        }
        #expect(!advice.isAdvising)
        _ = advice.read(advising: { PageAdvice.willNeed(starts, count: starts.count, bytes: 1) }) { file.touch() }
        #expect(!advice.isAdvising)
    }
}
#endif
