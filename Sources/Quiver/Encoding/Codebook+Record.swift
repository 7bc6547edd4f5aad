import QuiverKernels

/// The `codes.meta` value of an encoding: a 64-byte header, then the trained floats
/// (docs/file-format.md, `codes.meta`).
extension Codebook {
    static let recordVersion: UInt16 = 1
    static let headerSize = 64

    /// The kind byte. Changing a raw value breaks stores.
    enum Kind: UInt8 {
        case int8 = 1
        case binary = 2
        case pq = 3
        case ivfpq = 4
    }

    var kind: Kind {
        switch model {
        case .int8: .int8
        case .binary: .binary
        case .pq: .pq
        case .ivfpq: .ivfpq
        }
    }

    var payload: [Float] {
        switch model {
        case .int8(let offsets, let scales): offsets + scales
        case .binary: []
        case .pq(let pq): pq.centroids
        case .ivfpq(let coarse, _, let pq): coarse + pq.centroids
        }
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        let floats = payload
        out.reserveCapacity(Self.headerSize + floats.count * 4)
        out.appendLittleEndian(Self.recordVersion)
        out.append(kind.rawValue)
        out.append(id)
        out.appendLittleEndian(UInt32(dimensions))
        out.appendLittleEndian(UInt32(stride))
        switch parameters.encoding {
        case .pq(let m), .ivfpq(_, let m): out.appendLittleEndian(UInt32(m))
        default: out.appendLittleEndian(UInt32(0))
        }
        out.appendLittleEndian(parameters.seed)
        out.appendLittleEndian(UInt32(parameters.sampleSize))
        out.appendLittleEndian(UInt32(trainedRows))
        out.appendLittleEndian(UInt32(parameters.iterations))
        out.appendLittleEndian(UInt32(parameters.prefix ?? 0))
        out.appendLittleEndian(UInt32(floats.count))
        if case .ivfpq(let nlist, _) = parameters.encoding { out.appendLittleEndian(UInt32(nlist)) }
        out.append(contentsOf: [UInt8](repeating: 0, count: Self.headerSize - out.count))
        for f in floats { out.appendLittleEndian(f.bitPattern) }
        return out
    }

    init(record bytes: UnsafeRawBufferPointer) throws(FormatError) {
        var reader = ByteReader(bytes)
        guard try reader.littleEndian(UInt16.self) == Self.recordVersion else { throw .invalid("unknown codebook version", at: 0) }
        guard let kind = Kind(rawValue: try reader.byte()) else { throw .invalid("unknown encoding kind", at: 2) }
        id = try reader.byte()
        dimensions = Int(try reader.littleEndian(UInt32.self))
        let stride = Int(try reader.littleEndian(UInt32.self))
        let m = Int(try reader.littleEndian(UInt32.self))
        let seed = try reader.littleEndian(UInt64.self)
        let sampleSize = Int(try reader.littleEndian(UInt32.self))
        trainedRows = Int(try reader.littleEndian(UInt32.self))
        let iterations = Int(try reader.littleEndian(UInt32.self))
        let prefix = Int(try reader.littleEndian(UInt32.self))
        let floatCount = Int(try reader.littleEndian(UInt32.self))
        let nlist = Int(try reader.littleEndian(UInt32.self))
        guard dimensions > 0, bytes.count == Self.headerSize + floatCount * 4 else { throw .invalid("codebook of \(bytes.count) bytes", at: 0) }
        var floats = [Float](repeating: 0, count: floatCount)
        for i in 0..<floatCount {
            floats[i] = Float(bitPattern: bytes.loadUnaligned(fromByteOffset: Self.headerSize + 4 * i, as: UInt32.self).littleEndian)
        }
        let encoding: VectorEncoding
        switch kind {
        case .int8:
            guard floatCount == 2 * dimensions else { throw .invalid("int8 ranges of \(floatCount) floats", at: 40) }
            model = .int8(offsets: Array(floats[0..<dimensions]), scales: Array(floats[dimensions...]))
            encoding = .int8
        case .binary:
            guard floatCount == 0 else { throw .invalid("binary codebook with floats", at: 40) }
            model = .binary
            encoding = .binary
        case .pq:
            guard m > 0, dimensions % m == 0, floatCount == 256 * dimensions else { throw .invalid("PQ codebook of \(floatCount) floats for m = \(m)", at: 12) }
            model = .pq(ProductQuantizer(dimensions: dimensions, m: m, centroids: floats))
            encoding = .pq(m: m)
        case .ivfpq:
            guard m > 0, dimensions % m == 0, nlist > 0, floatCount == (nlist + 256) * dimensions else {
                throw .invalid("IVF-PQ codebook of \(floatCount) floats for nlist = \(nlist), m = \(m)", at: 12)
            }
            let split = nlist * dimensions
            model = .ivfpq(coarse: Array(floats[..<split]), nlist: nlist,
                           pq: ProductQuantizer(dimensions: dimensions, m: m, centroids: Array(floats[split...])))
            encoding = .ivfpq(nlist: nlist, m: m)
        }
        parameters = EncodingParameters(encoding, prefix: prefix == 0 ? nil : prefix, sampleSize: sampleSize, seed: seed, iterations: iterations)
        guard stride == self.stride else { throw .invalid("code stride \(stride), expected \(self.stride)", at: 8) }
    }

    var info: EncodingInfo {
        EncodingInfo(parameters: parameters, dimensions: dimensions, codeBytes: stride, trainedRows: trainedRows)
    }
}
