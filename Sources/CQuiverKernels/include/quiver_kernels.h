/*
 * quiver_kernels.h — distance kernels for Quiver (float32 vectors, packed bits, u8 codes and
 * product-quantisation codes).
 *
 * Every function picks its implementation once per process: the first call reads the CPU
 * features (`__builtin_cpu_supports`) and caches a table of function pointers. The table is
 * published with an atomic store, so any thread may make the first call. Set the environment
 * variable `QUIVER_KERNEL_ISA` to "avx512", "avx2", "sse2" or "scalar" before the first call
 * to force a lower instruction set (for benchmarks); a value the CPU cannot run is ignored.
 *
 * Memory rules shared by all functions:
 *   - Pointers may be unaligned; the kernels load through memcpy or unaligned vector loads.
 *   - Row kernels read `rows` vectors at `base + i * stride_bytes`; `stride_bytes` is a multiple
 *     of 4 and at least `n * 4` (or `words * 8`); for byte codes (u8, PQ) any stride of at least
 *     `n` (or `m`) bytes. Rows may overlap nothing else the call writes.
 *   - Counts may be zero; then nothing is read and (for the scalar results) 0 is returned.
 *   - Output arrays are written, never read, and must not alias the inputs.
 *
 * Floating-point results depend on the instruction set (summation order differs), by a few
 * units in the last place per term; the scalar twins in QuiverKernels are the reference. The
 * PQ distances (qv_pq_*) are the exception: their order is fixed, so every table gives the
 * same bits.
 */
#ifndef QUIVER_KERNELS_H
#define QUIVER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__clang__)
#pragma clang assume_nonnull begin
#define QV_NULLABLE _Nullable
#define QV_NONNULL _Nonnull
#else
#define QV_NULLABLE
#define QV_NONNULL
#endif

/* ---- One pair ---------------------------------------------------------------------------- */

/** Dot product of `a` and `b`, `n` floats each. */
float qv_dot_f32(const float *a, const float *b, size_t n);

/**
 * Squared Euclidean distance: the sum of (a[i] - b[i])^2.
 * Summed over differences rather than derived as |a|^2 + |b|^2 - 2 a.b: that identity cancels
 * catastrophically for close vectors (the ones that matter in a top-k), and costs no less here.
 */
float qv_l2sq_f32(const float *a, const float *b, size_t n);

/**
 * Dot product of `q` and `x` and the squared norm of `x` in one pass over `x`.
 * Used for cosine on a Matryoshka prefix, whose norm is not stored.
 */
void qv_dot_norm_f32(const float *q, const float *x, size_t n, float *dot, float *x_norm_sq);

/** Number of differing bits between `a` and `b`, `words` 64-bit words each. */
uint32_t qv_hamming_u64(const uint64_t *a, const uint64_t *b, size_t words);

/* ---- One query against rows anywhere ------------------------------------------------------- */

/**
 * out[i] = dot(q, rows[i]) for `count` rows of `n` floats at arbitrary addresses (the
 * neighbours of a graph node). Four rows at a time share each query load and keep four streams
 * of memory reads in flight, which is what a graph search, bound by memory latency, needs.
 */
void qv_dot_f32_gather(const float *q, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, size_t n, float *out);

/** out[i] = squared Euclidean distance of q and rows[i]; see qv_dot_f32_gather. */
void qv_l2sq_f32_gather(const float *q, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, size_t n, float *out);

/* ---- One query against consecutive rows ----------------------------------------------------- */

/** out[i] = dot(q, row i) for `rows` rows of `n` floats at `base + i * stride_bytes`. */
void qv_dot_f32_rows(const float *q, const void *base, size_t stride_bytes, size_t rows,
                     size_t n, float *out);

/** out[i] = squared L2 distance between `q` and row i (summed over differences). */
void qv_l2sq_f32_rows(const float *q, const void *base, size_t stride_bytes, size_t rows,
                      size_t n, float *out);

/** dots[i] = dot(q, row i) and norms_sq[i] = |row i|^2, over the first `n` floats of each row. */
void qv_dot_norm_f32_rows(const float *q, const void *base, size_t stride_bytes, size_t rows,
                          size_t n, float *dots, float *norms_sq);

