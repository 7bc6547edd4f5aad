import CQuiverKernels
import QuiverKernels
import Testing

/// Every kernel of every instruction set this machine runs, against the scalar Swift twins.
@Suite("Kernels")
struct KernelsTests {
    @Test("dot, squared L2 and dot+norm match the reference for every dimension 1...1024",
          arguments: KernelSet.all)
    func pairKernels(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0001
        var random = SplitMix64(seed: seed)
        let pool = random.floats(4_096)  // slices of one pool: generating 2 x 525k floats is slow in debug
        var failures = 0
        for n in 1...1024 {
            let start = (n * 7) % 1_024
            let a = Array(pool[start..<start + n])
            let b = Array(pool[(start + 2_048)..<(start + 2_048 + n)])
            let offset = [0, 4, 1][n % 3]  // misalign the stored operand
            let (dot, l2, both) = unsafe withMisaligned(b, offset: offset) { pb in
                unsafe a.withUnsafeBufferPointer { pa in
                    unsafe (kernels.dot(pa.baseAddress!, pb, n), kernels.squaredL2(pa.baseAddress!, pb, n),
                            kernels.dotAndSquaredNorm(pa.baseAddress!, pb, n))
                }
            }
            let expectedDot = Kernels.dotReference(a, b)
            let expectedL2 = Kernels.squaredL2Reference(a, b)
            let expectedBoth = Kernels.dotAndSquaredNormReference(a, b)
            let scale = magnitudeSum(a, b)
            let ok = isClose(dot, expectedDot, scale: scale)
                && isClose(l2, expectedL2, scale: Double(expectedL2))
                && isClose(both.dot, expectedBoth.dot, scale: scale)
                && isClose(both.squaredNorm, expectedBoth.squaredNorm, scale: Double(expectedBoth.squaredNorm))
                && both.dot == dot  // one pass must give the same dot as the dot kernel
            if !ok && failures < 5 {
                failures += 1
                Issue.record("""
                    \(kernels) n=\(n) seed=\(seed): dot \(dot) vs \(expectedDot), l2 \(l2) vs \(expectedL2), \
                    dot+norm \(both) vs \(expectedBoth)
                    """)
            }
        }
        #expect(failures == 0)
    }

