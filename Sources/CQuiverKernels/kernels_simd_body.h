/*
 * kernels_simd_body.h — the float kernels, written once over a generic vector type and included
 * by kernels_simd.c once per instruction set. Not a public header; it has no include guard on
 * purpose. Before each inclusion the includer defines:
 *
 *   QV_VW            floats per vector: 4 (SSE2, NEON), 8 (AVX2) or 16 (AVX-512)
 *   QV_VF            the vector type of QV_VW floats (clang/GCC vector extension)
 *   QV_VB            the vector type of QV_VW unsigned bytes (the u8 code kernels)
 *   QV_VI            the vector type of QV_VW int32 lanes (comparison masks)
 *   QV_FN(name)      the name of `name` for this instruction set, e.g. qv_name_avx2
 *   QV_TILE_R/Q      register tile of the dot batch kernel: rows x queries accumulators
 *   QV_L2_TILE_R/Q   register tile of the L2 batch kernel
 *   QV_TILE_MAX      at least every one of those four numbers (sizes the accumulator array)
 *   QV_FN(partial)   loads `count` < QV_VW floats from an unaligned pointer, zero in the other
 *                    lanes, without reading past them (masked load or memcpy)
 *   QV_ISA_NAME      the table's name ("sse2", "avx2", ...)
 *   QV_MS_R/Q        register tile of MaxSim: document tokens x query tokens (QV_MS_R <= 6)
 *   QV_ROW_BLOCK_BYTES, QV_QUERY_BLOCK_BYTES   cache blocks of the batch kernels
 *
 * and wraps the inclusion in `#pragma clang attribute push(target(...))`, so every function
 * here, helpers included, is compiled for that instruction set. The kernels over byte codes
 * (u8 and PQ) live in kernels_codes_body.h, included near the end.
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
 * row scans). Used for the queries [q_begin, q_end) that do not fill an outer-product panel.
 */
static inline QV_ALWAYS_INLINE void QV_FN(batch_hsum)(const int kind, const int TR, const int TQ,
                                                      const float *queries, size_t q_begin,
                                                      size_t q_end, size_t query_count,
                                                      size_t query_stride_floats, const void *base,
                                                      size_t stride, size_t rows, size_t n,
                                                      float *out) {
    if (rows == 0 || q_begin >= q_end) return;
    const unsigned char *qbytes = (const unsigned char *)queries;
    const unsigned char *rbytes = (const unsigned char *)base;
    const size_t q_stride = query_stride_floats * 4;
    const size_t row_bytes = n * 4 > 64 ? n * 4 : 64;
    size_t row_block = (QV_ROW_BLOCK_BYTES / (stride > row_bytes ? stride : row_bytes)) / TR * TR;
    if (row_block < (size_t)TR) row_block = TR;
    size_t query_block = (QV_QUERY_BLOCK_BYTES / row_bytes) / TQ * TQ;
    if (query_block < (size_t)TQ) query_block = TQ;

    for (size_t rb = 0; rb < rows; rb += row_block) {
        const size_t r_end = rows - rb > row_block ? rb + row_block : rows;
        for (size_t qb = q_begin; qb < q_end; qb += query_block) {
            const size_t qb_end = q_end - qb > query_block ? qb + query_block : q_end;
            size_t r = rb;
            for (; r + TR <= r_end; r += TR) {
                const unsigned char *pf = NULL;
                if (qb == q_begin && r + 2 * TR <= rows) {
                    pf = rbytes + (r + TR) * stride;
                }
                QV_FN(tile_row)(kind, TR, TQ, rbytes + r * stride, stride, qbytes, q_stride,
                                qb, qb_end, n, out + r * query_count, query_count, pf);
            }
            for (; r < r_end; r++) {
                QV_FN(tile_row)(kind, 1, TQ, rbytes + r * stride, stride, qbytes, q_stride, qb, qb_end,
                                n, out + r * query_count, query_count, NULL);
            }
        }
    }
}

/* ---- Outer-product batch (the sgemm micro-kernel of BLIS / OpenBLAS) ------------------------
 *
 * The queries are packed k-major into panels of QV_PW = 2 vectors of queries: component k of
 * query j0 + j lies at panel[k * QV_PW + j] (zero for a missing query). The micro-kernel keeps
 * R rows x 2 query vectors in 2R accumulators and, per component k, loads the 2 panel vectors,
 * broadcasts component k of each of the R rows (in place: rows are never packed) and does 2R FMAs
 * (dot) or 2R subtractions and FMAs (L2): no horizontal sums; each accumulator lane is one (row,
 * query) result, stored as is, and sums its terms in order k = 0, 1, ... (per slice below).
 */
#define QV_PW (2 * QV_VW)

/*
 * Packs components [0, n) of queries [0, count) (count <= QV_PW; byte stride q_stride) into one
 * panel, by 8 x 8 transposes (unpacks, shuffles and 128-bit lane permutes on AVX2) for blocks of
 * 8 present queries and 8 components, element by element for the rest.
 */
