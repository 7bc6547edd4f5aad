import Foundation
import Quiver
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Another process writes while this one reads, then is killed with SIGKILL mid-import.
@Suite("Crash and processes")
struct CrashTests {
    @Test func killedImportLeavesExactlyTheCommittedBatches() throws {
        let cli = try CLIHarness()
        let dimensions = 32
        let rows = 200_000
        let batch = 500
        // Row r's vector is (r, r+1, …) / rows, so any stored row can be checked by its key.
        var data = Data(capacity: rows * (dimensions + 1) * 4)
        for r in 0..<rows {
            withUnsafeBytes(of: Int32(dimensions).littleEndian) { data.append(contentsOf: $0) }
            for c in 0..<dimensions {
                withUnsafeBytes(of: (Float(r + c) / Float(rows)).bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        try data.write(to: URL(fileURLWithPath: cli.path("base.fvecs")))
        let store = cli.path("s.quiver")
        let process = Process()
        process.executableURL = cli.binary
        process.arguments = ["import", "c", "base.fvecs", "--store", store, "--create", "--metric", "l2", "--batch-rows", "\(batch)", "--quiet"]
        process.currentDirectoryURL = cli.folder
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // Read in this process while the other writes: every snapshot holds whole batches.
        var seen = 0
        var snapshots = 0
        let deadline = Date().addingTimeInterval(60)
        while seen < 20 * batch && process.isRunning && Date() < deadline {
            if let db = try? Database(path: store, configuration: .init(readOnly: true)),
               let count = try? db.read({ try $0.collection("c").count }) {
                #expect(count % batch == 0, "a reader saw \(count) rows: not whole batches")
                #expect(count >= seen)
                seen = count
                snapshots += 1
            }
            usleep(2_000)
        }
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(wasRunning, "the import finished before it could be killed; make the input larger")
        #expect(snapshots > 0)

        let db = try Database(path: store)
        #expect(try db.verify().isEmpty)
        let count = try db.read { try $0.collection("c").count }
        #expect(count % batch == 0)
        #expect(count >= seen)
        #expect(count < rows)
        try db.read { tx in
            let c = try tx.collection("c")
            if count > 0 {
                let last = try c.get(.int(UInt64(count - 1)))
                #expect(last?.vector?.first == Float(count - 1) / Float(rows))
            }
            #expect(try c.get(.int(UInt64(count))) == nil)
        }
        // Another process opens the same store and sees the same state.
        let verify = try cli.run(["verify", "--store", store])
        #expect(verify.status == 0, "\(verify.stderr)")
        // Resuming finishes the import with every row exactly once.
        let resume = try cli.run(["import", "c", "base.fvecs", "--store", store, "--resume", "--batch-rows", "5000", "--quiet"])
        #expect(resume.status == 0, "\(resume.stderr)")
        let reopened = try Database(path: store, configuration: .init(readOnly: true))
        #expect(try reopened.read { try $0.collection("c").count } == rows)
        #expect(try reopened.verify().isEmpty)
    }
}

@Suite("Full disk")
struct FullDiskTests {
    /// A write that runs out of space (here: the file-size limit, `EFBIG`, which LMDB reports
    /// like `ENOSPC`) fails with `diskFull`, commits nothing more, and loses nothing committed.
    @Test func aFullDiskLosesNothingCommitted() throws {
        let cli = try CLIHarness()
        let dimensions = 64
        func fvecs(rows: Int, offset: Int) -> Data {
            var data = Data()
            for r in 0..<rows {
                withUnsafeBytes(of: Int32(dimensions).littleEndian) { data.append(contentsOf: $0) }
                for c in 0..<dimensions {
                    withUnsafeBytes(of: Float(r + offset + c).bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            }
            return data
        }
        try fvecs(rows: 2_000, offset: 0).write(to: URL(fileURLWithPath: cli.path("small.fvecs")))
        try fvecs(rows: 100_000, offset: 0).write(to: URL(fileURLWithPath: cli.path("big.fvecs")))
        let store = cli.path("s.quiver")
        let first = try cli.run(["import", "c", "small.fvecs", "--store", store, "--create", "--metric", "l2", "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        let size = try FileManager.default.attributesOfItem(atPath: store)[.size] as! Int
        // bash: SIGXFSZ ignored (so write() fails with EFBIG instead of killing), a file-size
        // limit of the current size plus 4 MiB (units of 1 KiB), then the import.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f \(size / 1024 + 4096); exec \"$0\" \"$@\"", cli.binary.path,
                             "import", "c", "big.fvecs", "--store", store, "--resume", "--batch-rows", "10000", "--quiet"]
        process.currentDirectoryURL = cli.folder
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(message.contains("diskFull"), "\(message)")
        let db = try Database(path: store, configuration: .init(readOnly: true))
        #expect(try db.verify().isEmpty)
        let count = try db.read { try $0.collection("c").count }
        #expect(count >= 2_000 && count < 100_000 && (count - 2_000) % 10_000 == 0, "\(count)")
        #expect(try db.read { try $0.collection("c").get(1_999)?.vector?.first } == 1_999)
    }
}
