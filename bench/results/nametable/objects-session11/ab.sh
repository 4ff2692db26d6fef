#!/bin/sh
cd /work/main
for r in 1 2 3 4; do
 for v in old new; do
  echo "== $v $(date -u +%T) $(cat /proc/loadavg)"
  MESHDNS_BIN=/tmp/rss11/meshdns-$v sh scripts/nametable-rss.sh 10000 | tail -1
 done
done
