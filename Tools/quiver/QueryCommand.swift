import ArgumentParser
import Quiver
import QuiverFiles

/// `quiver query COLLECTION (--vector … | --vector-file … | --bits …) [--k] [--filter] …`.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Print the k nearest records to a query vector as JSON.",
        discussion:
            "Output: a JSON array of {\"key\", \"distance\", \"metadata\"}, nearest first; smaller distances are closer."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The collection to search.")
    var collection: String

    @Option(help: ArgumentHelp("The query as a JSON array of numbers.", valueName: "[0.1, …]"))
    var vector: String?

    @Option(
        help: ArgumentHelp(
            "Take the query from a vector file (.fvecs, .bvecs, .npy, .jsonl).",
            valueName: "path"
        )
    )
    var vectorFile: String?

    @Option(help: ArgumentHelp("The row of --vector-file to use.", valueName: "n"))
    var row: Int = 0

    @Option(help: ArgumentHelp("A packed-bit query in hex (binary collections).", valueName: "hex"))
    var bits: String?

    @Option(help: ArgumentHelp("Multi-vector collections: the query's tokens as a JSON array of arrays.", valueName: "[[0.1, …], …]"))
    var tokens: String?

    @Option(help: ArgumentHelp("Multi-vector collections: an .npy token matrix of queries (with --token-offsets; --row picks the query).", valueName: "path"))
    var tokensFile: String?

    @Option(help: ArgumentHelp("The .npy offsets of --tokens-file's queries.", valueName: "path"))
    var tokenOffsets: String?

    @Option(help: ArgumentHelp("Multi-vector collections: stored tokens each query token retrieves through the token index.", valueName: "n"))
    var tokenCandidates: Int?

    @Option(help: "How many results.")
    var k: Int = 10

    @Option(
        help: ArgumentHelp(
            "A filter over filterable fields, such as 'section == \"libs\" and size < 1000'.",
            valueName: "text"
        )
    )
    var filter: String?

    @Option(
        help: ArgumentHelp(
            "Matryoshka collections: search on this declared prefix size.",
            valueName: "n"
        )
    )
    var prefix: Int?

    @Flag(help: "Return the shortlist's own distances instead of rescoring on full vectors.")
    var noRescore = false

    @Option(
        help: ArgumentHelp(
            "The shortlist holds k × this many candidates before rescoring (default 4; multi-vector with int8 token codes: 8, and at k = 10, 5 and up scores it on the codes first).",
            valueName: "n"
        )
    )
    var oversample: Int?

    @Option(help: ArgumentHelp("Where candidates come from: auto (the collection's encoding, if any), floats, int8, binary or pq<m>.", valueName: "source"))
    var candidates: String = "auto"

    @Option(help: ArgumentHelp("IVF-PQ lists probed (default: a sixteenth of the lists, 1...64).", valueName: "n"))
    var nprobe: Int?

    @Flag(help: "Leave metadata out of the results.")
    var noMetadata = false

    @Option(help: ArgumentHelp("The index's candidate list size for this query (default: the index's efSearch).", valueName: "n"))
    var efSearch: Int?

    @Flag(help: "Scan exactly even when the collection has an index.")
    var exact = false

    @Flag(help: "Print the time taken and the number of results on stderr.")
    var timing = false

    func validate() throws {
        let sources = [vector != nil, vectorFile != nil, bits != nil, tokens != nil, tokensFile != nil].filter { $0 }.count
        guard sources == 1 else {
            throw ValidationError("give exactly one of --vector, --vector-file, --bits, --tokens, --tokens-file")
        }
        guard (tokensFile == nil) == (tokenOffsets == nil) else { throw ValidationError("--tokens-file and --token-offsets go together") }
        guard row >= 0 else { throw ValidationError("--row must be non-negative") }
    }

    func run() throws {
        let parsedFilter = try filter.map { try Filter.parse($0) }
        let query = try loadQuery()
        let database = try storeOptions.open(readOnly: true)
        var options = SearchOptions(
            prefix: prefix,
            candidates: try parseCandidates(candidates),
            rescore: !noRescore,
            oversample: oversample,
            includeMetadata: !noMetadata,
            efSearch: efSearch,
            strategy: exact ? .exact : .automatic
        )
        options.nprobe = nprobe
        options.tokenCandidates = tokenCandidates
        let started = now()
        let (results, schema) = try database.read { tx in
            let reader = try tx.collection(collection)
            let results: [SearchResult]
            switch query {
            case .floats(let q):
                results = try reader.search(q, k: k, filter: parsedFilter, options: options)
            case .bits(let b):
                results = try reader.search(bits: b, k: k, filter: parsedFilter, options: options)
            case .tokens(let t):
                results = try reader.search(tokens: t, k: k, filter: parsedFilter, options: options)
            case .bytes(let b):
                if case .binary = reader.schema.vectors {
                    results = try reader.search(
                        bits: b,
                        k: k,
                        filter: parsedFilter,
                        options: options
                    )
                } else {
                    results = try reader.search(
                        b.map { Float($0) },
                        k: k,
                        filter: parsedFilter,
                        options: options
                    )
                }
            }
            return (results, reader.schema)
        }
        let elapsed = now() - started
        print(renderResults(results, schema: schema))
        if timing {
            standardError(
                "\(results.count) results in \(String(format: "%.3f", elapsed * 1000)) ms\n"
            )
        }
    }

    enum Query {
        case floats([Float])
        case bits([UInt8])
        /// A uint8 row: packed bits for a binary collection, components otherwise.
        case bytes([UInt8])
        /// The token vectors of a multi-vector query.
        case tokens([[Float]])
    }

    func loadQuery() throws -> Query {
        if let tokens {
            let parsed: JSONValue
            do { parsed = try JSONParser.parse(tokens) } catch {
                throw InputError("invalidVector", "--tokens: \(error.message)\(error.column.map { " at column \($0)" } ?? "")")
            }
            guard case .array(let rows) = parsed else { throw InputError("invalidVector", "--tokens: expected an array of arrays of numbers") }
            return .tokens(try rows.enumerated().map { i, row in
                guard case .array(let values) = row else { throw InputError("invalidVector", "--tokens: token \(i) is not an array") }
                return try values.map { value in
                    switch value {
                    case .int(let n): return Float(n)
                    case .double(let d): return Float(d)
                    default: throw InputError("invalidVector", "--tokens: token \(i) holds a value that is not a number")
                    }
                }
            })
        }
        if let tokensFile, let tokenOffsets {
            var reader = try MultiVectorFileReader(tokensPath: tokensFile, offsetsPath: tokenOffsets)
            var chunk = TokenChunk()
            while reader.documentsRead <= row {
                guard try reader.read(into: &chunk, maxDocuments: row + 1 - reader.documentsRead) > 0 else {
                    throw InputError("invalidArgument", "\(tokenOffsets) has \(reader.documentsRead) queries; --row \(row) is past the end")
                }
            }
            let d = reader.dimensions
            let skip = chunk.tokenCounts.dropLast().reduce(0, +)
            let count = chunk.tokenCounts.last!
            return .tokens((skip..<skip + count).map { Array(chunk.floats[$0 * d..<($0 + 1) * d]) })
        }
        if let vector {
            var floats: [Float] = []
            do {
                try JSONParser.parseFloatArray(Array(vector.utf8), into: &floats)
            } catch {
                throw InputError(
                    "invalidVector",
                    "--vector: \(error.message)\(error.column.map { " at column \($0)" } ?? "")"
                )
            }
            return .floats(floats)
        }
        if let bits {
            return .bits(try parseHex(bits))
        }
        let path = vectorFile!
        var reader = try VectorFileReader(path: path)
        var chunk = VectorChunk()
        while reader.rowsRead <= row {
            let n = try reader.read(into: &chunk, maxRows: min(4096, row + 1 - reader.rowsRead))
            guard n > 0 else {
                throw InputError(
                    "invalidArgument",
                    "\(path) has \(reader.rowsRead) rows; --row \(row) is past the end"
                )
            }
        }
        let local = row - chunk.firstRow
        let d = reader.dimensions
        switch reader.elementKind {
        case .float32:
            return .floats(Array(chunk.floats[local * d..<(local + 1) * d]))
        case .uint8:
            // A .bvecs or uint8 .npy row: packed bits for binary collections, else components.
            return .bytes(Array(chunk.bytes[local * d..<(local + 1) * d]))
        case .packedBits(let bitCount):
            let bytes = bitCount / 8
            return .bits(Array(chunk.bytes[local * bytes..<(local + 1) * bytes]))
        }
    }
}

