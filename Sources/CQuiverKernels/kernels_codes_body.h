/*
 * kernels_codes_body.h — the kernels over byte codes: u8 scalar-quantised vectors (a float query
 * against u8 components) and product-quantisation codes (table lookups, tables), and the argmin
 * that k-means and PQ encoding run over rows of distances. Included by
 * kernels_simd_body.h once per instruction set, with the same parameters (QV_VW, QV_VF, QV_FN,
 * QV_FN(load), QV_FN(partial), QV_FN(hsum), QV_FN(hsum4)) plus
 *
 *   QV_VB            the vector type of QV_VW unsigned bytes
 *
 * Not a public header; no include guard on purpose.
 */

/* ---- u8 codes ------------------------------------------------------------------------------ */

/* QV_VW code bytes widened to floats: vpmovzxbd + vcvtdq2ps on AVX2 (exact: 0...255). */
static inline QV_ALWAYS_INLINE QV_VF QV_FN(load_u8)(const unsigned char *p) {
    QV_VB b;
    __builtin_memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, QV_VF);
}

/* `count` < QV_VW code bytes, zero in the other lanes; never reads past them. */
static inline QV_ALWAYS_INLINE QV_VF QV_FN(partial_u8)(const unsigned char *p, size_t count) {
    QV_VB b = {0};
    __builtin_memcpy(&b, p, count);
    return __builtin_convertvector(b, QV_VF);
}

/*
 * One code. Four accumulators, like the float pair kernel: a step is a load and widening of
 * QV_VW bytes, a conversion and an FMA, so four independent chains keep the FMA units busy.
 */
static inline QV_ALWAYS_INLINE float QV_FN(pair_u8)(const unsigned char *q, const unsigned char *c,
                                                    size_t n) {
    QV_VF s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t k = 0;
    for (; k + 4 * QV_VW <= n; k += 4 * QV_VW) {
        s0 += QV_FN(load)(q + 4 * k) * QV_FN(load_u8)(c + k);
        s1 += QV_FN(load)(q + 4 * (k + QV_VW)) * QV_FN(load_u8)(c + k + QV_VW);
        s2 += QV_FN(load)(q + 4 * (k + 2 * QV_VW)) * QV_FN(load_u8)(c + k + 2 * QV_VW);
        s3 += QV_FN(load)(q + 4 * (k + 3 * QV_VW)) * QV_FN(load_u8)(c + k + 3 * QV_VW);
    }
    for (; k + QV_VW <= n; k += QV_VW) {
        s0 += QV_FN(load)(q + 4 * k) * QV_FN(load_u8)(c + k);
    }
    if (k < n) {
        s1 += QV_FN(partial)(q + 4 * k, n - k) * QV_FN(partial_u8)(c + k, n - k);
    }
    return QV_FN(hsum)((s0 + s1) + (s2 + s3));
}

static float QV_FN(dot_u8)(const float *q, const uint8_t *codes, size_t n) {
    return QV_FN(pair_u8)((const unsigned char *)q, (const unsigned char *)codes, n);
}

/* Rows are read once each; the query stays in L1 (as in the float row scan: no prefetch). */
static void QV_FN(dot_u8_rows)(const float *q, const void *base, size_t stride, size_t rows,
                               size_t n, float *out) {
    const unsigned char *p = (const unsigned char *)base;
    for (size_t i = 0; i < rows; i++, p += stride) {
        out[i] = QV_FN(pair_u8)((const unsigned char *)q, p, n);
    }
}

/*
 * Four codes at arbitrary addresses at a time: each query vector is loaded once for four codes,
 * and the next four codes are prefetched line by line into L2 meanwhile (as the float gather does).
 */
