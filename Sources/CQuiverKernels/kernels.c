/*
 * kernels.c — the public entry points, the choice of instruction set, and the scalar kernels.
 *
 * Dispatch: the first call builds one table per instruction set this CPU can run, picks the
 * widest (or the one named by QUIVER_KERNEL_ISA) and publishes it with a release store; later
 * calls cost one load and one indirect call. Building is guarded by a tiny spin-once, so there
 * is no dependency on pthreads and any thread may come first.
 */
#include "kernels_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Scratch memory of the batch kernels ---------------------------------------------------- */

/*
 * A small pool of buffers instead of thread-local ones: nothing is left behind when a thread
 * exits, and no pthread keys are needed. Each slot holds one free buffer or NULL; taking and
 * returning a buffer is one atomic exchange or compare-exchange per slot visited. Every buffer
 * starts with a 64-byte header that records its capacity in floats.
 */
enum { QV_SCRATCH_SLOTS = 16, QV_SCRATCH_HEADER = 64 };
static float *qv_scratch_slots[QV_SCRATCH_SLOTS]; /* accessed with __atomic builtins */

static inline size_t qv_scratch_capacity(const float *p) {
    size_t floats;
    memcpy(&floats, (const unsigned char *)p - QV_SCRATCH_HEADER, sizeof floats);
    return floats;
}

static inline void qv_scratch_free(float *p) { free((unsigned char *)p - QV_SCRATCH_HEADER); }

float *qv_internal_scratch_take(size_t floats) {
    for (int i = 0; i < QV_SCRATCH_SLOTS; i++) {
        if (__atomic_load_n(&qv_scratch_slots[i], __ATOMIC_RELAXED) == NULL) continue;
        float *p = __atomic_exchange_n(&qv_scratch_slots[i], NULL, __ATOMIC_ACQUIRE);
        if (p == NULL) continue;
        if (qv_scratch_capacity(p) >= floats) return p;
        qv_scratch_free(p); /* too small for this call: replaced below */
        break;
    }
    if (floats > (SIZE_MAX - QV_SCRATCH_HEADER - 4095) / 4) return NULL;
    const size_t bytes = (QV_SCRATCH_HEADER + floats * 4 + 4095) / 4096 * 4096;
    unsigned char *base = aligned_alloc(64, bytes);
    if (base == NULL) return NULL;
    const size_t capacity = (bytes - QV_SCRATCH_HEADER) / 4;
    memcpy(base, &capacity, sizeof capacity);
    return (float *)(base + QV_SCRATCH_HEADER);
}

void qv_internal_scratch_give(float *p) {
    for (int i = 0; i < QV_SCRATCH_SLOTS; i++) {
        float *expected = NULL;
        if (__atomic_compare_exchange_n(&qv_scratch_slots[i], &expected, p, 0, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
            return;
        }
    }
    qv_scratch_free(p); /* more buffers in flight than slots */
}

/* ---- Scalar kernels: portable C, correct for any n; the fallback on every platform ---------- */

static inline QV_ALWAYS_INLINE float qv_scalar_load(const unsigned char *p, size_t k) {
    float f;
    memcpy(&f, p + 4 * k, 4); /* unaligned-safe */
    return f;
}

/* Four accumulators for instruction-level parallelism; L2 sums squared differences. */
static inline QV_ALWAYS_INLINE float qv_scalar_pair(const int kind, const unsigned char *a,
                                                    const unsigned char *b, size_t n, float *norm) {
    float s[4] = {0, 0, 0, 0}, t[4] = {0, 0, 0, 0};
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        for (int i = 0; i < 4; i++) {
            const float x = qv_scalar_load(a, k + i), y = qv_scalar_load(b, k + i);
            if (kind == QV_L2) {
                s[i] += (x - y) * (x - y);
            } else {
                s[i] += x * y;
                if (kind == QV_NORM) t[i] += y * y;
            }
        }
    }
    for (; k < n; k++) {
        const float x = qv_scalar_load(a, k), y = qv_scalar_load(b, k);
        if (kind == QV_L2) {
            s[0] += (x - y) * (x - y);
        } else {
            s[0] += x * y;
            if (kind == QV_NORM) t[0] += y * y;
        }
    }
    if (kind == QV_NORM) *norm = (t[0] + t[1]) + (t[2] + t[3]);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static float qv_dot_f32_scalar(const float *a, const float *b, size_t n) {
    return qv_scalar_pair(QV_DOT, (const unsigned char *)a, (const unsigned char *)b, n, NULL);
}

static float qv_l2sq_f32_scalar(const float *a, const float *b, size_t n) {
    return qv_scalar_pair(QV_L2, (const unsigned char *)a, (const unsigned char *)b, n, NULL);
}

static void qv_dot_norm_f32_scalar(const float *q, const float *x, size_t n, float *dot,
                                   float *x_norm_sq) {
    float norm = 0;
    *dot = qv_scalar_pair(QV_NORM, (const unsigned char *)q, (const unsigned char *)x, n, &norm);
    *x_norm_sq = norm;
}

static void qv_dot_f32_rows_scalar(const float *q, const void *base, size_t stride, size_t rows,
                                   size_t n, float *out) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) {
        out[i] = qv_scalar_pair(QV_DOT, (const unsigned char *)q, p, n, NULL);
    }
}

