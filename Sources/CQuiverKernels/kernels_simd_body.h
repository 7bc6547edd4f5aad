/*
 * kernels_simd_body.h — the float kernels, written once over a generic vector type and included
 * by kernels_simd.c once per instruction set. Not a public header; it has no include guard on
 * purpose. Before each inclusion the includer defines:
 *
 *   QV_VW            floats per vector: 4 (SSE2, NEON), 8 (AVX2) or 16 (AVX-512)
 *   QV_VF            the vector type of QV_VW floats (clang/GCC vector extension)
 *   QV_FN(name)      the name of `name` for this instruction set, e.g. qv_name_avx2
 *   QV_TILE_R/Q      register tile of the dot batch kernel: rows x queries accumulators
 *   QV_L2_TILE_R/Q   register tile of the L2 batch kernel
 *   QV_TILE_MAX      at least every one of those four numbers (sizes the accumulator array)
 *   QV_FN(partial)   loads `count` < QV_VW floats from an unaligned pointer, zero in the other
 *                    lanes, without reading past them (masked load or memcpy)
 *   QV_ISA_NAME      the table's name ("sse2", "avx2", ...)
 *   QV_ROW_BLOCK_BYTES, QV_QUERY_BLOCK_BYTES   cache blocks of the batch kernels
 *
 * and wraps the inclusion in `#pragma clang attribute push(target(...))`, so every function
 * here, helpers included, is compiled for that instruction set.
 *
 * Why vector extensions rather than intrinsics: one source serves every width, so the AVX-512
 * build is the same code the tests run on AVX2 or SSE2 machines, compiled by the compiler for
 * wider vectors (clang turns `acc += x * y` into FMA under fp contract and the target "fma").
 * Only the partial loads and the Hamming kernel use intrinsics.
 *
 * Summation order: several independent accumulators (to hide FMA latency), reduced pairwise at
 * the end. The order therefore differs from the scalar twin; the error stays within a few ulps
 * per term, which the tests bound.
 */

#pragma clang fp contract(fast)

/* Unaligned load of one full vector. memcpy compiles to a single vmovups. */
static inline QV_ALWAYS_INLINE QV_VF QV_FN(load)(const unsigned char *p) {
    QV_VF v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline QV_ALWAYS_INLINE float QV_FN(hsum)(QV_VF v) {
#if QV_VW == 16
    qv_f32x8 h8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
                + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
#elif QV_VW == 8
    qv_f32x8 h8 = v;
#endif
#if QV_VW >= 8
    qv_f32x4 h4 = __builtin_shufflevector(h8, h8, 0, 1, 2, 3)
                + __builtin_shufflevector(h8, h8, 4, 5, 6, 7);
#else
    qv_f32x4 h4 = v;
#endif
    qv_f32x4 h2 = h4 + __builtin_shufflevector(h4, h4, 2, 3, 0, 1);
    return h2[0] + h2[1];
}

/* Horizontal sums of four vectors at once: [sum a, sum b, sum c, sum d], about 2 shuffles each. */
static inline QV_ALWAYS_INLINE qv_f32x4 QV_FN(hsum4)(QV_VF a, QV_VF b, QV_VF c, QV_VF d) {
#if QV_VW == 16
#define QV_FOLD16(V) (__builtin_shufflevector(V, V, 0, 1, 2, 3, 4, 5, 6, 7) \
                      + __builtin_shufflevector(V, V, 8, 9, 10, 11, 12, 13, 14, 15))
    qv_f32x8 a8 = QV_FOLD16(a), b8 = QV_FOLD16(b), c8 = QV_FOLD16(c), d8 = QV_FOLD16(d);
#undef QV_FOLD16
#elif QV_VW == 8
    qv_f32x8 a8 = a, b8 = b, c8 = c, d8 = d;
#endif
#if QV_VW >= 8
    /* Pairwise sums within each 128-bit half (what VHADDPS does). */
#define QV_HADD8(X, Y) (__builtin_shufflevector(X, Y, 0, 2, 8, 10, 4, 6, 12, 14) \
                        + __builtin_shufflevector(X, Y, 1, 3, 9, 11, 5, 7, 13, 15))
    qv_f32x8 ab = QV_HADD8(a8, b8), cd = QV_HADD8(c8, d8);
    qv_f32x8 abcd = QV_HADD8(ab, cd); /* [a, b, c, d] over lanes 0-3, then over lanes 4-7 */
#undef QV_HADD8
    return __builtin_shufflevector(abcd, abcd, 0, 1, 2, 3)
         + __builtin_shufflevector(abcd, abcd, 4, 5, 6, 7);