/** out[i] = Hamming distance between `q` and row i, `words` 64-bit words each. */
void qv_hamming_rows(const uint64_t *q, const void *base, size_t stride_bytes, size_t rows,
                     size_t words, uint32_t *out);

/* ---- Many queries against consecutive rows (GEMM-like) -------------------------------------- */

/**
 * out[r * query_count + j] = dot(row r, query j); query j starts at queries + j * query_stride_floats.
 * An outer-product (sgemm-like) kernel: the queries are packed once per call into a scratch
 * buffer from an internal pool, no horizontal sums are needed, and each row is read from memory
 * once per group of packed queries (at least 80 queries, so once per call in the engine's use).
 * A ragged end of a few queries (and the scalar table, and L2 on SSE2 and NEON) use register
 * tiles of rows x queries instead.
 */
void qv_dot_f32_batch(const float *queries, size_t query_count, size_t query_stride_floats,
                      const void *base, size_t stride_bytes, size_t rows, size_t n, float *out);

/**
 * Like qv_dot_f32_batch, with the squared L2 distance, summed over differences like
 * qv_l2sq_f32 (a subtraction and an FMA per term, not |x|^2 + |q|^2 - 2 x.q).
 */
void qv_l2sq_f32_batch(const float *queries, size_t query_count, size_t query_stride_floats,
                       const void *base, size_t stride_bytes, size_t rows, size_t n, float *out);

/* ---- Late interaction (ColBERT MaxSim) ------------------------------------------------------ */

/**
 * MaxSim: sum over the nq query tokens (q + i*n) of the largest dot product with the nt tokens
 * tokens[j] (each n floats, any alignment). `best` (nq floats) receives each query token's
 * maximum. Returns 0 (and writes nothing) when nq or nt is 0.
 *
 * A dot product that is NaN never counts as the largest (a query token whose products are all
 * NaN gets -infinity). The sum runs over best[0], best[1], ... in order, in float, in every table. `best`
 * holds the running maxima while the call runs (it is written before it is read).
 * Register tiles of 3 document tokens x 4 query tokens on AVX2 (x 8 on AVX-512, 2 x 4 on SSE2
 * and NEON) load each token vector once for several query tokens; see kernels_simd.c.
 */
float qv_maxsim_f32(const float *q, size_t nq, const void *QV_NONNULL const *QV_NONNULL tokens, size_t nt,
                    size_t n, float *best);

/**
 * Centroid interaction (PLAID, Santhanam et al. 2022): returns the sum over query tokens i < nq
 * of max over j < count of s[l(j) * nq + i], where l(j) is the little-endian u32 lists[j] (any
 * alignment) or nlist when it is larger: s is list-major (row l holds the nq query tokens' scores
 * of list l), and row nlist is the caller's row for tokens without a list (-infinity: they add
 * nothing). Returns 0 when nq or count is 0. Whole vectors are read: s must hold
 * (nlist + 1) * nq + 16 floats, lanes past a row's end are left out of the sum. A NaN score
 * never counts as the largest. The maxima are summed in float in query order, so every table
 * returns the same value.
 */
float qv_centroid_interaction(const float *s, size_t nq, const void *lists, size_t count, uint32_t nlist);

/**
 * Each query token's nprobe best lists (PLAID's probes): for every column i < nq of the
 * list-major s (rows l < nlist, as for qv_centroid_interaction), its nprobe largest values in
 * descending order at values[i * nprobe ...] and their rows at lists[i * nprobe ...]. Of equal
 * values the lower row comes first; NaN and -infinity are never chosen; slots left over hold
 * -infinity and UINT32_MAX. Whole vectors are read: s must hold nlist * nq + 16 floats. Every
 * table returns the same lists.
 */
void qv_best_lists(const float *s, size_t nq, size_t nlist, size_t nprobe, float *values, uint32_t *lists);

