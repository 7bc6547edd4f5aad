import CQuiverKernels
import QuiverKernels
import Testing

/// The u8 and PQ kernels of every instruction set this machine runs, against the Swift twins.
@Suite("Code kernels")
struct CodeKernelsTests {
    // MARK: u8

    /// Queries, codes and references for every dimension 1...1024, computed once for all kernel sets.
    static let u8Seed: UInt64 = 0x5EED_0201
    static let u8Pairs: [(query: [Float], codes: [UInt8], expected: Float, scale: Double)] = {
        var random = SplitMix64(seed: u8Seed)
        let floats = random.floats(2_048)
        var bytes = random.bytes(2_048)
        bytes[100] = 255  // the extremes
        bytes[101] = 0
        return (1...1024).map { n in
            let start = (n * 7) % 1_024
            let q = Array(floats[start..<start + n])
            let codes = Array(bytes[(1_024 - start)..<(1_024 - start + n)])
            return (q, codes, Kernels.dotU8Reference(q, codes), magnitudeSum(q, codes.map(Float.init)))
        }
    }()

    @Test("dotU8 matches the reference for every dimension 1...1024", arguments: KernelSet.all)
    func dotU8Pairs(kernels: KernelSet) {
        var failures = 0
        for (q, codes, expected, scale) in Self.u8Pairs {
            let n = q.count
            let got = unsafe withMisaligned(codes, offset: n % 5) { pc in
                unsafe q.withUnsafeBufferPointer { pq in unsafe kernels.dotU8(pq.baseAddress!, pc, n) }
            }
            if !isClose(got, expected, scale: scale) {
                if failures < 5 { Issue.record("\(kernels) n=\(n) seed=\(Self.u8Seed): \(got) vs \(expected)") }
                failures += 1
            }
        }
        #expect(failures == 0)
        let one: [Float] = [1]
        unsafe one.withUnsafeBufferPointer { p in
            #expect(unsafe kernels.dotU8(p.baseAddress!, UnsafeRawPointer(p.baseAddress!), 0) == 0)
        }
    }

    @Test("dotU8Rows matches the reference at any byte stride and misaligned bases", arguments: KernelSet.all)
    func dotU8Rows(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0202
        var random = SplitMix64(seed: seed)
        let shapes: [(n: Int, extraBytes: Int, offset: Int)] = [
            (1, 0, 0), (1, 3, 1), (3, 0, 2), (7, 1, 3), (8, 0, 0), (9, 5, 1), (15, 2, 4), (16, 0, 7), (31, 1, 1),
            (32, 0, 0), (33, 3, 2), (64, 0, 5), (100, 7, 1), (384, 0, 0), (385, 1, 3), (1_024, 0, 1),
        ]
        for shape in shapes {
            for rowCount in [0, 1, 37] {
                let rows = (0..<rowCount).map { _ in random.bytes(shape.n) }
                let buffer = RowBuffer(rows, stride: shape.n + shape.extraBytes, offset: shape.offset)
                let query = random.floats(shape.n)
                var out = [Float](repeating: .nan, count: rowCount + 1)
                unsafe query.withUnsafeBufferPointer { q in unsafe kernels.dotU8Rows(q.baseAddress!, buffer, shape.n, &out) }
                var failures = 0
                for r in 0..<rowCount {
                    let expected = Kernels.dotU8Reference(query, rows[r])
                    if !isClose(out[r], expected, scale: magnitudeSum(query, rows[r].map(Float.init))) { failures += 1 }
                }
                #expect(failures == 0, "\(kernels) n=\(shape.n) rows=\(rowCount) seed=\(seed)")
                #expect(out[rowCount].isNaN, "\(kernels) wrote past the last row")
            }
        }
    }

