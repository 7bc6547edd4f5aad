import Dispatch

/// Commits an import's batches on a background thread, one at a time and in order, so that
/// reading, parsing and checking batch n + 1 on the calling thread overlaps the commit of
/// batch n (LMDB copying its pages and syncing).
///
/// At most one batch is in flight: ``submit(rows:_:)`` must follow a ``finishPrevious()``.
/// A failed commit is rethrown by the next ``finishPrevious()``, so rows committed before it
/// are counted exactly and nothing after it is submitted.
final class BatchCommitter: @unchecked Sendable {
    // Safety: `inFlightRows` is touched only by the calling thread; `failure` is written by
    // the queue before `group.leave()` and read by the calling thread after `group.wait()`,
    // which orders the two.
    private let queue = DispatchQueue(label: "quiver.import.commit")
    private let group = DispatchGroup()
    private var failure: (any Error)?
    private var inFlightRows = 0

    /// Starts committing a batch of `rows` rows on the background thread.
    func submit(rows: Int, _ commit: @escaping @Sendable () throws -> Void) {
        precondition(inFlightRows == 0, "finishPrevious() before the next submit")
        inFlightRows = rows
        group.enter()
        queue.async {
            do { try commit() } catch { self.failure = error }
            self.group.leave()
        }
    }

    /// Waits for the batch in flight, if any, and returns its rows (0 when there was none).
    /// - Throws: that batch's error; its rows were not committed.
    func finishPrevious() throws -> Int {
        group.wait()
        let rows = inFlightRows
        inFlightRows = 0
        if let error = failure {
            failure = nil
            throw error
        }
        return rows
    }
}
