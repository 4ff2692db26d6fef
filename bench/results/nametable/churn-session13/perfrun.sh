#!/bin/sh
# perfrun.sh BIN OUT: churn benchmark with BIN; perf (system-wide, meshdns's samples kept) for 25 s of the churn.
BIN=$1; OUT=$2
cd "$(git rev-parse --show-toplevel)/sync/kube/apiservertest" # run from inside the repository
MESHDNS_BIN=$BIN go test -run '^$' -bench SourceChurn -benchtime 1x -timeout 40m . > $OUT.txt 2>&1 &
T=$!
for i in $(seq 1 1200); do P=$(pgrep -n -f "^$BIN run"); [ -n "$P" ] && break; sleep 0.5; done
echo "pid $P" > $OUT.perf.log
# the table is loaded within seconds at this size; the churn starts 5 s after
sleep 12
perf record -F 997 -g -a -o $OUT.perf.data -- sleep 25 >> $OUT.perf.log 2>&1
wait $T
grep '^Benchmark' $OUT.txt
perf script -i $OUT.perf.data --comms $(basename $BIN) > $OUT.script 2>/dev/null
