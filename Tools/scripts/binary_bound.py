#!/usr/bin/env python3
"""What one bit per dimension can give at best: candidates ranked by an exhaustive scan of
binary-code estimates, then rescored exactly, with no graph to lose any of them.

For each shortlist size c, recall@k of the exact top k among the c best rows by the estimate
(docs/benchmarks.md, "Compressed search": the bound that a walk on binary codes cannot beat).
Estimates (vectors normalised, cosine):
  sign        q . sign(x): what Quiver's binary codes score (the float query against the bits)
  centred     RaBitQ-style (Gao & Long 2024): the bits of x - mean, each row's estimate divided
              by <sign(x - mean)/sqrt(D), (x - mean)/|x - mean|> and scaled by |x - mean|
              (two floats a row on top of the bits)

    python3 binary_bound.py BASE.fvecs QUERIES.fvecs TRUTH.ivecs [--k 10] [--shortlists 10,20,...]

Prints one JSON object: for each estimate, recall_at_k per shortlist size.
"""
import argparse
import json

import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    dimensions = int(raw[0])
    return raw.reshape(-1, dimensions + 1)[:, 1:].view(dtype)


def recall_after_rescoring(estimates, base, queries, truth, k, shortlists):
    order = np.argsort(-estimates, axis=1)[:, : max(shortlists)]
    recalls = {}
    for c in shortlists:
        found = 0
        for i, query in enumerate(queries):
            candidates = order[i, :c]
            exact = base[candidates] @ query
            top = candidates[np.argsort(-exact)[:k]]
            found += len(set(top.tolist()) & set(truth[i, :k].tolist()))
        recalls[str(c)] = round(found / (len(queries) * k), 4)
    return recalls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base")
    parser.add_argument("queries")
    parser.add_argument("truth")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--shortlists", default="10,20,30,40,50,60,80")
    args = parser.parse_args()
    shortlists = [int(c) for c in args.shortlists.split(",")]
    base = read_vecs(args.base, np.float32).astype(np.float32)
    queries = read_vecs(args.queries, np.float32).astype(np.float32)
    truth = read_vecs(args.truth, np.int32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    dimensions = base.shape[1]

    signs = np.where(base >= 0, 1.0, -1.0).astype(np.float32)
    sign_estimates = queries @ signs.T

    mean = base.mean(axis=0)
    centred = base - mean
    norms = np.linalg.norm(centred, axis=1)
    centred_signs = np.where(centred >= 0, 1.0, -1.0).astype(np.float32)
    alignment = np.abs(centred).sum(axis=1) / np.sqrt(dimensions) / norms
    centred_estimates = (queries @ centred_signs.T) / np.sqrt(dimensions) * (norms / alignment)[None, :] + (queries @ mean)[:, None]

    print(json.dumps({
        "rows": int(base.shape[0]),
        "dimensions": int(dimensions),
        "queries": int(queries.shape[0]),
        "k": args.k,
        "sign_recall_at_k": recall_after_rescoring(sign_estimates, base, queries, truth, args.k, shortlists),
        "centred_recall_at_k": recall_after_rescoring(centred_estimates, base, queries, truth, args.k, shortlists),
    }))


if __name__ == "__main__":
    main()
