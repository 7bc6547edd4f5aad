/// A Matryoshka query plan: each stage scores the survivors of the one before on a prefix
/// (its floats, or an encoding's codes of it) and keeps a shortlist; the first stage scans
/// every selected row. The final `k` come from the last stage.
///
/// ```swift
/// // Binary codes of the 64-prefix shortlist 400 rows, int8 codes of the 256-prefix keep 100,
/// // the full float vectors rank the final k.
/// let funnel = try Funnel("64:binary:400,256:int8:100,full")
/// let hits = try reader.search(query, k: 10, options: SearchOptions(funnel: funnel))
/// ```
public struct Funnel: Sendable, Hashable, CustomStringConvertible {
    /// One stage of a funnel.
    public struct Stage: Sendable, Hashable {
        /// The prefix scored: a declared prefix, or `nil` for the full vector.
        public var prefix: Int?
        /// The encoding of that prefix scored, or `nil` for its float components.
        public var encoding: VectorEncoding?
        /// Rows this stage keeps; `nil` for the last stage, which keeps `k`.
        public var shortlist: Int?

        /// Creates a stage.
        public init(prefix: Int?, encoding: VectorEncoding? = nil, shortlist: Int? = nil) {
            self.prefix = prefix
            self.encoding = encoding
            self.shortlist = shortlist
        }
    }

    /// The stages, first (cheapest) to last.
    public var stages: [Stage]

    /// Creates a funnel from its stages.
    public init(stages: [Stage]) { self.stages = stages }

    /// Parses `prefix:encoding:shortlist` stages separated by commas, where `prefix` is a
    /// number or `full`, `encoding` is `float`, `int8`, `binary` or `pq<m>`, and the last
    /// stage may leave out its shortlist (`full`, `full:int8`).
    /// - Throws: ``QuiverError/Code/invalidArgument`` naming the stage that does not parse.
    public init(_ text: String) throws {
        var stages: [Stage] = []
        for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func fail(_ why: String) -> QuiverError {
                QuiverError(.invalidArgument, "funnel stage \(index + 1) (\(quoted(String(part)))): \(why)")
            }
            guard (1...3).contains(fields.count), !fields[0].isEmpty else { throw fail("expected prefix:encoding:shortlist") }
            var stage = Stage(prefix: nil)
            if fields[0] != "full" {
                guard let prefix = Int(fields[0]), prefix > 0 else { throw fail("the prefix must be a number or full") }
                stage.prefix = prefix
            }
            if fields.count > 1, fields[1] != "float" {
                guard let encoding = VectorEncoding(fields[1]) else { throw fail("the encoding must be float, int8, binary or pq<m>") }
                stage.encoding = encoding
            }
            if fields.count > 2 {
                guard let shortlist = Int(fields[2]), shortlist > 0 else { throw fail("the shortlist must be a positive number") }
                stage.shortlist = shortlist
            }
            stages.append(stage)
        }
        self.stages = stages
    }

    /// The stages in ``init(_:)``'s syntax.
    public var description: String {
        stages.map { s in
            [s.prefix.map(String.init) ?? "full", s.encoding?.description ?? "float"] + (s.shortlist.map { [String($0)] } ?? [])
        }.map { $0.joined(separator: ":") }.joined(separator: ",")
    }

    /// The funnel a Matryoshka collection gets by default: the smallest declared prefix (its
    /// binary codes when the collection has them, else its floats) keeps `k × oversample × 10`,
    /// the largest declared prefix below the full vector (its int8 codes when present) keeps
    /// `k × oversample`, and the full float vectors rank the final `k`.
    static func automatic(prefixes: [Int], dimensions: Int, codebooks: [Codebook], k: Int, oversample: Int) -> Funnel {
        let declared = prefixes.filter { $0 < dimensions }.sorted()
        func best(_ prefix: Int, preferring order: [VectorEncoding]) -> VectorEncoding? {
            order.first { e in codebooks.contains { $0.encoding == e && $0.dimensions == prefix } }
        }
        var stages: [Stage] = []
        if let smallest = declared.first {
            stages.append(Stage(prefix: smallest, encoding: best(smallest, preferring: [.binary, .int8]), shortlist: k * oversample * 10))
        }
        if let largest = declared.last, largest != declared.first {
            stages.append(Stage(prefix: largest, encoding: best(largest, preferring: [.int8, .binary]), shortlist: k * oversample))
        }
        stages.append(Stage(prefix: nil))
        return Funnel(stages: stages)
    }
}

extension CollectionReader {
    /// The funnel this Matryoshka collection gets by default for `k` results: see
    /// ``Funnel`` — the smallest declared prefix (binary codes when the collection has them)
    /// keeps `k × oversample × 10` rows, the largest declared prefix (int8 codes when present)
    /// keeps `k × oversample`, the full vectors rank the final `k`.
    /// - Throws: ``QuiverError/Code/invalidArgument`` for a collection that is not Matryoshka.
    public func defaultFunnel(k: Int = 10, oversample: Int = 4) throws -> Funnel {
        guard case .matryoshka(let dimensions, let prefixes) = schema.vectors else {
            throw QuiverError(.invalidArgument, "a funnel needs a Matryoshka collection", collection: name)
        }
        return Funnel.automatic(prefixes: prefixes, dimensions: dimensions, codebooks: try EncodingMaintenance.codebooks(snapshot), k: k, oversample: oversample)
    }
}
