import Foundation

/// A recall/throughput plot of approximate-search runs, written as a standalone SVG file.
///
/// Recall@10 runs along x, from the lowest recall rounded down to a multiple of 0.05 up to 1.0;
/// queries per second run along y on a log10 scale with a gridline and a label per decade,
/// because systems and `efSearch` settings differ by orders of magnitude. Each series is one
/// `<polyline>` through its points (sorted by recall) with a circle at every point, in a colour
/// of its own, and has an entry in the legend right of the plot. Points that cannot be drawn
/// (a non-finite value, or a rate that is not positive, which a log scale cannot place) are
/// left out; a series without points keeps an empty polyline and its legend entry.
///
/// The SVG is built as plain text so that `quiver bench ann --plot` needs no library.
struct RecallPlot {
    /// One curve: a system or a configuration, its points in any order.
    struct Series {
        var name: String
        var points: [(recall: Double, queriesPerSecond: Double)]
    }

    var title: String
    var series: [Series]

    /// The plot as an SVG document (UTF-8 text with an XML declaration).
    func svg() -> String {
        let drawn = series.map { one in
            one.points
                .filter { $0.recall.isFinite && $0.queriesPerSecond.isFinite }
                .filter { $0.queriesPerSecond > 0 }
                .map { (recall: min(max($0.recall, 0), 1), rate: $0.queriesPerSecond) }
                .sorted { $0.recall < $1.recall }
        }
        let frame = Frame(points: drawn.flatMap { $0 })
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Frame.width)\" "
            + "height=\"\(Frame.height)\" viewBox=\"0 0 \(Frame.width) \(Frame.height)\" "
            + "font-family=\"sans-serif\" font-size=\"12\">\n"
            + tag("rect", ["width": "100%", "height": "100%", "fill": "white"])
            + tag("text", ["x": n((Frame.left + Frame.right) / 2), "y": "26",
                           "text-anchor": "middle", "font-size": "15"], text: title)
        frame.drawAxes(into: &out)
        for (index, points) in drawn.enumerated() {
            let (colour, dash) = Self.style(index)
            let pixels = points.map { (x: n(frame.x($0.recall)), y: n(frame.y($0.rate))) }
            let polyline = pixels.map { $0.x + "," + $0.y }.joined(separator: " ")
            out += "<g fill=\"\(colour)\">\n"
                + tag("polyline", ["fill": "none", "stroke": colour, "stroke-width": "2",
                                   "stroke-dasharray": dash, "points": polyline])
            for pixel in pixels {
                out += tag("circle", ["cx": pixel.x, "cy": pixel.y, "r": "3.5"])
            }
            out += "</g>\n"
            // Legend: a swatch with a marker, then the name; one row per series.
            let row = Frame.top + 12 + 20 * Double(index)
            out += tag("line", ["x1": n(Frame.right + 16), "y1": n(row), "x2": n(Frame.right + 40),
                                "y2": n(row), "stroke": colour, "stroke-width": "2",
                                "stroke-dasharray": dash])
                + tag("circle", ["cx": n(Frame.right + 28), "cy": n(row), "r": "3.5",
                                 "fill": colour])
                + tag("text", ["x": n(Frame.right + 46), "y": n(row + 4)], text: series[index].name)
        }
        return out + "</svg>\n"
    }

    /// Tableau 10, ten colours that stay distinct beside each other; past ten series the
    /// colours repeat with a dashed line, so that every series still looks different.
    private static func style(_ index: Int) -> (colour: String, dash: String) {
        let palette = [
            "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
            "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        ]
        return (palette[index % palette.count], index >= palette.count ? "6 3" : "")
    }
}

/// The geometry of the plot: the pixel box, the data ranges and the mapping between them.
private struct Frame {
    static let width = 760, height = 440
    static let left = 72.0, right = 560.0, top = 48.0, bottom = 384.0

    /// Lowest recall shown (a multiple of 0.05, at most 0.95); the highest is always 1.0.
    let recallFloor: Double
    /// Decades shown: 10^lowDecade … 10^highDecade queries per second.
    let lowDecade: Int, highDecade: Int

