#!/usr/bin/env python3
"""Markdown tables of `quiver bench ann` beside the shared harness's HNSW peers (bench-ann.sh).

  python3 ann_summary.py RESULTS.jsonl [PEER_RESULTS.json ...] [--peers hnswlib,faiss-hnsw]

RESULTS.jsonl holds Quiver's JSON objects, each tagged by bench-ann.sh with "run"
(quiver-hnsw-1thread, quiver-hnsw-2threads, quiver-hnsw-filtered) and "round". Each
PEER_RESULTS file is one round of `peers.py run` (its peers-<dataset>.json), in round order.
Every figure is the median over rounds. A ratio is taken within each round (Quiver and the best
peer of that round, measured minutes apart), then the median of those ratios is shown, so that
drift of a shared machine between rounds cancels; if the round counts differ, the ratio of the
medians is shown instead.
"""
import argparse
import json
import statistics

THRESHOLDS = (0.90, 0.95, 0.99)
ONE_THREAD, TWO_THREADS, FILTERED = "quiver-hnsw-1thread", "quiver-hnsw-2threads", "quiver-hnsw-filtered"


def at_recall(curve):
    """Queries/s at each recall threshold, computed exactly as peers.py `summarize` (whose
    `at_recall` its `report` prints): the FASTEST SWEEP POINT whose recall@10 >= the threshold,
    with no interpolation between points; None when no point reaches it. So a coarser sweep can
    only read slower, and a sweep that stops short of 0.99 has no 0.99 figure.
    `curve` is [(recall, queries per second)]."""
    out = {}
    for t in THRESHOLDS:
        ok = [qps for recall, qps in curve if recall >= t]
        out[t] = max(ok) if ok else None
    return out


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def row(cells):
    return "| " + " | ".join(cells) + " |"


# ---------------------------------------------------------------------------- reading
def quiver_curve(r, points):
    """[(recall, q/s)] of sweep points that have a recall (none without --truth)."""
    key = f"recall_at_{r.get('k', 10)}"
    return [(p[key], p["queries_per_second"]) for p in points if p.get(key) is not None]


def quiver_round(r):
    """One Quiver run in the peers' vocabulary."""
    sweep = r.get("sweep", [])
    curve = quiver_curve(r, sweep)
    return {"curve": curve, "at": at_recall(curve), "build_seconds": r.get("build_seconds"),
            "build_vps": r.get("build_vectors_per_second"), "graph_bpv": r.get("index_bytes_per_vector"),
            "open_ms": r.get("open_to_first_result_ms"),
            "sweep": "ef " + ",".join(str(p["ef_search"]) for p in sweep)}


def peer_round(r, n, dim):
    """One peer round. Graph bytes per vector (HNSW peers only) = (saved index file - raw
    float32 vectors) / n: the links plus each library's per-vector bookkeeping (labels, levels),
    since the saved indexes embed the vectors. Open = loading the saved file in a fresh process
    (median of 3), not the same act as Quiver opening a memory-mapped store."""
    if "error" in r:
        return {"error": r["error"]}
    curve = [(p["recall"], p["qps"]) for p in r.get("curve", [])]
    size = r.get("index_bytes")
    graph = (size - n * dim * 4) / n if size and n and dim and r.get("family") == "hnsw" else None
    open_s = r.get("open", {}).get("open_seconds")
    params = [p["params"] for p in r.get("curve", [])]
    keys = dict.fromkeys(k for p in params for k in p)
    sweep = "; ".join(f"{k} " + ",".join(str(p.get(k)) for p in params) for k in keys) or "none"
    return {"curve": curve, "at": at_recall(curve), "build_seconds": r.get("build_seconds"),
            "build_vps": r.get("build_vectors_per_second"), "graph_bpv": graph,
            "open_ms": open_s * 1000 if open_s is not None else None, "sweep": sweep}


def load(results, peer_files, wanted):
    """(Quiver runs by tag in round order, {peer: [raw result per round]}, peers' dataset)."""
    lines = [json.loads(line) for line in open(results) if line.strip()]
    runs = {tag: sorted((r for r in lines if r.get("run") == tag), key=lambda r: r.get("round", 0))
            for tag in (ONE_THREAD, TWO_THREADS, FILTERED)}
    peers, dataset = {}, None
    for path in peer_files:
        doc = json.load(open(path))
        dataset = dataset or doc.get("dataset")
        for name, result in doc.get("peers", {}).items():
            if not wanted or name in wanted:
                peers.setdefault(name, []).append(result)
    return runs, peers, dataset


