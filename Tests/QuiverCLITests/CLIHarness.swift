import Foundation
import Testing

/// What one run of the `quiver` binary did.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The standard output parsed as JSON.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }
}

/// Runs the built `quiver` executable in a fresh temporary folder.
///
/// The binary is found, in order: `$QUIVER_BINARY`; next to the test bundle (SwiftPM puts
/// every product of a build in one folder, so `quiver` sits beside `…PackageTests.xctest`);
/// the newest `quiver` under a `.build*/` folder of the package that holds this file.
final class CLIHarness {
    let folder: URL
    let binary: URL

    init() throws {
        binary = try Self.locateBinary()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "quiver-cli-test-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A path inside the temporary folder.
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Runs `quiver` with `arguments` in the temporary folder and waits for it.
    @discardableResult
    func run(_ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        // Files, not pipes: a child that fills a pipe nobody reads would hang the test.
        let out = folder.appendingPathComponent(".stdout-\(UUID().uuidString)")
        let err = folder.appendingPathComponent(".stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        let result = CLIResult(
            status: process.terminationStatus,
            stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8)
        )
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
        // Whatever went wrong, the tool must never crash with a signal or a backtrace.
        #expect(process.terminationReason == .exit, "quiver \(arguments) was killed by a signal")
        #expect(
            !result.stderr.contains("Fatal error"),
            "quiver \(arguments) trapped: \(result.stderr)"
        )
        #expect(
            !result.stderr.contains("Backtrace"),
            "quiver \(arguments) printed a backtrace: \(result.stderr)"
        )
        return result
    }

    static func locateBinary() throws -> URL {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["QUIVER_BINARY"] {
            return URL(fileURLWithPath: explicit)
        }
        var candidates: [URL] = []
        let bundle = Bundle.main.bundleURL
        candidates.append(bundle.appendingPathComponent("quiver"))
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("quiver"))
        if let executable = ProcessInfo.processInfo.arguments.first {
            candidates.append(
                URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(
                    "quiver"
                )
            )
        }
        for candidate in candidates where fileManager.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        // Tests/QuiverCLITests/CLIHarness.swift → the package root, then its build folders.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        var newest: (URL, Date)?
        for folder in (try? fileManager.contentsOfDirectory(atPath: root.path)) ?? []
        where folder.hasPrefix(".build") {
            for configuration in ["debug", "release"] {
                let url = root.appendingPathComponent(folder).appendingPathComponent(configuration)
                    .appendingPathComponent("quiver")
                guard fileManager.isExecutableFile(atPath: url.path),
                    let date = (try? fileManager.attributesOfItem(atPath: url.path))?[
                        .modificationDate
                    ] as? Date
                else { continue }
                if newest == nil || date > newest!.1 { newest = (url, date) }
            }
        }
        guard let found = newest?.0 else {
            throw HarnessError(
                "the quiver binary was not found next to the tests or under .build*/; run `swift build` first or set QUIVER_BINARY"
            )
        }
        return found
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
