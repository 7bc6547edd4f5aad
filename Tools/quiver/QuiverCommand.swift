import ArgumentParser
import Foundation
import Quiver

/// The `quiver` admin tool: create, import, query, inspect, verify, compact, export, bench and
/// demo, on any store, through the public API only (as LMDB's `mdb_stat` uses only `lmdb.h`).
///
/// Every subcommand takes the store as `--store PATH` (default `./quiver.store`). Exit status:
/// 0 success, 1 violations found or an operation failed, 2 bad usage or bad input. Errors print
/// one `error: <code>: <message> (context)` line on stderr, never a backtrace.
@main
struct QuiverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver",
        abstract: "Administer a Quiver vector store.",
        discussion:
            "Every subcommand takes the store as --store PATH (default ./quiver.store). See docs/cli.md.",
        version: "0.1.0",
        subcommands: [
            CreateCommand.self, ImportCommand.self, QueryCommand.self, InspectCommand.self,
            VerifyCommand.self, CompactCommand.self, ExportCommand.self, IndexCommand.self, BenchCommand.self,
            DemoCommand.self,
        ]
    )

    /// Parses the arguments and runs the subcommand, mapping every error to an exit status.
    ///
    /// Replaces ArgumentParser's `main()` because its usage errors exit with 64 (`EX_USAGE`);
    /// Quiver's tool promises 2 for every kind of bad input.
    static func main() {
        // Imports commit hundreds of MiB; LMDB's freed pages are reused rather than mapped
        // afresh for every commit (`Database.tuneAllocatorForBulkWrites`).
        Database.tuneAllocatorForBulkWrites()
        let status: Int32
        do {
            var command = try parseAsRoot()
            try command.run()
            status = 0
        } catch {
            status = ErrorReport.handle(error)
        }
        fflush(nil)  // stdout is buffered when it is a pipe
        Foundation.exit(status)
    }
}
