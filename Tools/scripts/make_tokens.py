#!/usr/bin/env python3
"""Synthetic multi-vector (ColBERT-style) data for `quiver bench multivector`, in the layout of
../shared/data/tokens: a second data set, of another size and dimension, to check that the
fast path's defaults hold beyond the MiniLM tokens (docs/benchmarks.md, "Multi-vector").

A vocabulary of random unit "word" vectors and of topics, each topic favouring 200 words
(Zipf weights) besides 100 common words; a document picks 1-3 topics and a length (log-normal,
8-300 tokens), and each token is its word plus 0.4 of its topic plus noise, normalised (so
tokens cluster by word, shifted by context, as contextual token embeddings do). A query takes
6-31 of one document's words in new contexts and noise. Truth: exact unpooled MaxSim top 100
per query; qrels: each query's source document.

    python3 make_tokens.py OUT [--dim 128] [--docs 3000] [--queries 300] [--words 8000] [--seed 11]

Writes OUT/doc_tokens.npy, doc_offsets.npy, query_tokens.npy, query_offsets.npy, truth.ivecs
(int32 rows of 100 document numbers) and qrels.tsv.
"""
import argparse
import os

import numpy as np


def unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    d = args.dim
    common, favoured = 100, 200
    words = unit(rng.standard_normal((args.words, d)))
    topics = unit(rng.standard_normal((args.topics, d)))
    topic_words = [rng.choice(np.arange(common, args.words), favoured, replace=False) for _ in range(args.topics)]
    zipf = 1 / np.arange(1, favoured + 1)
    zipf /= zipf.sum()
    noise = 0.75 / np.sqrt(d)

    def tokens(word_ids, contexts, scale):
        return unit(words[word_ids] + 0.4 * topics[contexts] + scale * rng.standard_normal((len(word_ids), d)))

    documents, offsets, sources = [], [0], []
    for _ in range(args.docs):
        n = int(np.clip(rng.lognormal(4.0, 0.6), 8, 300))
        chosen = rng.choice(args.topics, size=rng.integers(1, 4), replace=False)
        contexts = rng.choice(chosen, n)
        is_common = rng.random(n) < 0.3
        ids = np.array([rng.integers(0, common) if c else topic_words[t][rng.choice(favoured, p=zipf)]
                        for c, t in zip(is_common, contexts)])
        documents.append(tokens(ids, contexts, noise))
        sources.append((chosen, ids))
        offsets.append(offsets[-1] + n)
    doc_tokens = np.concatenate(documents)

    queries, query_offsets = [], [0]
    origin = rng.choice(args.docs, args.queries, replace=False)
    for s in origin:
        m = int(rng.integers(6, 32))
        chosen, ids = sources[s]
        queries.append(tokens(rng.choice(ids, m), rng.choice(chosen, m), noise * 1.2))
        query_offsets.append(query_offsets[-1] + m)
    query_tokens = np.concatenate(queries)

    owner = np.repeat(np.arange(args.docs), np.diff(offsets))
    starts = np.array(offsets[:-1])
    truth = np.zeros((args.queries, 100), np.int32)
    for i in range(args.queries):
        sims = query_tokens[query_offsets[i]:query_offsets[i + 1]] @ doc_tokens.T
        # Per query token, the best of each document's tokens (documents are runs of rows).
        best = np.maximum.reduceat(sims, starts, axis=1)
        truth[i] = np.argsort(-best.sum(axis=0), kind="stable")[:100]
    assert (owner[starts] == np.arange(args.docs)).all()

    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "doc_tokens.npy"), doc_tokens)
    np.save(os.path.join(args.out, "doc_offsets.npy"), np.array(offsets, np.int64))
    np.save(os.path.join(args.out, "query_tokens.npy"), query_tokens)
    np.save(os.path.join(args.out, "query_offsets.npy"), np.array(query_offsets, np.int64))
    np.hstack([np.full((args.queries, 1), 100, np.int32), truth]).tofile(os.path.join(args.out, "truth.ivecs"))
    with open(os.path.join(args.out, "qrels.tsv"), "w") as f:
        f.write("query\tdoc\n")
        for i, s in enumerate(origin):
            f.write(f"{i}\t{s}\n")
    print(f"{doc_tokens.shape[0]} document tokens x {d} in {args.docs} documents, {query_tokens.shape[0]} query tokens in {args.queries} queries")


if __name__ == "__main__":
    main()
