#!/bin/sh
# exports.sh: peak RSS of meshdns run --objects on the scale cluster (10,000 Services, 100,000 endpoints)
# exported four ways, for three binaries in turn; then the new binary under GOMEMLIMIT=96MiB.
for f in objects-ctl.json objects-ctl.yaml list-ctl.yaml list-ctl.json; do
  for b in meshdns-main meshdns-shrink meshdns-inplace; do
    echo "$(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg): $(sh /tmp/rss11/peak.sh /tmp/rss11/$b /tmp/rss11/$f)"
  done
  echo "$(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg): GOMEMLIMIT=96MiB $(GOMEMLIMIT=96MiB sh /tmp/rss11/peak.sh /tmp/rss11/meshdns-inplace /tmp/rss11/$f)"
done