    @Test("gather kernels match the pair references for 1...9 scattered rows, dimensions 1...1024",
          arguments: KernelSet.all)
    func gatherKernels(kernels: KernelSet) {
        var random = SplitMix64(seed: 0x5EED_0006)
        let pool = random.floats(20_000)
        var failures = 0
        // Rows at scattered, misaligned places of one buffer (as a graph's neighbours lie in the map).
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: pool.count * 4 + 64, alignment: 64)
        defer { unsafe bytes.deallocate() }
        unsafe pool.withUnsafeBytes { unsafe (bytes + 4).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let pointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: 9)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 9)
        let out2 = UnsafeMutablePointer<Float>.allocate(capacity: 9)
        defer {
            unsafe pointers.deallocate()
            unsafe out.deallocate()
            unsafe out2.deallocate()
        }
        for n in [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 128, 383, 384, 385, 768, 1_000, 1_024] {
            let query = Array(pool[0..<n])
            for count in 1...9 {
                var starts: [Int] = []
                for i in 0..<count {
                    let start = 1_024 + (i * 1_777 + n * 13) % (pool.count - 1_024 - n)
                    starts.append(start)
                    unsafe pointers[i] = UnsafeRawPointer(bytes + 4 + start * 4)
                }
                unsafe query.withUnsafeBufferPointer { q in
                    unsafe kernels.dotGather(q.baseAddress!, pointers, count, n, out)
                    unsafe kernels.squaredL2Gather(q.baseAddress!, pointers, count, n, out2)
                }
                for i in 0..<count {
                    let row = Array(pool[starts[i]..<starts[i] + n])
                    let dot = Kernels.dotReference(query, row)
                    let l2 = Kernels.squaredL2Reference(query, row)
                    let ok = unsafe isClose(out[i], dot, scale: magnitudeSum(query, row)) && isClose(out2[i], l2, scale: Double(l2))
                    if !ok && failures < 5 {
                        failures += 1
                        unsafe Issue.record("\(kernels) n=\(n) count=\(count) row \(i): dot \(out[i]) vs \(dot), l2 \(out2[i]) vs \(l2)")
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("zero dimensions give zero", arguments: KernelSet.all)
    func emptyVectors(kernels: KernelSet) {
        let one: [Float] = [1]
        let words: [UInt64] = [1]
        unsafe one.withUnsafeBufferPointer { p in
            #expect(unsafe kernels.dot(p.baseAddress!, UnsafeRawPointer(p.baseAddress!), 0) == 0)
            #expect(unsafe kernels.squaredL2(p.baseAddress!, UnsafeRawPointer(p.baseAddress!), 0) == 0)
            let both = unsafe kernels.dotAndSquaredNorm(p.baseAddress!, UnsafeRawPointer(p.baseAddress!), 0)
            #expect(both.dot == 0 && both.squaredNorm == 0)
        }
        unsafe words.withUnsafeBufferPointer { p in
            #expect(unsafe kernels.hamming(p.baseAddress!, UnsafeRawPointer(p.baseAddress!), 0) == 0)
        }
    }

    @Test("Hamming matches the reference for 1...64 words, exactly", arguments: KernelSet.all)
    func hammingPairs(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0002
        var random = SplitMix64(seed: seed)
        for words in 1...64 {
            let a = random.words(words)
            var b = random.words(words)
            if words % 4 == 0 { b = a }  // distance 0
            if words % 4 == 1 { b = a.map { ~$0 } }  // every bit differs
            let got = unsafe withMisaligned(b, offset: [0, 4, 1][words % 3]) { pb in
                unsafe a.withUnsafeBufferPointer { pa in unsafe kernels.hamming(pa.baseAddress!, pb, words) }
            }
            let expected = Kernels.hammingReference(a, b)
            #expect(got == expected, "\(kernels) words=\(words) seed=\(seed)")
        }
    }

    @Test("row kernels match the pair references at odd strides and misaligned bases",
          arguments: KernelSet.all)
    func floatRows(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0003
        var random = SplitMix64(seed: seed)
        let shapes: [(n: Int, extraBytes: Int, offset: Int)] = [
            (5, 4, 4), (1, 0, 0), (1, 12, 1), (3, 0, 2), (7, 8, 4), (8, 0, 0), (15, 4, 4), (16, 0, 4),
            (17, 20, 0), (31, 4, 1), (33, 0, 4), (64, 0, 0), (65, 4, 4), (100, 28, 1), (384, 0, 4), (385, 4, 0),
        ]
        for shape in shapes {
            let rowCount = 37
            let stride = shape.n * 4 + shape.extraBytes
            let rows = (0..<rowCount).map { _ in random.floats(shape.n) }
            let buffer = RowBuffer(rows, stride: stride, offset: shape.offset)
            let query = random.floats(shape.n)
            var dots = [Float](repeating: .nan, count: rowCount + 1)
            var l2 = dots, oneDots = dots, norms = dots
            unsafe query.withUnsafeBufferPointer { q in
                unsafe kernels.dotRows(q.baseAddress!, buffer, shape.n, &dots)
                unsafe kernels.squaredL2Rows(q.baseAddress!, buffer, shape.n, &l2)
                unsafe kernels.dotAndSquaredNormRows(q.baseAddress!, buffer, shape.n, &oneDots, &norms)
            }
            var failures = 0
            for r in 0..<rowCount {
                let scale = magnitudeSum(query, rows[r])
                let both = Kernels.dotAndSquaredNormReference(query, rows[r])
                let expectedL2 = Kernels.squaredL2Reference(query, rows[r])
                if !(isClose(dots[r], Kernels.dotReference(query, rows[r]), scale: scale)
                    && isClose(l2[r], expectedL2, scale: Double(expectedL2))
                    && isClose(oneDots[r], both.dot, scale: scale)
                    && isClose(norms[r], both.squaredNorm, scale: Double(both.squaredNorm))) {
                    failures += 1
                }
            }
            #expect(failures == 0, "\(kernels) n=\(shape.n) stride=\(stride) offset=\(shape.offset) seed=\(seed)")
            // The element after the last row is never written.
            #expect(dots[rowCount].isNaN && l2[rowCount].isNaN && oneDots[rowCount].isNaN && norms[rowCount].isNaN)
        }
    }

    @Test("Hamming rows match the reference for 1...37 rows (groups of 8 and tails)",
          arguments: KernelSet.all)
    func hammingRows(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0004
        var random = SplitMix64(seed: seed)
        let shapes: [(words: Int, extraBytes: Int, offset: Int)] = [
            (1, 0, 0), (2, 4, 4), (3, 8, 1), (4, 0, 4), (5, 12, 0), (6, 0, 0), (6, 4, 4), (7, 0, 1),
            (8, 0, 4), (9, 8, 0), (12, 0, 4), (16, 4, 0), (17, 0, 1),
        ]
        for shape in shapes {
            for rowCount in 0...37 {
                let codes = (0..<rowCount).map { _ in random.words(shape.words) }
                let buffer = RowBuffer(codes, stride: shape.words * 8 + shape.extraBytes, offset: shape.offset)
                let query = random.words(shape.words)
                var out = [UInt32](repeating: .max, count: rowCount + 1)
                unsafe query.withUnsafeBufferPointer { q in
                    unsafe kernels.hammingRows(q.baseAddress!, buffer, shape.words, &out)
                }
                let expected = codes.map { Kernels.hammingReference(query, $0) } + [.max]
                #expect(out == expected, "\(kernels) words=\(shape.words) rows=\(rowCount) seed=\(seed)")
            }
        }
    }

    @Test("batch kernels match per-pair references for 1...9 queries x 1...37 rows",
          arguments: KernelSet.all)
    func batch(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0005
        var random = SplitMix64(seed: seed)
        for n in [1, 7, 16, 37] {
            let queryStride = n + 3
            let queries = (0..<9).map { _ in random.floats(n) }
            let flatQueries = queries.flatMap { $0 + [Float](repeating: .nan, count: 3) }  // NaN gaps must be skipped
            let rows = (0..<37).map { _ in random.floats(n) }
            var expectedDot = [[Float]](), expectedL2 = [[Float]](), scales = [[Double]]()
            for row in rows {
                expectedDot.append(queries.map { Kernels.dotReference(row, $0) })
                expectedL2.append(queries.map { Kernels.squaredL2Reference(row, $0) })
                scales.append(queries.map { magnitudeSum(row, $0) })
            }
            var failures = 0
            for rowCount in 1...37 {
                let buffer = RowBuffer(Array(rows[0..<rowCount]), stride: n * 4 + 8, offset: 4)
                for queryCount in 1...9 {
                    var dots = [Float](repeating: .nan, count: rowCount * queryCount + 1)
                    var l2 = dots
                    unsafe flatQueries.withUnsafeBufferPointer { q in
                        unsafe kernels.batch(l2: false, q.baseAddress!, queryCount, queryStride, buffer, n, &dots)
                        unsafe kernels.batch(l2: true, q.baseAddress!, queryCount, queryStride, buffer, n, &l2)
                    }
                    for r in 0..<rowCount {
                        for j in 0..<queryCount {
                            let got = dots[r * queryCount + j], gotL2 = l2[r * queryCount + j]
                            if !isClose(got, expectedDot[r][j], scale: scales[r][j])
                                || !isClose(gotL2, expectedL2[r][j], scale: Double(expectedL2[r][j])) {
                                if failures < 5 {
                                    Issue.record("""
                                        \(kernels) n=\(n) rows=\(rowCount) queries=\(queryCount) r=\(r) j=\(j) \
                                        seed=\(seed): dot \(got) vs \(expectedDot[r][j]), l2 \(gotL2) vs \(expectedL2[r][j])
                                        """)
                                }
                                failures += 1
                            }
                        }
                    }
                    if !dots[rowCount * queryCount].isNaN || !l2[rowCount * queryCount].isNaN {
                        Issue.record("\(kernels) wrote past the output, rows=\(rowCount) queries=\(queryCount)")
                    }
                }
            }
            #expect(failures == 0, "\(kernels) n=\(n) seed=\(seed)")
        }
    }

    @Test("batch kernels stay exact across cache blocks (long vectors, 20 queries)", arguments: KernelSet.all)
    func batchAcrossBlocks(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0006
        var random = SplitMix64(seed: seed)
        let n = 3_001  // 12 KB rows: blocks of a few rows and a few queries, and a vector tail
        let queries = (0..<20).map { _ in random.floats(n) }
        let rows = (0..<37).map { _ in random.floats(n) }
        let buffer = RowBuffer(rows, stride: n * 4 + 4, offset: 4)
        var dots = [Float](repeating: .nan, count: rows.count * queries.count)
        var l2 = dots
        unsafe queries.flatMap { $0 }.withUnsafeBufferPointer { q in
            unsafe kernels.batch(l2: false, q.baseAddress!, queries.count, n, buffer, n, &dots)
            unsafe kernels.batch(l2: true, q.baseAddress!, queries.count, n, buffer, n, &l2)
        }
        var failures = 0
        for r in rows.indices {
            for j in queries.indices {
                let expectedL2 = Kernels.squaredL2Reference(rows[r], queries[j])
                if !isClose(dots[r * queries.count + j], Kernels.dotReference(rows[r], queries[j]),
                            scale: magnitudeSum(rows[r], queries[j]))
                    || !isClose(l2[r * queries.count + j], expectedL2, scale: Double(expectedL2)) {
                    failures += 1
                }
            }
        }
        #expect(failures == 0, "\(kernels) seed=\(seed)")
    }

    @Test("readBandwidth sums every byte (exact on small integers)", arguments: KernelSet.all)
    func readBandwidthReadsEverything(kernels: KernelSet) {
        for floatCount in [0, 1, 3, 4, 15, 16, 17, 63, 64, 65, 127, 128, 129, 300] {
            for tailBytes in 0...3 {
                let floats = (0..<floatCount).map { Float($0 % 50 + 1) }
                let tail: [UInt8] = [7, 11, 13].prefix(tailBytes).map { $0 }
                var bytes = [UInt8]()
                for value in floats { unsafe withUnsafeBytes(of: value) { unsafe bytes.append(contentsOf: $0) } }
                bytes += tail
                let expected = Double(floats.reduce(0, +)) + Double(tail.reduce(0) { $0 + Int($1) })
                let got = unsafe withMisaligned(bytes, offset: 4) { p in
                    unsafe kernels.readBandwidth(UnsafeRawBufferPointer(start: p, count: bytes.count))
                }
                #expect(got == expected, "\(kernels) floats=\(floatCount) tail=\(tailBytes)")
            }
        }
    }

    @Test("the chosen instruction set is one this CPU runs")
    func chosenISA() {
        #expect(["avx512", "avx2", "sse2", "neon", "scalar"].contains(Kernels.isa))
        #expect(unsafe qv_kernel_table_for_isa(Kernels.isa) != nil)
        #expect(unsafe qv_kernel_table_for_isa("scalar") != nil)
        #expect(unsafe qv_kernel_table_for_isa("vax") == nil)
        #expect(KernelSet.all.contains { $0.name == Kernels.isa })
    }
}