/**
 * The Euclidean distances between the `count` rows of `coords` (n doubles each, row-major), as
 * token pooling needs them for Ward linkage: out[i * count + j] = sqrt(max(0, (|a_i|^2 +
 * |a_j|^2) - 2 a_i.a_j)) for i != j (both halves), +infinity on the diagonal, and norms[i] =
 * |a_i|^2. Every dot product runs the same operations: the products of even and of odd
 * components summed apart, in order, the two sums added, then the last product when n is odd,
 * with no fused multiply-add; so equal rows are at distance exactly 0 and every table returns
 * the same bits. `transposed` is scratch of qv_pool_transposed_doubles(count, n) doubles.
 */
void qv_pool_distances(const double *coords, size_t count, size_t n, double *norms, double *transposed, double *out);
size_t qv_pool_transposed_doubles(size_t count, size_t n);

/**
 * Sorts n unsigned 32-bit integers ascending (least significant digit radix sort, 8 bits a
 * pass, a pass skipped when all share its digit), using scratch[0..<n].
 */
void qv_sort_u32(uint32_t *values, size_t n, uint32_t *scratch);

/* ---- Int8 panels: approximate dot products of a fixed matrix with a batch of queries -------- */

/*
 * The rows of a fixed float matrix (IVF centroids) packed once as signed bytes, each row with
 * its own scale (row r ~ scales[r] * code[r], codes in -127...127), in panels of 8 rows: panel
 * p holds rows 8p ... 8p+7, 4 components at a time, as 32 bytes (row 8p+j's components 4g ...
 * 4g+3 at bytes 4j ... 4j+3 of the g-th 32). A batch of float queries is then scored by byte
 * multiply-adds (8 rows x 4 components per instruction), no horizontal sums: about twice the
 * float batch kernel's speed on AVX2, from a quarter of the bytes.
 *
 * Components are padded to a multiple of 4 and rows to a multiple of 8 with zeros. `panels`
 * holds qv_i8_panels_bytes(rows, n) bytes; `scales` and `sums` (each row's code sum) hold
 * qv_i8_panels_rows(rows) entries.
 */
size_t qv_i8_panels_rows(size_t rows);
size_t qv_i8_panels_bytes(size_t rows, size_t n);

/** Packs `rows` rows of n floats (row r at rows + r * stride_floats) as described above. */
void qv_i8_panels_pack(const float *rows, size_t count, size_t n, size_t stride_floats, int8_t *panels,
                       float *scales, int32_t *sums);

/** Bytes of scratch qv_dot_i8_panels needs for nq queries of n components. */
size_t qv_i8_panels_scratch_bytes(size_t nq, size_t n);

/**
 * out[r * nq + i] ~ query i . row r for r < rows, i < nq (queries at queries + i * q_stride
 * floats): each query is quantised to 7 bits with its own scale (q ~ b * (u - 64), u in
 * 1...127; rows and queries are rounded half away from zero), the products are exact integer sums, and the result is
 * ((float)(sum - 64 * sums[r]) * scales[r]) * b, so every table returns the same bits. The
 * error is that of the two quantisations: a few thousandths of |q| |row| at n = 128. A query
 * with a non-finite component scores 0 against every row. `scratch` holds
 * qv_i8_panels_scratch_bytes(nq, n) bytes.
 */
void qv_dot_i8_panels(const float *queries, size_t nq, size_t q_stride, const int8_t *panels,
                      const float *scales, const int32_t *sums, size_t rows, size_t n, void *scratch,
                      float *out);

/* ---- MaxSim on u8 codes: the first rescoring of multi-vector candidates ------------------- */

/*
 * A multi-vector query prepared to score documents whose tokens are stored as u8 codes (int8
 * scalar quantisation, x_d ~ offset_d + scale_d * c_d). The caller folds the code ranges into
 * each query token i: weights w_id = q_id * scale_d and bias_i = sum_d q_id * offset_d, so that
 * q_i . x ~ sum_d w_id c_d + bias_i. Preparing quantises each token's weights with its own scale
 * a_i = max_d |w_id| / 63 to integers in -63...63 (rounded half away from zero; a token whose
 * weights are zero or not finite gets weights of zero) and lays them out with query tokens in
 * lanes: groups of 16 tokens, per 4 components 64 bytes (token t's 4 weights at bytes 4t ... 4t+3
 * of its group's vector), components padded to a multiple of 4 and tokens to a multiple of 16
 * with zeros. Then per token: a_i, the weights' integer sum s_i and the constant
 * k_i = 128 * sum_d w_id + bias_i (the sum in four chains over d mod 4, added pairwise:
 * (c0 + c1) + (c2 + c3)). `prepared` holds qv_maxsim_u8_query_bytes(nq, n) bytes, any
 * alignment.
 */
