#!/bin/sh
# ab.sh OUT ROUNDS NAME1 BIN1 NAME2 BIN2 ...: alternating churn runs, appended to OUT.
OUT=$1; R=$2; shift 2
cd "$(git rev-parse --show-toplevel)/sync/kube/apiservertest" # run from inside the repository
for r in $(seq 1 $R); do
  set -- "$@"
  i=0
  while [ $i -lt $# ]; do
    eval name=\${$((i+1))}; eval bin=\${$((i+2))}
    echo "== round $r $name $(date -u +%H:%M:%S) $(cat /proc/loadavg)" >> $OUT
    MESHDNS_BIN=$bin go test -run '^$' -bench SourceChurn -benchtime 1x -timeout 40m . > $OUT.last 2>&1
    grep -E '^Benchmark|^ok|FAIL|sourcechurn_bench_test.go' $OUT.last >> $OUT
    i=$((i+2))
  done
done
