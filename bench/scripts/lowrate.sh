#!/bin/bash
# usage (root, from the repository root):
#   bench/scripts/lowrate.sh meshdns BIN QPS SECS [meshdns run flags...]
#   bench/scripts/lowrate.sh dnsmasq QPS SECS
# One answerer of the demo's three mesh names at a fixed rate from dnsperf
# (-Q QPS) in a throw-away pod namespace, and what each query costs it,
# from /proc: CPU time (schedstat of every thread, nanoseconds), context
# switches (voluntary + involuntary, every thread) and, with STRACE=1, the
# system calls (strace -c -f; it slows the answerer, so CPU figures of a
# traced run mean nothing). meshdns answers through its NFQUEUE rules with a
# veth peer as nameserver; dnsmasq (no cache, a hosts file) answers on
# 127.0.0.1 in the same namespace, the cheapest path a listener can have.
set -u
mode=$1; shift
if [ "$mode" = meshdns ]; then BIN=$1; shift; fi
QPS=$1; SECS=$2; shift 2
T=$(mktemp -d)
P=mdt-lr$$; U=mdt-lru$$
cleanup() { ip netns del $P 2>/dev/null; ip netns del $U 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ip netns add $P; ip -n $P link set lo up
printf 'web.default.svc.cluster.local A\napi.shop.svc.cluster.local A\ndb.shop.svc.cluster.local A\n' > $T/q.txt
if [ "$mode" = meshdns ]; then
	ip netns add $U; ip -n $U link set lo up
	ip link add mdla$$ netns $P type veth peer name mdlb$$ netns $U
	ip -n $P addr add 198.18.0.2/24 dev mdla$$; ip -n $U addr add 198.18.0.1/24 dev mdlb$$
	ip -n $P link set mdla$$ up; ip -n $U link set mdlb$$ up
	printf 'nameserver 198.18.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' > $T/r.conf
	ip netns exec $P "$BIN" run --objects examples/objects.yaml --resolv-conf $T/r.conf --tcp-key-file $T/k "$@" > $T/m.log 2>&1 &
	PID=$!
	server=198.18.0.1
else
	printf '10.96.0.1 web.default.svc.cluster.local\n10.96.0.2 api.shop.svc.cluster.local\n10.96.0.3 db.shop.svc.cluster.local\n' > $T/hosts
	ip netns exec $P dnsmasq -k --no-resolv --no-hosts --addn-hosts=$T/hosts --listen-address=127.0.0.1 \
		--bind-interfaces -p 53 --cache-size=0 --user=root > $T/m.log 2>&1 &
	PID=$!
	server=127.0.0.1
fi
sleep 3
ip netns exec $P dnsperf -s $server -d $T/q.txt -Q $QPS -l $((SECS + 2)) > $T/dp.txt 2>&1 &
DP=$!
sleep 1
cpu() { cat /proc/$PID/task/*/schedstat | awk '{s += $1} END {printf "%d", s / 1000}'; }
ctx() { cat /proc/$PID/task/*/status | awk '/^(non)?voluntary_ctxt/ {s += $2} END {print s}'; }
c0=$(cpu); x0=$(ctx)
[ -n "${STRACE:-}" ] && { strace -c -f -p $PID -o $T/st.txt & ST=$!; }
sleep $SECS
c1=$(cpu); x1=$(ctx)
[ -n "${STRACE:-}" ] && { kill -INT $ST; wait $ST; grep -E 'calls|----|[a-z_]+$' $T/st.txt | sed 's/^/    /'; }
wait $DP
done=$(awk '/Queries completed/ {print $3}' $T/dp.txt)
lat=$(awk '/Average Latency/ {print $4}' $T/dp.txt)
awk -v m=$mode -v c=$((c1 - c0)) -v x=$((x1 - x0)) -v q=$QPS -v s=$SECS -v d=$done -v l=$lat \
	'BEGIN {n = q * s; printf "%s %d q/s: %.1f CPU us/query, %.2f context switches/query, %d answered, mean latency %.0f us\n", m, q, c / n, x / n, d, l * 1e6}'
kill -TERM $PID; wait $PID 2>/dev/null
