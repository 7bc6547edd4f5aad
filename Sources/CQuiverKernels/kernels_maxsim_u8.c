/*
 * kernels_maxsim_u8.c — MaxSim of a multi-vector query against a document stored as u8 codes
 * (int8 scalar quantisation), by exact integer sums: the cheap first rescoring of multi-vector
 * candidates, before the best of them are scored on their floats (quiver_kernels.h describes
 * the prepared query and the result).
 *
 * The layout puts query tokens in lanes: per 4 components, one 64-byte vector holds 16 query
 * tokens' 4 weights, so a document token's 4 code bytes, broadcast, meet 16 query tokens in one
 * multiply-add, and a vector of accumulators ends as the 16 dot products: no horizontal sums and
 * no packing of the document, whose tokens are scattered rows read in place from the map.
 *
 * Why 7-bit weights: the AVX2 multiply-add of bytes (VPMADDUBSW) multiplies an unsigned byte (a
 * code, 0...255) by a signed one and adds pairs into a saturating int16. With weights in
 * -63...63 a pair stays within 2 * 255 * 63 = 32130, so nothing saturates and the integer sums
 * are exact: the scalar loop and the vector kernels agree bit for bit.
 */
#include "kernels_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* The score's float operations must be the same in every kernel: no fused multiply-add where a
 * kernel's target has FMA. */
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { QV_MS_LANES = 16, QV_MS_LEVELS = 63, QV_MS_CENTRE = 128 };

static size_t qv_ms_padded(size_t n) { return (n + 3) / 4 * 4; }
static size_t qv_ms_groups(size_t nq) { return (nq + QV_MS_LANES - 1) / QV_MS_LANES; }

/* The prepared query: the weights (groups * padded(n) * 16 bytes, a multiple of 64), then per
 * padded token its scale (float), its weight sum (int32) and its constant (float). */
typedef struct {
    const int8_t *weights;
    const float *scales;
    const int32_t *sums;
    const float *constants;
} qv_ms_query;

static qv_ms_query qv_ms_layout(const void *prepared, size_t nq, size_t n) {
    const size_t tokens = qv_ms_groups(nq) * QV_MS_LANES;
    const uint8_t *p = (const uint8_t *)prepared;
    const size_t weight_bytes = qv_ms_groups(nq) * qv_ms_padded(n) * QV_MS_LANES;
    return (qv_ms_query){
        .weights = (const int8_t *)p,
        .scales = (const float *)(p + weight_bytes),
        .sums = (const int32_t *)(p + weight_bytes + 4 * tokens),
        .constants = (const float *)(p + weight_bytes + 8 * tokens),
    };
}

float qv_maxsim_u8_weight_step(const void *prepared, size_t nq, size_t n, size_t i) {
    return i < nq ? qv_ms_layout(prepared, nq, n).scales[i] : 0;
}

size_t qv_maxsim_u8_query_bytes(size_t nq, size_t n) {
    const size_t tokens = qv_ms_groups(nq) * QV_MS_LANES;
    return qv_ms_groups(nq) * qv_ms_padded(n) * QV_MS_LANES + 12 * tokens;
}


void qv_maxsim_u8_prepare(const float *weights, const float *biases, size_t nq, size_t n, void *prepared) {
    const size_t n4 = qv_ms_padded(n);
    const size_t tokens = qv_ms_groups(nq) * QV_MS_LANES;
    const size_t weight_bytes = qv_ms_groups(nq) * n4 * QV_MS_LANES;
    uint8_t *p = (uint8_t *)prepared;
    memset(p, 0, qv_maxsim_u8_query_bytes(nq, n));
    int8_t *w8 = (int8_t *)p;
    float *scales = (float *)(p + weight_bytes);
    int32_t *sums = (int32_t *)(p + weight_bytes + 4 * tokens);
    float *constants = (float *)(p + weight_bytes + 8 * tokens);
    for (size_t i = 0; i < nq; i++) {
        const float *w = weights + i * n;
        /* Four independent chains (one per d % 4), so that a token costs a quarter of the
         * additions' latency: the sum's order is part of the result (quiver_kernels.h). */
        float t[4] = {0, 0, 0, 0}, m[4] = {0, 0, 0, 0};
        int finite = 1;
        size_t d = 0;
        for (; d + 4 <= n; d += 4) {
            for (int c = 0; c < 4; c++) {
                const float a = fabsf(w[d + c]);
                finite &= a <= 3.402823466e+38f;
                m[c] = a > m[c] ? a : m[c];
                t[c] += w[d + c];
            }
        }
        for (int c = 0; d < n; d++, c++) {
            const float a = fabsf(w[d]);
            finite &= a <= 3.402823466e+38f;
            m[c] = a > m[c] ? a : m[c];
            t[c] += w[d];
        }
        const float largest = fmaxf(fmaxf(m[0], m[1]), fmaxf(m[2], m[3]));
        const float total = (t[0] + t[1]) + (t[2] + t[3]);
        constants[i] = (float)QV_MS_CENTRE * total + biases[i];
        if (!finite || !(largest > 0)) continue; /* weights of zero: the token scores its constant */
        scales[i] = largest / (float)QV_MS_LEVELS;
        const float inverse = (float)QV_MS_LEVELS / largest;
        /* Token i is lane i % 16 of group i / 16: components 4g ... 4g+3 at byte 64 g + 4 lane.
         * Quantised 256 components at a time into a buffer (a loop the compiler vectorises),
         * then laid out 4 bytes at a time. */
        int8_t *lane = w8 + (i / QV_MS_LANES) * n4 * QV_MS_LANES + 4 * (i % QV_MS_LANES);
        int32_t sum = 0;
        for (size_t first = 0; first < n; first += 256) {
            const size_t count = n - first < 256 ? n - first : 256;
            int8_t quantised[256];
            for (size_t d = 0; d < count; d++) {
                const float v = w[first + d] * inverse;
                float r = v + (v >= 0 ? 0.5f : -0.5f); /* halves away from zero, as the int8 panels round */
                r = r > (float)QV_MS_LEVELS ? (float)QV_MS_LEVELS : (r < -(float)QV_MS_LEVELS ? -(float)QV_MS_LEVELS : r);
                const int32_t c = (int32_t)r;
                quantised[d] = (int8_t)c;
                sum += c;
            }
            for (size_t d = count; d % 4 != 0; d++) quantised[d] = 0;
            for (size_t g = 0; g < (count + 3) / 4; g++) memcpy(lane + first * 16 + 64 * g, quantised + 4 * g, 4);
        }
        sums[i] = sum;
    }
}