static void QV_FN(dot_u8_gather)(const float *q, const void *const *rows, size_t count, size_t n,
                                 float *out) {
    const unsigned char *qb = (const unsigned char *)q;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const unsigned char *p0 = (const unsigned char *)rows[i];
        const unsigned char *p1 = (const unsigned char *)rows[i + 1];
        const unsigned char *p2 = (const unsigned char *)rows[i + 2];
        const unsigned char *p3 = (const unsigned char *)rows[i + 3];
        const unsigned char *n0 = i + 4 < count ? (const unsigned char *)rows[i + 4] : p0;
        const unsigned char *n1 = i + 5 < count ? (const unsigned char *)rows[i + 5] : p1;
        const unsigned char *n2 = i + 6 < count ? (const unsigned char *)rows[i + 6] : p2;
        const unsigned char *n3 = i + 7 < count ? (const unsigned char *)rows[i + 7] : p3;
        QV_VF s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        size_t k = 0;
        for (; k + QV_VW <= n; k += QV_VW) {
            if ((k & 63) == 0) {
                __builtin_prefetch(n0 + k, 0, 2);
                __builtin_prefetch(n1 + k, 0, 2);
                __builtin_prefetch(n2 + k, 0, 2);
                __builtin_prefetch(n3 + k, 0, 2);
            }
            const QV_VF vq = QV_FN(load)(qb + 4 * k);
            s0 += vq * QV_FN(load_u8)(p0 + k);
            s1 += vq * QV_FN(load_u8)(p1 + k);
            s2 += vq * QV_FN(load_u8)(p2 + k);
            s3 += vq * QV_FN(load_u8)(p3 + k);
        }
        if (k < n) {
            const QV_VF vq = QV_FN(partial)(qb + 4 * k, n - k);
            s0 += vq * QV_FN(partial_u8)(p0 + k, n - k);
            s1 += vq * QV_FN(partial_u8)(p1 + k, n - k);
            s2 += vq * QV_FN(partial_u8)(p2 + k, n - k);
            s3 += vq * QV_FN(partial_u8)(p3 + k, n - k);
        }
        const qv_f32x4 r = QV_FN(hsum4)(s0, s1, s2, s3);
        out[i] = r[0];
        out[i + 1] = r[1];
        out[i + 2] = r[2];
        out[i + 3] = r[3];
    }
    for (; i < count; i++) out[i] = QV_FN(pair_u8)(qb, (const unsigned char *)rows[i], n);
}

/* ---- Product quantisation (ADC) ------------------------------------------------------------ */

/*
 * Why scalar code in every instruction set: a lookup is a byte extraction, a load and an add
 * (about 2.5 instructions), and on Zen 3 the loop is bound by the float adds (two pipes: 24
 * cycles per code at m = 48) and instruction dispatch. Measured alternatives (AVX2, m = 48,
 * 63,574 codes of a real PQ, one thread, medians of 15 runs; this loop did 12-19 ns per code):
 *   - AVX2 gathers (vgatherdps, eight sub-quantisers per instruction, four codes at a time):
 *     1.5-2x slower (about 12-15 cycles per eight-float gather here).
 *   - one byte load per lookup instead of shifts out of 8-byte words: 1.1-1.2x slower.
 *   - a u16-quantised table (24 KB, fits L1) with integer sums: no faster; its adds compete
 *     with the byte extraction for the four ALUs.
 *   - the float table cut into chunks of 24 sub-quantisers (24 KB, fits L1), blocks of 64-256
 *     codes, the two sums carried from chunk to chunk: no faster.
 * Six or eight codes at a time were no faster than four. One add chain per code instead of two
 * measured the same within noise; two are kept so that the m dependent adds of a code (3 cycles
 * each on Zen 3) can never become the bound.
 */

/* Keeps a float in its own register: without it clang packs the four rows' sums into one
 * vector with a shuffle per lookup (measured 1.2-1.5x slower). Costs no instruction. */
#if defined(__x86_64__)
#define QV_KEEP_SCALAR(v) __asm__("" : "+x"(v))
#elif defined(__aarch64__)
#define QV_KEEP_SCALAR(v) __asm__("" : "+w"(v))
#else
#define QV_KEEP_SCALAR(v) ((void)0)
#endif

static inline QV_ALWAYS_INLINE uint64_t QV_FN(code_word)(const unsigned char *p) {
    uint64_t w;
    __builtin_memcpy(&w, p, 8); /* unaligned; bytes j...j+7 of the code, little-endian */
    return w;
}

/*
 * R codes (1 or 4, a constant after inlining) at p[0...R-1], two chains per code (even and odd
 * sub-quantisers, see quiver_kernels.h). Bytes are taken from 8-byte words two at a time (low
 * byte, second byte, then a 16-bit shift: three instructions for two lookups on x86).
 */
