#!/usr/bin/env python3
"""Writes pooling-cases.json, the token pooling reference cases of TokenPoolingTests.swift.

Semantics (design.md section 5): the first p tokens are kept as they are; the other n - p are
clustered by Ward linkage on Euclidean distance until max(1, (n - p) // f) clusters remain,
and each cluster becomes its mean, re-normalised (a zero mean stays zero). f = 1 or n <= p
keeps the tokens unchanged. "Until t clusters remain" is SciPy's
cut_tree(linkage(X, 'ward'), n_clusters=t): the first n - p - t merges in order of height.
fcluster(Z, t, 'maxclust') is the same except when the last merge applied ties in height with
the next one; it then applies every tied merge and keeps fewer clusters. Where the two differ,
a case records fcluster's count as "fclusterCount".

Run with SciPy (1.17 was used) and NumPy:
    python3 make_pooling_cases.py [--shared ../../../../shared/data/pooling-cases/cases.json]
With --shared, a subset of the shared reference file is copied in (checked against this
script's own SciPy run first); without it, only the edge cases below are written.
"""
import argparse
import json
import os

import numpy as np
from scipy.cluster.hierarchy import cut_tree, fcluster, linkage

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_SUBSET = ["case-00", "case-01", "case-02", "case-03", "case-04", "case-05", "case-06",
                 "case-07", "case-08", "identical-tokens"]


