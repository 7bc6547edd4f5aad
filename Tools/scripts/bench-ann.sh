#!/usr/bin/env bash
# Quiver's HNSW index beside the shared harness's HNSW peers (hnswlib, FAISS HNSWFlat, USearch)
# on the same data, in one run, so that ratios are measured side by side (docs/benchmarks.md).
#
#   bash Tools/scripts/bench-ann.sh [ROUNDS]      # default 3 rounds; medians are reported
#
# Everything is M=16, efConstruction=200, one thread: the peers have these fixed in peers.py
# (it has no flags for them) and Quiver is given the same. Per round: the peers (each builds 3
# times and sweeps efSearch 10…800, plus filtered sweeps for hnswlib and FAISS), then Quiver
# three times: one thread with the recall/throughput sweep and the plot, two threads for build
# speed, filtered search at 0.1% to 50% selectivity on a generated attribute, and the peers'
# own metadata filters on debian.
#
#   QUIVER_ANN_EF=10,16,…   Quiver's efSearch sweep (default: the peers' list, 10…800)
#   QUIVER_ANN_PEERS=…      peers to run (default hnswlib,faiss-hnsw,usearch-f32; empty: none)
#
# Needs the shared data and peer harness beside the repository (../shared, or $QUIVER_SHARED).
# Results: .build-bench/ann-<time>.jsonl (Quiver, one object per run, tagged with "run" and
# "round"), .build-bench/ann-<time>-peers/round-N/ (peers.py's JSON), the summary as
# .build-bench/ann-<time>.md, the plot as .build-bench/debian-hnsw.svg.
# Not part of CI: a round takes several minutes and the machine should be otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tools/scripts/bench-setup.sh "${1:-3}"
stamp=ann-$(date +%Y%m%d-%H%M%S)
results=$out/$stamp.jsonl
peer_dir=$out/$stamp-peers
peers=${QUIVER_ANN_PEERS-hnswlib,faiss-hnsw,usearch-f32}
ann=(bench ann --base "$deb/base.fvecs" --queries "$deb/queries.fvecs" --truth "$out/debian_gt_cosine.ivecs"
     --metric cosine --index hnsw --m 16 --ef-construction 200 --ef-search "${QUIVER_ANN_EF:-10,16,24,32,48,64,96,128,192,256,384,512,800}"
     --json --quiet)
# Appends one JSON object (read from stdin) to the results file, with "run": $1 and "round": $2.
tag() { python3 -c 'import json,sys; d=json.load(sys.stdin); d["run"]=sys.argv[1]; d["round"]=int(sys.argv[2]); print(json.dumps(d))' "$1" "$2" >>"$results"; }
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  if [ -n "$peers" ]; then
    # Its own results folder per round: peers.py rewrites peers-<dataset>.json in place. An
    # absolute path, because its child processes run in the harness's own folder.
    BENCH_RESULTS="$PWD/$peer_dir/round-$round" "$python" "$shared/bench/peers.py" run --dataset debian \
        --peers "$peers" --queries 1000 >&2
  fi
  "$quiver" "${ann[@]}" --threads 1 --plot "$out/debian-hnsw.svg" | tag quiver-hnsw-1thread "$round"
  "$quiver" "${ann[@]}" --threads 2 | tag quiver-hnsw-2threads "$round"
  "$quiver" "${ann[@]}" --threads 1 --filter-selectivity 0.001,0.01,0.05,0.1,0.2,0.5 | tag quiver-hnsw-filtered "$round"
  # The peers' own filters on debian's metadata (0.53%, 5.6%, 51%), plus one at 34%.
  "$quiver" "${ann[@]}" --threads 1 --metadata "$deb/meta.tsv" --field section:string --field arch:string \
      --field size_bucket:int64 --filter 'section == "editors"' --filter 'section == "devel"' \
      --filter 'arch != "all"' --filter 'size_bucket < 1' | tag quiver-hnsw-metadata "$round"
done
# Peer files in round order (a glob would put round-10 before round-2).
peer_files=()
for round in $(seq "$rounds"); do
  [ -f "$peer_dir/round-$round/peers-debian.json" ] && peer_files+=("$peer_dir/round-$round/peers-debian.json")
done
python3 Tools/scripts/ann_summary.py "$results" "${peer_files[@]}" | tee "$out/$stamp.md"
