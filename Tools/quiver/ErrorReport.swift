import ArgumentParser
import Foundation
import Quiver
import QuiverFiles

/// Bad command-line input found by the tool itself (exit status 2).
struct UsageError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// An operation that ran and failed, such as violations found by `verify` (exit status 1).
/// Its message has been printed already when `message` is empty.
struct OperationFailed: Error {
    var message: String = ""
}

/// Prints an error the way every subcommand does and chooses the exit status.
enum ErrorReport {
    /// Prints `error` on stderr (or help on stdout) and returns the exit status.
    static func handle(_ error: any Error) -> Int32 {
        switch error {
        case let error as QuiverError:
            printError("\(error)")
            return isBadInput(error.code) ? 2 : 1
        case let error as FilterSyntaxError:
            printError("invalidFilter: \(error)")
            return 2
        case let error as FileFormatError:
            // The description ends in ` [code]`; the code leads the line instead.
            var text = error.description
            if text.hasSuffix(" [\(error.code)]") { text.removeLast(" [\(error.code)]".count) }
            printError("\(error.code): \(text)")
            return 2
        case let error as InputError:
            printError("\(error)")
            return 2
        case let error as UsageError:
            printError(error.message)
            return 2
        case let error as OperationFailed:
            if !error.message.isEmpty { printError(error.message) }
            return 1
        case let error as ExitCode:
            return error.rawValue
        default:
            // ArgumentParser's own errors: help, version, and usage mistakes.
            let code = QuiverCommand.exitCode(for: error)
            let message = QuiverCommand.fullMessage(for: error)
            if code == .success {
                print(message)
                return 0
            }
            if !message.isEmpty { standardError(message + "\n") }
            return code == .validationFailure ? 2 : code.rawValue
        }
    }

    /// Codes caused by what the user typed or supplied, rather than by the store or the system.
    static func isBadInput(_ code: QuiverError.Code) -> Bool {
        let failures: [QuiverError.Code] = [.corrupted, .diskFull, .storage]
        return !failures.contains(code)
    }

    static func printError(_ text: String) {
        standardError("error: \(text)\n")
    }
}

/// Writes `text` to stderr unbuffered, so it interleaves correctly with progress lines.
func standardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