static void QV_FN(pack_panel)(const unsigned char *q, size_t q_stride, size_t count, size_t n,
                              float *panel) {
    const size_t full = count / 8 * 8;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        for (size_t j = 0; j < full; j += 8) {
            qv_f32x8 v[8], t[8], u[8];
            for (size_t i = 0; i < 8; i++) __builtin_memcpy(&v[i], q + (j + i) * q_stride + 4 * k, 32);
            for (size_t i = 0; i < 8; i += 2) {
                t[i] = __builtin_shufflevector(v[i], v[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
                t[i + 1] = __builtin_shufflevector(v[i], v[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
            }
            for (size_t i = 0; i < 8; i += 4) {
                u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
                u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
                u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
                u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
            }
            /* u[i] (i < 4) holds component k + i of queries j ... j + 3, then component k + i + 4
             * of the same queries; u[i + 4] the same for queries j + 4 ... j + 7. */
            for (size_t i = 0; i < 4; i++) {
                const qv_f32x8 lo = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
                const qv_f32x8 hi = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
                __builtin_memcpy(panel + (k + i) * QV_PW + j, &lo, 32);
                __builtin_memcpy(panel + (k + i + 4) * QV_PW + j, &hi, 32);
            }
        }
    }
    /* The rest: queries [full, QV_PW) of components [0, k), and all queries of components [k, n). */
    for (size_t kk = 0; kk < n; kk++) {
        for (size_t j = kk < k ? full : 0; j < QV_PW; j++) {
            float x = 0;
            if (j < count) __builtin_memcpy(&x, q + j * q_stride + 4 * kk, 4);
            panel[kk * QV_PW + j] = x;
        }
    }
}

/*
 * R rows (at rows0, byte stride `stride`, components [0, n)) against one panel. The first `cols`
 * results of row r are stored to (or, if `accumulate`, added to) out[r * out_stride + c]. When
 * `pf` is not NULL, the R rows at pf (the next tile) are prefetched, one cache line per row every
 * 16 components.
 */
static inline QV_ALWAYS_INLINE void QV_FN(outer_tile)(const int kind, const int R,
                                                      const unsigned char *rows0, size_t stride,
                                                      const float *panel, size_t n, float *out,
                                                      size_t out_stride, size_t cols,
                                                      int accumulate, const unsigned char *pf) {
    QV_VF acc[QV_OP_R_MAX > 0 ? QV_OP_R_MAX : 1][2];
    const unsigned char *rp[QV_OP_R_MAX > 0 ? QV_OP_R_MAX : 1];
    for (int r = 0; r < R; r++) {
        rp[r] = rows0 + (size_t)r * stride;
#if defined(__x86_64__)
        /* Opaque to the optimizer: otherwise it derives each row's address from the previous
         * row's, one more add per row and component (about 15 % more instructions for L2). */
        __asm__("" : "+r"(rp[r]));
#endif
        acc[r][0] = acc[r][1] = (QV_VF){0};
    }
#define QV_OUTER_STEP(K)                                                                        \
    do {                                                                                        \
        const QV_VF q0_ = QV_FN(load)((const unsigned char *)(panel + (K) * QV_PW));            \
        const QV_VF q1_ = QV_FN(load)((const unsigned char *)(panel + (K) * QV_PW + QV_VW));    \
        for (int r = 0; r < R; r++) {                                                           \
            float x_;                                                                           \
            __builtin_memcpy(&x_, rp[r] + 4 * (K), 4);                                          \
            if (kind == QV_L2) {                                                                \
                const QV_VF d0_ = x_ - q0_;                                                     \
                acc[r][0] += d0_ * d0_;                                                         \
                const QV_VF d1_ = x_ - q1_;                                                     \
                acc[r][1] += d1_ * d1_;                                                         \
            } else {                                                                            \
                acc[r][0] += x_ * q0_;                                                          \
                acc[r][1] += x_ * q1_;                                                          \
            }                                                                                   \
        }                                                                                       \
    } while (0)
    /* The dot loop is unrolled by 4 to save loop overhead. The L2 loop stays rolled: unrolled,
     * clang spills its accumulators (its 36 instructions per component, 4 of them loop overhead,
     * keep it bound by instruction dispatch at about 80 % of the FMA peak on Zen 3). */
    size_t k = 0;
    if (pf != NULL) {
        for (; k + 16 <= n; k += 16) {
            for (int r = 0; r < R; r++) __builtin_prefetch(pf + (size_t)r * stride + 4 * k, 0, 3);
            if (kind == QV_L2) {
                _Pragma("clang loop unroll(disable)")
                for (size_t kk = k; kk < k + 16; kk++) QV_OUTER_STEP(kk);
            } else {
                _Pragma("clang loop unroll_count(4)")
                for (size_t kk = k; kk < k + 16; kk++) QV_OUTER_STEP(kk);
            }
        }
    }
    if (kind == QV_L2) {
        _Pragma("clang loop unroll(disable)")
        for (; k < n; k++) QV_OUTER_STEP(k);
    } else {
        _Pragma("clang loop unroll_count(4)")
        for (; k < n; k++) QV_OUTER_STEP(k);
    }
#undef QV_OUTER_STEP
    for (int r = 0; r < R; r++) {
        float *o = out + (size_t)r * out_stride;
        if (cols == QV_PW) {
            for (int v = 0; v < 2; v++) {
                if (accumulate) acc[r][v] += QV_FN(load)((const unsigned char *)(o + v * QV_VW));
                __builtin_memcpy(o + v * QV_VW, &acc[r][v], sizeof(QV_VF));
            }
        } else {
            float tmp[QV_PW];
            __builtin_memcpy(tmp, &acc[r][0], sizeof(QV_VF));
            __builtin_memcpy(tmp + QV_VW, &acc[r][1], sizeof(QV_VF));
            for (size_t c = 0; c < cols; c++) o[c] = accumulate ? o[c] + tmp[c] : tmp[c];
        }
    }
}

/* Rows [r_begin, r_end) against one panel: tiles of MR rows, then one tile of the rest. */
static inline QV_ALWAYS_INLINE void QV_FN(outer_rows)(const int kind, const int MR,
                                                      const unsigned char *rbytes, size_t stride,
                                                      size_t r_begin, size_t r_end, size_t rows,
                                                      const float *panel, size_t n, float *out,
                                                      size_t out_stride, size_t cols,
                                                      int accumulate, int prefetch) {
    size_t r = r_begin;
    for (; r + MR <= r_end; r += MR) {
        const unsigned char *pf = NULL;
        if (prefetch && r + 2 * MR <= rows) pf = rbytes + (r + MR) * stride;
        QV_FN(outer_tile)(kind, MR, rbytes + r * stride, stride, panel, n, out + r * out_stride,
                          out_stride, cols, accumulate, pf);
    }
    const unsigned char *p = rbytes + r * stride;
    float *o = out + r * out_stride;
    switch (r_end - r) {
#define QV_OUTER_CASE(RR)                                                                       \
    case RR:                                                                                    \
        if (RR < MR) QV_FN(outer_tile)(kind, RR < MR ? RR : 1, p, stride, panel, n, o,          \
                                       out_stride, cols, accumulate, NULL);                     \
        break;
        QV_OUTER_CASE(1)
        QV_OUTER_CASE(2)
        QV_OUTER_CASE(3)
        QV_OUTER_CASE(4)
        QV_OUTER_CASE(5)
        QV_OUTER_CASE(6)
        QV_OUTER_CASE(7)
        QV_OUTER_CASE(8)
        QV_OUTER_CASE(9)
        QV_OUTER_CASE(10)
        QV_OUTER_CASE(11)
        QV_OUTER_CASE(12)
        QV_OUTER_CASE(13)
        QV_OUTER_CASE(14)
        QV_OUTER_CASE(15)
#undef QV_OUTER_CASE
    default:
        break;
    }
}

/*
 * Whole panels of QV_PW queries go through the outer-product kernel, and so does a ragged end of
 * QV_PW - 1 queries (zero-padded); a shorter ragged end goes through the horizontal-sum tiles,
 * which measured faster than a panel padded with 2 or more zero queries (AVX2, Zen 3).
 *
 * Blocking (BLIS's, with the rows in place of its packed A): the panels live in a scratch
 * buffer from a pool (kernels.c) of at most QV_PACK_BYTES, so long vectors are cut into slices
 * of QV_PANEL_SLICE_BYTES / (4 * QV_PW) components (one panel slice stays in L1 with a row tile)
 * and many queries into groups of panels. For each group and slice, the rows are walked in
 * blocks of about QV_ROW_BLOCK_BYTES that stay in L2 while every panel of the group passes over
 * them; slices after the first add to the outputs. The next row tile is prefetched during the
 * first panel's pass. Without memory for the scratch, everything takes the horizontal-sum path.
 */
static inline QV_ALWAYS_INLINE void QV_FN(batch)(const int kind, const int TR, const int TQ,
                                                 const int MR, const float *queries,
                                                 size_t query_count, size_t query_stride_floats,
                                                 const void *base, size_t stride, size_t rows,
                                                 size_t n, float *out) {
    if (rows == 0 || query_count == 0) return;
    const size_t rest = query_count % QV_PW;
    const size_t outer_queries = MR == 0 || n == 0 ? 0
                               : rest + 1 >= QV_PW ? query_count : query_count - rest;
    if (MR > 0 && outer_queries > 0) {
        const size_t panels = (outer_queries + QV_PW - 1) / QV_PW;
        const size_t kc_max = QV_PANEL_SLICE_BYTES / (QV_PW * 4) / 8 * 8;
        const size_t kc = n < kc_max ? n : kc_max;
        size_t group = QV_PACK_BYTES / (QV_PW * 4 * kc);
        if (group < 1) group = 1;
        if (group > panels) group = panels;
        float *scratch = qv_internal_scratch_take(group * QV_PW * kc);
        if (scratch == NULL) {
            QV_FN(batch_hsum)(kind, TR, TQ, queries, 0, query_count, query_count, query_stride_floats,
                              base, stride, rows, n, out);
            return;
        }
        const unsigned char *qbytes = (const unsigned char *)queries;
        const unsigned char *rbytes = (const unsigned char *)base;
        const size_t q_stride = query_stride_floats * 4;
        const size_t slice_bytes = kc * 4 > 64 ? kc * 4 : 64;
        size_t row_block = (QV_ROW_BLOCK_BYTES / (stride < slice_bytes ? stride : slice_bytes)) / MR * MR;
        if (row_block < (size_t)MR) row_block = MR;
        for (size_t p0 = 0; p0 < panels; p0 += group) {
            const size_t p_end = panels - p0 > group ? p0 + group : panels;
            for (size_t k0 = 0; k0 < n; k0 += kc) {
                const size_t kn = n - k0 < kc ? n - k0 : kc;
                for (size_t p = p0; p < p_end; p++) {
                    const size_t j = p * QV_PW;
                    const size_t count = outer_queries - j < QV_PW ? outer_queries - j : QV_PW;
                    QV_FN(pack_panel)(qbytes + j * q_stride + 4 * k0, q_stride, count, kn,
                                      scratch + (p - p0) * QV_PW * kc);
                }
                for (size_t rb = 0; rb < rows; rb += row_block) {
                    const size_t r_end = rows - rb > row_block ? rb + row_block : rows;
                    for (size_t p = p0; p < p_end; p++) {
                        const size_t j = p * QV_PW;
                        const size_t cols = outer_queries - j < QV_PW ? outer_queries - j : QV_PW;
                        QV_FN(outer_rows)(kind, MR, rbytes + 4 * k0, stride, rb, r_end, rows,
                                          scratch + (p - p0) * QV_PW * kc, kn, out + j,
                                          query_count, cols, k0 > 0, p == p0);
                    }
                }
            }
        }
        qv_internal_scratch_give(scratch);
    }
    QV_FN(batch_hsum)(kind, TR, TQ, queries, outer_queries, query_count, query_count,
                      query_stride_floats, base, stride, rows, n, out);
}

static void QV_FN(dot_f32_batch)(const float *queries, size_t query_count,
                                 size_t query_stride_floats, const void *base, size_t stride,
                                 size_t rows, size_t n, float *out) {
    QV_FN(batch)(QV_DOT, QV_TILE_R, QV_TILE_Q, QV_OP_R, queries, query_count, query_stride_floats,
                 base, stride, rows, n, out);
}

static void QV_FN(l2sq_f32_batch)(const float *queries, size_t query_count,
                                  size_t query_stride_floats, const void *base, size_t stride,
                                  size_t rows, size_t n, float *out) {
    QV_FN(batch)(QV_L2, QV_L2_TILE_R, QV_L2_TILE_Q, QV_OP_L2_R, queries, query_count,
                 query_stride_floats, base, stride, rows, n, out);
}

#undef QV_PW

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

/*
 * Gather: one query against rows at arbitrary addresses, four at a time. Each query vector is
 * loaded once for four rows, and the four rows' loads are independent, so four cache misses are
 * in flight at once (a graph hop's neighbours are scattered over the map).
 */
static inline QV_ALWAYS_INLINE void QV_FN(gather)(const int kind, const float *q,
                                                  const void *const *rows, size_t count, size_t n,
                                                  float *out) {
    const unsigned char *qb = (const unsigned char *)q;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const unsigned char *p0 = (const unsigned char *)rows[i];
        const unsigned char *p1 = (const unsigned char *)rows[i + 1];
        const unsigned char *p2 = (const unsigned char *)rows[i + 2];
        const unsigned char *p3 = (const unsigned char *)rows[i + 3];
        QV_VF s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        size_t k = 0;
#define QV_G(S, P, VQ, LOAD)                                                                    \
        do {                                                                                    \
            QV_VF x_ = LOAD;                                                                    \
            if (kind == QV_L2) {                                                                \
                QV_VF d_ = (VQ) - x_;                                                           \
                S += d_ * d_;                                                                   \
            } else {                                                                            \
                S += (VQ) * x_;                                                                 \
            }                                                                                   \
        } while (0)
        /* The next group's rows, fetched line by line alongside this group's, so that their
         * misses overlap this group's arithmetic (the rows are scattered: the hardware
         * prefetcher cannot guess them). Into L2 (PREFETCHT1), not L1: a group is 96 lines of
         * 384-float rows, and the L1 can keep only a few dozen misses in flight, which its
         * own loads of this group already fill; the L2 tracks more. On Zen 4 (debian, HNSW at
         * efSearch 32) this made the walk 1.28x faster, median of 5 alternated pairs. */
        const unsigned char *n0 = i + 4 < count ? (const unsigned char *)rows[i + 4] : p0;
        const unsigned char *n1 = i + 5 < count ? (const unsigned char *)rows[i + 5] : p1;
        const unsigned char *n2 = i + 6 < count ? (const unsigned char *)rows[i + 6] : p2;
        const unsigned char *n3 = i + 7 < count ? (const unsigned char *)rows[i + 7] : p3;
        for (; k + QV_VW <= n; k += QV_VW) {
            if (((4 * k) & 63) == 0) {
                __builtin_prefetch(n0 + 4 * k, 0, 2);
                __builtin_prefetch(n1 + 4 * k, 0, 2);
                __builtin_prefetch(n2 + 4 * k, 0, 2);
                __builtin_prefetch(n3 + 4 * k, 0, 2);
            }
            QV_VF vq = QV_FN(load)(qb + 4 * k);
            QV_G(s0, p0, vq, QV_FN(load)(p0 + 4 * k));
            QV_G(s1, p1, vq, QV_FN(load)(p1 + 4 * k));
            QV_G(s2, p2, vq, QV_FN(load)(p2 + 4 * k));
            QV_G(s3, p3, vq, QV_FN(load)(p3 + 4 * k));
        }
        if (k < n) {
            QV_VF vq = QV_FN(partial)(qb + 4 * k, n - k);
            QV_G(s0, p0, vq, QV_FN(partial)(p0 + 4 * k, n - k));
            QV_G(s1, p1, vq, QV_FN(partial)(p1 + 4 * k, n - k));
            QV_G(s2, p2, vq, QV_FN(partial)(p2 + 4 * k, n - k));
            QV_G(s3, p3, vq, QV_FN(partial)(p3 + 4 * k, n - k));
        }
#undef QV_G
        qv_f32x4 r = QV_FN(hsum4)(s0, s1, s2, s3);
        out[i] = r[0];
        out[i + 1] = r[1];
        out[i + 2] = r[2];
        out[i + 3] = r[3];
    }
    for (; i < count; i++) {
        out[i] = QV_FN(pair)(kind, qb, (const unsigned char *)rows[i], n, NULL);
    }
}

static void QV_FN(dot_f32_gather)(const float *q, const void *const *rows, size_t count, size_t n,
                                  float *out) {
    QV_FN(gather)(QV_DOT, q, rows, count, n, out);
}

static void QV_FN(l2sq_f32_gather)(const float *q, const void *const *rows, size_t count, size_t n,
                                   float *out) {
    QV_FN(gather)(QV_L2, q, rows, count, n, out);
}

/* ---- MaxSim (ColBERT late interaction) ------------------------------------------------------
 *
 * Register tiles of R document tokens x Q query tokens (QV_MS_R x QV_MS_Q, kernels_simd.c): per
 * component step, R token vectors are loaded and held, and each of the Q query vectors is loaded
 * once and multiplied into R accumulators, so a step costs R + Q loads for R * Q FMAs. The tile's
 * R * Q dot products are reduced horizontally at its end, four query tokens at a time (hsum4),
 * and their maxima merged into best[]. The document tokens are the outer loop: a tile of tokens
 * is read from memory once and stays in L1 while every query tile passes over it (the query,
 * nq * n floats, stays in L1 too), and the next tile's tokens are prefetched during the first
 * query tile, as the gather kernels do (a document's tokens are scattered over the map).
 */

/* x > m ? x : m lane by lane (one MAXPS): a NaN in x never wins. */
static inline QV_ALWAYS_INLINE qv_f32x4 QV_FN(max4_keep)(qv_f32x4 x, qv_f32x4 m) {
    const qv_i32x4 take = x > m;
    return (qv_f32x4)((take & (qv_i32x4)x) | (~take & (qv_i32x4)m));
}

/*
 * R tokens t[0 .. R) against query tokens q0 + j * q_stride (bytes), j < Q; best[j] becomes the
 * larger of itself and the tile's largest dot product of query token j. When `pf` is not NULL,
 * the R tokens pf[0 .. R) are prefetched, one cache line each per 64 bytes of components.
 */
static inline QV_ALWAYS_INLINE void QV_FN(maxsim_tile)(const int R, const int Q,
                                                       const unsigned char *const *t,
                                                       const unsigned char *q0, size_t q_stride,
                                                       size_t n, float *best,
                                                       const unsigned char *const *pf) {
    QV_VF acc[QV_MS_R][QV_MS_Q];
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < Q; j++) acc[r][j] = (QV_VF){0};
    }
#define QV_MS_STEP(LOAD, K)                                                                     \
    do {                                                                                        \
        QV_VF x_[QV_MS_R];                                                                      \
        for (int r = 0; r < R; r++) x_[r] = LOAD(t[r] + 4 * (K));                               \
        for (int j = 0; j < Q; j++) {                                                           \
            const QV_VF y_ = LOAD(q0 + (size_t)j * q_stride + 4 * (K));                         \
            for (int r = 0; r < R; r++) acc[r][j] += x_[r] * y_;                                \
        }                                                                                       \
    } while (0)
    size_t k = 0;
    if (pf != NULL) {
        /* 16 components (a cache line) per block: one line of each next token, then the steps. */
        for (; k + 16 <= n; k += 16) {
            for (int r = 0; r < R; r++) __builtin_prefetch(pf[r] + 4 * k, 0, 3);
            for (size_t kk = k; kk < k + 16; kk += QV_VW) QV_MS_STEP(QV_FN(load), kk);
        }
    }
    for (; k + QV_VW <= n; k += QV_VW) QV_MS_STEP(QV_FN(load), k);
    if (k < n) {
        const size_t rest = n - k;
#define QV_LOAD_REST(P) QV_FN(partial)((P), rest)
        QV_MS_STEP(QV_LOAD_REST, k);
#undef QV_LOAD_REST
    }
#undef QV_MS_STEP
    int j = 0;
    for (; j + 4 <= Q; j += 4) {
        qv_f32x4 m = QV_FN(hsum4)(acc[0][j], acc[0][j + 1], acc[0][j + 2], acc[0][j + 3]);
        for (int r = 1; r < R; r++) {
            m = QV_FN(max4_keep)(QV_FN(hsum4)(acc[r][j], acc[r][j + 1], acc[r][j + 2], acc[r][j + 3]), m);
        }
        qv_f32x4 b;
        __builtin_memcpy(&b, best + j, sizeof b);
        b = QV_FN(max4_keep)(m, b);
        __builtin_memcpy(best + j, &b, sizeof b);
    }
    for (; j < Q; j++) {
        for (int r = 0; r < R; r++) {
            const float d = QV_FN(hsum)(acc[r][j]);
            if (d > best[j]) best[j] = d;
        }
    }
}

