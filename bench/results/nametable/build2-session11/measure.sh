#!/bin/sh
# Alternating A/B of base (main cf4cb8a) and new (branch build2) test binaries,
# built as the README says into /tmp/build2-ab. N rounds, each base then new.
set -u
OUT=/work/wt-build2/bench/results/nametable/build2-session11
cd /tmp/build2-ab
N=${N:-16}
: > $OUT/load.txt
for f in build-1x build-3x update; do : > $OUT/base-$f.txt; : > $OUT/new-$f.txt; done
for i in $(seq $N); do
  for x in base new; do
    echo "round $i $x build-1x $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 1x -test.count 1 -test.benchmem >> $OUT/$x-build-1x.txt 2>&1
    echo "round $i $x build-3x $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 3x -test.count 1 -test.benchmem >> $OUT/$x-build-3x.txt 2>&1
    echo "round $i $x update $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableUpdate$' -test.benchtime 400x -test.count 1 -test.benchmem >> $OUT/$x-update.txt 2>&1
  done
done
echo "done $(date -u)" >> $OUT/load.txt