    init(points: [(recall: Double, rate: Double)]) {
        // The epsilon keeps 0.9 / 0.05 = 17.999… from dropping the floor a whole step.
        let lowest = points.map(\.recall).min() ?? 0.5
        recallFloor = min((lowest / 0.05 + 1e-9).rounded(.down) * 0.05, 0.95)
        let logs = points.map { log10($0.rate) }
        lowDecade = Int((logs.min() ?? 2).rounded(.down))
        highDecade = max(Int((logs.max() ?? 5).rounded(.up)), lowDecade + 1)
    }

    func x(_ recall: Double) -> Double {
        Self.left + (recall - recallFloor) / (1 - recallFloor) * (Self.right - Self.left)
    }

    func y(_ rate: Double) -> Double {
        let fraction = (log10(rate) - Double(lowDecade)) / Double(highDecade - lowDecade)
        return Self.bottom - fraction * (Self.bottom - Self.top)
    }

    /// Gridlines, tick labels, the frame and the axis titles.
    func drawAxes(into out: inout String) {
        var grid = "", labels = ""
        // Recall ticks every 0.05 on a narrow range, every 0.1 on a wide one, at multiples of
        // the step; counted in hundredths so that no rounding error creeps into the labels.
        let step = 1 - recallFloor <= 0.4 ? 5 : 10
        let first = (Int((recallFloor * 100).rounded()) + step - 1) / step * step
        for hundredths in stride(from: first, through: 100, by: step) {
            let px = n(x(Double(hundredths) / 100))
            grid += tag("line", ["x1": px, "y1": n(Self.top), "x2": px, "y2": n(Self.bottom)])
            let label = "\(hundredths / 100)." + (hundredths % 100 < 10 ? "0" : "")
                + "\(hundredths % 100)"
            labels += tag("text", ["x": px, "y": n(Self.bottom + 18), "text-anchor": "middle"],
                          text: label)
        }
        for decade in lowDecade...highDecade {
            let py = y(pow(10, Double(decade)))
            grid += tag("line", ["x1": n(Self.left), "y1": n(py), "x2": n(Self.right),
                                 "y2": n(py)])
            labels += tag("text", ["x": n(Self.left - 8), "y": n(py + 4), "text-anchor": "end"],
                          text: Self.decadeLabel(decade))
        }
        out += "<g stroke=\"#dddddd\">\n" + grid + "</g>\n" + labels
            + tag("rect", ["x": n(Self.left), "y": n(Self.top),
                           "width": n(Self.right - Self.left), "height": n(Self.bottom - Self.top),
                           "fill": "none", "stroke": "#333333"])
            + tag("text", ["x": n((Self.left + Self.right) / 2), "y": n(Self.bottom + 40),
                           "text-anchor": "middle"], text: "recall@10")
            + tag("text", ["transform": "translate(20 \(n((Self.top + Self.bottom) / 2)))"
                                + " rotate(-90)", "text-anchor": "middle"],
                  text: "queries/s (log scale)")
    }

    /// `1`, `10`, `100`, `1k` … `100k`, `1M` … `100M`; scientific outside that range.
    private static func decadeLabel(_ decade: Int) -> String {
        switch decade {
        case 0..<3: "1" + String(repeating: "0", count: decade)
        case 3..<6: "1" + String(repeating: "0", count: decade - 3) + "k"
        case 6..<9: "1" + String(repeating: "0", count: decade - 6) + "M"
        default: "1e\(decade)"
        }
    }
}

/// One element on its own line: `<name a="v"…/>`, or `<name …>text</name>` with `text`.
/// Values and text are escaped here; an attribute whose value is empty is left out.
private func tag(_ name: String, _ attributes: KeyValuePairs<String, String>,
                 text: String? = nil) -> String {
    var out = "<" + name
    for (key, value) in attributes where !value.isEmpty {
        out += " \(key)=\"\(xmlEscaped(value))\""
    }
    guard let text else { return out + "/>\n" }
    return out + ">" + xmlEscaped(text) + "</\(name)>\n"
}

/// A coordinate with at most one decimal: plenty at this size, and short.
private func n(_ value: Double) -> String {
    let tenths = (value * 10).rounded()
    let whole = tenths.truncatingRemainder(dividingBy: 10) == 0
    return whole ? String(Int(tenths / 10)) : String(tenths / 10)
}

/// `text` safe in XML content and attribute values: the five special characters become
/// entities, and control characters, which XML 1.0 forbids even as entities, become U+FFFD.
private func xmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
            out += "\u{FFFD}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
