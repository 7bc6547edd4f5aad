/*
 * kernels_internal.h — declarations shared by kernels.c (dispatch, scalar) and kernels_simd.c
 * (vector instantiations). Not part of the public header.
 */
#ifndef QUIVER_KERNELS_INTERNAL_H
#define QUIVER_KERNELS_INTERNAL_H

#include "quiver_kernels.h"

#define QV_ALWAYS_INLINE __attribute__((always_inline))
#define QV_HIDDEN __attribute__((visibility("hidden")))

/* What a shared kernel body computes; a compile-time constant wherever it is used. */
enum { QV_DOT = 0, QV_L2 = 1, QV_NORM = 2 };

typedef uint32_t (*qv_hamming_pair_fn)(const uint64_t *a, const uint64_t *b, size_t words);
typedef void (*qv_hamming_rows_fn)(const uint64_t *q, const void *base, size_t stride_bytes,
                                   size_t rows, size_t words, uint32_t *out);

/*
 * Scratch buffers of the batch kernels (which pack their queries into them), from a small pool
 * shared by all threads: take returns a 64-byte-aligned buffer of at least `floats` floats, or
 * NULL when memory runs out; give returns it to the pool (or frees it when the pool is full).
 */
QV_HIDDEN float *qv_internal_scratch_take(size_t floats);
QV_HIDDEN void qv_internal_scratch_give(float *buffer);

/* A stored little-endian u32 (every value in the store is little-endian) in host order. */
static inline uint32_t qv_le32(uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/* Int8 panels (kernels_i8_panels.c): AVX2's table runs the AVX2 kernel, AVX-512's the VNNI one when
 * the CPU has it (else AVX2's); every other table runs the scalar loop. */
typedef void (*qv_dot_i8_panels_fn)(const float *queries, size_t nq, size_t q_stride, const int8_t *panels,
                                    const float *scales, const int32_t *sums, size_t rows, size_t n,
                                    void *scratch, float *out);
QV_HIDDEN void qv_internal_dot_i8_panels_scalar(const float *queries, size_t nq, size_t q_stride,
                                                const int8_t *panels, const float *scales, const int32_t *sums,
                                                size_t rows, size_t n, void *scratch, float *out);
#if defined(__clang__) && defined(__x86_64__)
QV_HIDDEN void qv_internal_dot_i8_panels_avx2(const float *queries, size_t nq, size_t q_stride,
                                              const int8_t *panels, const float *scales, const int32_t *sums,
                                              size_t rows, size_t n, void *scratch, float *out);
QV_HIDDEN void qv_internal_dot_i8_panels_avx512vnni(const float *queries, size_t nq, size_t q_stride,
                                                    const int8_t *panels, const float *scales,
                                                    const int32_t *sums, size_t rows, size_t n, void *scratch,
                                                    float *out);
#endif

/* MaxSim on u8 codes (kernels_maxsim_u8.c): tables choose as for the int8 panels. */
typedef float (*qv_maxsim_u8_fn)(const void *prepared, size_t nq, size_t n, const void *const *tokens, size_t nt,
                                 int32_t *best);
QV_HIDDEN float qv_internal_maxsim_u8_scalar(const void *prepared, size_t nq, size_t n, const void *const *tokens,
                                             size_t nt, int32_t *best);
#if defined(__clang__) && defined(__x86_64__)
QV_HIDDEN float qv_internal_maxsim_u8_avx2(const void *prepared, size_t nq, size_t n, const void *const *tokens,
                                           size_t nt, int32_t *best);
QV_HIDDEN float qv_internal_maxsim_u8_avx512vnni(const void *prepared, size_t nq, size_t n,
                                                 const void *const *tokens, size_t nt, int32_t *best);
#endif

/* Best lists (qv_best_lists): every slot empty, -infinity and UINT32_MAX. */
static inline void qv_best_lists_reset(size_t nq, size_t nprobe, float *values, uint32_t *lists) {
    for (size_t j = 0; j < nq * nprobe; j++) {
        values[j] = -__builtin_inff();
        lists[j] = UINT32_MAX;
    }
}

/* Puts (v, l) into the descending run values[0..<n], dropping its last; an equal value keeps
 * its place ahead. The caller has checked that v beats values[n - 1]. */
static inline void qv_insert_best(float *values, uint32_t *lists, size_t n, float v, uint32_t l) {
    size_t j = n - 1;
    while (j > 0 && values[j - 1] < v) {
        values[j] = values[j - 1];
        lists[j] = lists[j - 1];
        j--;
    }
    values[j] = v;
    lists[j] = l;
}

/* The dot product of the token-pooling distances (qv_pool_distances): products of even and of
 * odd components summed apart, in order, the two sums added, then the last product when n is
 * odd; never a fused multiply-add, so every table gives the same bits. */
static inline double qv_pool_dot(const double *a, const double *b, size_t n) {
#pragma clang fp contract(off)
    double even = 0, odd = 0;
    size_t k = 0;
    for (; k + 2 <= n; k += 2) {
        even += a[k] * b[k];
        odd += a[k + 1] * b[k + 1];
    }
    double dot = even + odd;
    if (k < n) dot += a[k] * b[k];
    return dot;
}

/* A pooling distance from two squared norms and their dot product: sqrt(max(0, (x + y) - 2p)). */
static inline double qv_pool_distance(double x, double y, double p) {
#pragma clang fp contract(off)
    const double s = (x + y) - 2 * p;
    return __builtin_sqrt(s > 0 ? s : 0);
}

/* Float tables from kernels_simd.c; their hamming fields are NULL (the dispatcher fills them). */
#if defined(__clang__) && defined(__x86_64__)
#define QV_HAVE_X86_TABLES 1
QV_HIDDEN const qv_kernel_table *qv_internal_table_sse2(void);
QV_HIDDEN const qv_kernel_table *qv_internal_table_avx2(void);
QV_HIDDEN const qv_kernel_table *qv_internal_table_avx512(void);
QV_HIDDEN qv_hamming_pair_fn qv_internal_hamming_u64_avx512(void);
QV_HIDDEN qv_hamming_rows_fn qv_internal_hamming_rows_avx512(void);
#elif defined(__clang__) && defined(__aarch64__)
#define QV_HAVE_NEON_TABLE 1
QV_HIDDEN const qv_kernel_table *qv_internal_table_neon(void);
#endif

#endif /* QUIVER_KERNELS_INTERNAL_H */
