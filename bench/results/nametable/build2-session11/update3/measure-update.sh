#!/bin/sh
# The update alone, alternating base and new, N rounds; -benchtime as given (BT).
set -u
OUT=/work/wt-build2/bench/results/nametable/build2-session11/update3
cd /tmp/build2-ab
N=${N:-20}
BT=${BT:-400x}
: > $OUT/load-$BT.txt
: > $OUT/base-update-$BT.txt; : > $OUT/new-update-$BT.txt
for i in $(seq $N); do
  for x in base new; do
    echo "round $i $x update $(cat /proc/loadavg)" >> $OUT/load-$BT.txt
    MESHDNS_BENCH_ENDPOINTS=100000 ./$x.test -test.run '^$' -test.bench 'BenchmarkTableUpdate$' -test.benchtime $BT -test.count 1 -test.benchmem >> $OUT/$x-update-$BT.txt 2>&1
  done
done
echo "done $(date -u)" >> $OUT/load-$BT.txt
