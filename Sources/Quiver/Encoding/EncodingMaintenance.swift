import Foundation
import QuiverKernels
import QuiverStorage

/// One collection's encodings inside a transaction: reading their codebooks, training and
/// encoding every row (build and retrain), dropping, and re-encoding the rows a write
/// transaction changed (at flush, from the float vectors just written).
struct EncodingMaintenance {
    let snapshot: CollectionSnapshot
    let metaTable: Table
    let codesTable: Table

    init(snapshot: CollectionSnapshot) throws {
        guard let meta = snapshot.tables.codesMeta, let codes = snapshot.tables.codes else {
            throw QuiverError(.readOnly, "this store predates encodings (format 1.2) and is open read-only", collection: snapshot.name)
        }
        self.snapshot = snapshot
        metaTable = meta
        codesTable = codes
    }

    var txn: Transaction { snapshot.txn }
    var id: UInt32 { snapshot.id }
    var descriptor: CollectionDescriptor { snapshot.descriptor }

    /// The key of block `block` of encoding `encoding`'s codes.
    static func blockKey(collection: UInt32, encoding: UInt8, block: UInt32) -> UInt64 {
        compositeKey(collection, UInt32(encoding) << 24 | block)
    }

    /// The collection's codebooks, by id; empty when it has none (or the store predates them).
    static func codebooks(_ snapshot: CollectionSnapshot) throws -> [Codebook] {
        guard let table = snapshot.tables.codesMeta else { return [] }
        var found: [Codebook] = []
        try snapshot.txn.withCursor(table) { cursor in
            var entry = try cursor.seek(compositeKey(snapshot.id, 0))
            while let e = entry, e.key.count == 8, e.key.bigEndianUInt32(at: 0) == snapshot.id {
                do { found.append(try Codebook(record: e.value)) } catch let error as FormatError {
                    throw snapshot.corrupted("codebook \(e.key.bigEndianUInt32(at: 4))", error)
                }
                entry = try cursor.next()
            }
        }
        return found
    }

    /// The codebook of `encoding` on `prefix` (`nil`: the full vector), if the collection has it.
    static func codebook(_ snapshot: CollectionSnapshot, encoding: VectorEncoding, prefix: Int?) throws -> Codebook? {
        let dimensions = prefix ?? snapshot.descriptor.dimensions
        return try codebooks(snapshot).first { $0.encoding == encoding && $0.dimensions == dimensions }
    }

    /// The rows of `codebook`'s codes, by address.
    static func rows(_ snapshot: CollectionSnapshot, _ codebook: Codebook) -> VectorRows? {
        guard let table = snapshot.tables.codes else { return nil }
        return VectorRows(snapshot: snapshot, table: table, keyBase: UInt32(codebook.id) << 24, stride: codebook.stride)
    }

    // MARK: build, retrain, drop

    /// Checks `parameters` against the schema.
    static func validate(_ parameters: EncodingParameters, descriptor: CollectionDescriptor) throws {
        let name = descriptor.name
        func fail(_ message: String) -> QuiverError { QuiverError(.invalidArgument, message, collection: name) }
        let schema = descriptor.schema
        guard descriptor.floatStride > 0 else { throw fail("encodings are made from float vectors; this collection stores none") }
        var dimensions = descriptor.dimensions
        if let prefix = parameters.prefix {
            guard case .matryoshka(let full, let prefixes) = schema.vectors else { throw fail("an encoding of a prefix needs a Matryoshka collection") }
            guard prefixes.contains(prefix) || prefix == full else { throw fail("prefix \(prefix) is not declared; declared: \(prefixes)") }
            dimensions = prefix
        }
        guard (1...10_000_000).contains(parameters.sampleSize) else { throw fail("sampleSize must be in 1...10000000, got \(parameters.sampleSize)") }
        guard (1...1_000).contains(parameters.iterations) else { throw fail("iterations must be in 1...1000, got \(parameters.iterations)") }
        switch parameters.encoding {
        case .int8: break
        case .binary:
            guard schema.metric == .cosine || schema.metric == .dot else {
                throw fail("binary codes (sign bits) need a cosine or dot collection, this one is \(schema.metric)")
            }
            if case .binary = schema.vectors { throw fail("a binary collection stores its bits already") }
        case .pq(let m), .ivfpq(_, let m):
            guard m >= 1, m <= dimensions, dimensions % m == 0 else {
                throw fail("PQ m must divide the \(dimensions) dimensions, got m = \(m)")
            }
            guard m <= 256 else { throw fail("PQ m must be at most 256, got \(m)") }
            if case .ivfpq(let nlist, _) = parameters.encoding, !(1...65_536).contains(nlist) {
                throw fail("nlist must be in 1...65536, got \(nlist)")
            }
        }
    }

