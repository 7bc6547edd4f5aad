#!/usr/bin/env bash
# Quiver's exact-search and import benchmarks beside FAISS, on the same data, in one run, so
# that ratios are measured side by side (docs/benchmarks.md records the results).
#
#   bash Tools/scripts/bench.sh [ROUNDS]      # default 3 rounds; medians are reported
#
# Needs the shared data and peer harness beside the repository (../shared, or $QUIVER_SHARED).
# Not part of CI: it takes several minutes and the machine should be otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tools/scripts/bench-setup.sh "${1:-3}"
[ -f "$out/syn1m/base.fvecs" ] || python3 "$data/make_synthetic.py" "$out/syn1m" --n 1000000 --dim 128
results=$out/results-$(date +%Y%m%d-%H%M%S).jsonl
# Appends one JSON object (read from stdin) to the results file, with "run": $1.
tag() { python3 -c 'import json,sys; d=json.load(sys.stdin); d["run"]=sys.argv[1]; print(json.dumps(d))' "$1" >>"$results"; }
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  "$quiver" bench exact --base "$deb/base.fvecs" --queries "$deb/queries.fvecs" --truth "$out/debian_gt_cosine.ivecs" \
      --metric cosine --k 10 --batch --threads 1 --json --quiet | tag quiver-float-1thread
  "$quiver" bench exact --base "$deb/base.fvecs" --queries "$deb/queries.fvecs" --truth "$out/debian_gt_cosine.ivecs" \
      --metric cosine --k 10 --batch --threads 2 --json --quiet | tag quiver-float-2threads
  "$quiver" bench exact --base "$deb/base.fvecs" --queries "$deb/queries.fvecs" \
      --binarize --metric hamming --k 10 --json --quiet | tag quiver-binary
  OMP_NUM_THREADS=1 "$python" Tools/scripts/faiss_exact.py "$deb/base.fvecs" "$deb/queries.fvecs" | tag faiss
  "$quiver" bench import "$out/syn1m/base.fvecs" --metric l2 --json --quiet | tag quiver-import
  dd if=/dev/zero of="$out/dd.tmp" bs=1M count=512 conv=fdatasync 2>&1 | tail -n 1 \
      | awk '{printf "{\"run\":\"disk\",\"megabytes_per_second\":%s}\n", 536.870912/$(NF-3)}' >>"$results"
  rm -f "$out/dd.tmp"
done
python3 Tools/scripts/bench_summary.py "$results"
# The shared peer harness's own view of the same two FAISS indexes (its results directory).
if [ "${QUIVER_BENCH_PEERS:-1}" = 1 ]; then
  "$python" "$shared/bench/peers.py" run --dataset debian --peers faiss-flat,faiss-binflat --queries 1000 >&2 || true
fi
