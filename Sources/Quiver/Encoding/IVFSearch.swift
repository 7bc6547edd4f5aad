import QuiverKernels
import QuiverStorage

/// A search through IVF-PQ lists (IVFADC, Jégou et al. 2011): the `nprobe` lists whose
/// centroids are nearest the query are read whole, each entry scored by one table of inner
/// products shared by all lists, and the best `shortlist` rows are kept.
///
/// With `c` a list's centroid and `r̂` an entry's decoded residual, the stored vector is about
/// `c + r̂`, so `q·x ≈ q·c + q·r̂` (the table sum) and `|q − x|² ≈ |q − c|² − 2 q·r̂ + (|r̂|² + 2 c·r̂)`,
/// the last term stored with the entry.
struct IVFSearch {
    let lists: IVFLists
    let metric: Metric
    /// The lists' values by address, kept by the search context for the snapshot.
    let values: IVFListValues

    /// Default lists probed: a sixteenth of the lists, at least 1 and at most 64.
    static func defaultProbes(nlist: Int) -> Int { min(max(nlist / 16, 1), 64) }

    /// The best `shortlist` rows of the `nprobe` nearest lists. `advice` decides whether the
    /// lists' pages are asked for together before they are scanned (a store larger than memory).
    func run(query: UnsafePointer<Float>, table: UnsafePointer<Float>, nprobe: Int, rows filter: RowSet?, shortlist: Int,
             scratch: UnsafeMutablePointer<Float>, advice: inout PageAdvice.Adaptive) throws -> [Hit] {
        let nlist = lists.nlist
        let dimensions = lists.dimensions
        let coarse = scratch
        lists.coarse.withUnsafeBufferPointer { c in
            Kernels.squaredL2Rows(query: query, rows: UnsafeRawPointer(c.baseAddress!), byteStride: dimensions * 4, rowCount: nlist,
                                  dimensions: dimensions, into: coarse)
        }
        var probes = TopK(k: min(nprobe, nlist))
        probes.pushRows(distances: coarse, count: nlist, firstRow: 0)
        // The probed lists' values first (by address after a snapshot's first lookup), so
        // their pages can be asked for together.
        var probed: [(probe: Hit, value: UnsafeRawBufferPointer)] = []
        probed.reserveCapacity(probes.count)
        for probe in probes.sortedResults() {
            let value = try values.value(Int(probe.row))
            guard value.count > 0 else { continue }
            probed.append((probe, value))
        }
        var top = TopK(k: shortlist)
        try withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: max(probed.count, 1)) { starts in
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: max(probed.count, 1)) { lengths in
                for (i, list) in probed.enumerated() {
                    starts[i] = list.value.baseAddress
                    lengths[i] = list.value.count
                }
                try advice.read(advising: {
                    PageAdvice.willNeed(UnsafePointer(starts.baseAddress!), lengths: UnsafePointer(lengths.baseAddress!), count: probed.count)
                }) {
                    for list in probed {
                        try scan(list.value, list: Int(list.probe.row), toCentroid: list.probe.distance, query: query, table: table,
                                 rows: filter, distances: scratch + nlist, into: &top)
                    }
                }
            }
        }
        return top.sortedResults()
    }

    /// Scores the entries of one list (`value`, read in place) into `top`.
    private func scan(_ value: UnsafeRawBufferPointer, list: Int, toCentroid: Float, query: UnsafePointer<Float>,
                      table: UnsafePointer<Float>, rows filter: RowSet?, distances: UnsafeMutablePointer<Float>,
                      into top: inout TopK) throws {
        let m = lists.pq.m
        let dimensions = lists.dimensions
        let (count, rowsAt, entriesAt) = try lists.layout(value, list: list)
        guard count > 0, let base = value.baseAddress else { return }
        let dotCentroid: Float = metric == .l2 ? 0 : lists.coarse.withUnsafeBufferPointer {
            Kernels.dot(query, UnsafeRawPointer($0.baseAddress! + list * dimensions), count: dimensions)
        }
        var offset: Int = 0
        while offset < count {
            let n = min(count - offset, 256)
            Kernels.pqScanRows(table: table, m: m, rows: base + entriesAt + offset * lists.entryStride, byteStride: lists.entryStride, rowCount: n, into: distances)
            for i in 0..<n {
                let row = UInt32(littleEndian: value.loadUnaligned(fromByteOffset: rowsAt + 4 * (offset + i), as: UInt32.self))
                if let filter, !filter.contains(row) { continue }
                let raw = distances[i]
                let d: Float
                switch metric {
                case .l2:
                    let term = value.loadUnaligned(fromByteOffset: entriesAt + (offset + i) * lists.entryStride + m, as: Float.self)
                    d = toCentroid - 2 * raw + term
                case .cosine: d = 1 - (dotCentroid + raw)
                default: d = -(dotCentroid + raw)
                }
                top.push(distance: d, row: row)
            }
            offset += n
        }
    }
}
