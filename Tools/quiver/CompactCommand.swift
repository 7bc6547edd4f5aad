import ArgumentParser
import Quiver

/// `quiver compact DEST`: LMDB's compacting copy, with the sizes before and after.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract:
            "Write a compacted copy of the store (free pages omitted) to DEST and report the sizes."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The copy's path; it must not exist.")
    var destination: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let database = try storeOptions.open(readOnly: true)
        let before = fileSize(storeOptions.store)
        let used = try database.inspect().usedBytes
        let started = now()
        try database.compact(to: destination)
        let seconds = now() - started
        let after = fileSize(destination)
        if json {
            printJSON(
                .object([
                    ("source", .string(storeOptions.store)), ("destination", .string(destination)),
                    ("source_bytes", .number(before)), ("source_used_bytes", .number(used)),
                    ("destination_bytes", .number(after)), ("seconds", .rounded(seconds, 3)),
                ])
            )
        } else {
            let saved = before > 0 ? 100 * Double(before - after) / Double(before) : 0
            print("\(storeOptions.store): \(bytes(before)) (\(bytes(used)) in use)")
            print(
                "\(destination): \(bytes(after)) (\(String(format: "%.1f", saved))% smaller) in \(duration(seconds))"
            )
        }
    }
}
