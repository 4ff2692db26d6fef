package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// The Go runtime's soft memory limit (GOMEMLIMIT) makes the garbage
// collector work harder near it instead of letting the heap grow past it.
// It bounds what the runtime manages, not the process's RSS, which also
// holds the binary's pages: set to the container's whole limit, the
// process can still be OOM-killed while loading a large cluster. So unless
// GOMEMLIMIT is set, meshdns sets the runtime's limit to memLimitShare of
// its cgroup's memory limit. At 100,000 endpoints from the API server this
// holds the load's peak at 107 MiB under a 128 MiB limit (125-131 MiB
// without a limit; bench/results/nametable/source-rss.txt).

// memLimitShare is the part of the cgroup's memory limit given to the Go
// runtime.
const memLimitShare = 0.75

// memLimit returns the runtime memory limit to set, from the environment
// and the files readFile reads, the cgroup's limit it comes from, and
// whether to set one: none when GOMEMLIMIT is set (the runtime has read
// it) or no cgroup file gives a limit. The limit is cgroup v2's memory.max
// of the process's own cgroup (/proc/self/cgroup: "/" inside a container
// with its own cgroup namespace), else cgroup v1's memory.limit_in_bytes
// of its memory cgroup (kubelets on cgroup v1 hosts).
func memLimit(getenv func(string) string, readFile func(string) ([]byte, error)) (limit int64, cgroup int64, ok bool, err error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, 0, false, nil
	}
	var v2, v1 []string
	if b, err := readFile("/proc/self/cgroup"); err == nil {
		for l := range strings.Lines(string(b)) {
			// "0::PATH" for cgroup v2, "N:memory:PATH" (among other
			// controllers) for v1's memory controller.
			_, rest, _ := strings.Cut(strings.TrimSpace(l), ":")
			ctrls, p, _ := strings.Cut(rest, ":")
			switch {
			case ctrls == "":
				v2 = append(v2, path.Join("/sys/fs/cgroup", p, "memory.max"))
			case slices.Contains(strings.Split(ctrls, ","), "memory"):
				v1 = append(v1, path.Join("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes"))
			}
		}
	}
	// Inside a container without its own cgroup namespace, /proc/self/cgroup
	// names the host's path while the container's cgroup is mounted at the
	// root: the mount's own file is the last resort.
	files := slices.Concat(v2, v1, []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"})
	for _, f := range files {
		b, err := readFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, false, err
		}
		v := strings.TrimSpace(string(b))
		if v == "max" {
			return 0, 0, false, nil // cgroup v2: no limit
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, false, fmt.Errorf("%s: %w", f, err)
		}
		// cgroup v1 writes a page-rounded math.MaxInt64 for no limit.
		if n <= 0 || n >= math.MaxInt64/2 {
			return 0, 0, false, nil
		}
		return int64(float64(n) * memLimitShare), n, true, nil
	}
	return 0, 0, false, nil
}

// setMemoryLimit applies memLimit to the runtime and logs what it did.
func setMemoryLimit(log *slog.Logger) {
	limit, cgroup, ok, err := memLimit(os.Getenv, os.ReadFile)
	switch {
	case err != nil:
		log.Warn("container memory limit unreadable; the Go runtime has no memory limit", "err", err)
	case ok:
		debug.SetMemoryLimit(limit)
		log.Info("Go memory limit set from the container's", "limit_bytes", limit, "container_bytes", cgroup)
	}
}
