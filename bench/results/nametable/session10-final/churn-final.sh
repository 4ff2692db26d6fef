#!/bin/sh
# A/B of SourceChurn: session 9 (old, 7c02cd2) against session 10 (new), alternately.
cd /work/main/sync/kube/apiservertest
for r in 1 2; do
  for v in old new; do
    [ $r = 2 ] && { [ $v = old ] && v=new || v=old; }
    echo "== round $r $v $(date -u +%T) $(cat /proc/loadavg)"
    MESHDNS_BIN=/tmp/qf/meshdns-$v go test -run '^$' -bench SourceChurn -benchtime 1x -timeout 40m . 2>&1 | grep -E "updates|CPU|Benchmark|FAIL|ok"
  done
done