/* The score from each token's largest integer dot product, in query order: the same float
 * operations for every kernel, so the same bits. */
static float qv_ms_combine(const qv_ms_query *query, size_t nq, int32_t *best) {
    float score = 0;
    for (size_t i = 0; i < nq; i++) {
        best[i] -= QV_MS_CENTRE * query->sums[i];
        score += query->scales[i] * (float)best[i] + query->constants[i];
    }
    return score;
}

float qv_internal_maxsim_u8_scalar(const void *prepared, size_t nq, size_t n, const void *const *tokens, size_t nt,
                                   int32_t *best) {
    if (nq == 0 || nt == 0) return 0;
    const qv_ms_query query = qv_ms_layout(prepared, nq, n);
    const size_t n4 = qv_ms_padded(n);
    for (size_t i = 0; i < nq; i++) {
        const int8_t *lane = query.weights + (i / QV_MS_LANES) * n4 * QV_MS_LANES + 4 * (i % QV_MS_LANES);
        int32_t top = INT32_MIN;
        for (size_t j = 0; j < nt; j++) {
            const uint8_t *c = (const uint8_t *)tokens[j];
            int32_t sum = 0;
            for (size_t d = 0; d < n4; d++) sum += (int32_t)c[d] * (int32_t)lane[64 * (d / 4) + d % 4];
            if (sum > top) top = sum;
        }
        best[i] = top;
    }
    return qv_ms_combine(&query, nq, best);
}

#if defined(__clang__) && defined(__x86_64__)

static inline int32_t qv_ms_word(const void *codes, size_t chunk) {
    int32_t word;
    memcpy(&word, (const uint8_t *)codes + 4 * chunk, 4);
    return word;
}

/* The next tile's code rows into the cache while this tile is scored (scattered rows: the
 * hardware prefetcher cannot guess them). */
static inline void qv_ms_prefetch(const void *const *tokens, size_t from, size_t nt, size_t lines) {
    for (size_t j = from; j < from + 4 && j < nt; j++) qv_prefetch(tokens[j], lines);
}

/*
 * The vector kernels, one body (kernels_maxsim_u8_body.h) compiled twice:
 *   - AVX2: 8 query tokens (half a group) per vector; per 4 components and document token, a
 *     broadcast of the token's 4 code bytes, VPMADDUBSW with the weights, VPMADDWD by ones and
 *     VPADDD;
 *   - AVX-512 VNNI: a whole group (16 query tokens) per vector, one VPDPBUSD per 4 components
 *     and document token.
 * Both score 4 document tokens at a time (four independent accumulators) and give the scalar
 * loop's integer sums bit for bit (nothing saturates, see above).
 */
#define QV_MS_FN(name) name##_avx2
#define QV_MS_TARGET "avx2"
#define QV_MS_VEC __m256i
#define QV_MS_STEP 8
#define QV_MS_ZERO() _mm256_setzero_si256()
#define QV_MS_SET1(x) _mm256_set1_epi32(x)
#define QV_MS_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define QV_MS_STORE(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define QV_MS_MAX(a, b) _mm256_max_epi32(a, b)
#define QV_MS_MAC(acc, codes, w) \
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(codes, w), _mm256_set1_epi16(1)))
#include "kernels_maxsim_u8_body.h"

#define QV_MS_FN(name) name##_avx512vnni
#define QV_MS_TARGET "avx2,avx512f,avx512bw,avx512vnni"
#define QV_MS_VEC __m512i
#define QV_MS_STEP 16
#define QV_MS_ZERO() _mm512_setzero_si512()
#define QV_MS_SET1(x) _mm512_set1_epi32(x)
#define QV_MS_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define QV_MS_STORE(p, v) _mm512_storeu_si512((void *)(p), v)
#define QV_MS_MAX(a, b) _mm512_max_epi32(a, b)
#define QV_MS_MAC(acc, codes, w) _mm512_dpbusd_epi32(acc, codes, w)
#include "kernels_maxsim_u8_body.h"
#endif
