#!/bin/bash
# usage (root, from the repository root): bench/scripts/profile-rate.sh BIN QPS SECS OUT.pprof
# A CPU profile of meshdns (BIN) answering the demo's mesh names at QPS queries/s from dnsperf
# (-Q), taken from its /debug/pprof in a throw-away pod namespace with a veth peer as nameserver.
set -u
BIN=$1; QPS=$2; SECS=$3; OUT=$4
P=mdt-prof$$; U=mdt-profu$$
ip netns add $P; ip netns add $U
ip -n $P link set lo up; ip -n $U link set lo up
ip link add mdpa$$ netns $P type veth peer name mdpb$$ netns $U
ip -n $P addr add 198.18.0.2/24 dev mdpa$$; ip -n $U addr add 198.18.0.1/24 dev mdpb$$
ip -n $P link set mdpa$$ up; ip -n $U link set mdpb$$ up
printf 'nameserver 198.18.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' > ${TMPDIR:-/tmp}/r$$.conf
ip netns exec $P $BIN run --objects examples/objects.yaml --resolv-conf ${TMPDIR:-/tmp}/r$$.conf --tcp-key-file ${TMPDIR:-/tmp}/k$$ > ${TMPDIR:-/tmp}/m$$.log 2>&1 &
PID=$!
sleep 3
printf 'web.default.svc.cluster.local A\napi.shop.svc.cluster.local A\npayments.example.com A\ndb.shop.svc.cluster.local A\n' > ${TMPDIR:-/tmp}/q$$.txt
ip netns exec $P dnsperf -s 198.18.0.1 -d ${TMPDIR:-/tmp}/q$$.txt -Q $QPS -l $((SECS+3)) > ${TMPDIR:-/tmp}/dp$$.txt 2>&1 &
DP=$!
sleep 1
ip netns exec $P curl -s -o $OUT "http://127.0.0.1:15099/debug/pprof/profile?seconds=$SECS"
wait $DP
grep -E "Queries (sent|completed)" ${TMPDIR:-/tmp}/dp$$.txt
kill -TERM $PID; wait $PID
ip netns del $P; ip netns del $U
