/*
 * kernels_simd.c — the vector instantiations of kernels_simd_body.h and the AVX-512 Hamming
 * kernels. No unsafeFlags: each instruction set is enabled per function with
 * `#pragma clang attribute push(__attribute__((target(...))))`, so this file builds for baseline
 * x86-64 and kernels.c decides at run time which table may be called.
 */
#include "kernels_internal.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__clang__) && (defined(__x86_64__) || defined(__aarch64__))

typedef float qv_f32x4 __attribute__((vector_size(16)));
typedef float qv_f32x8 __attribute__((vector_size(32)));
typedef float qv_f32x16 __attribute__((vector_size(64)));
typedef uint8_t qv_u8x4 __attribute__((vector_size(4)));
typedef uint8_t qv_u8x8 __attribute__((vector_size(8)));
typedef uint8_t qv_u8x16 __attribute__((vector_size(16)));
typedef int32_t qv_i32x4 __attribute__((vector_size(16)));
typedef int32_t qv_i32x8 __attribute__((vector_size(32)));
typedef int32_t qv_i32x16 __attribute__((vector_size(64)));

/* Cache blocks of the batch kernels: both fit in L2 together (512 KiB on Zen 3, 1 MiB on Zen 4). */
#define QV_ROW_BLOCK_BYTES (128 * 1024)
#define QV_QUERY_BLOCK_BYTES (128 * 1024)
/* Outer-product batch kernel: packed query panels per pass over the rows (L2), and one panel's
 * slice of components (L1, with a row tile): 384 components of 16 queries on AVX2 (measured: 384
 * to 1024 equally fast at n = 384 ... 4096 on Zen 3, all components at once 15 % slower at 4096). */
#define QV_PACK_BYTES (256 * 1024)
#define QV_PANEL_SLICE_BYTES (24 * 1024)

/* Portable partial load: copy `count` floats into a zeroed vector (only used for tails). */
#define QV_DEFINE_MEMCPY_PARTIAL(NAME, TYPE)                                                    \
    static inline QV_ALWAYS_INLINE TYPE NAME(const unsigned char *p, size_t count) {            \
        TYPE v = {0};                                                                           \
        __builtin_memcpy(&v, p, count * 4);                                                     \
        return v;                                                                               \
    }

/* ---- 128-bit: SSE2 (the x86-64 baseline) or NEON ------------------------------------------ */

#define QV_VW 4
#define QV_VF qv_f32x4
#define QV_VB qv_u8x4
#define QV_VI qv_i32x4
/* 16 xmm registers: the same tiles as AVX2 below. */
#define QV_TILE_R 4
#define QV_TILE_Q 3
#define QV_L2_TILE_R 2
#define QV_L2_TILE_Q 4
#define QV_TILE_MAX 4
/* Outer product: 4 rows x 2 vectors = 8 accumulators (+ 2 query vectors, broadcast, product).
 * Not for L2 (QV_OP_L2_R 0: horizontal-sum tiles only): without FMA, and with a shuffle per
 * broadcast, it measured 15 % slower than the tiles on SSE2 (Zen 3), the dot 15 % faster.
 * NEON shares these choices (not measured there). */
#define QV_OP_R 4
#define QV_OP_L2_R 0
#define QV_OP_R_MAX 4
/* MaxSim: 2 tokens x 4 query tokens. AVX2's 3 x 4 needs a 17th register here (no FMA: the
 * product needs a temporary) and spills an accumulator to the stack in the inner loop; 2 x 4
 * measured faster on SSE2 (Zen 3, nq = 32, nt = 80, n = 128: 32 against 25 GFLOP/s, best of 21
 * runs on a noisy machine). NEON shares it (not measured there). */
#define QV_MS_R 2
#define QV_MS_Q 4
#if defined(__x86_64__)
#define QV_FN(name) qv_##name##_sse2
#define QV_ISA_NAME "sse2"
#else
#define QV_FN(name) qv_##name##_neon
#define QV_ISA_NAME "neon"
#endif
QV_DEFINE_MEMCPY_PARTIAL(QV_FN(partial), qv_f32x4)
#include "kernels_simd_body.h"
#if defined(__x86_64__)
QV_HIDDEN const qv_kernel_table *qv_internal_table_sse2(void) { return &QV_FN(table); }
#else
QV_HIDDEN const qv_kernel_table *qv_internal_table_neon(void) { return &QV_FN(table); }
#endif
#include "kernels_simd_end.h"

#if defined(__x86_64__)

/* ---- AVX2 + FMA --------------------------------------------------------------------------- */

