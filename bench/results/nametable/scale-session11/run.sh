#!/bin/sh
# the scale curve on the final code: build (flat, grouped) and one change, 1,000 to 1,000,000 endpoints
cd /work/main/dnsengine
T=/tmp/scale11/dnsengine.test
{ date -u; cat /proc/loadavg; } > /tmp/scale11/load.txt
MESHDNS_BENCH_ENDPOINTS=1000,10000,100000 $T -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 3x -test.count 3 -test.benchmem > /tmp/scale11/build.txt 2>&1
{ date -u; cat /proc/loadavg; } >> /tmp/scale11/load.txt
MESHDNS_BENCH_ENDPOINTS=1000000 $T -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 1x -test.count 2 -test.benchmem > /tmp/scale11/build-1m.txt 2>&1
{ date -u; cat /proc/loadavg; } >> /tmp/scale11/load.txt
MESHDNS_BENCH_ENDPOINTS=1000,10000,100000,1000000 $T -test.run '^$' -test.bench 'BenchmarkTableUpdate$' -test.benchtime 400x -test.count 3 -test.benchmem > /tmp/scale11/update.txt 2>&1
{ date -u; cat /proc/loadavg; } >> /tmp/scale11/load.txt
echo done >> /tmp/scale11/load.txt