static inline QV_ALWAYS_INLINE void QV_FN(pq_codes)(const int R, const float *table, size_t m,
                                                    const unsigned char *const p[4], float *out) {
    float even[4] = {0, 0, 0, 0}, odd[4] = {0, 0, 0, 0};
    const float *t = table;
    size_t j = 0;
    for (; j + 8 <= m; j += 8, t += 8 * 256) {
        uint64_t w[4];
        for (int r = 0; r < R; r++) w[r] = QV_FN(code_word)(p[r] + j);
        _Pragma("clang loop unroll(full)")
        for (int b = 0; b < 8; b += 2) {
            for (int r = 0; r < R; r++) {
                even[r] += t[b * 256 + (w[r] & 255)];
                odd[r] += t[(b + 1) * 256 + ((w[r] >> 8) & 255)];
                w[r] >>= 16;
                QV_KEEP_SCALAR(even[r]);
                QV_KEEP_SCALAR(odd[r]);
            }
        }
    }
    for (; j < m; j++, t += 256) {
        for (int r = 0; r < R; r++) {
            if (j & 1) {
                odd[r] += t[p[r][j]];
            } else {
                even[r] += t[p[r][j]];
            }
        }
    }
    for (int r = 0; r < R; r++) out[r] = even[r] + odd[r];
}

static float QV_FN(pq_distance)(const float *table, size_t m, const uint8_t *code) {
    const unsigned char *p[4] = {code, code, code, code};
    float d;
    QV_FN(pq_codes)(1, table, m, p, &d);
    return d;
}

static void QV_FN(pq_scan_rows)(const float *table, size_t m, const void *base, size_t stride,
                                size_t rows, float *out) {
    const unsigned char *b = (const unsigned char *)base;
    size_t i = 0;
    for (; i + 4 <= rows; i += 4, b += 4 * stride) {
        const unsigned char *p[4] = {b, b + stride, b + 2 * stride, b + 3 * stride};
        QV_FN(pq_codes)(4, table, m, p, out + i);
    }
    for (; i < rows; i++, b += stride) {
        const unsigned char *p[4] = {b, b, b, b};
        QV_FN(pq_codes)(1, table, m, p, out + i);
    }
}

/* The first and the last byte of a code: its one or two cache lines, into L2 as the float
 * gather does (the lines are needed after the current group). */
static inline QV_ALWAYS_INLINE void QV_FN(pq_prefetch)(const void *code, size_t m) {
    const unsigned char *c = (const unsigned char *)code;
    __builtin_prefetch(c, 0, 2);
    if (m > 1) __builtin_prefetch(c + m - 1, 0, 2);
}

static void QV_FN(pq_gather)(const float *table, size_t m, const void *const *rows, size_t count,
                             float *out) {
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        for (size_t r = i + 4; r < i + 8 && r < count; r++) QV_FN(pq_prefetch)(rows[r], m);
        const unsigned char *p[4] = {(const unsigned char *)rows[i], (const unsigned char *)rows[i + 1],
                                     (const unsigned char *)rows[i + 2], (const unsigned char *)rows[i + 3]};
        QV_FN(pq_codes)(4, table, m, p, out + i);
    }
    for (; i < count; i++) {
        const unsigned char *p[4] = {(const unsigned char *)rows[i], (const unsigned char *)rows[i],
                                     (const unsigned char *)rows[i], (const unsigned char *)rows[i]};
        QV_FN(pq_codes)(1, table, m, p, out + i);
    }
}

#undef QV_KEEP_SCALAR

/*
 * Distance tables over a component-major codebook (quiver_kernels.h): four vectors of centroids
 * at a time, so one broadcast of a query component serves 4 * QV_VW centroids and four FMA chains
 * hide the latency. 256 is a multiple of 4 * QV_VW for every width.
 */
static inline QV_ALWAYS_INLINE void QV_FN(pq_table)(const int kind, const float *query,
                                                    const float *columns, size_t m, size_t sub,
                                                    float *table) {
    const unsigned char *cols = (const unsigned char *)columns;
    for (size_t j = 0; j < m; j++) {
        for (size_t c = 0; c < 256; c += 4 * QV_VW) {
            QV_VF a[4] = {{0}, {0}, {0}, {0}};
            for (size_t k = 0; k < sub; k++) {
                const float q = query[j * sub + k];
                const unsigned char *p = cols + 4 * ((j * sub + k) * 256 + c);
                for (int v = 0; v < 4; v++) {
                    const QV_VF x = QV_FN(load)(p + 4 * QV_VW * v);
                    if (kind == QV_L2) {
                        const QV_VF d = q - x;
                        a[v] += d * d;
                    } else {
                        a[v] += q * x;
                    }
                }
            }
            __builtin_memcpy(table + j * 256 + c, a, sizeof a);
        }
    }
}