static void qv_l2sq_f32_rows_scalar(const float *q, const void *base, size_t stride, size_t rows,
                                    size_t n, float *out) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) {
        out[i] = qv_scalar_pair(QV_L2, (const unsigned char *)q, p, n, NULL);
    }
}

static void qv_dot_norm_f32_rows_scalar(const float *q, const void *base, size_t stride,
                                        size_t rows, size_t n, float *dots, float *norms_sq) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) {
        dots[i] = qv_scalar_pair(QV_NORM, (const unsigned char *)q, p, n, &norms_sq[i]);
    }
}

static inline QV_ALWAYS_INLINE void qv_batch_scalar(const int kind, const float *queries,
                                                    size_t query_count, size_t query_stride_floats,
                                                    const void *base, size_t stride, size_t rows,
                                                    size_t n, float *out) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t r = 0; r < rows; r++, p += stride) {
        for (size_t j = 0; j < query_count; j++) {
            const unsigned char *q = (const unsigned char *)(queries + j * query_stride_floats);
            out[r * query_count + j] = qv_scalar_pair(kind, q, p, n, NULL);
        }
    }
}

static void qv_dot_f32_batch_scalar(const float *queries, size_t query_count,
                                    size_t query_stride_floats, const void *base, size_t stride,
                                    size_t rows, size_t n, float *out) {
    qv_batch_scalar(QV_DOT, queries, query_count, query_stride_floats, base, stride, rows,
                    n, out);
}

static void qv_l2sq_f32_batch_scalar(const float *queries, size_t query_count,
                                     size_t query_stride_floats, const void *base, size_t stride,
                                     size_t rows, size_t n, float *out) {
    qv_batch_scalar(QV_L2, queries, query_count, query_stride_floats, base, stride, rows,
                    n, out);
}

static double qv_read_bandwidth_scalar(const void *base, size_t bytes) {
    const unsigned char *p = (const unsigned char *)base;
    float s[4] = {0, 0, 0, 0};
    size_t off = 0;
    for (; off + 16 <= bytes; off += 16) {
        for (int i = 0; i < 4; i++) s[i] += qv_scalar_load(p + off, (size_t)i);
    }
    for (; off + 4 <= bytes; off += 4) s[0] += qv_scalar_load(p + off, 0);
    double total = (double)((s[0] + s[1]) + (s[2] + s[3]));
    for (; off < bytes; off++) total += p[off];
    return total;
}

static void qv_dot_f32_gather_scalar(const float *q, const void *const *rows, size_t count,
                                     size_t n, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = qv_dot_f32_scalar(q, (const float *)rows[i], n);
}

static void qv_l2sq_f32_gather_scalar(const float *q, const void *const *rows, size_t count,
                                      size_t n, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = qv_l2sq_f32_scalar(q, (const float *)rows[i], n);
}

/* ---- Scalar kernels over byte codes ---------------------------------------------------------- */

