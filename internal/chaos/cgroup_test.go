package chaos_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memCgroup is a memory cgroup of the suite's own ("mdt-chaos-<n>" at the
// root of the memory hierarchy), v2 when the unified hierarchy has the
// memory controller, v1 otherwise.
type memCgroup struct {
	dir string
	v2  bool
}

// Roots of the memory controller.
const (
	cgroupV2Root = "/sys/fs/cgroup"
	cgroupV1Root = "/sys/fs/cgroup/memory"
)

// newMemCgroup creates the cgroup and removes it when the test ends. It
// fails the test when no memory controller can be used.
func newMemCgroup(t *testing.T) *memCgroup {
	t.Helper()
	name := fmt.Sprintf("mdt-chaos-%d", os.Getpid())
	var c memCgroup
	if b, err := os.ReadFile(filepath.Join(cgroupV2Root, "cgroup.controllers")); err == nil && hasField(string(b), "memory") {
		c = memCgroup{dir: filepath.Join(cgroupV2Root, name), v2: true}
		sub, _ := os.ReadFile(filepath.Join(cgroupV2Root, "cgroup.subtree_control"))
		if !hasField(string(sub), "memory") {
			if err := os.WriteFile(filepath.Join(cgroupV2Root, "cgroup.subtree_control"), []byte("+memory"), 0); err != nil {
				t.Fatalf("cgroup v2: enabling the memory controller: %v", err)
			}
		}
	} else if _, err := os.Stat(filepath.Join(cgroupV1Root, "memory.limit_in_bytes")); err == nil {
		c = memCgroup{dir: filepath.Join(cgroupV1Root, name)}
	} else {
		t.Fatalf("no memory cgroup controller (neither %s/cgroup.controllers with memory nor %s): the OOM scenario cannot run",
			cgroupV2Root, cgroupV1Root)
	}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		t.Fatalf("cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The cgroup can go once its processes are gone.
		var err error
		for range 100 {
			if err = os.Remove(c.dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("cgroup %s not removed: %v", c.dir, err)
	})
	return &c
}

func hasField(s, f string) bool {
	for _, x := range strings.Fields(s) {
		if x == f {
			return true
		}
	}
	return false
}

// add moves a process into the cgroup. Its memory already charged stays
// where it was (neither v1 by default nor v2 moves charges): the cgroup
// counts what the process allocates from now on.
func (c *memCgroup) add(pid int) error {
	return os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
}

// usage returns the memory charged to the cgroup.
func (c *memCgroup) usage() (int64, error) {
	f := "memory.usage_in_bytes"
	if c.v2 {
		f = "memory.current"
	}
	b, err := os.ReadFile(filepath.Join(c.dir, f))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// limit sets the memory limit.
func (c *memCgroup) limit(bytes int64) error {
	f := "memory.limit_in_bytes"
	if c.v2 {
		f = "memory.max"
	}
	return os.WriteFile(filepath.Join(c.dir, f), []byte(strconv.FormatInt(bytes, 10)), 0)
}

// oomKills returns the number of OOM kills in the cgroup so far.
func (c *memCgroup) oomKills() (int, error) {
	f := "memory.oom_control"
	if c.v2 {
		f = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(c.dir, f))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "oom_kill" {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("%s: no oom_kill line (kernel older than 4.13?)", f)
}

func (c *memCgroup) String() string {
	if c.v2 {
		return "cgroup v2 " + c.dir
	}
	return "cgroup v1 " + c.dir
}