/* 8 of -1 then 8 of 0: loading 8 lanes at offset 8 - count gives a mask of `count` lanes. */
static const int32_t qv_lane_masks[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define QV_VW 8
#define QV_VF qv_f32x8
#define QV_VB qv_u8x8
#define QV_VI qv_i32x8
/* 4 x 3 = 12 accumulators + 3 query vectors + 1 row vector = the 16 ymm registers. L2 needs
 * one more register for the difference, hence a 2 x 4 tile (measured faster than 3 x 3 and 4 x 2). */
#define QV_TILE_R 4
#define QV_TILE_Q 3
#define QV_L2_TILE_R 2
#define QV_L2_TILE_Q 4
#define QV_TILE_MAX 4
/* Outer product: 6 rows x 2 vectors = 12 accumulators + 2 query vectors + broadcast (+ the
 * difference for L2) of the 16 ymm registers. */
#define QV_OP_R 6
#define QV_OP_L2_R 6
#define QV_OP_R_MAX 6
/* MaxSim: 3 tokens x 4 query tokens = 12 accumulators + 3 token vectors + 1 query vector = the
 * 16 ymm registers: 7 loads per 12 FMAs, and the tile's 12 dot products reduce with three hsum4.
 * Measured at nq = 32, nt = 80, n = 128 (Zen 3, GFLOP/s, median of 21 runs on a noisy machine):
 * 3 x 4 55-60, 2 x 4 48-50, 2 x 6 43-46, 1 x 8 43-46, 2 x 5 39-45, 4 x 3 30 (three query tokens
 * leave no hsum4); the FMA peak is about 100. An outer-product tile (6 tokens x 16 query tokens
 * packed k-major, no horizontal sums, like dot_f32_batch) measured 80 without the packing but 60
 * with the query packed by a plain loop in every call, and pads nq to a multiple of 16. */
#define QV_MS_R 3
#define QV_MS_Q 4
#define QV_FN(name) qv_##name##_avx2
#define QV_ISA_NAME "avx2"
static inline QV_ALWAYS_INLINE qv_f32x8 qv_partial_avx2(const unsigned char *p, size_t count) {
    /* VMASKMOVPS does not fault on masked-off lanes, so it never reads past the row. */
    __m256i mask = _mm256_loadu_si256((const __m256i *)(qv_lane_masks + 8 - count));
    return (qv_f32x8)_mm256_maskload_ps((const float *)p, mask);
}
#include "kernels_simd_body.h"
QV_HIDDEN const qv_kernel_table *qv_internal_table_avx2(void) { return &QV_FN(table); }
#include "kernels_simd_end.h"
#pragma clang attribute pop

/* ---- AVX-512F + VL ------------------------------------------------------------------------ */

/* AVX512VL matters even though the kernels use 512-bit vectors: without it, the 256- and 128-bit
 * steps of the final horizontal sums can only use registers 0-15, and clang then confines the
 * accumulators that feed them to zmm0-15 as well, spilling half of the 24 accumulators. Every
 * AVX-512 CPU since Skylake-X has VL. */
/* Measured on Zen 4 (2 vCPU EPYC, 2026-11-23; it runs 512-bit operations as two 256-bit
 * halves): this table and the AVX2 one gave the same speed, within the machine's noise, for the
 * one-query exact scan (239-259 q/s on debian), the batched scan (1,805-1,853 q/s) and the HNSW
 * walk (ef 32: 8,100-10,500 q/s). The tile choices below are not tuned on that hardware. */
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl"))), apply_to = function)
#define QV_VW 16
#define QV_VF qv_f32x16
#define QV_VB qv_u8x16
#define QV_VI qv_i32x16
/* 8 x 3 = 24 accumulators + 3 query vectors + 1 row vector (+ 1 difference for L2), of the 32
 * zmm registers; the tile was checked for spills in the generated code. */
#define QV_TILE_R 8
#define QV_TILE_Q 3
#define QV_L2_TILE_R 8
#define QV_L2_TILE_Q 3
#define QV_TILE_MAX 8
/* Outer product: 8 rows x 2 vectors = 16 accumulators + 2 query vectors + broadcast (+ the
 * difference for L2). Not 12 rows (24 accumulators): the 12 row pointers, the panel pointer and
 * the counters then exceed the general registers and clang reloads pointers from the stack in
 * the inner loop (checked in the generated code). */
#define QV_OP_R 8
#define QV_OP_L2_R 8
#define QV_OP_R_MAX 8
/* MaxSim: 3 tokens x 8 query tokens = 24 accumulators + 3 token vectors + 1 query vector of the
 * 32 zmm registers (not timed against other tiles). */
#define QV_MS_R 3
#define QV_MS_Q 8
#define QV_FN(name) qv_##name##_avx512
#define QV_ISA_NAME "avx512"
static inline QV_ALWAYS_INLINE qv_f32x16 qv_partial_avx512(const unsigned char *p, size_t count) {
    /* Masked-off lanes are neither read (no fault) nor kept (zeroed). */
    return (qv_f32x16)_mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1u), p);
}
#include "kernels_simd_body.h"
QV_HIDDEN const qv_kernel_table *qv_internal_table_avx512(void) { return &QV_FN(table); }
#include "kernels_simd_end.h"
#pragma clang attribute pop

/* ---- Hamming with AVX-512 VPOPCNTDQ ------------------------------------------------------- */