/* R tokens against all nq query tokens: full tiles of QV_MS_Q, then 4 (AVX-512), then 3, 2, 1. */
static inline QV_ALWAYS_INLINE void QV_FN(maxsim_tokens)(const int R,
                                                         const unsigned char *const *t,
                                                         const unsigned char *q, size_t nq,
                                                         size_t n, float *best,
                                                         const unsigned char *const *pf) {
    const size_t q_stride = n * 4;
    size_t i = 0;
    for (; i + QV_MS_Q <= nq; i += QV_MS_Q) {
        QV_FN(maxsim_tile)(R, QV_MS_Q, t, q + i * q_stride, q_stride, n, best + i, pf);
        pf = NULL; /* the first query tile prefetches the next tokens */
    }
    if (QV_MS_Q > 4 && i + 4 <= nq) {
        QV_FN(maxsim_tile)(R, QV_MS_Q > 4 ? 4 : 1, t, q + i * q_stride, q_stride, n, best + i, pf);
        pf = NULL;
        i += 4;
    }
    switch (nq - i) {
    case 3: QV_FN(maxsim_tile)(R, 3, t, q + i * q_stride, q_stride, n, best + i, pf); break;
    case 2: QV_FN(maxsim_tile)(R, 2, t, q + i * q_stride, q_stride, n, best + i, pf); break;
    case 1: QV_FN(maxsim_tile)(R, 1, t, q + i * q_stride, q_stride, n, best + i, pf); break;
    default: break;
    }
}

