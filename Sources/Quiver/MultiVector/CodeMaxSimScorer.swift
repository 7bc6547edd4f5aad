import QuiverKernels
import QuiverStorage

/// Scores documents of a multi-vector collection against one query by approximate MaxSim on
/// the int8 codes of their tokens (the token space's int8 encoding), read in place from the
/// map: the first rescoring of a shortlist, a quarter of the bytes of the float tokens, so that
/// only its best are scored on the floats (``MaxSimScorer``).
///
/// Each query token is folded into the code ranges once (as `Codebook.prepare` does for one
/// vector) and quantised by ``U8MaxSimQuery``; a document then costs one byte multiply-add per four
/// components per query-token lane. The error is that of the two quantisations, a few
/// thousandths of a query token's dot products.
final class CodeMaxSimScorer {
    private let codes: VectorRows
    private let query: U8MaxSimQuery
    private let addresses = TokenAddresses()
    /// How far below the `k`-th best score on the codes a document may score and still be
    /// rescored on the floats (``scoreErrorMargin(weights:steps:dimensions:)``).
    let margin: Float

    /// The int8 encoding of `snapshot` (a token space) that can score a shortlist: one over the
    /// whole vector, other than the codes that keep the floats (a collection keeping its floats
    /// only so rescores on those already).
    static func encoding(_ snapshot: CollectionSnapshot, context: SearchContext) -> Codebook? {
        context.codebooks.first { codebook in
            guard case .int8 = codebook.model else { return false }
            return codebook.dimensions == snapshot.descriptor.dimensions && codebook.id != context.floatCodes?.id
        }
    }

    /// - Parameters:
    ///   - codebook: an int8 encoding of the token space (``encoding(_:context:)``).
    ///   - codes: its row plane.
    ///   - query: `queryCount × dimensions` floats (normalised for cosine), as stored tokens are.
    init?(codebook: Codebook, codes: VectorRows, query: UnsafePointer<Float>, queryCount: Int) {
        guard case .int8(let offsets, let scales) = codebook.model else { return nil }
        let dimensions = codebook.dimensions
        self.codes = codes
        // Each query token folded into the code ranges, as `Codebook.prepare` does for one
        // vector: weights `q_d × scale_d` and the bias `Σ q_d offset_d`.
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: max(1, queryCount * dimensions))
        let biases = UnsafeMutablePointer<Float>.allocate(capacity: max(1, queryCount))
        defer { weights.deallocate(); biases.deallocate() }
        offsets.withUnsafeBufferPointer { offsets in
            scales.withUnsafeBufferPointer { scales in
                for i in 0..<queryCount {
                    let q = query + i * dimensions, w = weights + i * dimensions
                    for d in 0..<dimensions { w[d] = q[d] * scales[d] }
                    biases[i] = Kernels.dot(q, UnsafeRawPointer(offsets.baseAddress!), count: dimensions)
                }
            }
        }
        self.query = U8MaxSimQuery(weights: weights, biases: biases, queryCount: queryCount, dimensions: dimensions)
        margin = Self.scoreErrorMargin(weights: weights, steps: self.query, dimensions: dimensions)
    }

    /// Three standard deviations of the difference between two documents' errors on the codes:
    /// how far apart two scores on the codes may be with the floats still in the other order.
    ///
    /// Two roundings make a query token's dot product on the codes err. A code component lies
    /// within `±scale_d / 2` of the float, evenly, so the dot product errs with variance
    /// `Σ_d w_d² / 12` (`w_d = q_d × scale_d`, the folded weights). A weight, rounded to a
    /// multiple of the token's step `a` (``U8MaxSimQuery/weightStep(ofToken:)``), lies within
    /// `±a / 2` of its value and meets a centred code `c_d − 128`, which varies by at most
    /// `255² / 12` (evenly spread codes), so it adds `n × a² / 12 × 255² / 12`. Query tokens
    /// are taken as independent, and a difference of two documents' scores has twice the
    /// variance of one.
    static func scoreErrorMargin(weights: UnsafePointer<Float>, steps query: U8MaxSimQuery, dimensions: Int) -> Float {
        let codeVariance: Float = 255 * 255 / 12
        var variance: Float = 0
        for i in 0..<query.queryCount {
            let w = weights + i * dimensions, step = query.weightStep(ofToken: i)
            variance += Kernels.dot(w, UnsafeRawPointer(w), count: dimensions) / 12
                + Float(dimensions) * step * step / 12 * codeVariance
        }
        guard variance.isFinite else { return .infinity }
        return 3 * (2 * variance).squareRoot()
    }

    /// The approximate MaxSim score of a document whose token list is read.
    func score(_ document: DocumentTokens) -> Float {
        query.score(tokens: addresses.gather(document, in: codes), count: document.count)
    }
}

