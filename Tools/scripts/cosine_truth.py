#!/usr/bin/env python3
"""Exact top-100 by cosine, in float64, as .ivecs: the truth `bench.sh` checks cosine recall
against. (`../shared/data/debian/gt.ivecs` ranks by inner product of vectors whose norms the
float16 storage left at 1 ± 8e-5, which reorders 2 of 10,000 top-10 places under cosine.)

  python cosine_truth.py BASE.fvecs QUERIES.fvecs OUT.ivecs
"""
import sys
import numpy as np

def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.float32)
    d = raw[:1].view(np.int32)[0]
    return raw.reshape(-1, d + 1)[:, 1:].astype(np.float64)

xb, xq = read_fvecs(sys.argv[1]), read_fvecs(sys.argv[2])
xb /= np.linalg.norm(xb, axis=1, keepdims=True)
xq /= np.linalg.norm(xq, axis=1, keepdims=True)
ids = np.empty((len(xq), 100), dtype=np.int32)
for s in range(0, len(xq), 100):
    ids[s:s + 100] = np.argsort(-(xq[s:s + 100] @ xb.T), axis=1, kind="stable")[:, :100]
rows = np.empty((len(xq), 101), dtype=np.int32)
rows[:, 0] = 100
rows[:, 1:] = ids
rows.tofile(sys.argv[3])
