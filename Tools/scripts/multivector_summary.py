#!/usr/bin/env python3
"""Medians over the rounds of a bench-multivector.sh result file, as a Markdown table.

    python3 Tools/scripts/multivector_summary.py .build-bench/multivector-<time>.jsonl
"""
import json
import statistics
import sys

lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
runs_by_kind = {}
for line in lines:
    runs_by_kind.setdefault(line.get("run", "hnsw"), []).append(line)
rounds = runs_by_kind.get("hnsw") or next(iter(runs_by_kind.values()))
k = rounds[0]["k"]
med = statistics.median

print("pooling throughput (one thread, documents/s):")
for length in rounds[0]["pooling_throughput"]:
    n = length["tokens_per_document"]
    cells = []
    for i, entry in enumerate(length.get("by_pool_factor", [])):
        values = [r["pooling_throughput"][[p["tokens_per_document"] for p in r["pooling_throughput"]].index(n)]["by_pool_factor"][i]["documents_per_second"] for r in rounds]
        cells.append(f"f={entry['pool_factor']}: {med(values):,.0f}")
    print(f"  {n} tokens: " + ", ".join(cells))

def label(fast):
    if "token_candidates" in fast:
        return f"hnsw tc {fast['token_candidates']}, os {fast.get('oversample', '')}"
    return f"ivf nprobe {fast['nprobe']}, os {fast['oversample']}"


for kind, rounds in runs_by_kind.items():
  print()
  print(f"{kind}:")
  print(f"| pool factor | stored vectors | fraction | exact recall@{k} | nDCG@{k} | vs unpooled | MRR@{k} | exact q/s | fast path | fast recall vs exact | fast q/s | speed-up |")
  print("|---|---|---|---|---|---|---|---|---|---|---|---|")
  for i, run in enumerate(rounds[0]["runs"]):
    runs = [r["runs"][i] for r in rounds]
    ex = lambda key: med([r["exact"][key] for r in runs])
    ratio = [r["exact"]["ndcg_vs_unpooled"] for r in runs if r["exact"]["ndcg_vs_unpooled"] is not None]
    for j, fast in enumerate(run["fast"]):
        fx = lambda key: med([r["fast"][j][key] for r in runs])
        print(f"| {run['pool_factor']} | {run['stored_vectors']:,} | {run['stored_fraction']:.3f} | {ex(f'recall_at_{k}'):.4f} | {ex(f'ndcg_at_{k}'):.4f} | "
              f"{med(ratio) if ratio else float('nan'):.4f} | {ex(f'mrr_at_{k}'):.4f} | {ex('queries_per_second'):,.0f} | {label(fast)} | "
              f"{fx(f'recall_at_{k}_vs_exact'):.4f} | {fx('queries_per_second'):,.0f} | {fx('speedup_vs_exact'):.2f} |")