size_t qv_maxsim_u8_query_bytes(size_t nq, size_t n);
void qv_maxsim_u8_prepare(const float *weights, const float *biases, size_t nq, size_t n, void *prepared);
/** Query token i's weight step a_i in a prepared query (0 when i >= nq). */
float qv_maxsim_u8_weight_step(const void *prepared, size_t nq, size_t n, size_t i);

/**
 * ~ MaxSim of the prepared query against a document of nt tokens, each an address of u8 codes
 * readable for n rounded up to 4 bytes (the bytes past n meet weights of zero): with the exact
 * integer sums D_ij = sum_d w8_id c_jd, the score is sum_i (a_i * (float)(max_j D_ij - 128 s_i)
 * + k_i) in query order, so every table returns the same bits. (Subtracting 128 s_i and adding
 * 128 sum_d w_id centres the codes: the weights' rounding then errs by sum_d e_d (c_d - 128),
 * not sum_d e_d c_d.) `best` receives max_j D_ij - 128 s_i for i < nq. Returns 0, `best`
 * untouched, when nq or nt is 0.
 */
float qv_maxsim_u8(const void *prepared, size_t nq, size_t n, const void *QV_NONNULL const *QV_NONNULL tokens,
                   size_t nt, int32_t *best);

/* ---- u8 codes (scalar quantisation) ------------------------------------------------------- */

/*
 * A stored vector of n unsigned bytes c[i] (int8 scalar quantisation: x[i] ~ offset[i] +
 * scale[i] * c[i], with the scales folded into the query by the caller). Each byte is widened
 * to a float exactly (0...255) and multiplied by the query in float, so the result differs from
 * the exact sum only by float rounding, as qv_dot_f32 does. Codes may be at any address and any
 * stride (no multiple of 4 needed).
 */

/** Sum of q[i] * (float)codes[i] over `n` components. */
float qv_dot_u8(const float *q, const uint8_t *codes, size_t n);

/** out[i] = qv_dot_u8(q, row i) for `rows` rows of `n` bytes at `base + i * stride_bytes`. */
void qv_dot_u8_rows(const float *q, const void *base, size_t stride_bytes, size_t rows, size_t n,
                    float *out);

/**
 * out[i] = qv_dot_u8(q, rows[i]) for `count` rows of `n` bytes at arbitrary addresses. Four rows
 * at a time share each query load, and the next four rows are prefetched meanwhile, as in
 * qv_dot_f32_gather.
 */
void qv_dot_u8_gather(const float *q, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, size_t n, float *out);

/* ---- Product quantisation: asymmetric distance computation (ADC) ---------------------------- */

/*
 * A PQ code is `m` bytes: byte j is the index of sub-quantiser j's centroid. A per-query table
 * holds m x 256 floats, table[j * 256 + c] (for example the squared L2 distance, or the negated
 * dot product, between the query's j-th sub-vector and centroid c of sub-quantiser j), and a
 * code's distance is the sum over j of table[j * 256 + code[j]].
 *
 * Summation order, the same in every instruction set and the scalar twin, so results are
 * bit-identical everywhere: the terms of even j are added in increasing j to one float, those
 * of odd j to another, and the result is even + odd. (Two chains per row halve the latency of
 * the dependent adds; there are no products, so no FMA contraction can change the result.)
 */

/** Σ_j table[j * 256 + code[j]] for one code of `m` bytes, in the order above. */
float qv_pq_distance(const float *table, size_t m, const uint8_t *code);

