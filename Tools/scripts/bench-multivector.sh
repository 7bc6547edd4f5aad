#!/usr/bin/env bash
# Multi-vector collections on ../shared/data/tokens (docs/benchmarks.md, "Multi-vector"): per
# pool factor 1, 2, 3, 4 the stored vectors, pooling documents/s on one thread at 32, 128 and
# 512 tokens, exact MaxSim recall@10 against unpooled exact MaxSim, nDCG@10 and MRR@10 against
# the qrels, and the fast paths' recall and queries/s beside the exact scan's: HNSW over the
# tokens (pool factors 1-4), then IVF lists of the tokens with centroid interaction (nlist 4096,
# pool factors 1 and 2; k-means on the tokens takes about half a minute per factor), then pool
# factors 3 (nlist auto: 2,048) and 4 (nlist 1,536: about 16 tokens a list, as 2,048 is at f = 3;
# docs/benchmarks.md) through IVF lists with int8 codes of the tokens scoring the shortlists
# first.
#
#   bash Tools/scripts/bench-multivector.sh [ROUNDS]      # default 2
#
# Needs ../shared (or $QUIVER_SHARED). Results: .build-bench/multivector-<time>.jsonl (one JSON
# object per round, tagged "round"). Not part of CI: a round takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
shared=${QUIVER_SHARED:-../shared}
tokens=$shared/data/tokens
[ -f "$tokens/doc_tokens.npy" ] || (cd "$shared/data" && python3 unpack.py)
mkdir -p .build-bench
swift build -c release --product quiver >/dev/null
export QUIVER_COMMIT=$(git rev-parse --short HEAD)
results=.build-bench/multivector-$(date +%Y%m%d-%H%M%S).jsonl
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  .build/release/quiver bench multivector --docs "$tokens/doc_tokens.npy" --doc-offsets "$tokens/doc_offsets.npy" \
      --queries "$tokens/query_tokens.npy" --query-offsets "$tokens/query_offsets.npy" --truth "$tokens/truth.ivecs" \
      --qrels "$tokens/qrels.tsv" --pool-factor 1,2,3,4 --index hnsw --token-candidates 8,16,32 --oversample 4,10 --encoding none --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d["round"]=int(sys.argv[1]); d["run"]="hnsw"; print(json.dumps(d))' "$round" >>"$results"
  .build/release/quiver bench multivector --docs "$tokens/doc_tokens.npy" --doc-offsets "$tokens/doc_offsets.npy" \
      --queries "$tokens/query_tokens.npy" --query-offsets "$tokens/query_offsets.npy" --truth "$tokens/truth.ivecs" \
      --qrels "$tokens/qrels.tsv" --pool-factor 1,2 --index ivf --nlist 4096 --nprobe 2,4 --oversample 3,4 --encoding none --passes 3 --pooling-lengths 128 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d["round"]=int(sys.argv[1]); d["run"]="ivf"; print(json.dumps(d))' "$round" >>"$results"
  .build/release/quiver bench multivector --docs "$tokens/doc_tokens.npy" --doc-offsets "$tokens/doc_offsets.npy" \
      --queries "$tokens/query_tokens.npy" --query-offsets "$tokens/query_offsets.npy" --truth "$tokens/truth.ivecs" \
      --qrels "$tokens/qrels.tsv" --pool-factor 3 --index ivf --nprobe 2 --oversample 6,8 --encoding int8 --passes 5 --pooling-lengths 128 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d["round"]=int(sys.argv[1]); d["run"]="ivf-int8"; print(json.dumps(d))' "$round" >>"$results"
  .build/release/quiver bench multivector --docs "$tokens/doc_tokens.npy" --doc-offsets "$tokens/doc_offsets.npy" \
      --queries "$tokens/query_tokens.npy" --query-offsets "$tokens/query_offsets.npy" --truth "$tokens/truth.ivecs" \
      --qrels "$tokens/qrels.tsv" --pool-factor 4 --index ivf --nlist 1536 --nprobe 2 --oversample 6,8 --encoding int8 --passes 5 --pooling-lengths 128 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d["round"]=int(sys.argv[1]); d["run"]="ivf-int8"; print(json.dumps(d))' "$round" >>"$results"
done
echo "$results"
