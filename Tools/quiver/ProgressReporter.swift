import Foundation

/// Shows the progress of a long load on stderr: a bar redrawn in place when stderr is a
/// terminal, otherwise one line every few seconds (so logs stay readable).
final class ProgressReporter {
    private let label: String
    private let total: Int?
    private let bytesPerRow: Int
    private let enabled: Bool
    private let isTerminal: Bool
    private let start: Double
    private var lastDraw: Double
    private var drewBar = false

    /// - Parameters:
    ///   - total: the rows expected, when known (for the percentage and ETA).
    ///   - bytesPerRow: raw vector bytes per row (for MB/s).
    ///   - enabled: `false` prints nothing.
    init(label: String, total: Int?, bytesPerRow: Int, enabled: Bool = true) {
        self.label = label
        self.total = total
        self.bytesPerRow = bytesPerRow
        self.enabled = enabled
        // A terminal shows the bar at once; a log gets its first line after an interval.
        isTerminal = standardErrorIsTerminal
        start = now()
        lastDraw = isTerminal ? -1 : start
    }

    /// Reports `rows` done so far.
    func update(rows: Int) {
        guard enabled else { return }
        let t = now()
        let interval = isTerminal ? 0.1 : 5.0
        guard t - lastDraw >= interval else { return }
        lastDraw = t
        draw(rows: rows, elapsed: t - start)
    }

    /// Draws the final state and ends the line.
    func finish(rows: Int) {
        guard enabled else { return }
        draw(rows: rows, elapsed: now() - start)
        if isTerminal && drewBar { standardError("\n") }
    }

    private func draw(rows: Int, elapsed: Double) {
        let rate = elapsed > 0 ? Double(rows) / elapsed : 0
        let megabytes = rate * Double(bytesPerRow) / 1e6
        var text = "\(label) \(grouped(rows))"
        var bar = ""
        if let total, total > 0 {
            let fraction = min(1, Double(rows) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            bar =
                "[" + String(repeating: "#", count: filled)
                + String(repeating: ".", count: width - filled) + "] "
            text += "/\(grouped(total)) rows (\(Int(fraction * 100))%)"
        } else {
            text += " rows"
        }
        text += String(
            format: ", %@ vectors/s, %.1f MB/s, elapsed %@",
            grouped(Int(rate)),
            megabytes,
            duration(elapsed)
        )
        if let total, rate > 0, rows < total {
            text += ", ETA \(duration(Double(total - rows) / rate))"
        }
        fflush(nil)  // what the command printed on stdout comes first
        if isTerminal {
            // \u{1B}[K clears what a longer previous line left behind.
            standardError("\r" + bar + text + "\u{1B}[K")
            drewBar = true
        } else {
            standardError(text + "\n")
        }
    }
}

/// `1234567` as `1,234,567`.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (value < 0 ? "-" : "") + out
}

/// Seconds as `m:ss` (or `h:mm:ss`), or `0.42 s` under ten seconds.
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    if seconds < 10 { return String(format: "%.2f s", seconds) }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) }
    return String(format: "%d:%02d", s / 60, s % 60)
}

/// A progress bar per stage of a long job (an encoding's "training", then "encoding"): a new
/// stage finishes the previous bar and starts its own.
final class StagedProgress: @unchecked Sendable {
    // Safety: updates come from one thread at a time (the job reports from one thread).
    private var bar: ProgressReporter?
    private var stage = ""
    private var done = 0
    private let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ stage: String, _ done: Int, _ total: Int) {
        if stage != self.stage {
            finish()
            self.stage = stage
            bar = ProgressReporter(label: stage, total: total, bytesPerRow: 0, enabled: enabled)
        }
        self.done = done
        bar?.update(rows: done)
    }

    func finish() {
        bar?.finish(rows: done)
        bar = nil
    }
}