static float QV_FN(maxsim_f32)(const float *q, size_t nq, const void *const *tokens, size_t nt,
                               size_t n, float *best) {
    if (nq == 0 || nt == 0) return 0;
    for (size_t i = 0; i < nq; i++) best[i] = -__builtin_inff();
    const unsigned char *qb = (const unsigned char *)q;
    const unsigned char *t[QV_MS_R], *pf[QV_MS_R];
    size_t j = 0;
    for (; j + QV_MS_R <= nt; j += QV_MS_R) {
        for (size_t r = 0; r < QV_MS_R; r++) {
            t[r] = (const unsigned char *)tokens[j + r];
            /* The next tile's tokens (the last token again past the end: harmless). */
            pf[r] = (const unsigned char *)tokens[j + QV_MS_R + r < nt ? j + QV_MS_R + r : nt - 1];
        }
        QV_FN(maxsim_tokens)(QV_MS_R, t, qb, nq, n, best, pf);
    }
    for (size_t r = 0; j + r < nt; r++) t[r] = (const unsigned char *)tokens[j + r];
    switch (nt - j) {
#define QV_MS_CASE(RR)                                                                          \
    case RR:                                                                                    \
        if (RR < QV_MS_R) QV_FN(maxsim_tokens)(RR < QV_MS_R ? RR : 1, t, qb, nq, n, best, NULL);  \
        break;
        QV_MS_CASE(1)
        QV_MS_CASE(2)
        QV_MS_CASE(3)
        QV_MS_CASE(4)
        QV_MS_CASE(5)
#undef QV_MS_CASE
    default:
        break;
    }
    float sum = 0;
    for (size_t i = 0; i < nq; i++) sum += best[i];
    return sum;
}