extension MaxSimSearch {
    /// With int8 codes of the tokens, at most the shortlist's best `k + ⌈k / 2⌉` by MaxSim on
    /// the codes are rescored on the floats (those within the codes' error of the `k`-th:
    /// ``codePass(_:k:scorer:)``). On the MiniLM tokens (pool factors 3 and 4, oversample 6-10)
    /// `1.5 k` and `2 k` gave the same results as rescoring the whole shortlist on the floats;
    /// `k` lost 0.005-0.007 of recall (docs/benchmarks.md).
    static func codeRescoreKeep(k: Int) -> Int { k + (k + 1) / 2 }
    /// The first pass on the codes runs for shortlists of at least this many times what it
    /// keeps: it costs about 0.4 of the float pass per document (MiniLM tokens, Zen 4 VNNI), so
    /// it paid 1.10-1.31× at oversample 6 and 8 and nothing at 4 (docs/benchmarks.md).
    static let codeRescoreMinimum = 3

    /// The oversampling of a search's shortlist: the option's, or by default
    /// ``SearchOptions/defaultCodedTokenOversample`` when the tokens have int8 codes to score a
    /// long shortlist on first, else ``SearchOptions/defaultOversample``.
    func shortlistOversample(_ options: SearchOptions, context: SearchContext) -> Int {
        if let oversample = options.oversample { return oversample }
        return CodeMaxSimScorer.encoding(tokens, context: context) != nil
            ? SearchOptions.defaultCodedTokenOversample : SearchOptions.defaultOversample
    }

    /// The scorer of the first rescoring of a shortlist of `count` documents, on the token
    /// space's int8 codes; `nil` when it has none, or the shortlist is too short for the pass to
    /// pay (``codeRescoreMinimum``).
    func codeScorer(shortlist count: Int, k: Int, context: SearchContext) -> CodeMaxSimScorer? {
        guard count >= Self.codeRescoreMinimum * Self.codeRescoreKeep(k: k),
              let codebook = CodeMaxSimScorer.encoding(tokens, context: context),
              let codes = context.rowPlane(codebook, snapshot: tokens) else { return nil }
        return CodeMaxSimScorer(codebook: codebook, codes: codes, query: query, queryCount: queryCount)
    }

    /// What both fast paths rescore on the floats when the token space has int8 codes: the
    /// best `k` of `shortlist` by `scorer`, and after them, of the best ``codeRescoreKeep(k:)``,
    /// those within the scorer's ``CodeMaxSimScorer/margin`` of the `k`-th; best first. A
    /// document further below would need the codes to have erred by more than three standard
    /// deviations to belong in the top `k`. On the MiniLM tokens (margin about 0.08) this
    /// rescores about 11.8 documents on the floats at k = 10 instead of 15, with the same recall
    /// (docs/benchmarks.md).
    func codePass(_ shortlist: [Document], k: Int, scorer: CodeMaxSimScorer) -> [Document] {
        var best = TopK(k: Self.codeRescoreKeep(k: k))
        for (slot, candidate) in shortlist.enumerated() { best.push(distance: -scorer.score(candidate.tokens), row: UInt32(slot)) }
        let ranked = best.sortedResults()
        let kept = Self.withinMargin(ranked.map(\.distance), k: k, margin: scorer.margin)
        return ranked.prefix(kept).map { shortlist[Int($0.row)] }
    }

    /// How many of `distances` (ascending) to keep: the first `k`, and then those within
    /// `margin` of the `k`-th.
    static func withinMargin(_ distances: [Float], k: Int, margin: Float) -> Int {
        guard distances.count > k, k > 0 else { return distances.count }
        let bar = distances[k - 1] + margin
        var kept = k
        while kept < distances.count, distances[kept] <= bar { kept += 1 }
        return kept
    }
}