/* Four accumulators over u8 codes, like qv_scalar_pair. */
static float qv_dot_u8_scalar(const float *q, const uint8_t *codes, size_t n) {
    const unsigned char *qb = (const unsigned char *)q;
    float s[4] = {0, 0, 0, 0};
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        for (int i = 0; i < 4; i++) s[i] += qv_scalar_load(qb, k + i) * (float)codes[k + i];
    }
    for (; k < n; k++) s[0] += qv_scalar_load(qb, k) * (float)codes[k];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static void qv_dot_u8_rows_scalar(const float *q, const void *base, size_t stride, size_t rows,
                                  size_t n, float *out) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) out[i] = qv_dot_u8_scalar(q, p, n);
}

static void qv_dot_u8_gather_scalar(const float *q, const void *const *rows, size_t count,
                                    size_t n, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = qv_dot_u8_scalar(q, (const uint8_t *)rows[i], n);
}

/* The PQ summation order of quiver_kernels.h, one code at a time: the vector tables give the
 * same bits (they only interleave codes). */
static float qv_pq_distance_scalar(const float *table, size_t m, const uint8_t *code) {
    float even = 0, odd = 0;
    size_t j = 0;
    for (; j + 2 <= m; j += 2) {
        even += table[j * 256 + code[j]];
        odd += table[(j + 1) * 256 + code[j + 1]];
    }
    if (j < m) even += table[j * 256 + code[j]];
    return even + odd;
}

static void qv_pq_scan_rows_scalar(const float *table, size_t m, const void *base, size_t stride,
                                   size_t rows, float *out) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) out[i] = qv_pq_distance_scalar(table, m, p);
}

static void qv_pq_gather_scalar(const float *table, size_t m, const void *const *rows, size_t count,
                                float *out) {
    for (size_t i = 0; i < count; i++) {
        out[i] = qv_pq_distance_scalar(table, m, (const uint8_t *)rows[i]);
    }
}

static inline QV_ALWAYS_INLINE void qv_pq_table_scalar(const int kind, const float *query,
                                                        const float *columns, size_t m, size_t sub,
                                                        float *table) {
    for (size_t j = 0; j < m; j++) {
        for (size_t c = 0; c < 256; c++) {
            float s = 0;
            for (size_t k = 0; k < sub; k++) {
                const float x = columns[(j * sub + k) * 256 + c], q = query[j * sub + k];
                s += kind == QV_L2 ? (q - x) * (q - x) : q * x;
            }
            table[j * 256 + c] = s;
        }
    }
}

static void qv_pq_table_l2sq_scalar(const float *query, const float *columns, size_t m, size_t sub,
                                    float *table) {
    qv_pq_table_scalar(QV_L2, query, columns, m, sub, table);
}

static void qv_pq_table_dot_scalar(const float *query, const float *columns, size_t m, size_t sub,
                                   float *table) {
    qv_pq_table_scalar(QV_DOT, query, columns, m, sub, table);
}

/* The minimum (a NaN never compares smaller), then the first element equal to it. */
static size_t qv_argmin_f32_scalar(const float *values, size_t n) {
    float smallest = __builtin_inff();
    for (size_t i = 0; i < n; i++) {
        if (values[i] < smallest) smallest = values[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (values[i] == smallest) return i;
    }
    return 0;
}

static size_t qv_select_at_most_scalar(const float *values, const float *limits, size_t n, uint32_t *indices) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (values[i] <= limits[i]) indices[count++] = (uint32_t)i;
    }
    return count;
}

/* One query token at a time against every document token; NaN products never win. */
static float qv_maxsim_f32_scalar(const float *q, size_t nq, const void *const *tokens, size_t nt,
                                  size_t n, float *best) {
    if (nq == 0 || nt == 0) return 0;
    float sum = 0;
    for (size_t i = 0; i < nq; i++) {
        const unsigned char *qi = (const unsigned char *)(q + i * n);
        float m = -__builtin_inff();
        for (size_t j = 0; j < nt; j++) {
            const float d = qv_scalar_pair(QV_DOT, qi, (const unsigned char *)tokens[j], n, NULL);
            if (d > m) m = d;
        }
        best[i] = m;
        sum += m;
    }
    return sum;
}