/* ---- Centroid interaction (PLAID) ------------------------------------------------------------
 *
 * Per token, its list's row of nq scores is read QV_VW query tokens at a time and merged into
 * running maxima, up to 4 vectors (4 * QV_VW query tokens) per pass over the tokens, so a token
 * costs one list load and one or two vector loads for 12 to 32 query tokens. The row is in L2
 * (S is nlist x nq floats); the out-of-order core overlaps one token's loads with the next's.
 * Even and odd tokens keep separate maxima, merged at the end (a maximum is exact, so the result
 * is the same), so that a token's compare and select need not wait for the last token's: 330
 * documents of 20 tokens, 12 query tokens, in L2: 9.0 -> 8.4 us.
 */

/* x > m ? x : m lane by lane: a NaN in x never wins. */
static inline QV_ALWAYS_INLINE QV_VF QV_FN(max_keep)(QV_VF x, QV_VF m) {
    const QV_VI take = x > m;
    return (QV_VF)((take & (QV_VI)x) | (~take & (QV_VI)m));
}

/* Adds the maxima of query tokens g0 * QV_VW ... to `sum`, in query order. */
static inline QV_ALWAYS_INLINE float QV_FN(interaction_pass)(const int G, float sum, const float *s,
                                                             size_t nq, size_t g0,
                                                             const unsigned char *lists,
                                                             size_t count, uint32_t nlist) {
    QV_VF a[4], b[4];
    for (int g = 0; g < G; g++) a[g] = b[g] = (QV_VF){0} - __builtin_inff();
    const unsigned char *base = (const unsigned char *)(s + g0 * QV_VW);
    const size_t row_bytes = nq * 4;
    size_t j = 0;
    for (; j + 2 <= count; j += 2) {
        uint32_t l0, l1;
        memcpy(&l0, lists + 4 * j, 4);
        memcpy(&l1, lists + 4 * j + 4, 4);
        l0 = qv_le32(l0); l1 = qv_le32(l1);
        const unsigned char *r0 = base + (size_t)(l0 < nlist ? l0 : nlist) * row_bytes;
        const unsigned char *r1 = base + (size_t)(l1 < nlist ? l1 : nlist) * row_bytes;
        for (int g = 0; g < G; g++) {
            a[g] = QV_FN(max_keep)(QV_FN(load)(r0 + 4 * g * QV_VW), a[g]);
            b[g] = QV_FN(max_keep)(QV_FN(load)(r1 + 4 * g * QV_VW), b[g]);
        }
    }
    if (j < count) {
        uint32_t list;
        memcpy(&list, lists + 4 * j, 4);
        list = qv_le32(list);
        const unsigned char *row = base + (size_t)(list < nlist ? list : nlist) * row_bytes;
        for (int g = 0; g < G; g++) a[g] = QV_FN(max_keep)(QV_FN(load)(row + 4 * g * QV_VW), a[g]);
    }
    for (int g = 0; g < G; g++) a[g] = QV_FN(max_keep)(b[g], a[g]);
    for (int g = 0; g < G; g++) {
        const size_t first = (g0 + g) * QV_VW;
        const size_t lanes = nq - first < QV_VW ? nq - first : QV_VW;
        float v[QV_VW];
        memcpy(v, &a[g], sizeof v);
        for (size_t lane = 0; lane < lanes; lane++) sum += v[lane];
    }
    return sum;
}

