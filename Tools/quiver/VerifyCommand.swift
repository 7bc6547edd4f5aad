import ArgumentParser
import Quiver

/// `quiver verify`: checks every invariant; exit status 1 when any is broken.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every invariant of the store; print each violation, or \"ok\"."
    )

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let database = try storeOptions.open(readOnly: true)
        let violations = try database.verify()
        guard !violations.isEmpty else {
            print("ok")
            return
        }
        for violation in violations { print(violation) }
        throw OperationFailed(
            message: "\(violations.count) violation\(violations.count == 1 ? "" : "s") found"
        )
    }
}