/* One query token at a time, its maximum over the tokens' rows; NaN never wins. */
static float qv_centroid_interaction_scalar(const float *s, size_t nq, const void *lists, size_t count,
                                            uint32_t nlist) {
    if (nq == 0 || count == 0) return 0;
    const unsigned char *l = (const unsigned char *)lists;
    float sum = 0;
    for (size_t i = 0; i < nq; i++) {
        float m = -__builtin_inff();
        for (size_t j = 0; j < count; j++) {
            uint32_t list;
            memcpy(&list, l + 4 * j, 4);
            list = qv_le32(list);
            const float v = s[(size_t)(list < nlist ? list : nlist) * nq + i];
            if (v > m) m = v;
        }
        sum += m;
    }
    return sum;
}

/* One query token at a time, every row against its bar. */
static void qv_best_lists_scalar(const float *s, size_t nq, size_t nlist, size_t nprobe, float *values,
                                 uint32_t *lists) {
    if (nq == 0 || nprobe == 0) return;
    qv_best_lists_reset(nq, nprobe, values, lists);
    for (size_t l = 0; l < nlist; l++) {
        for (size_t i = 0; i < nq; i++) {
            const float v = s[l * nq + i];
            if (v > values[i * nprobe + nprobe - 1]) qv_insert_best(values + i * nprobe, lists + i * nprobe, nprobe, v, (uint32_t)l);
        }
    }
}

/* Every pair in turn. */
static void qv_pool_distances_scalar(const double *coords, size_t count, size_t n, double *norms,
                                     double *transposed, double *out) {
    (void)transposed;
    for (size_t i = 0; i < count; i++) norms[i] = qv_pool_dot(coords + i * n, coords + i * n, n);
    for (size_t i = 0; i < count; i++) {
        out[i * count + i] = __builtin_inf();
        for (size_t j = i + 1; j < count; j++) {
            const double d = qv_pool_distance(norms[i], norms[j], qv_pool_dot(coords + i * n, coords + j * n, n));
            out[i * count + j] = d;
            out[j * count + i] = d;
        }
    }
}

/* ---- Hamming with scalar popcounts: portable, and a POPCNT copy for x86 ----------------------- */

#define QV_HFN(name) qv_##name##_portable
#include "kernels_popcount_body.h"
#undef QV_HFN

#if defined(__clang__) && defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("popcnt"))), apply_to = function)
#define QV_HFN(name) qv_##name##_popcnt
#include "kernels_popcount_body.h"
#undef QV_HFN
#pragma clang attribute pop
#endif

static const qv_kernel_table qv_table_scalar = {
    .isa = "scalar",
    .dot_f32 = qv_dot_f32_scalar,
    .l2sq_f32 = qv_l2sq_f32_scalar,
    .dot_norm_f32 = qv_dot_norm_f32_scalar,
    .hamming_u64 = qv_hamming_u64_portable,
    .dot_f32_rows = qv_dot_f32_rows_scalar,
    .l2sq_f32_rows = qv_l2sq_f32_rows_scalar,
    .dot_norm_f32_rows = qv_dot_norm_f32_rows_scalar,
    .hamming_rows = qv_hamming_rows_portable,
    .dot_f32_batch = qv_dot_f32_batch_scalar,
    .l2sq_f32_batch = qv_l2sq_f32_batch_scalar,
    .read_bandwidth = qv_read_bandwidth_scalar,
    .dot_f32_gather = qv_dot_f32_gather_scalar,
    .l2sq_f32_gather = qv_l2sq_f32_gather_scalar,
    .dot_u8 = qv_dot_u8_scalar,
    .dot_u8_rows = qv_dot_u8_rows_scalar,
    .dot_u8_gather = qv_dot_u8_gather_scalar,
    .pq_distance = qv_pq_distance_scalar,
    .pq_scan_rows = qv_pq_scan_rows_scalar,
    .pq_gather = qv_pq_gather_scalar,
    .pq_table_l2sq = qv_pq_table_l2sq_scalar,
    .pq_table_dot = qv_pq_table_dot_scalar,
    .argmin_f32 = qv_argmin_f32_scalar,
    .select_at_most = qv_select_at_most_scalar,
    .maxsim_f32 = qv_maxsim_f32_scalar,
    .centroid_interaction = qv_centroid_interaction_scalar,
    .best_lists = qv_best_lists_scalar,
    .pool_distances = qv_pool_distances_scalar,
    .dot_i8_panels = qv_internal_dot_i8_panels_scalar,
    .maxsim_u8 = qv_internal_maxsim_u8_scalar,
};

