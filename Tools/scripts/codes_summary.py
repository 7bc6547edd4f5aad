#!/usr/bin/env python3
"""Markdown summary of `bench-codes.sh`: the targets of compressed search, each a ratio taken
within a round (Quiver and its comparison measured minutes apart), then the median over rounds.

  python3 codes_summary.py RESULTS.jsonl [PEER_RESULTS.json ...]

Queries/s at a recall threshold is the fastest sweep point whose recall@10 reaches it (as
peers.py reports), without interpolation.
"""
import json
import statistics
import sys


def best(points, threshold):
    ok = [qps for recall, qps in points if recall is not None and recall >= threshold]
    return max(ok) if ok else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a and b else None


def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def main():
    runs = {}
    for line in open(sys.argv[1]):
        d = json.loads(line)
        runs.setdefault(d["run"], {})[d["round"]] = d
    peers = [json.load(open(p))["peers"] for p in sys.argv[2:]]
    rounds = sorted(set().union(*[r.keys() for r in runs.values()]))
    rows = {}

    def add(name, value):
        rows.setdefault(name, []).append(value)

    for rnd in rounds:
        int8 = runs.get("quiver-int8", {}).get(rnd)
        binary = runs.get("quiver-binary", {}).get(rnd)
        if int8:
            floats = [(e["recall_at_10"], e["queries_per_second"]) for e in int8["sweep"]]
            coded = [(e["recall_at_10"], e["queries_per_second"]) for e in int8["encoding_sweep"] if e["rescored"]]
            for t in (0.95, 0.99):
                add(f"float HNSW q/s at recall {t}", best(floats, t))
                add(f"int8 + rescore q/s at recall {t}", best(coded, t))
                add(f"int8 / float at recall {t}", ratio(best(coded, t), best(floats, t)))
        if binary:
            floats = [(e["recall_at_10"], e["queries_per_second"]) for e in binary["sweep"]]
            coded = [(e["recall_at_10"], e["queries_per_second"]) for e in binary["encoding_sweep"] if e["rescored"]]
            add("binary + rescore q/s at recall 0.95", best(coded, 0.95))
            add("binary / float at recall 0.95", ratio(best(coded, 0.95), best(floats, 0.95)))
            add("binary code bytes / float bytes", binary["code_bytes_per_vector"] / binary["float_bytes_per_vector"])
        pq = runs.get("quiver-pq48", {}).get(rnd)
        faiss_pq = runs.get("faiss-pq-scan", {}).get(rnd)
        if pq:
            alone = [e for e in pq["encoding_sweep"] if not e["rescored"]][0]
            add("PQ48 codes scored/s, Quiver", alone["codes_scored_per_second"])
            if faiss_pq:
                add("PQ48 codes scored/s, FAISS IndexPQ", faiss_pq["codes_scored_per_second"])
                add("PQ48 code scan, Quiver / FAISS", ratio(alone["codes_scored_per_second"], faiss_pq["codes_scored_per_second"]))
        ivf = runs.get("quiver-ivfpq", {}).get(rnd)
        if ivf:
            coded = [(e["recall_at_10"], e["queries_per_second"]) for e in ivf["encoding_sweep"] if e["rescored"]]
            add("IVF-PQ + rescore q/s at recall 0.95", best(coded, 0.95))
            add("IVF-PQ lists + codebooks, bytes", ivf["encoding_bytes"])
            add("float vectors, bytes", ivf["float_bytes_per_vector"] * ivf["base_vectors"])
            add("IVF-PQ bytes / float bytes", ivf["encoding_bytes"] / (ivf["float_bytes_per_vector"] * ivf["base_vectors"]))
            add("store pages resident after the IVF-PQ sweep, bytes", ivf["encoded_store_resident_bytes"])
        funnel = runs.get("quiver-funnel", {}).get(rnd)
        if funnel:
            exact = funnel["sweep"][0]["queries_per_second"]
            add("debian-pca exact scan q/s", exact)
            for e in funnel["funnel_sweep"]:
                add(f"funnel {e['funnel']}: recall", e["recall_at_10"])
                add(f"funnel {e['funnel']}: q/s / exact", ratio(e["queries_per_second"], exact))
        if rnd - 1 < len(peers):
            p = peers[rnd - 1]
            for name in ("faiss-hnsw", "faiss-pq48", "faiss-ivfpq48-refine", "faiss-binhnsw"):
                if name in p:
                    curve = [(c["recall"], c["qps"]) for c in p[name]["curve"]]
                    add(f"{name} q/s at recall 0.95", best(curve, 0.95))
                    add(f"{name} q/s at recall 0.99", best(curve, 0.99))
    print(f"rounds: {len(rounds)}; medians over rounds; ratios taken within each round\n")
    print("| figure | median | per round |\n|---|---:|---|")
    for name, values in rows.items():
        digits = 3 if any(isinstance(v, float) and v is not None and v < 10 for v in values) else 0
        print(f"| {name} | {fmt(median(values), digits)} | {', '.join(fmt(v, digits) for v in values)} |")


if __name__ == "__main__":
    main()
