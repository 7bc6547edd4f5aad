#!/usr/bin/env bash
# IVF-PQ with the store larger than memory (issue 4: "resident memory <= 1/8 of the float index"):
# `quiver bench queries` on debian through an ivfpq1024x48 encoding (nprobe 128, oversample 8),
# run in a memory cgroup (v1 or v2; needs root), first without a limit, then limited to the
# process's own memory plus 1/8 of the float vectors for the store's pages.
#
#   bash Tools/scripts/bench-ivfpq-memory.sh [PASSES]      # default 2; the last pass is reported
#
# Before each run the store's pages are dropped from the page cache (posix_fadvise DONTNEED), and
# the quiver binary and Swift runtime are read once outside the group, so that the group is
# charged for the store's pages and the process's heap only (a cgroup charges a file page to the
# group that first reads it). Prints one JSON object per run: limit_bytes (null: none),
# group_peak_bytes, recall_at_10, queries_per_second, store_resident_bytes (the store's pages
# mapped at the end), major_faults (pages the group read from disk during the run).
#   QUIVER_BIN=path   the quiver binary to run (default: this checkout's release build)
# Not part of CI: it builds a store (~40 s) and needs root for the cgroup.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tools/scripts/bench-setup.sh 1
quiver=${QUIVER_BIN:-$quiver}   # another build to compare, e.g. a parent commit's
passes=${1:-2}
work=$(mktemp -d)   # under $TMPDIR
trap 'rm -rf "$work"; [ -n "${group:-}" ] && rmdir "$group" 2>/dev/null || true' EXIT
"$quiver" import --store "$work/build.store" --create --metric cosine deb "$deb/base.fvecs" --quiet >/dev/null
"$quiver" index build --store "$work/build.store" deb --encoding ivfpq1024x48 --threads 2 >&2
"$quiver" compact --store "$work/build.store" "$work/ivfpq.store" >/dev/null
rm -f "$work/build.store" "$work/build.store-lock"
# The float vectors' bytes: .fvecs rows are a 4-byte dimension count, then the floats.
floats=$(python3 -c 'import os,struct,sys
f=open(sys.argv[1],"rb"); d=struct.unpack("<i", f.read(4))[0]; print(os.path.getsize(sys.argv[1]) // (4 + 4 * d) * 4 * d)' "$deb/base.fvecs")
query=("$quiver" bench queries --store "$work/ivfpq.store" deb --queries "$deb/queries.fvecs"
       --truth "$out/debian_gt_cosine.ivecs" --candidates ivfpq1024x48 --nprobe 128 --oversample 8 --passes "$passes")

if [ -d /sys/fs/cgroup/memory ]; then           # cgroup v1
  group=/sys/fs/cgroup/memory/quiver-bench-$$
  mkdir "$group"
  set_limit() { echo "$1" >"$group/memory.limit_in_bytes"; }
  reset() { echo 0 >"$group/memory.force_empty"; echo 0 >"$group/memory.max_usage_in_bytes"; }
  peak() { cat "$group/memory.max_usage_in_bytes"; }
  faults() { awk '$1 == "total_pgmajfault" {print $2}' "$group/memory.stat"; }
  unlimited=-1
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then   # cgroup v2
  echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
  group=/sys/fs/cgroup/quiver-bench-$$
  mkdir "$group"
  set_limit() { echo "$1" >"$group/memory.max"; }
  reset() { echo 0 >"$group/memory.reclaim" 2>/dev/null || true; echo max >"$group/memory.max"; echo 0 >"$group/memory.peak" 2>/dev/null || true; }
  peak() { cat "$group/memory.peak"; }
  faults() { awk '$1 == "pgmajfault" {print $2}' "$group/memory.stat"; }
  unlimited=max
else
  echo "no memory cgroup to run in (needs cgroup v1 or v2 with the memory controller, as root)" >&2
  exit 1
fi

# Runs the queries in the group with limit $1 (bytes, or $unlimited); prints one JSON object.
run() {
  "${query[@]}" --queries-limit 1 --passes 1 >/dev/null 2>&1   # the binary's pages, outside the group
  python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$work/ivfpq.store"
  reset
  set_limit "$1"
  local before; before=$(faults)
  local result
  result=$(sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$group" "${query[@]}" 2>/dev/null)
  python3 -c 'import json,sys
d=json.loads(sys.argv[1]); limit=sys.argv[2]
print(json.dumps({"limit_bytes": None if limit in ("-1", "max") else int(limit), "group_peak_bytes": int(sys.argv[3]),
  "float_vector_bytes": int(sys.argv[5]), "recall_at_10": d["recall_at_10"], "queries_per_second": d["queries_per_second"],
  "store_resident_bytes": d.get("store_resident_bytes"), "major_faults": int(sys.argv[4]), "commit": d.get("commit")}))' \
    "$result" "$1" "$(peak)" "$(( $(faults) - before ))" "$floats"
}

first=$(run "$unlimited")
echo "$first"
# The process's own memory: the unlimited run's peak less the store pages it left charged.
own=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(max(0, d["group_peak_bytes"] - d["store_resident_bytes"]))' "$first")
run $(( own + floats / 8 ))
