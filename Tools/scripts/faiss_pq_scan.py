#!/usr/bin/env python3
"""FAISS IndexPQ code-scan speed for `Tools/scripts/bench-codes.sh`: codes scored per second
by `IndexPQ.search` (m sub-quantisers x 8 bits, inner product on normalised vectors), one query
at a time on one thread, the median of 5 passes, printed as one JSON object.

  python faiss_pq_scan.py BASE.fvecs QUERIES.fvecs [--m 48] [--queries-limit 300]
"""
import argparse, json, time
import numpy as np
import faiss

def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.float32)
    d = raw[:1].view(np.int32)[0]
    return np.ascontiguousarray(raw.reshape(-1, d + 1)[:, 1:])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base"); ap.add_argument("queries")
    ap.add_argument("--m", type=int, default=48)
    ap.add_argument("--queries-limit", type=int, default=300)
    a = ap.parse_args()
    faiss.omp_set_num_threads(1)
    xb = read_fvecs(a.base); xq = read_fvecs(a.queries)[: a.queries_limit]
    xb /= np.linalg.norm(xb, axis=1, keepdims=True); xq /= np.linalg.norm(xq, axis=1, keepdims=True)
    pq = faiss.IndexPQ(xb.shape[1], a.m, 8, faiss.METRIC_INNER_PRODUCT)
    pq.train(xb); pq.add(xb)
    passes = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(len(xq)):
            pq.search(xq[i:i + 1], 10)
        passes.append(time.perf_counter() - t)
    seconds = float(np.median(passes))
    print(json.dumps({"peer": "faiss-indexpq", "m": a.m, "base_vectors": len(xb), "queries": len(xq),
                      "queries_per_second": len(xq) / seconds, "codes_scored_per_second": len(xq) * len(xb) / seconds,
                      "pass_seconds": passes}))

if __name__ == "__main__":
    main()
