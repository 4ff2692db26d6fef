#!/bin/bash
# usage (root, from the repository root):
#   bench/scripts/ab.sh HARNESS OUTDIR ROUNDS A=BIN_A B=BIN_B [meshdns-bench run flags...]
# An A/B of two meshdns binaries through the harness: each round runs the
# `meshdns` contender once with each binary (the order alternating from
# round to round), every session with the same flags, the results in
# OUTDIR/<name>-<round>.{json,md}; then `meshdns-bench ab OUTDIR` prints
# the medians across rounds of each binary and their ratio B/A.
set -eu
harness=$1; out=$2; rounds=$3; a=$4; b=$5; shift 5
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
	order="$a $b"
	[ $((r % 2)) -eq 0 ] && order="$b $a"
	for ab in $order; do
		name=${ab%%=*}; bin=${ab#*=}
		"$harness" run --bin-dir bench/bin --meshdns "$bin" --contenders meshdns --rounds 1 --profile 0 \
			--idle-duration 0 --results "$out/tmp" --label "$name-$r" "$@" > "$out/$name-$r.log" 2>&1
		mv "$out"/tmp/*-"$name-$r".json "$out/$name-$r.json"
		mv "$out"/tmp/*-"$name-$r".md "$out/$name-$r.md"
		rm -f "$out"/tmp/*-"$name-$r".png
	done
done
rmdir "$out/tmp" 2>/dev/null || true
"$harness" ab "$out"