/**
 * out[i] = qv_pq_distance(table, m, row i) for `rows` codes of `m` bytes at
 * `base + i * stride_bytes` (any stride, any alignment). Four codes at a time, each code read
 * as 8-byte words whose bytes are peeled off with shifts: the loop is bound by the float adds
 * and instruction dispatch, not by the table's cache footprint (measured on Zen 3).
 */
void qv_pq_scan_rows(const float *table, size_t m, const void *base, size_t stride_bytes,
                     size_t rows, float *out);

/**
 * out[i] = qv_pq_distance(table, m, rows[i]) for `count` codes at arbitrary addresses (the
 * neighbours of a graph node); the next four codes are prefetched while four are scored.
 */
void qv_pq_gather(const float *table, size_t m, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, float *out);

/**
 * The squared-L2 table of one query: table[j * 256 + c] = Σ_k (query[j * sub + k] - centroid)²
 * over the `sub` components of centroid c of sub-quantiser j, summed over differences in
 * increasing k. The codebook is given component-major per sub-quantiser ("columns"):
 * columns[(j * sub + k) * 256 + c] is component k of centroid c of sub-quantiser j, so each
 * vector lane computes one centroid's entry and no horizontal sums are needed.
 */
void qv_pq_table_l2sq(const float *query, const float *columns, size_t m, size_t sub, float *table);

/** The inner-product table: table[j * 256 + c] = Σ_k query[j * sub + k] * centroid; see above. */
void qv_pq_table_dot(const float *query, const float *columns, size_t m, size_t sub, float *table);

/* ---- Selection ---------------------------------------------------------------------------- */

/**
 * The index of the smallest of `n` floats, the lowest index among equal ones (k-means
 * assignment, PQ encoding). NaN values are skipped; 0 when all are NaN or n == 0. Two vector
 * passes: the minimum, then the first element equal to it.
 */
size_t qv_argmin_f32(const float *values, size_t n);

/**
 * Writes to `indices`, in ascending order, every i < n with values[i] <= limits[i], and returns
 * how many (at most n; NaN is never selected). The batched exact scan passes one block row's
 * distances to all queries of a tile and each query's current k-th distance: most rows beat no
 * limit, and a vector compare per lane group rejects them.
 */
size_t qv_select_at_most(const float *values, const float *limits, size_t n, uint32_t *indices);

/* ---- Diagnostics ------------------------------------------------------------------------- */

/**
 * Reads every byte of [base, base + bytes) once and returns a value that depends on all of them
 * (the bytes summed as floats, the last bytes % 4 as integers). Measures the read bandwidth a scan
 * over the same bytes can reach. The value itself means nothing (NaN is possible).
 */
double qv_read_bandwidth(const void *base, size_t bytes);

/**
 * The instruction set the float kernels use: "avx512" (AVX-512 F and VL), "avx2" (AVX2 and FMA),
 * "sse2" (any x86-64), "neon" (any AArch64) or "scalar" (plain C, any other CPU).
 */
const char *qv_kernel_isa(void);

/**
 * The kernels of one instruction set, for tests and benchmarks that compare implementations.
 * `hamming_*` may use a different instruction set than the float kernels (e.g. POPCNT in the
 * "sse2" and "avx2" tables, VPOPCNTDQ in "avx512" when the CPU has it).
 */