#else
#define QV_HADD4(X, Y) (__builtin_shufflevector(X, Y, 0, 2, 4, 6) + __builtin_shufflevector(X, Y, 1, 3, 5, 7))
    qv_f32x4 ab = QV_HADD4(a, b), cd = QV_HADD4(c, d);
    return QV_HADD4(ab, cd);
#undef QV_HADD4
#endif
}

/*
 * One pair. `kind` is a compile-time constant after inlining: QV_DOT, QV_L2 or QV_NORM (which
 * also returns |b|^2 in *norm; kernels_internal.h).
 */
static inline QV_ALWAYS_INLINE float QV_FN(pair)(const int kind, const unsigned char *a,
                                                 const unsigned char *b, size_t n, float *norm) {
    QV_VF s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    QV_VF t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0}; /* |b|^2 for QV_NORM */
    size_t k = 0;
#define QV_ACC(S, T, A, B)                                                                      \
    do {                                                                                        \
        QV_VF va_ = (A), vb_ = (B);                                                             \
        if (kind == QV_L2) {                                                                    \
            QV_VF d_ = va_ - vb_;                                                               \
            S += d_ * d_;                                                                       \
        } else {                                                                                \
            S += va_ * vb_;                                                                     \
            if (kind == QV_NORM) T += vb_ * vb_;                                                \
        }                                                                                       \
    } while (0)
    for (; k + 4 * QV_VW <= n; k += 4 * QV_VW) {
        QV_ACC(s0, t0, QV_FN(load)(a + 4 * k), QV_FN(load)(b + 4 * k));
        QV_ACC(s1, t1, QV_FN(load)(a + 4 * (k + QV_VW)), QV_FN(load)(b + 4 * (k + QV_VW)));
        QV_ACC(s2, t2, QV_FN(load)(a + 4 * (k + 2 * QV_VW)), QV_FN(load)(b + 4 * (k + 2 * QV_VW)));
        QV_ACC(s3, t3, QV_FN(load)(a + 4 * (k + 3 * QV_VW)), QV_FN(load)(b + 4 * (k + 3 * QV_VW)));
    }
    for (; k + QV_VW <= n; k += QV_VW) {
        QV_ACC(s0, t0, QV_FN(load)(a + 4 * k), QV_FN(load)(b + 4 * k));
    }
    if (k < n) {
        QV_ACC(s1, t1, QV_FN(partial)(a + 4 * k, n - k), QV_FN(partial)(b + 4 * k, n - k));
    }
#undef QV_ACC
    if (kind == QV_NORM) *norm = QV_FN(hsum)((t0 + t1) + (t2 + t3));
    return QV_FN(hsum)((s0 + s1) + (s2 + s3));
}

static float QV_FN(dot_f32)(const float *a, const float *b, size_t n) {
    return QV_FN(pair)(QV_DOT, (const unsigned char *)a, (const unsigned char *)b, n, NULL);
}

static float QV_FN(l2sq_f32)(const float *a, const float *b, size_t n) {
    return QV_FN(pair)(QV_L2, (const unsigned char *)a, (const unsigned char *)b, n, NULL);
}

static void QV_FN(dot_norm_f32)(const float *q, const float *x, size_t n, float *dot,
                                float *x_norm_sq) {
    float norm = 0;
    *dot = QV_FN(pair)(QV_NORM, (const unsigned char *)q, (const unsigned char *)x, n, &norm);
    *x_norm_sq = norm;
}

/*
 * Row scans are memory bound: the query stays in L1 and each row is read once, with four
 * accumulators so that enough loads are in flight. There is no software prefetch on purpose: the
 * hardware prefetcher follows the constant stride, and prefetching 1-16 KiB ahead measured up to
 * 10 % slower on AVX2. Scanning two rows at a time (sharing the query loads) was 40 % slower.
 */
static inline QV_ALWAYS_INLINE void QV_FN(rows)(const int kind, const float *q, const void *base,
                                                size_t stride, size_t rows, size_t n, float *out,
                                                float *norms) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) {
        float norm = 0;
        out[i] = QV_FN(pair)(kind, (const unsigned char *)q, p, n, &norm);
        if (kind == QV_NORM) norms[i] = norm;
    }
}

static void QV_FN(dot_f32_rows)(const float *q, const void *base, size_t stride, size_t rows,
                                size_t n, float *out) {
    QV_FN(rows)(QV_DOT, q, base, stride, rows, n, out, NULL);
}

static void QV_FN(l2sq_f32_rows)(const float *q, const void *base, size_t stride, size_t rows,
                                 size_t n, float *out) {
    QV_FN(rows)(QV_L2, q, base, stride, rows, n, out, NULL);
}

static void QV_FN(dot_norm_f32_rows)(const float *q, const void *base, size_t stride, size_t rows,
                                     size_t n, float *dots, float *norms_sq) {
    QV_FN(rows)(QV_NORM, q, base, stride, rows, n, dots, norms_sq);
}

