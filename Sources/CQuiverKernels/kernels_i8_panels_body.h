/*
 * kernels_i8_panels_body.h — the vector int8-panel kernel, included by kernels_i8_panels.c once
 * per instruction set with:
 *   QV_PANEL_FN(name)       the function's name for this set
 *   QV_PANEL_MAX_T          the most query accumulators the registers hold
 *   QV_PANEL_MAC(acc, q, c) acc (8 x int32) plus, per lane, the sum of the four products of
 *                           q's unsigned bytes and c's signed bytes, exactly
 * Not a header to include elsewhere: it has no include guard on purpose.
 */

/* Rows 0 ... lanes-1 of the 8 x 4 block v[0 .. 4) (v[t] holds query t's 8 rows) to
 * out + j * nq, 4 floats each: a 4 x 4 transpose in each 128-bit half. */
static inline QV_ALWAYS_INLINE void QV_PANEL_FN(qv_i8_store4)(const __m256 *v, float *out, size_t nq, size_t lanes) {
    const __m256 a = _mm256_unpacklo_ps(v[0], v[1]), b = _mm256_unpackhi_ps(v[0], v[1]);
    const __m256 c = _mm256_unpacklo_ps(v[2], v[3]), d = _mm256_unpackhi_ps(v[2], v[3]);
    const __m256 r0 = _mm256_shuffle_ps(a, c, 0x44), r1 = _mm256_shuffle_ps(a, c, 0xEE);
    const __m256 r2 = _mm256_shuffle_ps(b, d, 0x44), r3 = _mm256_shuffle_ps(b, d, 0xEE);
    const __m256 rows[4] = {r0, r1, r2, r3}; /* row j in half j / 4 of rows[j % 4] */
    for (size_t j = 0; j < lanes; j++) {
        const __m128 row = j < 4 ? _mm256_castps256_ps128(rows[j]) : _mm256_extractf128_ps(rows[j - 4], 1);
        _mm_storeu_ps(out + j * nq, row);
    }
}

/*
 * One panel (8 rows) against T queries: per 4 components one 32-byte load of the panel, and per
 * query a broadcast of its 4 bytes and one QV_PANEL_MAC: T int32 accumulators of 8 rows each,
 * no horizontal sums. The output is row-major (out[j * nq + t]): the T vectors are transposed
 * four queries at a time, so each row gets 16-byte stores rather than T scattered floats (which
 * cost a third of the kernel's time at T = 12).
 */
static inline QV_ALWAYS_INLINE void QV_PANEL_FN(qv_i8_panel_tile)(const int T, const int8_t *panel, size_t groups,
                                                                 const uint8_t *q, size_t n4, const float *b,
                                                                 __m256 row_scales, __m256i row_offsets,
                                                                 float *out, size_t nq, size_t lanes) {
    __m256i acc[QV_PANEL_MAX_T];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_si256();
    for (size_t g = 0; g < groups; g++) {
        const __m256i c = _mm256_loadu_si256((const __m256i *)(panel + 32 * g));
        for (int t = 0; t < T; t++) {
            int32_t word;
            memcpy(&word, q + t * n4 + 4 * g, 4);
            acc[t] = QV_PANEL_MAC(acc[t], _mm256_set1_epi32(word), c);
        }
    }
    __m256 v[QV_PANEL_MAX_T];
    for (int t = 0; t < T; t++) {
        /* The same operations in the same order as qv_panel_score. */
        v[t] = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[t], row_offsets)), row_scales),
                             _mm256_set1_ps(b[t]));
    }
    int t = 0;
    for (; t + 4 <= T; t += 4) QV_PANEL_FN(qv_i8_store4)(v + t, out + t, nq, lanes);
    for (; t < T; t++) {
        float lane[8];
        _mm256_storeu_ps(lane, v[t]);
        for (size_t j = 0; j < lanes; j++) out[j * nq + t] = lane[j];
    }
}

void QV_PANEL_FN(qv_internal_dot_i8_panels)(const float *queries, size_t nq, size_t q_stride, const int8_t *panels,
                                            const float *scales, const int32_t *sums, size_t rows, size_t n,
                                            void *scratch, float *out) {
    if (nq == 0 || rows == 0) return;
    const qv_query_codes query = qv_quantise_queries(queries, nq, q_stride, n, scratch);
    const uint8_t *u = query.codes;
    const float *b = query.scales;
    const size_t n4 = query.stride;
    const size_t groups = n4 / 4;
    /* Query tiles of equal size (12 queries with 8 accumulators: two of 6, not 8 and 4). */
    const size_t tiles = (nq + QV_PANEL_MAX_T - 1) / QV_PANEL_MAX_T;
    const size_t per_tile = (nq + tiles - 1) / tiles;
    for (size_t first = 0; first < rows; first += QV_PANEL_ROWS) {
        const int8_t *panel = panels + first * n4;
        const __m256 row_scales = _mm256_loadu_ps(scales + first);
        const __m256i row_offsets = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(sums + first)), 6);
        const size_t lanes = rows - first < QV_PANEL_ROWS ? rows - first : QV_PANEL_ROWS;
        for (size_t i = 0; i < nq; i += per_tile) {
            const size_t T = nq - i < per_tile ? nq - i : per_tile;
            float *o = out + first * nq + i;
            const uint8_t *q = u + i * n4;
            switch (T) {
#define QV_TILE_CASE(TT)                                                                                           \
    case TT:                                                                                                       \
        QV_PANEL_FN(qv_i8_panel_tile)((TT) < QV_PANEL_MAX_T ? (TT) : QV_PANEL_MAX_T, panel, groups, q, n4, b + i, \
                                      row_scales, row_offsets, o, nq, lanes);                                      \
        break;
                QV_TILE_CASE(12)
                QV_TILE_CASE(11)
                QV_TILE_CASE(10)
                QV_TILE_CASE(9)
                QV_TILE_CASE(8)
                QV_TILE_CASE(7)
                QV_TILE_CASE(6)
                QV_TILE_CASE(5)
                QV_TILE_CASE(4)
                QV_TILE_CASE(3)
                QV_TILE_CASE(2)
#undef QV_TILE_CASE
                default:
                    QV_PANEL_FN(qv_i8_panel_tile)(1, panel, groups, q, n4, b + i, row_scales, row_offsets, o, nq, lanes);
                    break;
            }
        }
    }
}
