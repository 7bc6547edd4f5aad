// Feeds arbitrary bytes to GraphWorkload: random sequences of upserts, deletes, index builds
// and drops, and searches on a fresh store each run. After every transaction the graph must
// keep its invariants (verify) and index searches with efSearch 256 must equal the exact scan.
import Foundation
@_spi(Fuzzing) import Quiver

private let folder: String = {
    let path = FileManager.default.temporaryDirectory.path + "/quiver-fuzz-hnsw-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let store = folder + "/store"
    try? FileManager.default.removeItem(atPath: store)
    try? FileManager.default.removeItem(atPath: store + "-lock")
    do {
        try GraphWorkload.run(Array(UnsafeRawBufferPointer(start: start, count: count)), storePath: store)
    } catch let failure as GraphWorkload.Failure {
        preconditionFailure(failure.description)
    } catch {
        preconditionFailure("unexpected error: \(error)")
    }
    return 0
}