/*
 * Batch micro-kernel: R rows x Q queries (both compile-time constants after inlining, at most
 * QV_TILE_MAX each) accumulated in R*Q vector registers. Per step it loads Q query vectors
 * and R row vectors for R*Q FMAs, so loads stay well below the FMA rate.
 * out[r * out_stride + j] receives the result of row r and query j.
 */
static inline QV_ALWAYS_INLINE void QV_FN(tile)(const int kind, const int R, const int Q,
                                                const unsigned char *rows0, size_t stride,
                                                const unsigned char *q0, size_t q_stride,
                                                size_t n, float *out, size_t out_stride,
                                                const unsigned char *pf) {
    QV_VF acc[QV_TILE_MAX][QV_TILE_MAX];
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < Q; j++) acc[r][j] = (QV_VF){0};
    }
#define QV_TILE_STEP(LOAD)                                                                      \
    do {                                                                                        \
        QV_VF qv_[QV_TILE_MAX];                                                                 \
        for (int j = 0; j < Q; j++) qv_[j] = LOAD(q0 + (size_t)j * q_stride + 4 * k);           \
        for (int r = 0; r < R; r++) {                                                           \
            QV_VF x_ = LOAD(rows0 + (size_t)r * stride + 4 * k);                                \
            for (int j = 0; j < Q; j++) {                                                       \
                if (kind == QV_L2) {                                                            \
                    QV_VF d_ = x_ - qv_[j];                                                     \
                    acc[r][j] += d_ * d_;                                                       \
                } else {                                                                        \
                    acc[r][j] += x_ * qv_[j];                                                   \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    } while (0)
    size_t k = 0;
    for (; k + QV_VW <= n; k += QV_VW) {
        if (pf && (k & 15) == 0) {
            for (int r = 0; r < R; r++) __builtin_prefetch(pf + (size_t)r * stride + 4 * k, 0, 3);
        }
        QV_TILE_STEP(QV_FN(load));
    }
    if (k < n) {
        const size_t rest = n - k;
#define QV_LOAD_REST(P) QV_FN(partial)((P), rest)
        QV_TILE_STEP(QV_LOAD_REST);
#undef QV_LOAD_REST
    }
#undef QV_TILE_STEP
    /* Reduce the accumulators four at a time, in row-major order, the rest one by one. */
    int i = 0;
    for (; i + 4 <= R * Q; i += 4) {
        const qv_f32x4 sums = QV_FN(hsum4)(acc[i / Q][i % Q], acc[(i + 1) / Q][(i + 1) % Q],
                                           acc[(i + 2) / Q][(i + 2) % Q], acc[(i + 3) / Q][(i + 3) % Q]);
        for (int l = 0; l < 4; l++) out[(size_t)((i + l) / Q) * out_stride + (i + l) % Q] = sums[l];
    }
    for (; i < R * Q; i++) out[(size_t)(i / Q) * out_stride + i % Q] = QV_FN(hsum)(acc[i / Q][i % Q]);
}

/*
 * All query tiles of one row tile of R rows: full Q-query tiles, then the ragged end by 2s and 1s.
 * When `pf` is not NULL, the first tile also prefetches the next row tile (`pf`), spread over its
 * steps so that the line-fill buffers are never flooded.
 */
static inline QV_ALWAYS_INLINE void QV_FN(tile_row)(const int kind, const int R, const int TQ,
                                                    const unsigned char *rows0, size_t stride,
                                                    const unsigned char *queries, size_t q_stride,
                                                    size_t q_begin, size_t q_end, size_t n,
                                                    float *out, size_t out_stride,
                                                    const unsigned char *pf) {
    size_t j = q_begin;
    if (pf != NULL && j + TQ <= q_end) {
        QV_FN(tile)(kind, R, TQ, rows0, stride, queries + j * q_stride, q_stride, n,
                    out + j, out_stride, pf);
        j += TQ;
    }
    for (; j + TQ <= q_end; j += TQ) {
        QV_FN(tile)(kind, R, TQ, rows0, stride, queries + j * q_stride, q_stride, n,
                    out + j, out_stride, NULL);
    }
    for (; TQ > 2 && j + 2 <= q_end; j += 2) {
        QV_FN(tile)(kind, R, 2, rows0, stride, queries + j * q_stride, q_stride, n, out + j,
                    out_stride, NULL);
    }
    for (; j < q_end; j++) {
        QV_FN(tile)(kind, R, 1, rows0, stride, queries + j * q_stride, q_stride, n, out + j,
                    out_stride, NULL);
    }
}

/*
 * Cache blocking: a block of rows (about 128 KiB) and a block of queries (about 128 KiB) both
 * stay in L2 while every pair between them is computed; within a block, one row tile (at most a
 * few KiB) stays in L1 across all query tiles. Rows are read from memory once per call; the next
 * row tile is prefetched while the current one is computed, spread over the steps of its first
 * query tile (measured about 8 % faster on AVX2 from memory, whereas prefetching did not help the
 * row scans).
 */
static inline QV_ALWAYS_INLINE void QV_FN(batch)(const int kind, const int TR, const int TQ,
                                                 const float *queries,
                                                 size_t query_count, size_t query_stride_floats,
                                                 const void *base, size_t stride, size_t rows,
                                                 size_t n, float *out) {
    if (rows == 0 || query_count == 0) return;
    const unsigned char *qbytes = (const unsigned char *)queries;
    const unsigned char *rbytes = (const unsigned char *)base;
    const size_t q_stride = query_stride_floats * 4;
    const size_t row_bytes = n * 4 > 64 ? n * 4 : 64;
    size_t row_block = (QV_ROW_BLOCK_BYTES / (stride > row_bytes ? stride : row_bytes)) / TR * TR;
    if (row_block < TR) row_block = TR;
    size_t query_block = (QV_QUERY_BLOCK_BYTES / row_bytes) / TQ * TQ;
    if (query_block < TQ) query_block = TQ;

    for (size_t rb = 0; rb < rows; rb += row_block) {
        const size_t r_end = rows - rb > row_block ? rb + row_block : rows;
        for (size_t qb = 0; qb < query_count; qb += query_block) {
            const size_t q_end = query_count - qb > query_block ? qb + query_block : query_count;
            size_t r = rb;
            for (; r + TR <= r_end; r += TR) {
                const unsigned char *pf = NULL;
                if (qb == 0 && r + 2 * TR <= rows) {
                    pf = rbytes + (r + TR) * stride;
                }
                QV_FN(tile_row)(kind, TR, TQ, rbytes + r * stride, stride, qbytes, q_stride,
                                qb, q_end, n, out + r * query_count, query_count, pf);
            }
            for (; r < r_end; r++) {
                QV_FN(tile_row)(kind, 1, TQ, rbytes + r * stride, stride, qbytes, q_stride, qb, q_end,
                                n, out + r * query_count, query_count, NULL);
            }
        }
    }
}

static void QV_FN(dot_f32_batch)(const float *queries, size_t query_count,
                                 size_t query_stride_floats, const void *base, size_t stride,
                                 size_t rows, size_t n, float *out) {
    QV_FN(batch)(QV_DOT, QV_TILE_R, QV_TILE_Q, queries, query_count, query_stride_floats, base, stride, rows, n, out);
}

static void QV_FN(l2sq_f32_batch)(const float *queries, size_t query_count,
                                  size_t query_stride_floats, const void *base, size_t stride,
                                  size_t rows, size_t n, float *out) {
    QV_FN(batch)(QV_L2, QV_L2_TILE_R, QV_L2_TILE_Q, queries, query_count, query_stride_floats, base, stride, rows, n, out);
}

/* Eight accumulators: enough loads in flight to saturate memory, whatever the add latency. */
static double QV_FN(read_bandwidth)(const void *base, size_t bytes) {
    const unsigned char *p = (const unsigned char *)base;
    QV_VF s[8];
    for (int i = 0; i < 8; i++) s[i] = (QV_VF){0};
    const size_t vb = sizeof(QV_VF);
    size_t off = 0;
    for (; off + 8 * vb <= bytes; off += 8 * vb) {
        for (int i = 0; i < 8; i++) s[i] += QV_FN(load)(p + off + i * vb);
    }
    for (; off + vb <= bytes; off += vb) s[0] += QV_FN(load)(p + off);
    if (off + 4 <= bytes) {
        s[1] += QV_FN(partial)(p + off, (bytes - off) / 4);
        off += (bytes - off) / 4 * 4;
    }
    double total = QV_FN(hsum)(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
    for (; off < bytes; off++) total += p[off];
    return total;
}

static const qv_kernel_table QV_FN(table) = {
    .isa = QV_ISA_NAME,
    .dot_f32 = QV_FN(dot_f32),
    .l2sq_f32 = QV_FN(l2sq_f32),
    .dot_norm_f32 = QV_FN(dot_norm_f32),
    .hamming_u64 = NULL, /* filled by the dispatcher, which picks the popcount separately */
    .dot_f32_rows = QV_FN(dot_f32_rows),
    .l2sq_f32_rows = QV_FN(l2sq_f32_rows),
    .dot_norm_f32_rows = QV_FN(dot_norm_f32_rows),
    .hamming_rows = NULL,
    .dot_f32_batch = QV_FN(dot_f32_batch),
    .l2sq_f32_batch = QV_FN(l2sq_f32_batch),
    .read_bandwidth = QV_FN(read_bandwidth),
};
