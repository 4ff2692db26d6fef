#!/usr/bin/env bash
# Runs every native Go fuzz target of every module for the given time each,
# each from its own module's directory (bench/istio and bench/report are
# modules of their own). The kube-apiserver module has no fuzz targets and
# is not searched: its build alone takes minutes.
# Usage: scripts/fuzz.sh 10s
set -euo pipefail
t=${1:-10s}
cd "$(dirname "$0")/.."
root=$PWD
n=0
while IFS= read -r line; do
	file=${line%%:*}
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"${line#*:}")
	dir=$(dirname "$file")
	mod=$dir
	while [ ! -f "$mod/go.mod" ]; do mod=$(dirname "$mod"); done
	pkg=./${dir#"$mod"}
	pkg=${pkg/#.\/\//.\/}
	echo "fuzz $dir $name for $t"
	(cd "$root/$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg")
	n=$((n + 1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '^./sync/kube/apiservertest/' | sed -E 's/:[0-9]+:/:/' | sort)
echo "fuzz: $n targets"
[ "$n" -gt 0 ]
