/*
 * kernels_i8_panels.c — int8 panels: a fixed float matrix (IVF centroids) packed as signed bytes,
 * scored against a batch of float queries quantised to 7 bits (quiver_kernels.h describes the
 * layout and the result).
 *
 * Why 7 bits for the queries: the AVX2 multiply-add of bytes (VPMADDUBSW) multiplies an unsigned
 * byte by a signed one and adds pairs into a saturating int16. With the query offset into
 * 1...127 and the codes in -127...127 a pair stays within 2 * 127 * 127 = 32258, so nothing
 * saturates and the integer sums are exact: the scalar loop and the vector kernel agree bit for
 * bit. The offset (64 per component) is taken out through each row's code sum.
 */
#include "kernels_internal.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { QV_PANEL_ROWS = 8, QV_QUERY_OFFSET = 64 };
_Static_assert(QV_QUERY_OFFSET == 1 << 6, "the AVX2 kernel multiplies the code sums by a shift of 6");

static size_t qv_padded_components(size_t n) { return (n + 3) / 4 * 4; }

size_t qv_i8_panels_rows(size_t rows) { return (rows + QV_PANEL_ROWS - 1) / QV_PANEL_ROWS * QV_PANEL_ROWS; }

size_t qv_i8_panels_bytes(size_t rows, size_t n) { return qv_i8_panels_rows(rows) * qv_padded_components(n); }

size_t qv_i8_panels_scratch_bytes(size_t nq, size_t n) { return nq * 4 + nq * qv_padded_components(n); }

/* v rounded to an integer, halves away from zero, by adding 0.5 and truncating: an inline
 * conversion where lrintf is a library call on baseline x86-64 (it halved the packing time). The
 * Swift oracle does the same float operations. |v| <= 127.5 here. */
static inline long qv_round(float v) { return (long)(v + (v >= 0 ? 0.5f : -0.5f)); }

/* The largest magnitude of n floats, or -1 when one is not finite. */
static float qv_max_magnitude(const float *x, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        const float a = fabsf(x[i]);
        if (!(a <= 3.402823466e+38f)) return -1;
        if (a > m) m = a;
    }
    return m;
}

void qv_i8_panels_pack(const float *rows, size_t count, size_t n, size_t stride_floats, int8_t *panels,
                       float *scales, int32_t *sums) {
    const size_t n4 = qv_padded_components(n);
    const size_t padded = qv_i8_panels_rows(count);
    memset(panels, 0, padded * n4);
    memset(scales, 0, padded * sizeof(float));
    memset(sums, 0, padded * sizeof(int32_t));
    for (size_t r = 0; r < count; r++) {
        const float *x = rows + r * stride_floats;
        const float m = qv_max_magnitude(x, n);
        if (m <= 0) continue; /* zero or not finite: a row of zeros that scores 0 */
        const float inverse = 127.0f / m;
        int8_t *panel = panels + (r / QV_PANEL_ROWS) * QV_PANEL_ROWS * n4 + (r % QV_PANEL_ROWS) * 4;
        int32_t sum = 0;
        for (size_t d = 0; d < n; d++) {
            long c = qv_round(x[d] * inverse);
            c = c > 127 ? 127 : (c < -127 ? -127 : c);
            panel[(d / 4) * 32 + d % 4] = (int8_t)c;
            sum += (int32_t)c;
        }
        scales[r] = m / 127.0f;
        sums[r] = sum;
    }
}

/* Queries quantised into the scratch: nq scales (floats), then nq rows of `stride` (n rounded up
 * to 4) bytes in 1...127 (64 in the padding and for a query that is zero or not finite, whose
 * scale is 0). */
typedef struct {
    const float *scales;
    const uint8_t *codes;
    size_t stride;
} qv_query_codes;