/* ---- Dispatch ----------------------------------------------------------------------------- */

enum { QV_MAX_TABLES = 4 };

/* Tables this CPU can run, narrowest first; written once by qv_build_tables, then read-only. */
static qv_kernel_table qv_tables[QV_MAX_TABLES];
static int qv_table_count;
static const qv_kernel_table *qv_active; /* accessed with __atomic builtins */
static int qv_init_state;                /* 0 = not started, 1 = building, 2 = done */

static void qv_build_tables(void) {
    int count = 0;
    qv_tables[count++] = qv_table_scalar;
#if defined(QV_HAVE_X86_TABLES)
    __builtin_cpu_init();
    const int has_popcnt = __builtin_cpu_supports("popcnt");
    const qv_hamming_pair_fn hamming_pair = has_popcnt ? qv_hamming_u64_popcnt : qv_hamming_u64_portable;
    const qv_hamming_rows_fn hamming_rows = has_popcnt ? qv_hamming_rows_popcnt : qv_hamming_rows_portable;

    qv_kernel_table t = *qv_internal_table_sse2(); /* SSE2 is part of x86-64 */
    t.hamming_u64 = hamming_pair;
    t.hamming_rows = hamming_rows;
    t.dot_i8_panels = qv_internal_dot_i8_panels_scalar;
    t.maxsim_u8 = qv_internal_maxsim_u8_scalar;
    qv_tables[count++] = t;

    const int has_avx2 = __builtin_cpu_supports("avx2");
    if (has_avx2 && __builtin_cpu_supports("fma")) {
        t = *qv_internal_table_avx2();
        t.hamming_u64 = hamming_pair;
        t.hamming_rows = hamming_rows;
        t.dot_i8_panels = qv_internal_dot_i8_panels_avx2;
        t.maxsim_u8 = qv_internal_maxsim_u8_avx2;
        qv_tables[count++] = t;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) {
        t = *qv_internal_table_avx512();
        t.dot_i8_panels = has_avx2 ? qv_internal_dot_i8_panels_avx2 : qv_internal_dot_i8_panels_scalar;
        t.maxsim_u8 = has_avx2 ? qv_internal_maxsim_u8_avx2 : qv_internal_maxsim_u8_scalar;
        if (has_avx2 && __builtin_cpu_supports("avx512vnni")) {
            t.dot_i8_panels = qv_internal_dot_i8_panels_avx512vnni;
            if (__builtin_cpu_supports("avx512bw")) t.maxsim_u8 = qv_internal_maxsim_u8_avx512vnni;
        }
        if (__builtin_cpu_supports("avx512vpopcntdq")) {
            t.hamming_u64 = qv_internal_hamming_u64_avx512();
            t.hamming_rows = qv_internal_hamming_rows_avx512();
        } else {
            t.hamming_u64 = hamming_pair;
            t.hamming_rows = hamming_rows;
        }
        qv_tables[count++] = t;
    }
#elif defined(QV_HAVE_NEON_TABLE)
    qv_kernel_table t = *qv_internal_table_neon(); /* NEON is part of AArch64 */
    t.hamming_u64 = qv_hamming_u64_portable;      /* compiles to CNT on AArch64 */
    t.hamming_rows = qv_hamming_rows_portable;
    t.dot_i8_panels = qv_internal_dot_i8_panels_scalar;
    t.maxsim_u8 = qv_internal_maxsim_u8_scalar;
    qv_tables[count++] = t;
#endif
    qv_table_count = count;

    const qv_kernel_table *chosen = &qv_tables[count - 1];
    const char *forced = getenv("QUIVER_KERNEL_ISA");
    if (forced != NULL) {
        for (int i = 0; i < count; i++) {
            if (strcmp(qv_tables[i].isa, forced) == 0) chosen = &qv_tables[i];
        }
    }
    __atomic_store_n(&qv_active, chosen, __ATOMIC_RELEASE);
}

