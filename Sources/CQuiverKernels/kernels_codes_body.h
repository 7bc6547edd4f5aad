/*
 * kernels_codes_body.h — the kernels over byte codes: u8 scalar-quantised vectors (a float query
 * against u8 components) and product-quantisation codes (table lookups). Included by
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
 * and the next four codes are prefetched line by line meanwhile (as the float gather does).
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
                __builtin_prefetch(n0 + k, 0, 3);
                __builtin_prefetch(n1 + k, 0, 3);
                __builtin_prefetch(n2 + k, 0, 3);
                __builtin_prefetch(n3 + k, 0, 3);
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
 * Why scalar code in every instruction set: a lookup is a byte extraction, a load and an add, and
 * on Zen 3 that loop is bound by the float adds (two pipes) and instruction dispatch, not by
 * memory. Measured alternatives (m = 48, 63,574 codes, one thread; docs/benchmarks.md):
 * AVX2 gathers (vgatherdps, 8 sub-quantisers per instruction) were 1.5-2x slower; one byte
 * load per lookup instead of shifts out of 8-byte words 1.2x slower; a u16-quantised table
 * (24 KB, fits L1) no faster, since its integer adds compete with the byte extraction for the
 * ALUs, and the float table's L1 misses cost nothing measurable (a 1 KB table ran as fast).
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

/* The first and the last byte of a code: its one or two cache lines. */
static inline QV_ALWAYS_INLINE void QV_FN(pq_prefetch)(const void *code, size_t m) {
    const unsigned char *c = (const unsigned char *)code;
    __builtin_prefetch(c, 0, 3);
    if (m > 1) __builtin_prefetch(c + m - 1, 0, 3);
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