static float QV_FN(centroid_interaction)(const float *s, size_t nq, const void *lists, size_t count,
                                         uint32_t nlist) {
    if (nq == 0 || count == 0) return 0;
    const unsigned char *l = (const unsigned char *)lists;
    const size_t groups = (nq + QV_VW - 1) / QV_VW;
    float sum = 0;
    for (size_t g0 = 0; g0 < groups; g0 += 4) {
        switch (groups - g0) {
        case 1: sum = QV_FN(interaction_pass)(1, sum, s, nq, g0, l, count, nlist); break;
        case 2: sum = QV_FN(interaction_pass)(2, sum, s, nq, g0, l, count, nlist); break;
        case 3: sum = QV_FN(interaction_pass)(3, sum, s, nq, g0, l, count, nlist); break;
        default: sum = QV_FN(interaction_pass)(4, sum, s, nq, g0, l, count, nlist); break;
        }
    }
    return sum;
}

/*
 * Best lists for up to 4 probes, one vector of query tokens (vector g): each lane holds its
 * token's best P so far as P vectors of values and rows, in descending order, and each row of
 * s is inserted as insertion sort would (above the values it beats, below equal ones; those
 * below shift down one place) by compares and selects, with no branch that depends on the
 * scores: a branch per row mispredicted often enough to cost twice the loads.
 */
