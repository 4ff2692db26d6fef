#!/bin/sh
# peak.sh BIN FILE: VmHWM and VmRSS 6 s after start, and the load's log
ns=mdt-rss11-p$$
ip netns add $ns; ip -n $ns link set lo up
ip netns exec $ns $1 run --objects $2 --resolv-conf /tmp/rss11/resolv.conf > /tmp/rss11/peak.log.$$ 2>&1 &
pid=$!
i=0; until grep -qs msg=serving /tmp/rss11/peak.log.$$ || [ $i -gt 600 ]; do sleep 0.1; i=$((i+1)); done
s=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
sleep 5
echo "$(basename $1) $(basename $2): serving RSS $((s/1024)) MiB, peak $(($(awk '/VmHWM/ {print $2}' /proc/$pid/status)/1024)) MiB, 5 s later $(($(awk '/VmRSS/ {print $2}' /proc/$pid/status)/1024)) MiB; $(grep -o 'objects loaded.*' /tmp/rss11/peak.log.$$ | head -c 0)$(grep -o 'build=[^ ]*' /tmp/rss11/peak.log.$$) after $(( i / 10 )).$(( i % 10 )) s"
kill $pid; wait $pid; ip netns del $ns