typedef struct qv_kernel_table {
    const char *isa;
    float (*dot_f32)(const float *a, const float *b, size_t n);
    float (*l2sq_f32)(const float *a, const float *b, size_t n);
    void (*dot_norm_f32)(const float *q, const float *x, size_t n, float *dot, float *x_norm_sq);
    uint32_t (*hamming_u64)(const uint64_t *a, const uint64_t *b, size_t words);
    void (*dot_f32_rows)(const float *q, const void *base, size_t stride_bytes, size_t rows,
                         size_t n, float *out);
    void (*l2sq_f32_rows)(const float *q, const void *base, size_t stride_bytes, size_t rows,
                          size_t n, float *out);
    void (*dot_norm_f32_rows)(const float *q, const void *base, size_t stride_bytes, size_t rows,
                              size_t n, float *dots, float *norms_sq);
    void (*hamming_rows)(const uint64_t *q, const void *base, size_t stride_bytes, size_t rows,
                         size_t words, uint32_t *out);
    void (*dot_f32_batch)(const float *queries, size_t query_count, size_t query_stride_floats,
                          const void *base, size_t stride_bytes, size_t rows, size_t n, float *out);
    void (*l2sq_f32_batch)(const float *queries, size_t query_count, size_t query_stride_floats,
                           const void *base, size_t stride_bytes, size_t rows, size_t n, float *out);
    double (*read_bandwidth)(const void *base, size_t bytes);
    void (*dot_f32_gather)(const float *q, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, size_t n, float *out);
    void (*l2sq_f32_gather)(const float *q, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, size_t n,
                            float *out);
    float (*dot_u8)(const float *q, const uint8_t *codes, size_t n);
    void (*dot_u8_rows)(const float *q, const void *base, size_t stride_bytes, size_t rows,
                        size_t n, float *out);
    void (*dot_u8_gather)(const float *q, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count, size_t n,
                          float *out);
    float (*pq_distance)(const float *table, size_t m, const uint8_t *code);
    void (*pq_scan_rows)(const float *table, size_t m, const void *base, size_t stride_bytes,
                         size_t rows, float *out);
    void (*pq_gather)(const float *table, size_t m, const void *QV_NULLABLE const *QV_NONNULL rows, size_t count,
                      float *out);
    void (*pq_table_l2sq)(const float *query, const float *columns, size_t m, size_t sub, float *table);
    void (*pq_table_dot)(const float *query, const float *columns, size_t m, size_t sub, float *table);
    size_t (*argmin_f32)(const float *values, size_t n);
    size_t (*select_at_most)(const float *values, const float *limits, size_t n, uint32_t *indices);
    float (*maxsim_f32)(const float *q, size_t nq, const void *QV_NONNULL const *QV_NONNULL tokens, size_t nt,
                        size_t n, float *best);
    float (*centroid_interaction)(const float *s, size_t nq, const void *lists, size_t count, uint32_t nlist);
    void (*best_lists)(const float *s, size_t nq, size_t nlist, size_t nprobe, float *values, uint32_t *lists);
    void (*pool_distances)(const double *coords, size_t count, size_t n, double *norms, double *transposed,
                           double *out);
    void (*dot_i8_panels)(const float *queries, size_t nq, size_t q_stride, const int8_t *panels,
                          const float *scales, const int32_t *sums, size_t rows, size_t n, void *scratch,
                          float *out);
    float (*maxsim_u8)(const void *prepared, size_t nq, size_t n, const void *QV_NONNULL const *QV_NONNULL tokens,
                       size_t nt, int32_t *best);
} qv_kernel_table;

/**
 * The table for `isa` ("avx512", "avx2", "sse2", "neon", "scalar"), or NULL when this build or
 * this CPU cannot run it. "scalar" is always available.
 */
const qv_kernel_table *QV_NULLABLE qv_kernel_table_for_isa(const char *isa);

/* ---- Graph helpers ------------------------------------------------------------------------- */

/**
 * Asks the CPU to bring the `lines` cache lines at `p` into cache (a graph search issues this
 * for a neighbour's vector before it scores the neighbour before it). Never faults.
 */
static inline void qv_prefetch(const void *p, size_t lines) {
    const char *c = (const char *)p;
    for (size_t i = 0; i < lines; i++) __builtin_prefetch(c + i * 64, 0, 3);
}

/**
 * A tiny spin lock on one byte (0 free, 1 held), for the per-node locks of a parallel graph
 * build: millions of them cost a byte each, and each is held for a few hundred nanoseconds.
 */
static inline void qv_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, (uint8_t)1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__)
            __builtin_ia32_pause();
#endif
        }
    }
}

/** Releases a lock taken by `qv_spin_lock`. */
static inline void qv_spin_unlock(uint8_t *lock) { __atomic_store_n(lock, (uint8_t)0, __ATOMIC_RELEASE); }

/** Atomically adds `value` to `*counter` and returns the old value (work sharing by threads). */
static inline uint64_t qv_fetch_add(uint64_t *counter, uint64_t value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#ifdef __cplusplus
}
#endif

#endif /* QUIVER_KERNELS_H */