# ---------------------------------------------------------------------------- unfiltered
def system_row(name, rounds):
    """Medians over rounds; "(2/3)" marks a recall level reached in only some rounds."""
    cells = [name]
    for t in THRESHOLDS:
        got = [r["at"][t] for r in rounds]
        reached = sum(v is not None for v in got)
        cells.append(fmt(median(got)) + (f" ({reached}/{len(got)})" if 0 < reached < len(got) else ""))
    cells.append(fmt(median([max((rc for rc, _ in r["curve"]), default=None) for r in rounds]), 3))
    cells += [fmt(median([r["build_seconds"] for r in rounds]), 1),
              fmt(median([r["build_vps"] for r in rounds])),
              fmt(median([r["graph_bpv"] for r in rounds]), 1),
              fmt(median([r["open_ms"] for r in rounds]), 2)]
    return row(cells)


def ratio(quiver, peers, value):
    """Quiver / best peer of `value(round)` (bigger is better), as the module doc says."""
    if all(len(rs) == len(quiver) for rs in peers.values()):
        ratios = []
        for i, q in enumerate(quiver):
            best = max((v for v in (value(rs[i]) for rs in peers.values()) if v is not None), default=None)
            if value(q) is not None and best:
                ratios.append(value(q) / best)
        return median(ratios)
    best = max((v for v in (median([value(r) for r in rs]) for rs in peers.values()) if v is not None),
               default=None)
    mine = median([value(q) for q in quiver])
    return mine / best if mine is not None and best else None


