#!/usr/bin/env bash
# Quiver's encodings beside FAISS on the same data, in one run (docs/benchmarks.md,
# "Compressed search"): per round, the shared harness's FAISS HNSWFlat, IndexPQ (m = 48),
# IVF-PQ48 + refine and binary HNSW; FAISS IndexPQ's code scan alone; then Quiver's float HNSW
# with int8 and with binary candidates, the PQ48 code scan, IVF-PQ (nlist 1024, m 48), and
# Matryoshka funnels on debian-pca against its exact scan. Medians of the rounds.
#
#   bash Tools/scripts/bench-codes.sh [ROUNDS]      # default 2
#
# Needs ../shared (or $QUIVER_SHARED). Results: .build-bench/codes-<time>.jsonl (tagged "run",
# "round"), the peers' JSON under .build-bench/codes-<time>-peers/, the summary as .md.
# Not part of CI: a round takes about ten minutes; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tools/scripts/bench-setup.sh "${1:-2}"
[ -f "$data/debian-pca/base.fvecs" ] || (cd "$data" && python3 unpack.py --pca)
pca=$data/debian-pca
[ -f "$out/debian_pca_gt_cosine.ivecs" ] || "$python" Tools/scripts/cosine_truth.py "$pca/base.fvecs" "$pca/queries.fvecs" "$out/debian_pca_gt_cosine.ivecs"
stamp=codes-$(date +%Y%m%d-%H%M%S)
results=$out/$stamp.jsonl
peer_dir=$out/$stamp-peers
common=(--base "$deb/base.fvecs" --queries "$deb/queries.fvecs" --truth "$out/debian_gt_cosine.ivecs" --metric cosine --json --quiet)
tag() { python3 -c 'import json,sys; d=json.load(sys.stdin); d["run"]=sys.argv[1]; d["round"]=int(sys.argv[2]); print(json.dumps(d))' "$1" "$2" >>"$results"; }
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  BENCH_RESULTS="$PWD/$peer_dir/round-$round" "$python" "$shared/bench/peers.py" run --dataset debian \
      --peers faiss-hnsw,faiss-pq48,faiss-ivfpq48-refine,faiss-binhnsw --queries 1000 --no-filters >&2
  "$python" Tools/scripts/faiss_pq_scan.py "$deb/base.fvecs" "$deb/queries.fvecs" --m 48 | tag faiss-pq-scan "$round"
  "$quiver" bench ann "${common[@]}" --index hnsw --threads 2 --encoding int8 --ef-search 16,24,32,48,64,96,128,192,256 \
      --oversample 1,2 | tag quiver-int8 "$round"
  "$quiver" bench ann "${common[@]}" --index hnsw --threads 2 --encoding binary --ef-search 16,24,32,48,64 \
      --oversample 2,4,6,8,12 | tag quiver-binary "$round"
  "$quiver" bench ann "${common[@]}" --index flat --encoding pq --pq-m 48 --oversample 4,8,16 --queries-limit 300 | tag quiver-pq48 "$round"
  "$quiver" bench ann "${common[@]}" --index ivfpq --nlist 1024 --pq-m 48 --nprobe 32,64,128,256 --oversample 8,16 \
      --threads 2 --queries-limit 300 | tag quiver-ivfpq "$round"
  "$quiver" bench ann --base "$pca/base.fvecs" --queries "$pca/queries.fvecs" --truth "$out/debian_pca_gt_cosine.ivecs" \
      --metric cosine --json --quiet --index flat --queries-limit 1000 \
      --funnel 128:binary:300,256:int8:60,full --funnel 128:binary:400,full --funnel 64:binary:1000,256:int8:100,full \
      | tag quiver-funnel "$round"
done
peer_files=()
for round in $(seq "$rounds"); do
  [ -f "$peer_dir/round-$round/peers-debian.json" ] && peer_files+=("$peer_dir/round-$round/peers-debian.json")
done
python3 Tools/scripts/codes_summary.py "$results" "${peer_files[@]}" | tee "$out/$stamp.md"
