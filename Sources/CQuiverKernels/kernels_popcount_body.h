/*
 * kernels_popcount_body.h — Hamming distance with scalar 64-bit popcounts, included by kernels.c
 * twice: once for any CPU (where `__builtin_popcountll` is a bit-twiddling sequence) and once
 * under `target("popcnt")` (one POPCNT instruction per word). No include guard on purpose.
 * The includer defines QV_HFN(name) to name this copy's functions.
 */

static inline QV_ALWAYS_INLINE uint64_t QV_HFN(word)(const unsigned char *p, size_t w) {
    uint64_t v;
    __builtin_memcpy(&v, p + 8 * w, 8); /* codes may be unaligned */
    return v;
}

/* Four counters, so consecutive popcounts do not wait on one add chain. */
static inline QV_ALWAYS_INLINE uint32_t QV_HFN(pair)(const unsigned char *a, const unsigned char *b,
                                                     size_t words) {
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        c0 += (uint64_t)__builtin_popcountll(QV_HFN(word)(a, w) ^ QV_HFN(word)(b, w));
        c1 += (uint64_t)__builtin_popcountll(QV_HFN(word)(a, w + 1) ^ QV_HFN(word)(b, w + 1));
        c2 += (uint64_t)__builtin_popcountll(QV_HFN(word)(a, w + 2) ^ QV_HFN(word)(b, w + 2));
        c3 += (uint64_t)__builtin_popcountll(QV_HFN(word)(a, w + 3) ^ QV_HFN(word)(b, w + 3));
    }
    for (; w < words; w++) {
        c0 += (uint64_t)__builtin_popcountll(QV_HFN(word)(a, w) ^ QV_HFN(word)(b, w));
    }
    return (uint32_t)((c0 + c1) + (c2 + c3));
}

static uint32_t QV_HFN(hamming_u64)(const uint64_t *a, const uint64_t *b, size_t words) {
    return QV_HFN(pair)((const unsigned char *)a, (const unsigned char *)b, words);
}

static inline QV_ALWAYS_INLINE void QV_HFN(rows_loop)(const unsigned char *q, const unsigned char *p,
                                                      size_t stride, size_t rows, size_t words,
                                                      uint32_t *out) {
    for (size_t i = 0; i < rows; i++, p += stride) out[i] = QV_HFN(pair)(q, p, words);
}

/* Common code lengths get a copy with the word count fixed, so the inner loop unrolls fully. */
static void QV_HFN(hamming_rows)(const uint64_t *q, const void *base, size_t stride, size_t rows,
                                 size_t words, uint32_t *out) {
    const unsigned char *pq = (const unsigned char *)q, *p = (const unsigned char *)base;
    switch (words) {
    case 1: QV_HFN(rows_loop)(pq, p, stride, rows, 1, out); break;
    case 2: QV_HFN(rows_loop)(pq, p, stride, rows, 2, out); break;
    case 4: QV_HFN(rows_loop)(pq, p, stride, rows, 4, out); break;
    case 6: QV_HFN(rows_loop)(pq, p, stride, rows, 6, out); break;
    case 8: QV_HFN(rows_loop)(pq, p, stride, rows, 8, out); break;
    case 12: QV_HFN(rows_loop)(pq, p, stride, rows, 12, out); break;
    case 16: QV_HFN(rows_loop)(pq, p, stride, rows, 16, out); break;
    default: QV_HFN(rows_loop)(pq, p, stride, rows, words, out); break;
    }
}
