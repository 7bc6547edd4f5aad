import QuiverKernels
import QuiverStorage

/// How a scan turns kernel output into distances (smaller is closer). Chosen once per search;
/// the loops never branch on the metric.
enum DistanceKernel: Equatable {
    /// `-q·x`.
    case negativeDot
    /// `1 - q·x` for unit vectors.
    case cosineUnit
    /// `1 - q·x / |x|` for a unit query prefix against unnormalised stored prefixes.
    case cosinePrefix
    /// `|q - x|²`.
    case squaredL2
    /// Differing bits.
    case hamming
    /// int8 codes against a prepared query (``Codebook/prepare(_:metric:into:)``).
    case int8(Metric)
    /// PQ codes by the prepared query's table (`components` is `m`).
    case pq(Metric)
    /// Binary codes by the prepared query's byte tables (`components` is the code bytes).
    case bits(Metric)

    /// Turns the dot products the kernels give into distances, in place: `-d` for
    /// ``negativeDot``, `1 - d` for ``cosineUnit``; other kernels produce distances already.
    @inline(__always)
    func distances(fromDots values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .negativeDot: for i in 0..<count { values[i] = -values[i] }
        case .cosineUnit: for i in 0..<count { values[i] = 1 - values[i] }
        default: break
        }
    }

    /// Whether float rows are scored by a dot product or a squared distance alone, as the
    /// gather kernels compute (no norms).
    var gathers: Bool {
        switch self {
        case .negativeDot, .cosineUnit, .squaredL2: true
        default: false
        }
    }

    static func forFloats(metric: Metric, prefix: Bool) -> DistanceKernel {
        switch metric {
        case .dot: .negativeDot
        case .cosine: prefix ? .cosinePrefix : .cosineUnit
        case .l2: .squaredL2
        case .hamming: preconditionFailure("hamming is for bits")
        }
    }
}

/// The exact scan: a walk over a collection's vector blocks in the memory map, computing
/// distances in place for the rows a ``RowSet`` selects, keeping the best `k`.
///
/// Blocks are read where LMDB maps them (no copy); a block with no selected row is skipped
/// after a test of its bitmap words; a block with few selected rows computes only those.
struct ExactScanner {
    let snapshot: CollectionSnapshot
    /// The search's context, when there is one: its decoded codebooks and resolved code planes
    /// are reused instead of read again.
    var context: SearchContext? = nil
    var descriptor: CollectionDescriptor { snapshot.descriptor }

