import CQuiverKernels
import QuiverKernels
import Testing

/// Int8 panels: every instruction set's kernel against the Swift oracle (the integer sums are
/// exact, so the results are equal bit for bit), and the oracle against float dot products.
@Suite("Int8 panels")
struct Int8PanelsTests {
    /// Scores `queries` against `rows` with one kernel set: the panels packed by the C call, the
    /// queries read at a stride one float longer than a query (any stride is allowed).
    static func run(_ kernels: KernelSet, queries: [Float], queryCount: Int, rows: [Float], dimensions n: Int) -> [Float] {
        let rowCount = rows.count / n
        guard let table = unsafe kernels.table else {
            let panels = Int8Panels(rows: rows, dimensions: n)
            var out = [Float](repeating: .nan, count: rowCount * queryCount)
            var scratch = [UInt8](repeating: 0, count: panels.scratchBytes(queryCount: queryCount))
            let strided = Self.strided(queries, queryCount: queryCount, dimensions: n)
            unsafe strided.withUnsafeBufferPointer { q in
                unsafe scratch.withUnsafeMutableBytes { s in
                    unsafe out.withUnsafeMutableBufferPointer { o in
                        unsafe panels.dot(queries: q.baseAddress!, queryCount: queryCount, queryStride: n + 1,
                                          scratch: s.baseAddress!, into: o.baseAddress!)
                    }
                }
            }
            return out
        }
        let padded = qv_i8_panels_rows(rowCount)
        var panels = [Int8](repeating: 0, count: max(1, qv_i8_panels_bytes(rowCount, n)))
        var scales = [Float](repeating: 0, count: max(1, padded))
        var sums = [Int32](repeating: 0, count: max(1, padded))
        unsafe qv_i8_panels_pack(rows, rowCount, n, n, &panels, &scales, &sums)
        var out = [Float](repeating: .nan, count: rowCount * queryCount)
        var scratch = [UInt8](repeating: 0, count: max(1, qv_i8_panels_scratch_bytes(queryCount, n)))
        let strided = Self.strided(queries, queryCount: queryCount, dimensions: n)
        unsafe table.pointee.dot_i8_panels(strided, queryCount, n + 1, panels, scales, sums, rowCount, n, &scratch, &out)
        return out
    }

    static func strided(_ queries: [Float], queryCount: Int, dimensions n: Int) -> [Float] {
        var out: [Float] = []
        for i in 0..<queryCount { out += queries[i * n..<(i + 1) * n] + [.nan] }
        return out + [0]
    }

    @Test("equals the oracle bit for bit: 1...20 queries, 1...37 rows, 1...130 dimensions, zero and non-finite vectors",
          arguments: KernelSet.all)
    func matchesReference(kernels: KernelSet) {
        var random = SplitMix64(seed: 0x18_0001)
        var failures = 0
        for n in [1, 3, 4, 5, 31, 128, 130] {
            for rowCount in [1, 7, 8, 9, 37] {
                for queryCount in [1, 2, 5, 6, 8, 9, 12, 13, 20] {
                    var rows = random.floats(rowCount * n).map { $0 * 3 }
                    var queries = random.floats(queryCount * n)
                    if rowCount > 2 { for d in 0..<n { rows[n + d] = 0 } }           // a zero row
                    if rowCount > 3 { rows[2 * n + n / 2] = .infinity }              // a row that is not finite
                    if queryCount > 2 { queries[n + n / 2] = .nan }                 // a query that is not finite
                    if queryCount > 4 { for d in 0..<n { queries[3 * n + d] = 0 } } // a zero query
                    let expected = Int8Panels.dotReference(queries: queries, queryCount: queryCount, rows: rows, dimensions: n)
                    let got = Self.run(kernels, queries: queries, queryCount: queryCount, rows: rows, dimensions: n)
                    if got != expected && failures < 5 {
                        failures += 1
                        let at = got.indices.first { got[$0] != expected[$0] } ?? -1
                        Issue.record("\(kernels) n=\(n) rows=\(rowCount) nq=\(queryCount): first difference at \(at)")
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("approximates the float dot products: within 0.006 |q| |row| at 128 dimensions")
    func approximatesFloats() {
        var random = SplitMix64(seed: 0x18_0002)
        let n = 128, rowCount = 300, queryCount = 12
        let rows = random.floats(rowCount * n), queries = random.floats(queryCount * n)
        let got = Self.run(KernelSet(name: "dispatched"), queries: queries, queryCount: queryCount, rows: rows, dimensions: n)
        var worst: Float = 0
        for r in 0..<rowCount {
            let row = rows[r * n..<(r + 1) * n]
            for i in 0..<queryCount {
                let query = queries[i * n..<(i + 1) * n]
                let exact = zip(query, row).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let norms = (query.reduce(0) { $0 + $1 * $1 } * row.reduce(0) { $0 + $1 * $1 }).squareRoot()
                worst = max(worst, abs(got[r * queryCount + i] - exact) / norms)
            }
        }
        #expect(worst < 0.006, "worst relative error \(worst)")
        #expect(worst > 0, "the scores are quantised, so some differ from the float products")
    }

    @Test("nothing to score: no queries or no rows write nothing")
    func empty() {
        let none = Self.run(KernelSet(name: "dispatched"), queries: [], queryCount: 0, rows: [1, 2, 3, 4], dimensions: 4)
        #expect(none.isEmpty)
        let panels = Int8Panels(rows: [], dimensions: 4)
        #expect(panels.rowCount == 0)
    }
}
