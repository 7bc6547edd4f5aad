import ArgumentParser
import Foundation
import Quiver

/// The `--store PATH` option every subcommand takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store file.", valueName: "path"))
    var store: String = "./quiver.store"

    /// Opens the store. Read-only opens require it to exist; writable opens create it.
    func open(readOnly: Bool) throws -> Database {
        try Self.open(path: store, readOnly: readOnly)
    }

    static func open(path: String, readOnly: Bool, durable: Bool = true) throws -> Database {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            throw UsageError("\(path) is a directory; --store names the store file")
        }
        if readOnly && !exists {
            throw UsageError(
                "no store at \(path) (create one with `quiver create --store \(path) ...`)"
            )
        }
        var configuration = Database.Configuration()
        configuration.readOnly = readOnly
        if !durable { configuration.syncMode = .noSync }
        return try Database(path: path, configuration: configuration)
    }
}

/// The size of the file at `path` in bytes, or 0.
func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// Monotonic seconds, for timings.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Whether standard error is a terminal (for the progress bar).
var standardErrorIsTerminal: Bool { isatty(2) != 0 }