    @Test("dotU8Gather matches the reference for 0...9 scattered rows", arguments: KernelSet.all)
    func dotU8Gather(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0203
        var random = SplitMix64(seed: seed)
        let pool = random.bytes(40_000)
        let floats = random.floats(1_100)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: pool.count + 64, alignment: 64)
        defer { unsafe bytes.deallocate() }
        unsafe pool.withUnsafeBytes { unsafe (bytes + 3).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let pointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: 9)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 10)
        defer {
            unsafe pointers.deallocate()
            unsafe out.deallocate()
        }
        var failures = 0
        for n in [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 383, 384, 385, 1_024] {
            let query = Array(floats[0..<n])
            for count in 0...9 {
                var starts: [Int] = []
                for i in 0..<count {
                    let start = (i * 3_777 + n * 13) % (pool.count - n)
                    starts.append(start)
                    unsafe pointers[i] = UnsafeRawPointer(bytes + 3 + start)
                }
                unsafe out[count] = .nan
                unsafe query.withUnsafeBufferPointer { q in unsafe kernels.dotU8Gather(q.baseAddress!, pointers, count, n, out) }
                for i in 0..<count {
                    let row = Array(pool[starts[i]..<starts[i] + n])
                    let expected = Kernels.dotU8Reference(query, row)
                    if unsafe !isClose(out[i], expected, scale: magnitudeSum(query, row.map(Float.init))) {
                        if failures < 5 { unsafe Issue.record("\(kernels) n=\(n) count=\(count) row \(i): \(out[i]) vs \(expected)") }
                        failures += 1
                    }
                }
                #expect(unsafe out[count].isNaN, "\(kernels) wrote past the output")
            }
        }
        #expect(failures == 0, "seed=\(seed)")
    }

    // MARK: PQ

    /// A random table per m in 0...64 (shared by the kernel sets: generating is slow in debug).
    static let pqSeed: UInt64 = 0x5EED_0204
    static let pqTables: [[Float]] = {
        var random = SplitMix64(seed: pqSeed)
        return (0...64).map { m in random.floats(Swift.max(m, 1) * 256).map { $0 * 100 } }
    }()

    /// For each m in 0...64, codes at row counts that cover the groups of four and every tail
    /// (up to 300), at tight and padded strides and odd alignments, with their references.
    struct PQCase: Sendable {
        let m: Int
        let stride: Int
        let offset: Int
        let codes: [[UInt8]]
        let expected: [Float]
    }

    static let pqCases: [PQCase] = {
        var random = SplitMix64(seed: pqSeed &+ 1)
        var cases: [PQCase] = []
        for m in 0...64 {
            for rowCount in Set([0, 1, 3, 4, 5, (m * 53) % 301, m == 48 ? 300 : 7]).sorted() {
                let codes = (0..<rowCount).map { _ in random.bytes(m) }
                let expected = codes.map { Kernels.pqDistanceReference(table: pqTables[m], code: $0) }
                cases.append(PQCase(m: m, stride: Swift.max(1, m + (m % 3 == 0 ? 0 : m % 17)), offset: m % 7,
                                    codes: codes, expected: expected))
            }
        }
        return cases
    }()

    @Test("pqScanRows and pqDistance equal the reference bit for bit, m 0...64, 0...300 rows",
          arguments: KernelSet.all)
    func pqScan(kernels: KernelSet) {
        var failures = 0
        for c in Self.pqCases {
            let table = Self.pqTables[c.m]
            let rowCount = c.codes.count
            let buffer = RowBuffer(c.codes, stride: c.stride, offset: c.offset)
            var out = [Float](repeating: .nan, count: rowCount + 1)
            var single = out
            unsafe table.withUnsafeBufferPointer { t in
                unsafe kernels.pqScanRows(t.baseAddress!, c.m, buffer, &out)
                for r in 0..<rowCount { single[r] = unsafe kernels.pqDistance(t.baseAddress!, c.m, buffer.base + r * c.stride) }
            }
            for r in 0..<rowCount
            where out[r].bitPattern != c.expected[r].bitPattern || single[r].bitPattern != c.expected[r].bitPattern {
                if failures < 5 {
                    Issue.record("\(kernels) m=\(c.m) rows=\(rowCount) r=\(r): \(out[r]) / \(single[r]) vs \(c.expected[r])")
                }
                failures += 1
            }
            if !out[rowCount].isNaN {
                Issue.record("\(kernels) m=\(c.m) rows=\(rowCount) wrote past the output")
                failures += 1
            }
        }
        #expect(failures == 0, "seed=\(Self.pqSeed)")
    }

    @Test("pqGather equals the reference bit for bit for 0...13 scattered codes", arguments: KernelSet.all)
    func pqGather(kernels: KernelSet) {
        var random = SplitMix64(seed: Self.pqSeed &+ 2)
        let pool = random.bytes(20_000)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: pool.count + 64, alignment: 64)
        defer { unsafe bytes.deallocate() }
        unsafe pool.withUnsafeBytes { unsafe (bytes + 1).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let pointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: 13)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 14)
        defer {
            unsafe pointers.deallocate()
            unsafe out.deallocate()
        }
        var failures = 0
        for m in [1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 48, 63, 64] {
            let table = Self.pqTables[m]
            for count in 0...13 {
                var starts: [Int] = []
                for i in 0..<count {
                    let start = (i * 1_499 + m * 101) % (pool.count - m)
                    starts.append(start)
                    unsafe pointers[i] = UnsafeRawPointer(bytes + 1 + start)
                }
                unsafe out[count] = .nan
                unsafe table.withUnsafeBufferPointer { t in unsafe kernels.pqGather(t.baseAddress!, m, pointers, count, out) }
                for i in 0..<count {
                    let expected = Kernels.pqDistanceReference(table: table, code: Array(pool[starts[i]..<starts[i] + m]))
                    if unsafe out[i].bitPattern != expected.bitPattern {
                        if failures < 5 { unsafe Issue.record("\(kernels) m=\(m) count=\(count) i=\(i): \(out[i]) vs \(expected)") }
                        failures += 1
                    }
                }
                if unsafe !out[count].isNaN { failures += 1 }
            }
        }
        #expect(failures == 0, "seed=\(Self.pqSeed &+ 2)")
    }

    @Test("PQ tables over a component-major codebook match Double references", arguments: KernelSet.all)
    func pqTables(kernels: KernelSet) {
        let seed: UInt64 = 0x5EED_0205
        var random = SplitMix64(seed: seed)
        var failures = 0
        for (m, sub) in [(1, 1), (1, 3), (2, 8), (3, 5), (8, 2), (48, 8), (4, 16), (2, 33)] {
            let columns = random.floats(m * sub * 256)
            let query = random.floats(m * sub)
            var l2 = [Float](repeating: .nan, count: m * 256 + 1)
            var dot = l2
            unsafe kernels.pqTable(l2: true, query, columns, m, sub, &l2)
            unsafe kernels.pqTable(l2: false, query, columns, m, sub, &dot)
            for j in 0..<m {
                for c in 0..<256 {
                    let q = Array(query[j * sub..<(j + 1) * sub])
                    let centroid = (0..<sub).map { columns[(j * sub + $0) * 256 + c] }
                    let expectedL2 = Kernels.squaredL2Reference(q, centroid)
                    let expectedDot = Kernels.dotReference(q, centroid)
                    if !isClose(l2[j * 256 + c], expectedL2, scale: Double(expectedL2))
                        || !isClose(dot[j * 256 + c], expectedDot, scale: magnitudeSum(q, centroid)) {
                        if failures < 5 {
                            Issue.record("\(kernels) m=\(m) sub=\(sub) j=\(j) c=\(c): \(l2[j * 256 + c]) vs \(expectedL2), \(dot[j * 256 + c]) vs \(expectedDot)")
                        }
                        failures += 1
                    }
                }
            }
            #expect(l2[m * 256].isNaN && dot[m * 256].isNaN, "\(kernels) wrote past the table")
        }
        #expect(failures == 0, "seed=\(seed)")
    }

    @Test("argmin: the first minimum, NaN skipped, for 0...70 values and 256", arguments: KernelSet.all)
    func argmin(kernels: KernelSet) {
        var random = SplitMix64(seed: 0x5EED_0206)
        for n in Array(0...70) + [256, 1_000] {
            for variant in 0..<4 {
                var values = random.floats(n)
                if n > 2 && variant == 1 { values[n - 1] = -2; values[n / 2] = -2 }  // a tie: the first wins
                if n > 1 && variant == 2 { values[0] = .nan; values[n - 1] = .nan }  // NaN never wins
                if variant == 3 { values = values.map { _ in .nan } }  // all NaN: 0
                var expected = 0
                for i in values.indices where !values[i].isNaN && (values[expected].isNaN || values[i] < values[expected]) {
                    expected = i
                }
                let got = unsafe withMisaligned(values, offset: 4 * (n % 3)) { p in
                    unsafe kernels.argmin(p.assumingMemoryBound(to: Float.self), n)
                }
                #expect(got == expected, "\(kernels) n=\(n) variant \(variant)")
            }
        }
    }

    @Test("selectAtMost: exactly the lanes at or below their limit, ascending, NaN never", arguments: KernelSet.all)
    func selectAtMost(kernels: KernelSet) {
        var random = SplitMix64(seed: 0x5EED_0207)
        for n in Array(0...70) + [256, 1_000] {
            for variant in 0..<4 {
                var values = random.floats(n)
                var limits = random.floats(n).map { $0 - 0.8 }  // about one lane in ten selected
                if n > 0 && variant == 1 { limits[n - 1] = values[n - 1] }  // equal: selected
                if n > 1 && variant == 2 { values[0] = .nan; limits[n / 2] = .nan }  // never selected
                if variant == 3 { limits = limits.map { _ in .infinity } }  // every lane
                let expected = values.indices.filter { values[$0] <= limits[$0] }.map(UInt32.init)
                var got = [UInt32](repeating: .max, count: n + 1)
                let count = unsafe withMisaligned(values, offset: 4 * (n % 3)) { v in
                    unsafe withMisaligned(limits, offset: 4 * (n % 2)) { l in
                        unsafe got.withUnsafeMutableBufferPointer {
                            unsafe kernels.selectAtMost(v.assumingMemoryBound(to: Float.self), l.assumingMemoryBound(to: Float.self), n, $0.baseAddress!)
                        }
                    }
                }
                #expect(Array(got[..<count]) == expected, "\(kernels) n=\(n) variant \(variant)")
                #expect(got[count] == .max, "\(kernels) wrote past the selection")
            }
        }
    }

    @Test("every kernel set gives the same PQ bits (the order is fixed)")
    func pqSameEverywhere() {
        var random = SplitMix64(seed: Self.pqSeed &+ 3)
        let m = 48
        let table = Self.pqTables[m]
        let codes = (0..<101).map { _ in random.bytes(m) }
        let buffer = RowBuffer(codes, stride: 64, offset: 0)
        var results: [[UInt32]] = []
        for kernels in KernelSet.all {
            var out = [Float](repeating: 0, count: codes.count)
            unsafe table.withUnsafeBufferPointer { t in unsafe kernels.pqScanRows(t.baseAddress!, m, buffer, &out) }
            results.append(out.map(\.bitPattern))
        }
        #expect(Set(results).count == 1)
    }
}