#pragma clang attribute push(__attribute__((target("avx512f,avx512vpopcntdq"))), apply_to = function)

/* 64-bit words [8c, 8c + 8) of a code, masked to the first `mask` lanes; unaligned, no overread. */
static inline QV_ALWAYS_INLINE __m512i qv_code_chunk(const unsigned char *p, size_t c, __mmask8 mask) {
    return _mm512_maskz_loadu_epi64(mask, p + 64 * c);
}

/*
 * Transposes and sums 8 vectors of 8 per-lane counts: lane i of the result is the sum of all
 * lanes of v[i]. Three rounds halve the lanes per vector while doubling the vectors per register.
 */
static inline QV_ALWAYS_INLINE __m512i qv_sum8x8(const __m512i v[8]) {
    /* Round 1: t[i] = [v[2i]0+1, v[2i+1]0+1, v[2i]2+3, v[2i+1]2+3, ...]. */
    __m512i t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_add_epi64(_mm512_unpacklo_epi64(v[2 * i], v[2 * i + 1]),
                                _mm512_unpackhi_epi64(v[2 * i], v[2 * i + 1]));
    }
    /* Round 2: each 128-bit lane L of t[i] holds the partial sums of a pair over words 2L, 2L+1.
     * Adding lanes 0+1 and 2+3 gives, per pair, sums over words 0-3 and 4-7. */
    __m512i u[2];
    for (int i = 0; i < 2; i++) {
        __m512i even = _mm512_shuffle_i64x2(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0));
        __m512i odd = _mm512_shuffle_i64x2(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1));
        u[i] = _mm512_add_epi64(even, odd);
    }
    /* u[0] lanes: [v0 v1 | words 0-3], [v0 v1 | words 4-7], [v2 v3 | 0-3], [v2 v3 | 4-7]. */
    __m512i even = _mm512_shuffle_i64x2(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0));
    __m512i odd = _mm512_shuffle_i64x2(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1));
    return _mm512_add_epi64(even, odd);
}

static uint32_t qv_hamming_u64_avx512(const uint64_t *a, const uint64_t *b, size_t words) {
    const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
    __m512i acc = _mm512_setzero_si512();
    size_t c = 0;
    for (; 8 * c + 8 <= words; c++) {
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(
                                        qv_code_chunk(pa, c, 0xFF), qv_code_chunk(pb, c, 0xFF))));
    }
    if (8 * c < words) {
        const __mmask8 mask = (__mmask8)((1u << (words - 8 * c)) - 1u);
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(
                                        qv_code_chunk(pa, c, mask), qv_code_chunk(pb, c, mask))));
    }
    return (uint32_t)_mm512_reduce_add_epi64(acc);
}

/*
 * Eight rows at a time: one popcount vector per row, then one transposing reduction for all
 * eight, so a 384-bit code (6 words) costs one masked load, XOR, VPOPCNTQ and about two
 * shuffle-adds per row.
 */
static void qv_hamming_rows_avx512(const uint64_t *q, const void *base, size_t stride,
                                   size_t rows, size_t words, uint32_t *out) {
    const unsigned char *pq = (const unsigned char *)q;
    const unsigned char *p = (const unsigned char *)base;
    const size_t full = words / 8;
    const __mmask8 tail_mask = (__mmask8)((1u << (words % 8)) - 1u);
    size_t i = 0;
    for (; i + 8 <= rows; i += 8, p += 8 * stride) {
        __m512i acc[8];
        for (int r = 0; r < 8; r++) acc[r] = _mm512_setzero_si512();
        for (size_t c = 0; c < full; c++) {
            const __m512i qc = qv_code_chunk(pq, c, 0xFF);
            for (int r = 0; r < 8; r++) {
                acc[r] = _mm512_add_epi64(acc[r], _mm512_popcnt_epi64(_mm512_xor_si512(
                                                      qv_code_chunk(p + r * stride, c, 0xFF), qc)));
            }
        }
        if (tail_mask) {
            const __m512i qc = qv_code_chunk(pq, full, tail_mask);
            for (int r = 0; r < 8; r++) {
                acc[r] = _mm512_add_epi64(acc[r], _mm512_popcnt_epi64(_mm512_xor_si512(
                                                      qv_code_chunk(p + r * stride, full, tail_mask), qc)));
            }
        }
        /* Counts are at most 64 * words < 2^32, so narrowing to 32 bits is exact. */
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi64_epi32(qv_sum8x8(acc)));
    }
    for (; i < rows; i++, p += stride) {
        out[i] = qv_hamming_u64_avx512(q, (const uint64_t *)p, words);
    }
}

#pragma clang attribute pop

QV_HIDDEN qv_hamming_pair_fn qv_internal_hamming_u64_avx512(void) { return qv_hamming_u64_avx512; }
QV_HIDDEN qv_hamming_rows_fn qv_internal_hamming_rows_avx512(void) { return qv_hamming_rows_avx512; }

#endif /* __x86_64__ */
#endif /* __clang__ && (x86_64 || aarch64) */
