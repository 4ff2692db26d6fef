#!/usr/bin/env bash
# Runs every native Go fuzz target of the main module for the given time each.
# Usage: scripts/fuzz.sh 10s
set -euo pipefail
t=${1:-10s}
cd "$(dirname "$0")/.."
n=0
while IFS= read -r line; do
	file=${line%%:*}
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")
	pkg=./$(dirname "$file")
	echo "fuzz $pkg $name for $t"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg"
	n=$((n + 1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '/apiservertest/' | grep -v '^./bench/' | sed -E 's/:[0-9]+:/:/')
echo "fuzz: $n targets"
[ "$n" -gt 0 ]