static const qv_kernel_table *qv_init(void) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&qv_init_state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        qv_build_tables();
        __atomic_store_n(&qv_init_state, 2, __ATOMIC_RELEASE);
    } else {
        /* Another thread is building; that takes microseconds, once per process. */
        while (__atomic_load_n(&qv_init_state, __ATOMIC_ACQUIRE) != 2) {
#if defined(__x86_64__)
            __builtin_ia32_pause();
#endif
        }
    }
    return __atomic_load_n(&qv_active, __ATOMIC_ACQUIRE);
}

static inline QV_ALWAYS_INLINE const qv_kernel_table *qv_table(void) {
    const qv_kernel_table *t = __atomic_load_n(&qv_active, __ATOMIC_ACQUIRE);
    return __builtin_expect(t != NULL, 1) ? t : qv_init();
}

const qv_kernel_table *qv_kernel_table_for_isa(const char *isa) {
    (void)qv_table();
    for (int i = 0; i < qv_table_count; i++) {
        if (strcmp(qv_tables[i].isa, isa) == 0) return &qv_tables[i];
    }
    return NULL;
}

const char *qv_kernel_isa(void) { return qv_table()->isa; }

/* ---- Public entry points: one indirect call each -------------------------------------------- */

float qv_dot_f32(const float *a, const float *b, size_t n) { return qv_table()->dot_f32(a, b, n); }

float qv_l2sq_f32(const float *a, const float *b, size_t n) { return qv_table()->l2sq_f32(a, b, n); }

void qv_dot_norm_f32(const float *q, const float *x, size_t n, float *dot, float *x_norm_sq) {
    qv_table()->dot_norm_f32(q, x, n, dot, x_norm_sq);
}

uint32_t qv_hamming_u64(const uint64_t *a, const uint64_t *b, size_t words) {
    return qv_table()->hamming_u64(a, b, words);
}

void qv_dot_f32_rows(const float *q, const void *base, size_t stride_bytes, size_t rows, size_t n,
                     float *out) {
    qv_table()->dot_f32_rows(q, base, stride_bytes, rows, n, out);
}

void qv_l2sq_f32_rows(const float *q, const void *base, size_t stride_bytes, size_t rows, size_t n,
                      float *out) {
    qv_table()->l2sq_f32_rows(q, base, stride_bytes, rows, n, out);
}

void qv_dot_norm_f32_rows(const float *q, const void *base, size_t stride_bytes, size_t rows,
                          size_t n, float *dots, float *norms_sq) {
    qv_table()->dot_norm_f32_rows(q, base, stride_bytes, rows, n, dots, norms_sq);
}

void qv_hamming_rows(const uint64_t *q, const void *base, size_t stride_bytes, size_t rows,
                     size_t words, uint32_t *out) {
    qv_table()->hamming_rows(q, base, stride_bytes, rows, words, out);
}

void qv_dot_f32_batch(const float *queries, size_t query_count, size_t query_stride_floats,
                      const void *base, size_t stride_bytes, size_t rows, size_t n, float *out) {
    qv_table()->dot_f32_batch(queries, query_count, query_stride_floats, base, stride_bytes, rows,
                              n, out);
}

void qv_l2sq_f32_batch(const float *queries, size_t query_count, size_t query_stride_floats,
                       const void *base, size_t stride_bytes, size_t rows, size_t n, float *out) {
    qv_table()->l2sq_f32_batch(queries, query_count, query_stride_floats, base, stride_bytes, rows,
                               n, out);
}

double qv_read_bandwidth(const void *base, size_t bytes) {
    return qv_table()->read_bandwidth(base, bytes);
}

void qv_dot_f32_gather(const float *q, const void *const *rows, size_t count, size_t n, float *out) {
    qv_table()->dot_f32_gather(q, rows, count, n, out);
}

void qv_l2sq_f32_gather(const float *q, const void *const *rows, size_t count, size_t n, float *out) {
    qv_table()->l2sq_f32_gather(q, rows, count, n, out);
}

float qv_dot_u8(const float *q, const uint8_t *codes, size_t n) {
    return qv_table()->dot_u8(q, codes, n);
}

