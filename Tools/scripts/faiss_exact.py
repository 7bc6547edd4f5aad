#!/usr/bin/env python3
"""FAISS exact-search peers for `Tools/scripts/bench.sh`: IndexFlatIP and IndexBinaryFlat,
one query at a time and batched, on one thread, printed as one JSON object.

  python faiss_exact.py BASE.fvecs QUERIES.fvecs [--queries N]
"""
import argparse, json, time
import numpy as np
import faiss

def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.float32)
    d = raw[:1].view(np.int32)[0]
    return np.ascontiguousarray(raw.reshape(-1, d + 1)[:, 1:])

def median_ms_one_at_a_time(index, queries, k):
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q[None, :], k)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base"); ap.add_argument("queries")
    ap.add_argument("--queries-limit", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    faiss.omp_set_num_threads(1)
    xb, xq = read_fvecs(a.base), read_fvecs(a.queries)[: a.queries_limit]
    xb /= np.linalg.norm(xb, axis=1, keepdims=True)
    xq /= np.linalg.norm(xq, axis=1, keepdims=True)
    out = {"peer": "faiss", "faiss_version": faiss.__version__, "rows": len(xb), "dimensions": xb.shape[1], "queries": len(xq), "threads": 1}
    flat = faiss.IndexFlatIP(xb.shape[1]); flat.add(xb)
    flat.search(xq[:10], a.k)
    ms = median_ms_one_at_a_time(flat, xq[:300], a.k)
    out["flat_milliseconds_per_query_median"] = ms
    out["flat_queries_per_second"] = 1e3 / ms
    t = time.perf_counter(); flat.search(xq, a.k); out["flat_batch_queries_per_second"] = len(xq) / (time.perf_counter() - t)
    bb, bq = np.packbits(xb > 0, axis=1), np.packbits(xq > 0, axis=1)
    binary = faiss.IndexBinaryFlat(xb.shape[1]); binary.add(bb)
    binary.search(bq[:10], a.k)
    ms = median_ms_one_at_a_time(binary, bq, a.k)
    out["binary_milliseconds_per_query_median"] = ms
    out["binary_queries_per_second"] = 1e3 / ms
    t = time.perf_counter(); binary.search(bq, a.k); out["binary_batch_queries_per_second"] = len(bq) / (time.perf_counter() - t)
    print(json.dumps(out))

if __name__ == "__main__":
    main()
