/*
 * kernels_maxsim_u8_body.h — the vector kernel of MaxSim on u8 codes, included by
 * kernels_maxsim_u8.c once per instruction set with:
 *   QV_MS_FN(name)            the function's name for this set
 *   QV_MS_TARGET              its target attribute
 *   QV_MS_VEC, QV_MS_STEP     the int32 vector type and its lanes (query tokens per pass)
 *   QV_MS_ZERO, QV_MS_SET1, QV_MS_LOAD, QV_MS_STORE, QV_MS_MAX   the vector operations
 *   QV_MS_MAC(acc, codes, w)  acc plus, per lane, the four products of the broadcast code bytes
 *                             (unsigned) and w's weights (signed), exactly
 * and undefines them at its end. Not a header to include elsewhere: it has no include guard on
 * purpose.
 */

__attribute__((target(QV_MS_TARGET))) float QV_MS_FN(qv_internal_maxsim_u8)(const void *prepared, size_t nq, size_t n,
                                                                            const void *const *tokens, size_t nt,
                                                                            int32_t *best) {
    if (nq == 0 || nt == 0) return 0;
    const qv_ms_query query = qv_ms_layout(prepared, nq, n);
    const size_t chunks = qv_ms_padded(n) / 4;
    const size_t lines = (4 * chunks + 63) / 64 + 1;
    for (size_t first = 0; first < nq; first += QV_MS_STEP) {
        /* Query token `first` is lane first % 16 of group first / 16. */
        const int8_t *weights = query.weights + (first / QV_MS_LANES) * chunks * 64 + 4 * (first % QV_MS_LANES);
        QV_MS_VEC top = QV_MS_SET1(INT32_MIN);
        for (size_t j = 0; j < nt; j += 4) {
            qv_ms_prefetch(tokens, j + 4, nt, lines);
            /* A last tile of fewer than 4 tokens repeats its last one (a repeat changes no
             * maximum), so every tile has four independent accumulators. */
            const size_t last = nt - 1;
            const void *t0 = tokens[j], *t1 = tokens[j + 1 < last ? j + 1 : last];
            const void *t2 = tokens[j + 2 < last ? j + 2 : last], *t3 = tokens[j + 3 < last ? j + 3 : last];
            QV_MS_VEC a0 = QV_MS_ZERO(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t k = 0; k < chunks; k++) {
                const QV_MS_VEC w = QV_MS_LOAD(weights + 64 * k);
                a0 = QV_MS_MAC(a0, QV_MS_SET1(qv_ms_word(t0, k)), w);
                a1 = QV_MS_MAC(a1, QV_MS_SET1(qv_ms_word(t1, k)), w);
                a2 = QV_MS_MAC(a2, QV_MS_SET1(qv_ms_word(t2, k)), w);
                a3 = QV_MS_MAC(a3, QV_MS_SET1(qv_ms_word(t3, k)), w);
            }
            top = QV_MS_MAX(top, QV_MS_MAX(QV_MS_MAX(a0, a1), QV_MS_MAX(a2, a3)));
        }
        int32_t lanes[QV_MS_STEP];
        QV_MS_STORE(lanes, top);
        for (size_t t = 0; t < QV_MS_STEP && first + t < nq; t++) best[first + t] = lanes[t];
    }
    return qv_ms_combine(&query, nq, best);
}

#undef QV_MS_FN
#undef QV_MS_TARGET
#undef QV_MS_VEC
#undef QV_MS_STEP
#undef QV_MS_ZERO
#undef QV_MS_SET1
#undef QV_MS_LOAD
#undef QV_MS_STORE
#undef QV_MS_MAX
#undef QV_MS_MAC
