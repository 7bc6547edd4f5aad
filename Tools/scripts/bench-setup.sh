# Sourced by the bench scripts (bench.sh, bench-ann.sh): the shared data and peer harness, the
# FAISS venv, the cosine truth for debian, and a release build of `quiver`. Sets: rounds,
# shared, data, out, python, quiver, deb, QUIVER_COMMIT. Expects to run from the repository root.
rounds=${1:-3}
shared=${QUIVER_SHARED:-../shared}
data=$shared/data
out=.build-bench
mkdir -p "$out"
python=$(sh "$shared/bench/setup.sh")
[ -f "$data/debian/base.fvecs" ] || (cd "$data" && python3 unpack.py)
# gt.ivecs ranks by inner product of the float16-stored vectors; Quiver's recall is against a
# float64 cosine truth (see cosine_truth.py and docs/benchmarks.md).
[ -f "$out/debian_gt_cosine.ivecs" ] || "$python" Tools/scripts/cosine_truth.py "$data/debian/base.fvecs" "$data/debian/queries.fvecs" "$out/debian_gt_cosine.ivecs"
swift build -c release --product quiver >/dev/null
quiver=.build/release/quiver
deb=$data/debian
export QUIVER_COMMIT=$(git rev-parse --short HEAD)