def ann_table(runs, peers, failed, header):
    quiver = [quiver_round(r) for r in runs[ONE_THREAD]]
    print(header + "\n")
    print("| system | q/s @0.90 | @0.95 | @0.99 | max recall | build s | build vec/s | graph B/vec | open ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    if quiver:
        print(system_row("quiver (1 thread)", quiver))
    for name, rs in peers.items():
        print(system_row(name, rs))
    for name, error in failed.items():
        print(f"| {name} | error: {error[:80]} ||||||||")
    if quiver and peers:
        cells = [fmt(ratio(quiver, peers, lambda r, t=t: r["at"][t]), 2) for t in THRESHOLDS]
        build = fmt(ratio(quiver, peers, lambda r: r["build_vps"]), 2)
        print(row(["**quiver / best peer**", *cells, "", "", build, "", ""]))
    notes = []
    if runs[TWO_THREADS]:
        two = runs[TWO_THREADS]
        notes.append(f"Quiver build with {two[0].get('threads', 2)} threads: "
                     f"{fmt(median([r.get('build_seconds') for r in two]), 1)} s, "
                     f"{fmt(median([r.get('build_vectors_per_second') for r in two]))} vectors/s.")
    if quiver and peers:
        paired = all(len(rs) == len(quiver) for rs in peers.values())
        notes.append("Quiver / best peer: " + ("the median of per-round ratios" if paired else
                     "the ratio of medians (round counts differ)") + "; above 1 Quiver is faster.")
    sweeps = [f"quiver {quiver[0]['sweep']}"] if quiver else []
    sweeps += [f"{name} {rs[0]['sweep']}" for name, rs in peers.items()]
    notes.append("q/s @r: the fastest sweep point with recall@10 >= r, as peers.py reports it (no "
                 "interpolation, so a coarser sweep reads lower). Sweeps: " + "; ".join(sweeps) + ".")
    notes.append("Graph B/vec: Quiver's index bytes per vector; for HNSW peers the saved file minus the "
                 "raw float32 vectors, per vector. Open: Quiver's open to first result; peers load the "
                 "saved file in a fresh process. Peers take all queries in one call, Quiver one at a time.")
    print("\n" + "\n".join(notes))


# ---------------------------------------------------------------------------- filtered
def filtered_table(quiver_runs, peer_docs):
    """Quiver's selectivities beside the peers' own filters, which are other ones: the harness
    picks real metadata filters near 0.5%, 5% and 50%."""
    cases = {}   # (filter, selectivity) -> [(run, [its entries for this case]) per round]
    for r in quiver_runs:
        one_round = {}
        for e in r.get("filtered", []):
            one_round.setdefault((str(e.get("filter", "")), e["selectivity"]), []).append(e)
        for case, entries in one_round.items():
            cases.setdefault(case, []).append((r, entries))
    peer_rows = [(name, rs) for name, rs in peer_docs.items() if all(r.get("filtered") for r in rs)]
    if not cases and not peer_rows:
        return
    print("\n### Filtered search (recall@10 against the exact filtered top-10)\n")
    print("| system | filter | selectivity | plan (ef) | q/s @0.90 | @0.95 | @0.99 | max recall | exact q/s |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for (label, selectivity), rounds in sorted(cases.items(), key=lambda c: (c[0][1], c[0][0])):
        curves = [quiver_curve(r, entries) for r, entries in rounds]
        ats = [at_recall(c) for c in curves]
        entries = rounds[0][1]
        rows = entries[0].get("matching_rows")
        cells = ["quiver", f"`{label}` ({fmt(rows)} row{'' if rows == 1 else 's'})",
                 f"{100 * selectivity:.2f}%", plans(entries)]
        cells += [fmt(median([a[t] for a in ats])) for t in THRESHOLDS]
        cells.append(fmt(median([max((rc for rc, _ in c), default=None) for c in curves]), 3))
        cells.append(fmt(median([e.get("exact_queries_per_second") for _, es in rounds for e in es])))
        print(row(cells))
    for name, rs in peer_rows:
        for i, f in enumerate(rs[0]["filtered"]):
            curves = [r["filtered"][i]["curve"] for r in rs if len(r["filtered"]) > i]
            ats = [at_recall([(p["recall"], p["qps"]) for p in c]) for c in curves]
            cells = [name, f"`{f['filter']}`", f"{100 * f['selectivity']:.2f}%", rs[0].get("family", "?")]
            cells += [fmt(median([a[t] for a in ats])) for t in THRESHOLDS]
            cells += [fmt(median([max(p["recall"] for p in c) for c in curves]), 3), "-"]
            print(row(cells))


def plans(entries):
    """The plans Quiver chose over an efSearch sweep, e.g. `exact` or `hnsw (ef 10,20,40)`; the
    ef values matter only where the plan uses the graph."""
    by_plan = {}
    for e in entries:
        by_plan.setdefault(str(e.get("plan")), []).append(e.get("ef_search"))
    return ", ".join(plan if plan == "exact" else f"{plan} (ef {','.join(map(str, efs))})"
                     for plan, efs in by_plan.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("peer_results", nargs="*")
    ap.add_argument("--peers", default="", help="peer names to include (default: all in the files)")
    args = ap.parse_args()
    runs, peer_docs, dataset = load(args.results, args.peer_results, set(filter(None, args.peers.split(","))))
    q = runs[ONE_THREAD][0] if runs[ONE_THREAD] else {}
    n = q.get("base_vectors") or (dataset or {}).get("n")
    dim = q.get("dimensions") or (dataset or {}).get("dim")
    if q and dataset and dataset.get("n") != n:
        print(f"warning: Quiver ran on {n} vectors, the peers on {dataset.get('n')}\n")
    peers = {name: [peer_round(r, n, dim) for r in rs] for name, rs in peer_docs.items()}
    failed = {name: next(r["error"] for r in rs if "error" in r)
              for name, rs in peers.items() if any("error" in r for r in rs)}
    peers = {name: rs for name, rs in peers.items() if name not in failed}
    header = (f"## ANN on {n} x {dim}, {q.get('metric', '?')}, M={q.get('m', '?')}, "
              f"efConstruction={q.get('ef_construction', '?')}, one thread; {len(runs[ONE_THREAD])} Quiver "
              f"round(s), {max((len(rs) for rs in peers.values()), default=0)} peer round(s)")
    ann_table(runs, peers, failed, header)
    filtered_table(runs[FILTERED], {k: v for k, v in peer_docs.items() if k not in failed})


if __name__ == "__main__":
    main()
