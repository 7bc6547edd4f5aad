#!/usr/bin/env python3
"""Medians of a bench.sh results file, and Quiver/FAISS ratios from the same rounds."""
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def med(run, key):
    values = [r[key] for r in rows if r.get("run") == run and r.get(key) is not None]
    return statistics.median(values) if values else None

summary = {
    "float_queries_per_second": med("quiver-float-1thread", "queries_per_second"),
    "float_recall_at_10": med("quiver-float-1thread", "recall_at_10"),
    "float_bandwidth_fraction": med("quiver-float-1thread", "bandwidth_fraction"),
    "memory_bandwidth_gb_per_second": (med("quiver-float-1thread", "memory_bandwidth_bytes_per_second") or 0) / 1e9,
    "batch_queries_per_second_1thread": med("quiver-float-1thread", "batch_queries_per_second"),
    "batch_queries_per_second_2threads": med("quiver-float-2threads", "batch_queries_per_second"),
    "binary_queries_per_second": med("quiver-binary", "queries_per_second"),
    "faiss_flat_queries_per_second": med("faiss", "flat_queries_per_second"),
    "faiss_flat_batch_queries_per_second": med("faiss", "flat_batch_queries_per_second"),
    "faiss_binary_queries_per_second": med("faiss", "binary_queries_per_second"),
    "import_megabytes_per_second": med("quiver-import", "megabytes_per_second"),
    "disk_fdatasync_megabytes_per_second": med("disk", "megabytes_per_second"),
}
def ratio(a, b):
    return None if summary[a] is None or not summary[b] else round(summary[a] / summary[b], 2)
summary["ratio_float_vs_faiss_one_at_a_time"] = ratio("float_queries_per_second", "faiss_flat_queries_per_second")
summary["ratio_batch_1thread_vs_faiss_batch"] = ratio("batch_queries_per_second_1thread", "faiss_flat_batch_queries_per_second")
summary["ratio_batch_2threads_vs_faiss_batch"] = ratio("batch_queries_per_second_2threads", "faiss_flat_batch_queries_per_second")
summary["ratio_binary_vs_faiss_binary"] = ratio("binary_queries_per_second", "faiss_binary_queries_per_second")
print(json.dumps(summary, indent=2))
