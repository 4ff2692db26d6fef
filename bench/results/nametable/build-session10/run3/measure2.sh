#!/bin/sh
# A second batch of the build benchmarks only, alternating, into $OUT.
set -u
OUT=$1
cd /tmp/build-prof
N=${N:-12}
mkdir -p $OUT
: > $OUT/load.txt
for f in build-1x build-3x; do : > $OUT/base-$f.txt; : > $OUT/new-$f.txt; done
for i in $(seq $N); do
  for x in base new; do
    echo "round $i $x build-1x $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 1x -test.count 1 -test.benchmem >> $OUT/$x-build-1x.txt 2>&1
    echo "round $i $x build-3x $(cat /proc/loadavg)" >> $OUT/load.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 3x -test.count 1 -test.benchmem >> $OUT/$x-build-3x.txt 2>&1
  done
done
echo done >> $OUT/load.txt
