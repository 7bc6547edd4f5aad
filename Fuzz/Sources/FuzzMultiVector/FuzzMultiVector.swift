// Feeds arbitrary bytes to MultiVectorWorkload: random documents (pooled or not) upserted,
// replaced and deleted, token index and encoding builds, and searches on a fresh store each run.
// After every transaction the store must verify and exact and index MaxSim must agree with a
// plain MaxSim over the stored tokens.
import Foundation
@_spi(Fuzzing) import Quiver

private let folder: String = {
    let path = FileManager.default.temporaryDirectory.path + "/quiver-fuzz-multivector-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let store = folder + "/store"
    try? FileManager.default.removeItem(atPath: store)
    try? FileManager.default.removeItem(atPath: store + "-lock")
    do {
        try MultiVectorWorkload.run(Array(UnsafeRawBufferPointer(start: start, count: count)), storePath: store)
    } catch let failure as MultiVectorWorkload.Failure {
        preconditionFailure(failure.description)
    } catch {
        preconditionFailure("unexpected error: \(error)")
    }
    return 0
}
