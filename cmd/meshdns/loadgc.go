package main

import (
	"log/slog"
	"runtime/debug"
	"sync"
)

// The first name table's load is the peak of meshdns's memory: the
// decoded objects and the builder's scratch are live together, and with
// the Go runtime's default GOGC=100 the heap may grow to twice what was
// live at the last collection before the next one runs. Unless GOGC is
// set, meshdns runs that load with a tighter target, loadGCPercent, and
// restores the runtime's own once the first table serves: a few more
// collections during a one-time load, against a lower peak. At 100,000
// endpoints from an objects file the peak fell from 133.9-135.4 MiB to
// 116.6-125.9 MiB in alternating runs, for no CPU cost shown
// (bench/results/nametable/rss-loadgc.md); from the API server, from
// 124.8 and 139.3 MiB to 114.0-119.9 (source-rss.txt). The steady state
// keeps GOGC=100, whose fewer collections cost less CPU under churn. The
// runtime's memory limit (memlimit.go) still applies.

// loadGCPercent is the garbage collector's target while the first table
// loads.
const loadGCPercent = 50

// tightenGC sets the collector's target to loadGCPercent unless getenv
// says GOGC is set, and returns the function that puts back the target
// it found, once however often it is called.
func tightenGC(getenv func(string) string, log *slog.Logger) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(loadGCPercent)
	log.Debug("garbage collector tightened for the first load", "gogc", loadGCPercent, "restored_after", old)
	return sync.OnceFunc(func() { debug.SetGCPercent(old) })
}