    /// Scans the float or bit plane, or an encoding's codes.
    /// - Parameters:
    ///   - query: float components (`components` of them), packed bits as 64-bit words, or a
    ///     query prepared for `codes`.
    ///   - components: how many leading float components take part (a Matryoshka prefix), the
    ///     number of 64-bit words for bits, or the codebook's components.
    ///   - codes: the encoding whose code blocks are scanned; `nil` scans the floats (or the
    ///     bits, for ``DistanceKernel/hamming``).
    func scan(query: UnsafeRawPointer, components: Int, kernel: DistanceKernel, rows: RowSet, k: Int, codes: Codebook? = nil) throws -> [Hit] {
        let bits = kernel == .hamming
        var table = bits ? snapshot.tables.bitBlocks : snapshot.tables.floatBlocks
        var stride = bits ? descriptor.bitStride : descriptor.floatStride
        // Code keys carry the encoding in the high byte of the block number.
        var keyBase: UInt32 = 0
        var blockMask: UInt32 = .max
        if let codes {
            guard let codesTable = snapshot.tables.codes else { return [] }
            table = codesTable
            stride = codes.stride
            keyBase = UInt32(codes.id) << 24
            blockMask = 0xFF_FFFF
        }
        let rowsPerBlock = descriptor.rowsPerBlock
        let blockBytes = stride * rowsPerBlock
        let rowCount = Int(snapshot.counters.rowCount)
        let id = snapshot.id
        var top = TopK(k: k)
        var distances = [Float](repeating: 0, count: rowsPerBlock)
        var norms = [Float](repeating: 0, count: rowsPerBlock)
        var counts = [UInt32](repeating: 0, count: rowsPerBlock)
        try snapshot.txn.withCursor(table) { cursor in
            var entry = try cursor.seek(compositeKey(id, keyBase))
            while let e = entry, e.key.count == 8 {
                let key = e.key.bigEndianUInt64(at: 0)
                guard key >> 32 == UInt64(id), UInt32(truncatingIfNeeded: key) & ~blockMask == keyBase else { break }
                let firstRow = Int(UInt32(truncatingIfNeeded: key) & blockMask) * rowsPerBlock
                guard firstRow < rowCount else { break }
                guard e.value.count == blockBytes, let base = e.value.baseAddress else {
                    throw QuiverError(.corrupted, "vector block at row \(firstRow) has \(e.value.count) bytes, expected \(blockBytes)", collection: snapshot.name)
                }
                let wordStart = firstRow / 64
                let wordEnd = min(rows.words.count, wordStart + rowsPerBlock / 64)
                var selected = 0
                for w in wordStart..<wordEnd { selected += rows.words[w].nonzeroBitCount }
                if selected > 0 {
                    let blockRows = min(rowsPerBlock, rowCount - firstRow)
                    distances.withUnsafeMutableBufferPointer { d in
                        norms.withUnsafeMutableBufferPointer { n in
                            counts.withUnsafeMutableBufferPointer { c in
                                if selected * 4 < blockRows {
                                    // Few rows: compute just those.
                                    for w in wordStart..<wordEnd {
                                        var word = rows.words[w]
                                        while word != 0 {
                                            let local = (w - wordStart) * 64 + word.trailingZeroBitCount
                                            word &= word - 1
                                            Self.compute(kernel, query, components, base + local * stride, stride, 1, d.baseAddress! + local, n.baseAddress! + local, c.baseAddress! + local)
                                            top.push(distance: d[local], row: UInt32(firstRow + local))
                                        }
                                    }
                                } else if selected == blockRows {
                                    // Every row of the block: one tight loop over the distances.
                                    Self.compute(kernel, query, components, base, stride, blockRows, d.baseAddress!, n.baseAddress!, c.baseAddress!)
                                    top.pushRows(distances: d.baseAddress!, count: blockRows, firstRow: UInt32(firstRow))
                                } else {
                                    Self.compute(kernel, query, components, base, stride, blockRows, d.baseAddress!, n.baseAddress!, c.baseAddress!)
                                    for w in wordStart..<wordEnd {
                                        var word = rows.words[w]
                                        while word != 0 {
                                            let local = (w - wordStart) * 64 + word.trailingZeroBitCount
                                            word &= word - 1
                                            top.push(distance: d[local], row: UInt32(firstRow + local))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                entry = try cursor.next()
            }
        }
        return top.sortedResults()
    }

    /// Distances of `count` rows at `base` into `out` (other buffers are scratch).
    @inline(__always)
    static func compute(_ kernel: DistanceKernel, _ query: UnsafeRawPointer, _ components: Int, _ base: UnsafeRawPointer, _ stride: Int, _ count: Int,
                        _ out: UnsafeMutablePointer<Float>, _ norms: UnsafeMutablePointer<Float>, _ counts: UnsafeMutablePointer<UInt32>) {
        let q = query.assumingMemoryBound(to: Float.self)
        switch kernel {
        case .negativeDot, .cosineUnit:
            Kernels.dotRows(query: q, rows: base, byteStride: stride, rowCount: count, dimensions: components, into: out)
            kernel.distances(fromDots: out, count: count)
        case .cosinePrefix:
            Kernels.dotAndSquaredNormRows(query: q, rows: base, byteStride: stride, rowCount: count, dimensions: components, dots: out, squaredNorms: norms)
            for i in 0..<count {
                out[i] = norms[i] > 0 ? 1 - out[i] / norms[i].squareRoot() : 1
            }
        case .squaredL2:
            Kernels.squaredL2Rows(query: q, rows: base, byteStride: stride, rowCount: count, dimensions: components, into: out)
        case .hamming:
            Kernels.hammingRows(query: query.assumingMemoryBound(to: UInt64.self), rows: base, byteStride: stride, rowCount: count, words: components, into: counts)
            for i in 0..<count { out[i] = Float(counts[i]) }
        case .int8(let metric):
            Kernels.dotU8Rows(query: q, rows: base, byteStride: stride, rowCount: count, dimensions: components, into: out)
            for i in 0..<count {
                out[i] = CodeDistance.int8(out[i], query: q, dimensions: components, code: base + i * stride, stride: stride, metric: metric)
            }
        case .pq(let metric):
            Kernels.pqScanRows(table: q, m: components, rows: base, byteStride: stride, rowCount: count, into: out)
            for i in 0..<count { out[i] = CodeDistance.pq(out[i], metric: metric) }
        case .bits(let metric):
            Kernels.pqScanRows(table: q, m: components, rows: base, byteStride: stride, rowCount: count, into: out)
            for i in 0..<count { out[i] = CodeDistance.bits(out[i], table: q, bytes: components, metric: metric) }
        }
    }

    /// The best `k` of `candidates` (a shortlist) at full precision: by the float rows, or by
    /// the int8 codes when the collection keeps its floats only as those. `query` is the full
    /// query, normalised for cosine.
    func rescore(_ candidates: [Hit], query: UnsafePointer<Float>, k: Int) throws -> [Hit] {
        let metric = descriptor.schema.metric
        guard descriptor.floatCodesID != nil else {
            return try score(candidates, query: query, components: descriptor.dimensions, kernel: .forFloats(metric: metric, prefix: false), k: k)
        }
        guard let codes = try context?.floatCodes ?? EncodingMaintenance.floatCodes(snapshot) else { return [] }
        return try withUnsafeTemporaryAllocation(byteCount: codes.queryBytes, alignment: 64) { prepared in
            codes.prepare(query, metric: metric, into: prepared.baseAddress!)
            return try score(candidates, query: prepared.baseAddress!, components: codes.dimensions, kernel: .int8(metric), codes: codes, k: k)
        }
    }

    /// The best `k` of `candidates` by `kernel`: their floats (the leading `components`), or
    /// with `codes` that encoding's codes against a prepared query.
    func score(_ candidates: [Hit], query: UnsafeRawPointer, components: Int, kernel: DistanceKernel, codes: Codebook? = nil, k: Int) throws -> [Hit] {
        var top = TopK(k: k)
        var distance: Float = 0
        var norm: Float = 0
        var count: UInt32 = 0
        if let codes {
            guard let rows = context?.rowPlane(codes, snapshot: snapshot) ?? EncodingMaintenance.rows(snapshot, codes) else { return [] }
            for candidate in candidates {
                Self.compute(kernel, query, components, rows.pointer(candidate.row), codes.stride, 1, &distance, &norm, &count)
                top.push(distance: distance, row: candidate.row)
            }
            return top.sortedResults()
        }
        let blocks = BlockReader(snapshot: snapshot, bits: false)
        if kernel.gathers {
            try gather(candidates, query: query.assumingMemoryBound(to: Float.self), components: components, kernel: kernel, blocks: blocks, into: &top)
            return top.sortedResults()
        }
        for candidate in candidates {
            let pointer = try blocks.row(candidate.row)
            Self.compute(kernel, query, components, pointer, descriptor.floatStride, 1, &distance, &norm, &count)
            top.push(distance: distance, row: candidate.row)
        }
        return top.sortedResults()
    }

    /// Scores `candidates`' float rows with the gather kernel: every row's address first (the
    /// search context's table of block addresses when there is one, else a lookup per row),
    /// then four rows at a time with the next four fetched meanwhile. A shortlist's rows are
    /// scattered over the map; scored one at a time, each waited on its own cache misses (on
    /// the binary-code path, a fifth of a query). When they fault (a store larger than
    /// memory), the search context's ``PageAdvice/Adaptive`` asks for their pages together.
    private func gather(_ candidates: [Hit], query: UnsafePointer<Float>, components: Int, kernel: DistanceKernel,
                        blocks: BlockReader, into top: inout TopK) throws {
        let count = candidates.count
        try withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: count) { pointers in
            let rows = context?.floatRows
            for (i, candidate) in candidates.enumerated() {
                let pointer = try rows?.pointer(candidate.row) ?? blocks.row(candidate.row)
                if i < 4 { Kernels.prefetch(pointer, lines: (components * 4 + 63) / 64) }
                pointers[i] = pointer
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { out in
                let addresses = UnsafePointer(pointers.baseAddress!)
                let score = {
                    if case .squaredL2 = kernel {
                        Kernels.squaredL2Gather(query: query, rows: addresses, count: count, dimensions: components, into: out.baseAddress!)
                    } else {
                        Kernels.dotGather(query: query, rows: addresses, count: count, dimensions: components, into: out.baseAddress!)
                        kernel.distances(fromDots: out.baseAddress!, count: count)
                    }
                }
                // A store larger than memory: the rows' pages asked for all at once.
                if let context {
                    context.rescoreAdvice.read(advising: { PageAdvice.willNeed(addresses, count: count, bytes: components * 4) }, score)
                } else {
                    score()
                }
                for i in 0..<count { top.push(distance: out[i], row: candidates[i].row) }
            }
        }
    }
}

/// Random access to rows of one plane: one `mdb_get` per block, in place.
struct BlockReader {
    let snapshot: CollectionSnapshot
    let bits: Bool

    func row(_ row: UInt32) throws -> UnsafeRawPointer {
        let descriptor = snapshot.descriptor
        let stride = bits ? descriptor.bitStride : descriptor.floatStride
        let block = row >> UInt32(descriptor.blockShift)
        guard let bytes = try snapshot.txn.unsafeGet(bits ? snapshot.tables.bitBlocks : snapshot.tables.floatBlocks, key: compositeKey(snapshot.id, block)),
              bytes.count == stride * descriptor.rowsPerBlock, let base = bytes.baseAddress
        else {
            throw QuiverError(.corrupted, "row \(row) has no vector block", collection: snapshot.name)
        }
        return base + Int(row & UInt32(descriptor.rowsPerBlock - 1)) * stride
    }
}