/* Inserts row `row`'s scores `v` into one network of P levels (see below). */
static inline QV_ALWAYS_INLINE void QV_FN(best_lists_insert)(const int P, QV_VI *best, QV_VI *rows, QV_VF v, QV_VI row) {
    /* Lanes are all ones or all zeros: the selects are bit masks (blends). Levels are updated
     * bottom up, so each reads the one above before it changes. */
    QV_VI beats[4];
    for (int j = 0; j < P; j++) beats[j] = v > (QV_VF)best[j];
    for (int j = P - 1; j > 0; j--) {
        const QV_VI shifted = beats[j - 1];
        const QV_VI value = (shifted & best[j - 1]) | (~shifted & (QV_VI)v);
        const QV_VI from = (shifted & rows[j - 1]) | (~shifted & row);
        best[j] = (beats[j] & value) | (~beats[j] & best[j]);
        rows[j] = (beats[j] & from) | (~beats[j] & rows[j]);
    }
    best[0] = (beats[0] & (QV_VI)v) | (~beats[0] & best[0]);
    rows[0] = (beats[0] & row) | (~beats[0] & rows[0]);
}

static inline QV_ALWAYS_INLINE void QV_FN(best_lists_network)(const int P, const float *s, size_t nq, size_t nlist,
                                                              size_t g, float *values, uint32_t *lists) {
    /* Two networks, even and odd rows, so that one row's selects need not wait for the last's;
     * merged per lane at the end by value, then row. */
    QV_VI best[2][4], rows[2][4]; /* the values' bits, and their rows */
    for (int h = 0; h < 2; h++) {
        for (int j = 0; j < P; j++) {
            best[h][j] = (QV_VI)((QV_VF){0} - __builtin_inff());
            rows[h][j] = (QV_VI){0} - 1;
        }
    }
    const unsigned char *column = (const unsigned char *)(s + g * QV_VW);
    const size_t row_bytes = nq * 4;
    QV_VI row = (QV_VI){0};
    size_t l = 0;
    for (; l + 2 <= nlist; l += 2, row += 2) {
        QV_FN(best_lists_insert)(P, best[0], rows[0], QV_FN(load)(column + l * row_bytes), row);
        QV_FN(best_lists_insert)(P, best[1], rows[1], QV_FN(load)(column + (l + 1) * row_bytes), row + 1);
    }
    if (l < nlist) QV_FN(best_lists_insert)(P, best[0], rows[0], QV_FN(load)(column + l * row_bytes), row);
    for (size_t lane = 0; lane < QV_VW && g * QV_VW + lane < nq; lane++) {
        const size_t i = g * QV_VW + lane;
        int a = 0, b = 0;
        for (int j = 0; j < P; j++) {
            const float va = ((QV_VF)best[0][a])[lane], vb = ((QV_VF)best[1][b])[lane];
            const uint32_t ra = (uint32_t)rows[0][a][lane], rb = (uint32_t)rows[1][b][lane];
            const int take_a = va > vb || (va == vb && ra < rb);
            values[i * P + j] = take_a ? va : vb;
            lists[i * P + j] = take_a ? ra : rb;
            if (take_a) a++; else b++;
        }
    }
}

/* More probes: per row one compare per vector with the tokens' bars (their nprobe-th best so
 * far); a vector with a lane above its bar is walked lane by lane. */
static void QV_FN(best_lists_insertion)(const float *s, size_t nq, size_t nlist, size_t nprobe, size_t g,
                                        float *values, uint32_t *lists) {
    QV_VF bar;
    for (size_t lane = 0; lane < QV_VW; lane++) {
        const size_t i = g * QV_VW + lane;
        bar[lane] = i < nq ? -__builtin_inff() : __builtin_inff();
    }
    const unsigned char *column = (const unsigned char *)(s + g * QV_VW);
    const size_t row_bytes = nq * 4;
    for (size_t l = 0; l < nlist; l++) {
        const QV_VF v = QV_FN(load)(column + l * row_bytes);
        const QV_VI above = v > bar;
        if (!__builtin_reduce_or(above)) continue;
        for (size_t lane = 0; lane < QV_VW; lane++) {
            if (!above[lane]) continue;
            const size_t i = g * QV_VW + lane;
            qv_insert_best(values + i * nprobe, lists + i * nprobe, nprobe, v[lane], (uint32_t)l);
            bar[lane] = values[i * nprobe + nprobe - 1];
        }
    }
}

static void QV_FN(best_lists)(const float *s, size_t nq, size_t nlist, size_t nprobe, float *values,
                              uint32_t *lists) {
    if (nq == 0 || nprobe == 0) return;
    if (nprobe > 4) qv_best_lists_reset(nq, nprobe, values, lists);
    for (size_t g = 0; g * QV_VW < nq; g++) {
        switch (nprobe) {
        case 1: QV_FN(best_lists_network)(1, s, nq, nlist, g, values, lists); break;
        case 2: QV_FN(best_lists_network)(2, s, nq, nlist, g, values, lists); break;
        case 3: QV_FN(best_lists_network)(3, s, nq, nlist, g, values, lists); break;
        case 4: QV_FN(best_lists_network)(4, s, nq, nlist, g, values, lists); break;
        default: QV_FN(best_lists_insertion)(s, nq, nlist, nprobe, g, values, lists); break;
        }
    }
}

/*
 * Token-pooling distances (qv_pool_distances): the rows transposed once (columns padded to a
 * multiple of 8 with zeros), then tiles of R rows x 2 vectors of columns, each lane running the
 * scalar order of qv_pool_dot (separate even and odd sums, no fused multiply-add: this function
 * turns contraction off, against the file's default), so the vector tables give the scalar
 * twin's bits. Only columns right of the diagonal are kept.
 */
typedef double QV_FN(f64v) __attribute__((vector_size(QV_VW * 4)));
typedef long long QV_FN(i64v) __attribute__((vector_size(QV_VW * 4)));

