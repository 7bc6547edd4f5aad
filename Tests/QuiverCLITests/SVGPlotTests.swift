import Foundation
#if canImport(FoundationXML)
import FoundationXML  // XMLDocument lives here outside Apple platforms
#endif
import Testing
@testable import QuiverCLI

/// `RecallPlot`: the SVG must be a well-formed standalone document whatever the data, with one
/// polyline per series, because `quiver bench ann --plot` writes it unattended.
@Suite("RecallPlot")
struct SVGPlotTests {
    /// A typical efSearch sweep: recall rising as throughput falls.
    static func sweep(_ name: String, scale: Double) -> RecallPlot.Series {
        let recalls = [0.83, 0.9, 0.94, 0.97, 0.985, 0.995]
        let points = recalls.enumerated().map { step, recall in
            (recall: recall, queriesPerSecond: scale / Double(1 << step))
        }
        return RecallPlot.Series(name: name, points: points)
    }

    @Test func parsesAsXMLWithOnePolylineAndOneMarkerPerPoint() throws {
        let plot = RecallPlot(title: "debian, M=16", series: [
            Self.sweep("quiver", scale: 42_000), Self.sweep("hnswlib", scale: 20_000),
            Self.sweep("faiss-hnsw", scale: 30_000),
        ])
        let root = try parse(plot.svg())
        #expect(root.name == "svg")
        let polylines = elements("polyline", in: root)
        #expect(polylines.count == 3)
        for line in polylines {
            #expect(coordinates(line).count == 6)
        }
        // Six markers per series plus one per legend entry.
        #expect(elements("circle", in: root).count == 3 * 6 + 3)
    }

    @Test func escapesNamesAndTitle() throws {
        let name = #"a<b & c>d "q" 'r'"#
        let plot = RecallPlot(title: "<&> plot", series: [Self.sweep(name, scale: 1000)])
        let svg = plot.svg()
        #expect(!svg.contains("a<b") && !svg.contains("<&>"))
        #expect(svg.contains("a&lt;b &amp; c&gt;d &quot;q&quot; &apos;r&apos;"))
        // The parser gives the original text back.
        let texts = elements("text", in: try parse(svg)).compactMap(\.stringValue)
        #expect(texts.contains(name))
        #expect(texts.contains("<&> plot"))
    }

    @Test func controlCharactersInNamesStillGiveWellFormedXML() throws {
        let plot = RecallPlot(title: "t", series: [Self.sweep("bell\u{7}", scale: 100)])
        #expect(elements("polyline", in: try parse(plot.svg())).count == 1)
    }

    @Test func singlePointAndEmptySeries() throws {
        let plot = RecallPlot(title: "edge cases", series: [
            RecallPlot.Series(name: "one", points: [(recall: 0.9, queriesPerSecond: 5000)]),
            RecallPlot.Series(name: "none", points: []),
        ])
        let polylines = elements("polyline", in: try parse(plot.svg()))
        #expect(polylines.count == 2)
        #expect(coordinates(polylines[0]).count == 1)
        #expect(coordinates(polylines[1]).isEmpty)
    }

    @Test func noSeriesAndUnplottablePoints() throws {
        let empty = RecallPlot(title: "", series: [])
        #expect(elements("polyline", in: try parse(empty.svg())).isEmpty)
        let odd = RecallPlot(title: "odd", series: [
            RecallPlot.Series(name: "bad", points: [
                (recall: 0.9, queriesPerSecond: 0), (recall: .nan, queriesPerSecond: 10),
                (recall: 0.95, queriesPerSecond: -3), (recall: 1, queriesPerSecond: .infinity),
                (recall: 1.2, queriesPerSecond: 700),
            ]),
        ])
        let polylines = elements("polyline", in: try parse(odd.svg()))
        #expect(coordinates(polylines[0]).count == 1)  // only the last, its recall clamped to 1
    }

    @Test func axesSpanTheDataAndPointsStayInsideThePlot() throws {
        let plot = RecallPlot(title: "axes", series: [
            Self.sweep("a", scale: 42_000), Self.sweep("b", scale: 150 * 32),
        ])
        let root = try parse(plot.svg())
        let labels = Set(elements("text", in: root).compactMap(\.stringValue))
        // Recall from 0.83 rounded down to 0.80, up to 1.00; rates 150…42,000 span 100…100k.
        #expect(labels.isSuperset(of: ["0.80", "0.85", "0.95", "1.00", "100", "1k", "10k", "100k"]))
        #expect(!labels.contains("0.75") && !labels.contains("10") && !labels.contains("1M"))
        let points = elements("polyline", in: root).flatMap(coordinates)
        #expect(points.count == 12)
        #expect(points.allSatisfy { (72...560).contains($0.x) && (48...384).contains($0.y) })
        // Higher recall is further right; higher throughput is higher up (smaller y).
        let first = coordinates(elements("polyline", in: root)[0])
        #expect(zip(first, first.dropFirst()).allSatisfy { $0.x < $1.x && $0.y < $1.y })
    }
}

/// The document's root element, from Foundation's XML parser: throws if the SVG is not
/// well-formed XML.
private func parse(_ svg: String) throws -> XMLElement {
    let document = try XMLDocument(xmlString: svg, options: [])
    return try #require(document.rootElement())
}

/// Every element named `name` under `root`, in document order.
private func elements(_ name: String, in root: XMLElement) -> [XMLElement] {
    let children = (root.children ?? []).compactMap { $0 as? XMLElement }
    return (root.name == name ? [root] : []) + children.flatMap { elements(name, in: $0) }
}

/// The `points` of a polyline as pixel coordinates.
private func coordinates(_ polyline: XMLElement) -> [(x: Double, y: Double)] {
    // Not `attribute(forName:)`: swift-corelibs-foundation returns nil there for an element in a
    // default namespace (the SVG one), though `attributes` lists the attribute.
    let text = polyline.attributes?.first { $0.name == "points" }?.stringValue ?? ""
    return text.split(separator: " ").map { pair in
        let xy = pair.split(separator: ",").map { Double($0)! }
        return (xy[0], xy[1])
    }
}
