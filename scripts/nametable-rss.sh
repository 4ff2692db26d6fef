#!/bin/sh
# nametable-rss.sh SERVICES...: for each size, generate the scale cluster
# (SERVICES Services, 10 endpoints each, 100 ServiceEntries), start
# `meshdns run --objects` in a network namespace of its own (root needed)
# and print its RSS once serving, 30 s later, and its peak (VmHWM), from
# /proc/<pid>/status. Run from the repository root. MESHDNS_BIN=FILE runs
# that meshdns binary instead of one built from the tree (A/B runs);
# GENCLUSTER_FLAGS=-controllers writes the objects as kubectl exports them
# (owners, labels, nodes, zones, Pod references).
set -eu
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
if [ -n "${MESHDNS_BIN:-}" ]; then
	cp "$MESHDNS_BIN" "$bin/meshdns"
else
	go build -o "$bin/meshdns" ./cmd/meshdns
fi
go build -o "$bin/gencluster" ./sync/model/modeltest/gencluster
printf 'nameserver 10.96.0.10\nsearch ns-0.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' > "$bin/resolv.conf"
echo "| Services | endpoints | objects file | RSS serving | RSS 30 s later | peak RSS (VmHWM) | table log |"
echo "|---|---|---|---|---|---|---|"
for n in "$@"; do
	"$bin/gencluster" -services "$n" ${GENCLUSTER_FLAGS:-} > "$bin/objects.json"
	ns="mdt-rss$$-$n"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" "$bin/meshdns" run --objects "$bin/objects.json" --resolv-conf "$bin/resolv.conf" > "$bin/log" 2>&1 &
	pid=$!
	i=0
	until grep -qs 'msg=serving' "$bin/log"; do
		i=$((i + 1))
		if [ $i -gt 6000 ] || ! kill -0 $pid 2>/dev/null; then cat "$bin/log" >&2; break; fi
		sleep 0.1
	done
	rss0=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
	sleep 30
	rss1=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
	hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	kill $pid
	wait $pid || true
	ip netns del "$ns"
	size=$(du -k "$bin/objects.json" | cut -f1)
	tl=$(grep -o 'names=[0-9]* records=[0-9]*.* build=[^ ]*' "$bin/log" | head -1 | sed 's/ services=.*build=/ build=/')
	echo "| $n | $((n * 10)) | $size KiB | $((rss0 / 1024)) MiB | $((rss1 / 1024)) MiB | $((hwm / 1024)) MiB | $tl |"
done