    /// Trains `parameters`' encoding on a sample of the live rows and encodes every row,
    /// replacing the same encoding (same kind and prefix) if the collection has it.
    @discardableResult
    func build(_ parameters: EncodingParameters, threads: Int, progress: (@Sendable (String, Int, Int) -> Void)?) throws -> Codebook {
        try Self.validate(parameters, descriptor: descriptor)
        let existing = try Self.codebooks(snapshot)
        let dimensions = parameters.prefix ?? descriptor.dimensions
        let replaced = existing.first { $0.encoding == parameters.encoding && $0.dimensions == dimensions }
        if let replaced {
            try Self.checkReplaceable(replaced, snapshot: snapshot)
            try drop(replaced)
        }
        let used = Set(existing.map(\.id))
        guard let newID = (1...255).lazy.map(UInt8.init).first(where: { !used.contains($0) || $0 == replaced?.id }) else {
            throw QuiverError(.invalidArgument, "a collection holds at most 255 encodings", collection: snapshot.name)
        }
        let live = try FilterEvaluator.liveRows(snapshot)
        let liveCount = live.count
        if liveCount == 0, parameters.encoding != .binary {
            throw QuiverError(.invalidArgument, "the collection has no rows to train \(parameters.encoding) on", collection: snapshot.name)
        }
        if case .ivfpq(let nlist, _) = parameters.encoding, nlist > min(liveCount, parameters.sampleSize) {
            throw QuiverError(.invalidArgument, "nlist \(nlist) is larger than the \(min(liveCount, parameters.sampleSize)) rows to train on", collection: snapshot.name)
        }
        try Database.raiseFormat(txn, meta: snapshot.tables.meta, to: .withEncodings)
        let sample = Self.sample(live, count: parameters.sampleSize, seed: parameters.seed)
        let floats = try StoredFloats(snapshot: snapshot)
        let codebook = try train(parameters, id: newID, dimensions: dimensions, sample: sample, floats: floats, threads: threads, progress: progress)
        try codebook.encoded.withUnsafeBytes { try txn.put(metaTable, key: compositeKey(id, UInt32(codebook.id)), value: $0) }
        if codebook.isInverted {
            try IVFLists(snapshot: snapshot, codebook: codebook).build(live: live, floats: floats, progress: progress)
        } else {
            try encodeAll(codebook, live: live, floats: floats, progress: progress)
        }
        return codebook
    }

    /// Deletes an encoding: its codebook and its code blocks.
    func drop(_ codebook: Codebook) throws {
        _ = try txn.delete(metaTable, key: compositeKey(id, UInt32(codebook.id)))
        if codebook.isInverted { try IVFLists(snapshot: snapshot, codebook: codebook).drop() }
        let first = Self.blockKey(collection: id, encoding: codebook.id, block: 0)
        try txn.deleteKeys(in: codesTable, startingWith: keyPrefix(first, length: 5))
    }

    /// Up to `count` live rows, chosen by a seeded hash (the same rows for the same seed and
    /// collection), in ascending order.
    static func sample(_ live: RowSet, count: Int, seed: UInt64) -> [UInt32] {
        var rows: [UInt32] = []
        live.forEach { rows.append($0) }
        guard rows.count > count else { return rows }
        return rows.map { (SplitMix64.hash(seed: seed, UInt64($0)), $0) }.sorted { $0 < $1 }.prefix(count).map(\.1).sorted()
    }

