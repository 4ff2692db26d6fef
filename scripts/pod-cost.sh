#!/bin/sh
# pod-cost.sh ROUNDS BIN...: what a pod with the demo's objects pays for
# meshdns doing nothing. Each round starts every BIN in turn (the order
# rotated each round) as `meshdns run --objects examples/objects.yaml` with
# its rules, in a network namespace of its own (root needed), waits for
# serving, lets it settle for 10 s, then reads its RSS and, over 60 s with
# no DNS traffic, its CPU time and run slices (wake-ups) from
# /proc/<pid>/task/*/schedstat. Run from the repository root.
set -eu
rounds=$1
shift
bins="$*"
rbins=$(printf '%s\n' "$@" | tac | tr '\n' ' ')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'nameserver 198.18.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' > "$work/resolv.conf"
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }
sched() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1; n += $3} END {printf "%d %d", ns, n}'; }
echo "| round | binary | RSS 10 s after serving | of it anonymous / file | RSS 70 s after | peak (VmHWM) | CPU ms per minute idle | run slices per minute |"
echo "|---|---|---|---|---|---|---|---|"
r=1
while [ $r -le "$rounds" ]; do
	order=$bins
	if [ $((r % 2)) -eq 0 ]; then order=$rbins; fi
	for bin in $order; do
		ns="mdt-cost$$-$r"
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" "$bin" run --objects examples/objects.yaml --resolv-conf "$work/resolv.conf" \
			--tcp-key-file "$work/tcp.key" > "$work/log" 2>&1 &
		pid=$!
		n=0
		until grep -q 'msg=serving' "$work/log"; do
			n=$((n + 1))
			if [ $n -gt 600 ] || ! kill -0 $pid 2>/dev/null; then cat "$work/log" >&2; exit 1; fi
			sleep 0.1
		done
		sleep 10
		rss0=$(kib VmRSS $pid); anon=$(kib RssAnon $pid); file=$(kib RssFile $pid)
		set -- $(sched $pid)
		ns0=$1; sl0=$2
		sleep 60
		set -- $(sched $pid)
		ns1=$1; sl1=$2
		rss1=$(kib VmRSS $pid); hwm=$(kib VmHWM $pid)
		kill $pid
		wait $pid || true
		ip netns del "$ns"
		awk -v r=$r -v b="$bin" -v rss0=$rss0 -v anon=$anon -v file=$file -v rss1=$rss1 -v hwm=$hwm -v cpu=$((ns1 - ns0)) -v sl=$((sl1 - sl0)) \
			'BEGIN {printf "| %d | %s | %.1f MiB | %.1f / %.1f MiB | %.1f MiB | %.1f MiB | %.2f | %d |\n", r, b, rss0/1024, anon/1024, file/1024, rss1/1024, hwm/1024, cpu/1e6, sl}'
	done
	r=$((r + 1))
done