static void QV_FN(pq_table_l2sq)(const float *query, const float *columns, size_t m, size_t sub,
                                 float *table) {
    QV_FN(pq_table)(QV_L2, query, columns, m, sub, table);
}

static void QV_FN(pq_table_dot)(const float *query, const float *columns, size_t m, size_t sub,
                                float *table) {
    QV_FN(pq_table)(QV_DOT, query, columns, m, sub, table);
}

/* ---- Argmin -------------------------------------------------------------------------------- */

/* x < m ? x : m lane by lane, which clang emits as one MINPS: a NaN in x never wins, and m
 * starts at +infinity, so NaN values are skipped. */
static inline QV_ALWAYS_INLINE QV_VF QV_FN(min_keep)(QV_VF x, QV_VF m) {
    const QV_VI take = x < m;
    return (QV_VF)((take & (QV_VI)x) | (~take & (QV_VI)m));
}

/* The smallest lane of m: halve to four lanes with vector mins, then three scalar steps. */
static inline QV_ALWAYS_INLINE float QV_FN(min_lanes)(QV_VF m) {
#if QV_VW == 16
    const qv_f32x8 lo8 = __builtin_shufflevector(m, m, 0, 1, 2, 3, 4, 5, 6, 7);
    const qv_f32x8 hi8 = __builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15);
    const qv_f32x8 m8 = __builtin_elementwise_min(lo8, hi8); /* lanes are never NaN here */
#elif QV_VW == 8
    const qv_f32x8 m8 = m;
#endif
#if QV_VW >= 8
    const qv_f32x4 m4 = __builtin_elementwise_min(__builtin_shufflevector(m8, m8, 0, 1, 2, 3),
                                                  __builtin_shufflevector(m8, m8, 4, 5, 6, 7));
#else
    const qv_f32x4 m4 = m;
#endif
    const float a = m4[0] < m4[1] ? m4[0] : m4[1], b = m4[2] < m4[3] ? m4[2] : m4[3];
    return a < b ? a : b;
}

/*
 * Two passes: the minimum (two chains of MINPS), then the first element equal to it (a compare
 * and a test per vector, stopping there). One pass that tracks indices would need a compare and
 * two blends per vector instead of one MINPS.
 */
static size_t QV_FN(argmin_f32)(const float *values, size_t n) {
    const unsigned char *p = (const unsigned char *)values;
    float smallest = __builtin_inff();
    size_t i = 0;
    if (n >= 2 * QV_VW) {
        QV_VF m0 = (QV_VF){0} + __builtin_inff(), m1 = m0;
        for (; i + 2 * QV_VW <= n; i += 2 * QV_VW) {
            m0 = QV_FN(min_keep)(QV_FN(load)(p + 4 * i), m0);
            m1 = QV_FN(min_keep)(QV_FN(load)(p + 4 * (i + QV_VW)), m1);
        }
        smallest = QV_FN(min_lanes)(QV_FN(min_keep)(m1, m0));
    }
    for (; i < n; i++) {
        if (values[i] < smallest) smallest = values[i];
    }
    i = 0;
    for (; i + QV_VW <= n; i += QV_VW) {
        if (__builtin_reduce_or(QV_FN(load)(p + 4 * i) == smallest)) break;
    }
    for (; i < n; i++) {
        if (values[i] == smallest) return i;
    }
    return 0;
}

/* A compare and a lane test per vector; only a vector with a selected lane is walked lane by lane. */
static size_t QV_FN(select_at_most)(const float *values, const float *limits, size_t n, uint32_t *indices) {
    const unsigned char *pv = (const unsigned char *)values, *pl = (const unsigned char *)limits;
    size_t count = 0, i = 0;
    for (; i + QV_VW <= n; i += QV_VW) {
        if (!__builtin_reduce_or(QV_FN(load)(pv + 4 * i) <= QV_FN(load)(pl + 4 * i))) continue;
        for (size_t j = i; j < i + QV_VW; j++) {
            if (values[j] <= limits[j]) indices[count++] = (uint32_t)j;
        }
    }
    for (; i < n; i++) {
        if (values[i] <= limits[i]) indices[count++] = (uint32_t)i;
    }
    return count;
}
