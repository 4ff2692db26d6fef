package podtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/meshdns/meshdns/internal/netns"
)

// Namespaces made by Start are named "mdt-pt<pid>-<random>-pod" (and -up),
// <pid> being the test process's. A later test process removes those whose
// process is gone: the leftovers of a run that died without its cleanups
// (a -timeout panic, a kill). Namespaces of live processes, and any not
// named so, are never touched.
var staleName = regexp.MustCompile(`^mdt-pt([0-9]+)-`)

var staleOnce sync.Once

// cleanupStale removes, once per test process, the namespaces of dead test
// processes. Failures are logged, not fatal: they do not affect this run.
func cleanupStale(t testing.TB) {
	staleOnce.Do(func() { removeStale(t) })
}

// removeStale removes the namespaces of dead test processes.
func removeStale(t testing.TB) {
	{
		ents, err := os.ReadDir(netns.RunDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Logf("podtest: stale namespaces: %v", err)
			return
		}
		done := map[int]bool{}
		for _, e := range ents {
			m := staleName.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			pid, err := strconv.Atoi(m[1])
			if err != nil || done[pid] || pid == os.Getpid() || alive(pid) {
				continue
			}
			done[pid] = true
			removed, err := netns.CleanupStale(context.Background(), "pt"+m[1])
			if err != nil {
				t.Logf("podtest: stale namespaces of pid %d: %v", pid, err)
			}
			if len(removed) > 0 {
				t.Logf("podtest: removed namespaces left by dead test process %d: %v", pid, removed)
			}
		}
	}
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// newPrefix returns a namespace prefix "pt<pid>-<8 hex digits>".
func newPrefix() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("podtest: %w", err)
	}
	return fmt.Sprintf("pt%d-%s", os.Getpid(), hex.EncodeToString(b[:])), nil
}
