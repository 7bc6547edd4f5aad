#!/bin/bash
# Floats kept only as int8 beside floats (+ int8 and binary codes) on debian (63,574 x 384,
# cosine): store sizes after compaction, HNSW build times, and three passes of `quiver bench
# queries` for each search (one thread). Needs ../shared/data unpacked (python3 unpack.py).
set -e
cd "$(dirname "$0")/../.."
swift build -c release --product quiver >/dev/null
Q=$PWD/.build/release/quiver
D=${QUIVER_DATA:-../shared/data}/debian
S=$(mktemp -d); trap "rm -rf $S" EXIT
$Q import debian $D/base.fvecs --store $S/f.quiver --create --metric cosine --quiet >/dev/null
$Q index build debian --store $S/f.quiver --encoding int8 --quiet
$Q index build debian --store $S/f.quiver --encoding binary --quiet
cp $S/f.quiver $S/i.quiver
$Q index build debian --store $S/i.quiver --encoding int8 --drop-floats --quiet
cp $S/i.quiver $S/ih.quiver; cp $S/f.quiver $S/fh.quiver
/usr/bin/time -f "hnsw build floats %e s" $Q index build debian --store $S/fh.quiver --quiet --threads 1
/usr/bin/time -f "hnsw build int8-only %e s" $Q index build debian --store $S/ih.quiver --quiet --threads 1
$Q compact $S/fc.quiver --store $S/f.quiver >/dev/null
$Q compact $S/ic.quiver --store $S/i.quiver >/dev/null
ls -l $S/*.quiver
for pass in 1 2 3; do
  echo "== pass $pass"
  echo "floats exact:";       $Q bench queries debian --store $S/fc.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --candidates floats --exact
  echo "int8+rescore exact:"; $Q bench queries debian --store $S/fc.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --candidates int8 --oversample 4 --exact
  echo "int8-only exact:";    $Q bench queries debian --store $S/ic.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --exact
  echo "binary+float rescore:"; $Q bench queries debian --store $S/fc.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --candidates binary --oversample 8 --exact
  echo "binary+int8-only rescore:"; $Q bench queries debian --store $S/ic.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --candidates binary --oversample 8 --exact
done
for pass in 1 2 3; do
  echo "== hnsw pass $pass"
  echo "hnsw floats ef64:";  $Q bench queries debian --store $S/fh.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --candidates floats --ef-search 64
  echo "hnsw int8-only ef64:"; $Q bench queries debian --store $S/ih.quiver --queries $D/queries.fvecs --truth $D/gt.ivecs --ef-search 64
done
