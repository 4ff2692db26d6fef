#!/bin/sh
# A stand-in for `meshdns run` in the demo's tests: logs like meshdns,
# answers nothing, exits 0 on SIGTERM. It installs no rules.
echo "time=x level=INFO msg=starting args=\"$*\""
trap 'echo "time=x level=INFO msg=stopped"; exit 0' TERM
echo "time=x level=INFO msg=serving queues=1"
while :; do sleep 0.05; done