void qv_dot_u8_rows(const float *q, const void *base, size_t stride_bytes, size_t rows, size_t n,
                    float *out) {
    qv_table()->dot_u8_rows(q, base, stride_bytes, rows, n, out);
}

void qv_dot_u8_gather(const float *q, const void *const *rows, size_t count, size_t n, float *out) {
    qv_table()->dot_u8_gather(q, rows, count, n, out);
}

float qv_pq_distance(const float *table, size_t m, const uint8_t *code) {
    return qv_table()->pq_distance(table, m, code);
}

void qv_pq_scan_rows(const float *table, size_t m, const void *base, size_t stride_bytes,
                     size_t rows, float *out) {
    qv_table()->pq_scan_rows(table, m, base, stride_bytes, rows, out);
}

void qv_pq_gather(const float *table, size_t m, const void *const *rows, size_t count, float *out) {
    qv_table()->pq_gather(table, m, rows, count, out);
}

void qv_pq_table_l2sq(const float *query, const float *columns, size_t m, size_t sub, float *table) {
    qv_table()->pq_table_l2sq(query, columns, m, sub, table);
}

void qv_pq_table_dot(const float *query, const float *columns, size_t m, size_t sub, float *table) {
    qv_table()->pq_table_dot(query, columns, m, sub, table);
}

size_t qv_argmin_f32(const float *values, size_t n) { return qv_table()->argmin_f32(values, n); }
size_t qv_select_at_most(const float *values, const float *limits, size_t n, uint32_t *indices) {
    return qv_table()->select_at_most(values, limits, n, indices);
}

float qv_maxsim_f32(const float *q, size_t nq, const void *const *tokens, size_t nt, size_t n,
                    float *best) {
    return qv_table()->maxsim_f32(q, nq, tokens, nt, n, best);
}

float qv_centroid_interaction(const float *s, size_t nq, const void *lists, size_t count, uint32_t nlist) {
    return qv_table()->centroid_interaction(s, nq, lists, count, nlist);
}

void qv_best_lists(const float *s, size_t nq, size_t nlist, size_t nprobe, float *values, uint32_t *lists) {
    qv_table()->best_lists(s, nq, nlist, nprobe, values, lists);
}

void qv_pool_distances(const double *coords, size_t count, size_t n, double *norms, double *transposed, double *out) {
    qv_table()->pool_distances(coords, count, n, norms, transposed, out);
}

/* Columns padded to 8 (the widest vector of doubles). */
size_t qv_pool_transposed_doubles(size_t count, size_t n) { return (count + 7) / 8 * 8 * n; }

void qv_sort_u32(uint32_t *values, size_t n, uint32_t *scratch) {
    if (n < 2) return;
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            const uint32_t v = values[i];
            size_t j = i;
            while (j > 0 && values[j - 1] > v) { values[j] = values[j - 1]; j--; }
            values[j] = v;
        }
        return;
    }
    uint32_t counts[4][256];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        const uint32_t v = values[i];
        counts[0][v & 255]++;
        counts[1][(v >> 8) & 255]++;
        counts[2][(v >> 16) & 255]++;
        counts[3][v >> 24]++;
    }
    uint32_t *from = values, *to = scratch;
    for (int pass = 0; pass < 4; pass++) {
        const int shift = 8 * pass;
        uint32_t *count = counts[pass];
        if (count[(values[0] >> shift) & 255] == n) continue; /* one digit: the order stands */
        uint32_t at = 0;
        for (int d = 0; d < 256; d++) {
            const uint32_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) to[count[(from[i] >> shift) & 255]++] = from[i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    if (from != values) memcpy(values, from, n * sizeof *values);
}

void qv_dot_i8_panels(const float *queries, size_t nq, size_t q_stride, const int8_t *panels,
                      const float *scales, const int32_t *sums, size_t rows, size_t n, void *scratch,
                      float *out) {
    qv_table()->dot_i8_panels(queries, nq, q_stride, panels, scales, sums, rows, n, scratch, out);
}

float qv_maxsim_u8(const void *prepared, size_t nq, size_t n, const void *const *tokens, size_t nt, int32_t *best) {
    return qv_table()->maxsim_u8(prepared, nq, n, tokens, nt, best);
}