static inline QV_ALWAYS_INLINE QV_FN(f64v) QV_FN(load_f64)(const double *p) {
    QV_FN(f64v) v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static void QV_FN(pool_distances)(const double *coords, size_t count, size_t n, double *norms, double *transposed,
                                  double *out) {
#pragma clang fp contract(off)
    enum { DW = QV_VW / 2 };
    if (count == 0) return;
    const size_t cols = (count + 7) / 8 * 8;
    /* Transposed in blocks of 8 x 8, so that both sides stay in cache lines. */
    for (size_t j0 = 0; j0 < cols; j0 += 8) {
        for (size_t k0 = 0; k0 < n; k0 += 8) {
            for (size_t j = j0; j < j0 + 8; j++) {
                for (size_t k = k0; k < k0 + 8 && k < n; k++) transposed[k * cols + j] = j < count ? coords[j * n + k] : 0;
            }
        }
    }
    for (size_t i = 0; i < count; i++) {
        norms[i] = qv_pool_dot(coords + i * n, coords + i * n, n);
        out[i * count + i] = __builtin_inf();
    }
    /* R rows at a time: 4 with 32 vector registers (16 accumulators), else 2. */
    enum { R = QV_VW == 16 ? 4 : 2 };
    for (size_t i = 0; i + 1 < count; i += R) {
        /* Rows i ... i + R - 1, past the last row repeating it (those lanes are dropped). */
        const double *a[R];
        size_t row[R];
        for (int r = 0; r < R; r++) {
            row[r] = i + r < count ? i + r : count - 1;
            a[r] = coords + row[r] * n;
        }
        for (size_t j = (i + 1) / DW * DW; j < count; j += 2 * DW) {
            const double *t = transposed + j;
            /* The second vector of columns, or the first again at the padded end. */
            const size_t second = j + DW < cols ? DW : 0;
            QV_FN(f64v) even[R][2], odd[R][2];
            for (int r = 0; r < R; r++) {
                for (int v = 0; v < 2; v++) even[r][v] = odd[r][v] = (QV_FN(f64v)){0};
            }
            size_t k = 0;
            for (; k + 2 <= n; k += 2) {
                const QV_FN(f64v) y0 = QV_FN(load_f64)(t + k * cols), y1 = QV_FN(load_f64)(t + k * cols + second);
                const QV_FN(f64v) z0 = QV_FN(load_f64)(t + (k + 1) * cols), z1 = QV_FN(load_f64)(t + (k + 1) * cols + second);
                for (int r = 0; r < R; r++) {
                    even[r][0] += a[r][k] * y0;
                    even[r][1] += a[r][k] * y1;
                    odd[r][0] += a[r][k + 1] * z0;
                    odd[r][1] += a[r][k + 1] * z1;
                }
            }
            QV_FN(f64v) dot[R][2];
            for (int r = 0; r < R; r++) {
                for (int v = 0; v < 2; v++) dot[r][v] = even[r][v] + odd[r][v];
            }
            if (k < n) {
                const QV_FN(f64v) y0 = QV_FN(load_f64)(t + k * cols), y1 = QV_FN(load_f64)(t + k * cols + second);
                for (int r = 0; r < R; r++) {
                    dot[r][0] += a[r][k] * y0;
                    dot[r][1] += a[r][k] * y1;
                }
            }
            /* The upper half only (row ri, columns right of it), a vector at a time where the
             * whole vector is right of the diagonal and inside the rows; mirrored below. */
            for (int r = 0; r < R; r++) {
                const size_t ri = row[r];
                if (ri != i + (size_t)r) break; /* a repeated last row */
                for (int v = 0; v < 2; v++) {
                    const size_t c0 = j + (size_t)v * DW;
                    if (c0 >= count || (v == 1 && second == 0)) break;
                    if (c0 > ri && c0 + DW <= count) {
                        const QV_FN(f64v) s = (norms[ri] + QV_FN(load_f64)(norms + c0)) - 2 * dot[r][v];
                        /* s where s > 0, else +0 (the scalar's select, bit for bit). */
                        const QV_FN(f64v) kept = (QV_FN(f64v))((QV_FN(i64v))s & (s > 0));
                        const QV_FN(f64v) d = __builtin_elementwise_sqrt(kept);
                        __builtin_memcpy(out + ri * count + c0, &d, sizeof d);
                        continue;
                    }
                    for (size_t lane = 0; lane < DW && c0 + lane < count; lane++) {
                        const size_t c = c0 + lane;
                        if (c > ri) out[ri * count + c] = qv_pool_distance(norms[ri], norms[c], dot[r][v][lane]);
                    }
                }
            }
        }
    }
    /* The lower half from the upper, in blocks of 8 x 8. */
    for (size_t i0 = 0; i0 < count; i0 += 8) {
        for (size_t j0 = i0; j0 < count; j0 += 8) {
            for (size_t i = i0; i < i0 + 8 && i < count; i++) {
                for (size_t j = j0 > i + 1 ? j0 : i + 1; j < j0 + 8 && j < count; j++) out[j * count + i] = out[i * count + j];
            }
        }
    }
}

#include "kernels_codes_body.h"

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
    .dot_f32_gather = QV_FN(dot_f32_gather),
    .l2sq_f32_gather = QV_FN(l2sq_f32_gather),
    .dot_u8 = QV_FN(dot_u8),
    .dot_u8_rows = QV_FN(dot_u8_rows),
    .dot_u8_gather = QV_FN(dot_u8_gather),
    .pq_distance = QV_FN(pq_distance),
    .pq_scan_rows = QV_FN(pq_scan_rows),
    .pq_gather = QV_FN(pq_gather),
    .pq_table_l2sq = QV_FN(pq_table_l2sq),
    .pq_table_dot = QV_FN(pq_table_dot),
    .argmin_f32 = QV_FN(argmin_f32),
    .select_at_most = QV_FN(select_at_most),
    .maxsim_f32 = QV_FN(maxsim_f32),
    .centroid_interaction = QV_FN(centroid_interaction),
    .best_lists = QV_FN(best_lists),
    .pool_distances = QV_FN(pool_distances),
    .dot_i8_panels = NULL, /* filled by the dispatcher (kernels_i8_panels.c) */
};
