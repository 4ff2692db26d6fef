#!/bin/sh
# perfrun.sh BIN OUT: runs the churn benchmark with BIN and records perf of meshdns for 25 s of the churn.
BIN=$1; OUT=$2
cd "$(git rev-parse --show-toplevel)/sync/kube/apiservertest" # run from inside the repository
MESHDNS_BIN=$BIN go test -run '^$' -bench SourceChurn -benchtime 1x -timeout 40m . > $OUT.txt 2>&1 &
T=$!
# wait for meshdns to start
for i in $(seq 1 600); do P=$(pgrep -x meshdns -n); [ -n "$P" ] && [ "$(readlink /proc/$P/exe)" = "$BIN" ] && break; sleep 0.5; done
sleep 7
perf record -F 997 -g -p $P -o $OUT.perf.data -- sleep 25 > $OUT.perf.log 2>&1
wait $T
grep '^Benchmark' $OUT.txt