def pool(tokens, protected, factor):
    """Returns (pooled vectors, fcluster's cluster count or None when it agrees)."""
    n = len(tokens)
    if factor == 1 or n <= protected:
        return tokens.astype(np.float64), None
    rest = tokens[protected:].astype(np.float64)
    m = len(rest)
    t = max(1, m // factor)
    fcluster_count = None
    if t == 1:
        labels = np.zeros(m, dtype=int)
    else:
        Z = linkage(rest, method="ward", metric="euclidean")
        labels = cut_tree(Z, n_clusters=t).ravel()
        count = len(np.unique(fcluster(Z, t, criterion="maxclust")))
        if count != t:
            fcluster_count = count
    means = []
    for label in np.unique(labels):
        mean = rest[labels == label].mean(axis=0)
        norm = np.linalg.norm(mean)
        means.append(mean / norm if norm > 0 else mean)
    return np.vstack([tokens[:protected].astype(np.float64)] + means), fcluster_count


def float32_text(value):
    """The shortest text that reads back (as a double, then rounded to float) as the float32."""
    text = str(np.float32(value))
    assert np.float32(float(text)) == np.float32(value), text
    return text


def encode_case(name, tokens, configs):
    tokens = np.asarray(tokens, dtype=np.float32)
    pooled = []
    for protected, factor in configs:
        vectors, fcluster_count = pool(tokens, protected, factor)
        entry = {"protectedTokens": protected, "poolFactor": factor,
                 "vectors": [[round(float(v), 8) for v in row] for row in vectors]}
        if fcluster_count is not None:
            entry["fclusterCount"] = fcluster_count
        pooled.append(entry)
    token_rows = "[" + ",".join("[" + ",".join(float32_text(v) for v in row) + "]"
                                for row in tokens) + "]"
    head = json.dumps({"name": name, "dimensions": int(tokens.shape[1])}, separators=(",", ":"))
    return (head[:-1] + ',"tokens":' + token_rows + ',"pooled":'
            + json.dumps(pooled, separators=(",", ":")) + "}")


def unit_rows(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def edge_cases():
    rng = np.random.default_rng(20250101)
    standard = [(0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]
    cases = []
    cases.append(("one-token-d1", [[-1.0]], [(0, 1), (0, 2), (1, 2), (0, 3)]))
    cases.append(("fewer-tokens-than-protected", unit_rows(rng, 2, 8),
                  [(2, 2), (3, 2), (3, 4), (1, 2), (0, 2)]))
    cases.append(("pool-factor-above-n", unit_rows(rng, 5, 16),
                  [(0, 5), (0, 6), (1, 6), (0, 100), (1, 100)]))
    distinct = unit_rows(rng, 7, 16)
    duplicated = np.vstack([distinct[[0, 1, 2, 3]], distinct[[0, 1, 2, 3]], distinct[4:]])
    cases.append(("duplicate-pairs", duplicated[rng.permutation(len(duplicated))], standard))
    # The example of SciPy's fcluster documentation: merge heights tie in groups of four.
    scipy_doc = [[0, 0], [0, 1], [1, 0], [0, 4], [0, 3], [1, 4],
                 [4, 0], [3, 0], [4, 1], [4, 4], [3, 4], [4, 3]]
    cases.append(("scipy-doc-ties", scipy_doc, standard + [(0, 5), (1, 5)]))
    cases.append(("d1-signs", [[1.0], [-1.0], [1.0], [1.0], [-1.0], [1.0], [-1.0], [-1.0], [1.0]],
                  standard))
    cases.append(("d1-values", rng.uniform(-2, 2, (10, 1)), [(0, 2), (0, 3), (1, 2), (1, 3)]))
    not_unit = unit_rows(rng, 40, 32) * rng.uniform(0.5, 2.0, (40, 1))
    cases.append(("not-unit", not_unit, standard + [(2, 3)]))
    e = np.eye(4)
    cases.append(("zero-mean", [e[0], e[1], -e[1]], [(1, 2), (0, 2), (0, 3)]))
    cases.append(("random-n128-d8", unit_rows(rng, 128, 8), standard))
    # Ties decide which clusters remain, and cut_tree takes tied merges in its own order (the
    # dendrogram breadth-first from the root, the last visited first), not the linkage rows'.
    ties = np.random.default_rng(7)
    three = unit_rows(ties, 3, 8)
    cases.append(("duplicate-clusters", three[ties.integers(0, 3, 40)], standard + [(0, 7), (3, 3)]))
    cases.append(("grid-ties", np.round(ties.standard_normal((33, 2))), standard + [(0, 7), (3, 3)]))
    mixed = np.vstack([unit_rows(ties, 4, 16)[ties.integers(0, 4, 16)], unit_rows(ties, 16, 16)])
    cases.append(("duplicates-and-distinct", mixed[ties.permutation(32)], standard))
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", help="path of ../shared/data/pooling-cases/cases.json")
    parser.add_argument("--out", default=os.path.join(HERE, "pooling-cases.json"))
    args = parser.parse_args()
    encoded = []
    if args.shared:
        shared = {c["name"]: c for c in json.load(open(args.shared))["cases"]}
        for name in SHARED_SUBSET:
            case = shared[name]
            tokens = np.asarray(case["tokens"], dtype=np.float32)
            configs = [(p["protectedTokens"], p["poolFactor"]) for p in case["pooled"]]
            for p in case["pooled"]:  # this script agrees with the shared file
                mine, _ = pool(tokens, p["protectedTokens"], p["poolFactor"])
                theirs = np.asarray(p["vectors"])
                assert mine.shape == theirs.shape, name
                for row in theirs:
                    assert np.abs(mine - row).max(axis=1).min() <= 1e-5, name
            encoded.append(encode_case(name, tokens, configs))
    for name, tokens, configs in edge_cases():
        encoded.append(encode_case(name, tokens, configs))
    about = ("Token pooling reference cases computed with SciPy " + __import__("scipy").__version__
             + " by make_pooling_cases.py: Ward linkage on Euclidean distance, cut_tree to "
             "max(1, (n - p) // f) clusters, cluster means re-normalised to unit length. "
             "Order of pooled vectors is not part of the contract: compare as sets, tolerance 1e-5.")
    with open(args.out, "w") as out:
        out.write('{"about":' + json.dumps(about) + ',"cases":[\n' + ",\n".join(encoded) + "\n]}\n")
    print(args.out, os.path.getsize(args.out), "bytes,", len(encoded), "cases")


if __name__ == "__main__":
    main()
