import QuiverStorage

/// The write side of a multi-vector collection's token space: allocates token rows, writes
/// their vectors and owners, and frees them when their document goes.
///
/// The token rows are an ordinary ``CollectionWriteState`` (vector blocks, live bitmaps,
/// counters, and the HNSW graph and encodings kept up to date at flush), so every index built
/// for dense collections serves the tokens unchanged. The owner plane (token row → document
/// row) is buffered by block like the vector blocks and written at flush.
final class TokenSpaceWriter {
    let state: CollectionWriteState
    /// Owner block number → the block's document rows.
    private var ownerBlocks: [UInt32: [UInt32]] = [:]

    init(state: CollectionWriteState) {
        self.state = state
    }

    private var descriptor: CollectionDescriptor { state.descriptor }

    /// Stores `count` tokens (`count × dimensions` floats, already normalised and pooled) for
    /// document `document`. Freed token rows are reused first.
    /// - Returns: the token rows, in the order of the tokens.
    func add(_ tokens: UnsafeBufferPointer<Float>, count: Int, document: UInt32) throws -> [UInt32] {
        let dimensions = descriptor.dimensions
        var rows: [UInt32] = []
        rows.reserveCapacity(count)
        for t in 0..<count {
            let row = try state.allocateRow()
            try state.withRowBytes(row, bits: false) { target in
                let out = target.bindMemory(to: Float.self)
                for i in 0..<dimensions { out[i] = tokens[t * dimensions + i] }
                for i in dimensions..<out.count { out[i] = 0 }
            }
            try state.setLive(row, true)
            try state.vectorWritten(row)
            try setOwner(row, document)
            rows.append(row)
        }
        return rows
    }

    /// Frees the token rows of a document that is deleted or replaced.
    func remove(_ rows: [UInt32]) throws {
        for row in rows {
            try state.vectorRemoved(row)
            try state.releaseRow(row)
        }
    }

    private func setOwner(_ row: UInt32, _ document: UInt32) throws {
        let block = row >> UInt32(descriptor.blockShift)
        if ownerBlocks[block] == nil {
            var owners = [UInt32](repeating: 0, count: descriptor.rowsPerBlock)
            if let stored = try TokenOwners(tokenSpace: state.snapshot).block(block) {
                owners.withUnsafeMutableBytes { $0.copyMemory(from: stored) }
            }
            ownerBlocks[block] = owners
        }
        ownerBlocks[block]![Int(row) & (descriptor.rowsPerBlock - 1)] = document.littleEndian
    }

    /// Writes the owner blocks, then the token rows (and with them graph and code upkeep).
    func flush() throws {
        if !ownerBlocks.isEmpty, let table = state.tables.tokenOwners {
            for block in ownerBlocks.keys.sorted() {
                try ownerBlocks[block]!.withUnsafeBytes { try state.txn.put(table, key: compositeKey(descriptor.id, block), value: $0) }
            }
            ownerBlocks.removeAll(keepingCapacity: true)
        }
        try state.flush()
    }
}
