import QuiverStorage

/// The invariants between a multi-vector collection's documents and its token space (part of
/// ``Database/verify()``): every live document has a token list that decodes; each listed
/// token row is live, listed by no other document, and owned by that document in the owner
/// plane; the documents list exactly the live token rows; no token list belongs to a row that
/// is not a live document.
struct TokenSpaceVerifier {
    let documents: CollectionSnapshot
    let tokens: CollectionSnapshot

    func violations() throws -> [String] {
        var problems: [String] = []
        guard let table = documents.tables.documents else { return ["the store has no multivector.docs table"] }
        let liveDocuments = try FilterEvaluator.liveRows(documents)
        let liveTokens = try FilterEvaluator.liveRows(tokens)
        let owners = try TokenOwners(tokenSpace: tokens)
        var seen = RowSet(capacity: Int(tokens.counters.rowCount))
        var listed = 0
        var prefix: [UInt8] = []
        prefix.appendBigEndian(documents.id)
        try documents.txn.withCursor(table) { cursor in
            var entry = try prefix.withUnsafeBytes { try cursor.seek($0) }
            while let e = entry, e.key.starts(with: prefix) {
                defer { entry = try? cursor.next() }
                guard e.key.count == 8 else { problems.append("multivector.docs: key of \(e.key.count) bytes"); continue }
                let row = e.key.bigEndianUInt32(at: 4)
                guard liveDocuments.contains(row) else { problems.append("multivector.docs: row \(row) is not a live document (orphan)"); continue }
                let document: DocumentTokens
                do { document = try DocumentTokens(e.value) } catch {
                    problems.append("multivector.docs: row \(row) does not decode: \(error)")
                    continue
                }
                listed += document.count
                for i in 0..<document.count {
                    let token = document.row(i)
                    if !liveTokens.contains(token) {
                        problems.append("document row \(row) lists token row \(token), which is not live")
                    } else if seen.contains(token) {
                        problems.append("token row \(token) is listed by two documents")
                    } else if try owners.owner(token) != row {
                        problems.append("multivector.tokens: token row \(token) names document \(try owners.owner(token)), listed by \(row)")
                    }
                    if Int(token) < seen.words.count * 64 { seen.insert(token) }
                }
            }
        }
        var documentsWithTokens = 0
        liveDocuments.forEach { row in
            if (try? DocumentTokens.read(documents, row: row)) ?? nil != nil { documentsWithTokens += 1 }
        }
        if documentsWithTokens != liveDocuments.count {
            problems.append("\(liveDocuments.count - documentsWithTokens) live documents have no token list")
        }
        if listed != liveTokens.count {
            problems.append("the documents list \(listed) tokens, the token space holds \(liveTokens.count) live rows")
        }
        return problems
    }
}
