#!/bin/sh
# Alternating A/B of base (main 7c02cd2) and new (branch build) test binaries.
set -u
OUT=/work/wt-build/bench/results/nametable/build-session10
cd /tmp/build-prof
N=${N:-10}
: > $OUT/load.txt
for f in build-1x build-3x update; do : > $OUT/base-$f.txt; : > $OUT/new-$f.txt; done
for i in $(seq $N); do
  for x in base new; do
    echo "round $i $x build-1x $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 1x -test.count 1 -test.benchmem >> $OUT/$x-build-1x.txt 2>&1
  done
done
for i in $(seq $N); do
  for x in base new; do
    echo "round $i $x build-3x $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 3x -test.count 1 -test.benchmem >> $OUT/$x-build-3x.txt 2>&1
  done
done
for i in $(seq $N); do
  for x in base new; do
    echo "round $i $x update $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableUpdate$' -test.benchtime 400x -test.count 1 -test.benchmem >> $OUT/$x-update.txt 2>&1
  done
done
echo done >> $OUT/load.txt