/// Parses hex digits (optionally `0x`-prefixed, with spaces or `_` between bytes).
func parseHex(_ text: String) throws -> [UInt8] {
    var digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "_") })
    if digits.count >= 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
        digits.removeFirst(2)
    }
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    guard !digits.isEmpty, digits.count % 2 == 0 else {
        throw InputError(
            "invalidVector",
            "--bits: give an even number of hex digits (two per byte)"
        )
    }
    var bytes: [UInt8] = []
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let high = value(digits[i]), let low = value(digits[i + 1]) else {
            throw InputError(
                "invalidVector",
                "--bits: \(quote(String(decoding: digits[i...i+1], as: UTF8.self))) is not a hex byte"
            )
        }
        bytes.append(high << 4 | low)
    }
    return bytes
}

/// Results as a JSON array, one result per line.
func renderResults(_ results: [SearchResult], schema: CollectionSchema) -> String {
    guard !results.isEmpty else { return "[]" }
    let lines = results.map { result -> String in
        var members: [(String, JSONOutput)] = [
            ("key", JSONOutput(result.key)), ("distance", .float(result.distance)),
        ]
        if let metadata = result.metadata {
            members.append(("metadata", JSONOutput(metadata, schema: schema)))
        }
        return JSONOutput.object(members).rendered()
    }
    return "[\n  " + lines.joined(separator: ",\n  ") + "\n]"
}

/// `auto`, `floats`, or an encoding (`int8`, `binary`, `pq48`), as `--candidates` takes it.
func parseCandidates(_ text: String) throws -> CandidateSource {
    switch text {
    case "auto": return .automatic
    case "floats": return .floats
    default:
        guard let encoding = VectorEncoding(text) else {
            throw ValidationError("--candidates must be auto, floats, int8, binary or pq<m>, got \(text)")
        }
        return .encoding(encoding)
    }
}