    /// The training vectors: the sample rows' floats (or prefixes, re-normalised for cosine),
    /// contiguous.
    private func trainingVectors(_ sample: [UInt32], dimensions: Int, floats: StoredFloats) -> [Float] {
        let metric = descriptor.schema.metric
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: descriptor.dimensions)
        defer { scratch.deallocate() }
        var out = [Float](repeating: 0, count: sample.count * dimensions)
        out.withUnsafeMutableBufferPointer { buffer in
            for (i, row) in sample.enumerated() {
                let target = buffer.baseAddress! + i * dimensions
                target.update(from: floats.vector(row, scratch: scratch), count: dimensions)
                if metric == .cosine && dimensions != descriptor.dimensions { _ = VectorMath.normalize(target, count: dimensions) }
            }
        }
        return out
    }

    private func train(_ parameters: EncodingParameters, id: UInt8, dimensions: Int, sample: [UInt32], floats: StoredFloats, threads: Int,
                       progress: (@Sendable (String, Int, Int) -> Void)?) throws -> Codebook {
        let model: Codebook.Model
        switch parameters.encoding {
        case .binary:
            model = .binary
        case .int8:
            let vectors = trainingVectors(sample, dimensions: dimensions, floats: floats)
            var low = [Float](repeating: .infinity, count: dimensions)
            var high = [Float](repeating: -.infinity, count: dimensions)
            for i in 0..<sample.count {
                for d in 0..<dimensions {
                    let x = vectors[i * dimensions + d]
                    low[d] = min(low[d], x)
                    high[d] = max(high[d], x)
                }
            }
            model = .int8(offsets: low, scales: zip(low, high).map { ($1 - $0) / 255 })
        case .pq(let m):
            let vectors = trainingVectors(sample, dimensions: dimensions, floats: floats)
            let pq = vectors.withUnsafeBufferPointer { v in
                ProductQuantizer.train(points: v.baseAddress!, count: sample.count, dimensions: dimensions, m: m,
                                       iterations: parameters.iterations, seed: parameters.seed,
                                       progress: progress.map { report in { done, total in report("training", done, total) } },
                                       concurrentPerform: Self.parallel(threads))
            }
            model = .pq(pq)
        case .ivfpq(let nlist, let m):
            var vectors = trainingVectors(sample, dimensions: dimensions, floats: floats)
            let report = progress.map { report in { (done: Int, total: Int) in report("training", done, total) } }
            let coarse = vectors.withUnsafeBufferPointer { v in
                KMeans.train(points: v.baseAddress!, count: sample.count, dimensions: dimensions, clusters: nlist,
                             iterations: parameters.iterations, seed: parameters.seed, progress: report,
                             concurrentPerform: Self.parallel(threads))
            }
            // The PQ learns the residuals to each training vector's nearest centroid.
            var nearest = [UInt32](repeating: 0, count: sample.count)
            coarse.withUnsafeBufferPointer { c in
                vectors.withUnsafeMutableBufferPointer { v in
                    nearest.withUnsafeMutableBufferPointer { n in
                        KMeans.assign(points: v.baseAddress!, count: sample.count, centroids: c.baseAddress!, clusters: nlist,
                                      dimensions: dimensions, into: n.baseAddress!, concurrentPerform: Self.parallel(threads))
                    }
                    for i in 0..<sample.count {
                        let list = Int(nearest[i])
                        for d in 0..<dimensions { v[i * dimensions + d] -= c[list * dimensions + d] }
                    }
                }
            }
            let pq = vectors.withUnsafeBufferPointer { v in
                ProductQuantizer.train(points: v.baseAddress!, count: sample.count, dimensions: dimensions, m: m,
                                       iterations: parameters.iterations, seed: parameters.seed &+ 1, progress: report,
                                       concurrentPerform: Self.parallel(threads))
            }
            model = .ivfpq(coarse: coarse, nlist: nlist, pq: pq)
        }
        return Codebook(id: id, parameters: parameters, dimensions: dimensions, model: model, trainedRows: parameters.encoding == .binary ? 0 : sample.count)
    }

    /// Spreads k-means over `threads` threads (its results do not depend on the count).
    static func parallel(_ threads: Int) -> KMeans.ConcurrentPerform? {
        threads > 1 ? { iterations, body in DispatchQueue.concurrentPerform(iterations: iterations, execute: body) } : nil
    }

    /// Encodes every live row into fresh blocks (rows that are not live are zero).
    private func encodeAll(_ codebook: Codebook, live: RowSet, floats: StoredFloats, progress: (@Sendable (String, Int, Int) -> Void)?) throws {
        let rowCount = Int(snapshot.counters.rowCount)
        let rowsPerBlock = descriptor.rowsPerBlock
        let stride = codebook.stride
        var lastKey = try txn.withCursor(codesTable) { cursor in try cursor.last().map { $0.key.bigEndianUInt64(at: 0) } } ?? 0
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(codebook.dimensions, 1))
        let decoded = UnsafeMutablePointer<Float>.allocate(capacity: descriptor.dimensions)
        defer { scratch.deallocate(); decoded.deallocate() }
        let metric = descriptor.schema.metric
        let blocks = (rowCount + rowsPerBlock - 1) / rowsPerBlock
        for block in 0..<blocks {
            let key = Self.blockKey(collection: id, encoding: codebook.id, block: UInt32(block))
            let append = key > lastKey
            let target = try txn.unsafeReserve(codesTable, key: key, count: stride * rowsPerBlock, append: append)
            if append { lastKey = key }
            target.initializeMemory(as: UInt8.self, repeating: 0)
            for local in 0..<min(rowsPerBlock, rowCount - block * rowsPerBlock) {
                let row = UInt32(block * rowsPerBlock + local)
                guard live.contains(row) else { continue }
                let input = codebook.input(floats.vector(row, scratch: decoded), metric: metric, fullDimensions: descriptor.dimensions, scratch: scratch)
                codebook.encode(input, into: target.baseAddress! + local * stride)
            }
            if block % 64 == 63 { progress?("encoding", (block + 1) * rowsPerBlock, rowCount) }
        }
        progress?("encoding", rowCount, rowCount)
    }

    // MARK: upkeep

    /// Re-encodes `rows` (ascending; their floats are written) in every encoding of
    /// `codebooks` (the collection's), and takes `removed` rows (deleted) out of IVF lists.
    func encode(rows: [UInt32], removed: [UInt32] = [], codebooks all: [Codebook]) throws {
        guard !rows.isEmpty || !removed.isEmpty else { return }
        var codebooks = all
        for codebook in codebooks where codebook.isInverted {
            try IVFLists(snapshot: snapshot, codebook: codebook).update(written: rows, removed: removed)
        }
        codebooks.removeAll { $0.isInverted }
        guard !codebooks.isEmpty, !rows.isEmpty else { return }
        let rowsPerBlock = descriptor.rowsPerBlock
        let shift = UInt32(descriptor.blockShift)
        let floats = VectorRows(snapshot: snapshot, bits: false)
        let metric = descriptor.schema.metric
        for codebook in codebooks {
            let stride = codebook.stride
            let blockBytes = stride * rowsPerBlock
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: codebook.dimensions)
            defer { scratch.deallocate() }
            var i = 0
            while i < rows.count {
                let block = rows[i] >> shift
                let key = Self.blockKey(collection: id, encoding: codebook.id, block: block)
                var bytes = [UInt8](repeating: 0, count: blockBytes)
                if let stored = try txn.unsafeGet(codesTable, key: key) {
                    guard stored.count == blockBytes else {
                        throw QuiverError(.corrupted, "code block \(block) of \(codebook.encoding) has \(stored.count) bytes, expected \(blockBytes)", collection: snapshot.name)
                    }
                    bytes.withUnsafeMutableBytes { $0.copyMemory(from: stored) }
                }
                bytes.withUnsafeMutableBytes { target in
                    while i < rows.count, rows[i] >> shift == block {
                        let local = Int(rows[i]) & (rowsPerBlock - 1)
                        let input = codebook.input(floats.pointer(rows[i]), metric: metric, fullDimensions: descriptor.dimensions, scratch: scratch)
                        codebook.encode(input, into: target.baseAddress! + local * stride)
                        i += 1
                    }
                }
                try bytes.withUnsafeBytes { try txn.put(codesTable, key: key, value: $0) }
            }
        }
    }
}
