#!/bin/sh
# A/B of SourceChurn: HTTP/2 (main) against HTTP/1.1 (DISABLE_HTTP2=1), alternately.
cd /work/main/sync/kube/apiservertest
for r in 1 2; do
  for v in main h1; do
    [ $r = 2 ] && { [ $v = main ] && v=h1 || v=main; }
    echo "== round $r $v $(date -u +%T) $(cat /proc/loadavg)"
    MESHDNS_BIN=/tmp/qf/meshdns-$v go test -run '^$' -bench SourceChurn -benchtime 1x -timeout 40m . 2>&1 | grep -E "updates|CPU|Benchmark|FAIL|ok"
  done
done
