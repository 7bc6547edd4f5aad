import QuiverStorage

/// Raw access to a store's LMDB tables, for tests that damage or rewrite stored bytes.
enum TestHooks {
    static func overwriteFormatVersion(path: String, major: UInt16, minor: UInt16) throws {
        try withTable(path: path, "meta") { env, table in
            try env.write { txn in
                var value: [UInt8] = []
                for v in [major, minor] { value.append(UInt8(v & 0xFF)); value.append(UInt8(v >> 8)) }
                let key = Array("format".utf8)
                try key.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(table, key: k, value: $0) } }
            }
        }
    }

    /// Replaces the value of the first entry of `table` with `bytes`.
    static func overwriteFirstEntry(path: String, table name: String, with bytes: [UInt8]) throws {
        try withTable(path: path, name) { env, table in
            try env.write { txn in
                let key: [UInt8]? = try txn.withCursor(table) { cursor in try cursor.first().map { Array($0.key) } }
                guard let key else { return }
                try key.withUnsafeBytes { k in try bytes.withUnsafeBytes { try txn.put(table, key: k, value: $0) } }
            }
        }
    }

    static func withTable(path: String, _ name: String, _ body: (Environment, Table) throws -> Void) throws {
        var options = Environment.Options()
        options.mapSize = 1 << 30
        let env = try Environment(path: path, options: options)
        guard let table = try env.table(name) else { return }
        try body(env, table)
    }
}