static qv_query_codes qv_quantise_queries(const float *queries, size_t nq, size_t q_stride, size_t n,
                                          void *scratch) {
    const size_t n4 = qv_padded_components(n);
    float *b = (float *)scratch;
    uint8_t *u = (uint8_t *)scratch + nq * 4;
    memset(u, QV_QUERY_OFFSET, nq * n4);
    for (size_t i = 0; i < nq; i++) {
        const float *q = queries + i * q_stride;
        const float m = qv_max_magnitude(q, n);
        b[i] = m > 0 ? m / 63.0f : 0;
        if (!(m > 0)) continue;
        const float inverse = 63.0f / m;
        for (size_t d = 0; d < n; d++) {
            long c = qv_round(q[d] * inverse);
            c = c > 63 ? 63 : (c < -63 ? -63 : c);
            u[i * n4 + d] = (uint8_t)(c + QV_QUERY_OFFSET);
        }
    }
    return (qv_query_codes){.scales = b, .codes = u, .stride = n4};
}

static inline float qv_panel_score(int32_t sum, int32_t row_sum, float row_scale, float query_scale) {
    return ((float)(sum - QV_QUERY_OFFSET * row_sum) * row_scale) * query_scale;
}

void qv_internal_dot_i8_panels_scalar(const float *queries, size_t nq, size_t q_stride, const int8_t *panels,
                                      const float *scales, const int32_t *sums, size_t rows, size_t n,
                                      void *scratch, float *out) {
    if (nq == 0 || rows == 0) return;
    const qv_query_codes query = qv_quantise_queries(queries, nq, q_stride, n, scratch);
    const uint8_t *u = query.codes;
    const float *b = query.scales;
    const size_t n4 = query.stride;
    for (size_t r = 0; r < rows; r++) {
        const int8_t *panel = panels + (r / QV_PANEL_ROWS) * QV_PANEL_ROWS * n4 + (r % QV_PANEL_ROWS) * 4;
        for (size_t i = 0; i < nq; i++) {
            const uint8_t *q = u + i * n4;
            int32_t sum = 0;
            for (size_t g = 0; g < n4 / 4; g++) {
                for (size_t k = 0; k < 4; k++) sum += (int32_t)q[4 * g + k] * (int32_t)panel[32 * g + k];
            }
            out[r * nq + i] = qv_panel_score(sum, sums[r], scales[r], b[i]);
        }
    }
}

#if defined(__clang__) && defined(__x86_64__)
/*
 * The vector kernels, one body (kernels_i8_panels_body.h) compiled twice:
 *   - AVX2: per 4 components and query, VPMADDUBSW (byte pairs into int16) then VPMADDWD by
 *     ones (pairs of pairs into int32) and VPADDD: two multiplies and an add. Up to 8 query
 *     accumulators, so that they, the panel vector, the ones and a temporary fit 16 ymm
 *     registers.
 *   - AVX-512 VNNI (256-bit, EVEX): one VPDPBUSD does the same four byte products and their
 *     sum into the int32 accumulator; 32 registers hold up to 12 query accumulators, so 12
 *     query tokens share one load of each panel vector.
 * Both give the scalar loop's integer sums bit for bit (nothing saturates, see above).
 */
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#define QV_PANEL_FN(name) name##_avx2
#define QV_PANEL_MAX_T 8
#define QV_PANEL_MAC(acc, q4, c) \
    _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((q4), (c)), _mm256_set1_epi16(1)))
#include "kernels_i8_panels_body.h"
#undef QV_PANEL_FN
#undef QV_PANEL_MAX_T
#undef QV_PANEL_MAC
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"))), apply_to = function)
#define QV_PANEL_FN(name) name##_avx512vnni
#define QV_PANEL_MAX_T 12
#define QV_PANEL_MAC(acc, q4, c) _mm256_dpbusd_epi32((acc), (q4), (c))
#include "kernels_i8_panels_body.h"
#undef QV_PANEL_FN
#undef QV_PANEL_MAX_T
#undef QV_PANEL_MAC
#pragma clang attribute pop
#endif
