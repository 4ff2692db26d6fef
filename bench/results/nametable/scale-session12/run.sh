#!/bin/sh
# The scale curve on session 12's code (endpoints held as rows): build
# (flat, grouped) and one change, 1,000 to 1,000,000 endpoints. From the
# repository root, as root; writes beside this script.
set -e
D=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)/dnsengine.test
go test -c -o "$T" ./dnsengine/
cd dnsengine
{ date -u; cat /proc/loadavg; } > "$D/load.txt"
MESHDNS_BENCH_ENDPOINTS=1000,10000,100000 "$T" -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 3x -test.count 3 -test.benchmem > "$D/build.txt" 2>&1
{ date -u; cat /proc/loadavg; } >> "$D/load.txt"
MESHDNS_BENCH_ENDPOINTS=1000000 "$T" -test.run '^$' -test.bench 'BenchmarkTableBuild/(table|incremental)' -test.benchtime 1x -test.count 2 -test.benchmem > "$D/build-1m.txt" 2>&1
{ date -u; cat /proc/loadavg; } >> "$D/load.txt"
MESHDNS_BENCH_ENDPOINTS=1000,10000,100000,1000000 "$T" -test.run '^$' -test.bench 'BenchmarkTableUpdate$' -test.benchtime 400x -test.count 3 -test.benchmem > "$D/update.txt" 2>&1
{ date -u; cat /proc/loadavg; } >> "$D/load.txt"
