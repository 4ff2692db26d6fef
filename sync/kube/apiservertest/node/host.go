package node

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the re-executed test binary inside the node.
const (
	envNetns  = "MESHDNS_NODE_NETNS"  // the node's network namespace
	envDir    = "MESHDNS_NODE_DIR"    // the node's working directory
	envCgroup = "MESHDNS_NODE_CGROUP" // the cgroup parent of the pods ("/mdt-node...")
)

// hostSysctls are the global (not per network namespace) sysctls the
// kubelet sets; Main restores them.
var hostSysctls = []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"}

// Directories the kubelet creates on the host whatever its --root-dir, and
// the node agent's socket directory (a hostPath of the shipped DaemonSet).
var hardCodedDirs = []string{"/var/lib/kubelet", "/var/log/containers", "/var/run/meshdns"}

const cgroupFS = "/sys/fs/cgroup"

// host is what the outer process made for the node and must undo.
type host struct {
	netns, dir, cgroup string
	sysctls            map[string]string
	createdDirs        []string
}

// Inside reports whether this process is the one running in the node.
func Inside() bool { return os.Getenv(envNetns) != "" }

// Main runs the tests of m inside a node namespace and cleans the host up
// afterwards; it returns the exit code. Call it from TestMain.
func Main(m *testing.M) int {
	if Inside() {
		return m.Run()
	}
	if os.Geteuid() != 0 {
		if os.Getenv("MESHDNS_SKIP_KERNEL") == "1" {
			fmt.Println("node tests need root (skipped: MESHDNS_SKIP_KERNEL=1)")
			return 0
		}
		fmt.Fprintln(os.Stderr, "node tests need root (set MESHDNS_SKIP_KERNEL=1 to skip)")
		return 1
	}
	removeStale()
	if mod, err := filepath.Abs(".."); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	} else if err := prepare(mod); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	h, err := newHost()
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		if h != nil {
			_ = h.teardown()
		}
		return 1
	}
	code := h.run()
	if err := h.teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "node: teardown left something behind: %v\n", err)
		return 1
	}
	fmt.Printf("node: torn down (namespace %s, cgroups %s, sysctls %v restored)\n", h.netns, h.cgroup, h.sysctls)
	return code
}

// Names of the host objects of one run embed the test process's pid, so a
// later run can remove the leftovers of one that was killed.
const namePrefix = "mdt-node"

func newHost() (*host, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s%d-%s", namePrefix, os.Getpid(), hex.EncodeToString(b[:]))
	h := &host{netns: id, cgroup: "/" + id, sysctls: map[string]string{}}
	for _, k := range hostSysctls {
		v, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			return nil, err
		}
		h.sysctls[k] = strings.TrimSpace(string(v))
	}
	for _, d := range hardCodedDirs {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			h.createdDirs = append(h.createdDirs, d)
		}
	}
	// Short: containerd's shim socket directory lives here (at most 42
	// bytes).
	h.dir = filepath.Join(os.TempDir(), fmt.Sprintf("mdtn%d-%s", os.Getpid(), hex.EncodeToString(b[:])))
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return h, err
	}
	if out, err := exec.Command("ip", "netns", "add", h.netns).CombinedOutput(); err != nil {
		return h, fmt.Errorf("ip netns add %s: %v: %s", h.netns, err, out)
	}
	if err := h.mkCgroups(); err != nil {
		return h, err
	}
	return h, nil
}

// hierarchies are the cgroup v1 hierarchies mounted under /sys/fs/cgroup
// (the kubelet sees v1 on these machines), and the v2 one if mounted.
func hierarchies() ([]string, error) {
	ents, err := os.ReadDir(cgroupFS)
	if err != nil {
		return nil, err
	}
	var hs []string
	for _, e := range ents {
		if e.IsDir() {
			hs = append(hs, filepath.Join(cgroupFS, e.Name()))
		}
	}
	return hs, nil
}

// mkCgroups creates the pods' cgroup parent in every hierarchy (the
// kubelet requires its cgroupRoot to exist); cpuset ones get their parent's
// CPUs and memory nodes, which a new cpuset lacks.
func (h *host) mkCgroups() error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	for _, hier := range hs {
		d := filepath.Join(hier, h.cgroup)
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		if filepath.Base(hier) == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(hier, f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(d, f), v, 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// run re-executes this test binary inside the node: network namespace
// h.netns (nsenter) and a mount namespace of its own (private propagation,
// so nothing mounted inside reaches the host).
func (h *host) run() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + h.netns, "--", exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envNetns+"="+h.netns, envDir+"="+h.dir, envCgroup+"="+h.cgroup)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sig:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			if err == nil {
				return 0
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() > 0 {
				return ee.ExitCode()
			}
			fmt.Fprintln(os.Stderr, "node: test process:", err)
			return 1
		}
	}
}

// teardown kills what is left of the node, removes it and restores the
// host; it returns what it could not undo.
func (h *host) teardown() error {
	var errs []error
	// The shims outlive containerd in the node's network namespace; the
	// containers live in the pods' cgroups.
	for range 50 {
		pids := h.pids()
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if pids := h.pids(); len(pids) > 0 {
		errs = append(errs, fmt.Errorf("processes still alive: %v", pids))
	}
	if err := h.rmCgroups(); err != nil {
		errs = append(errs, err)
	}
	for k, v := range h.sysctls {
		if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", k, err))
		}
	}
	if Exists(h.netns) {
		if out, err := exec.Command("ip", "netns", "del", h.netns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", h.netns, err, out))
		}
	}
	if m := mountsUnder(h.dir); len(m) > 0 {
		errs = append(errs, fmt.Errorf("mounts left on the host: %v", m))
	} else if err := os.RemoveAll(h.dir); err != nil {
		errs = append(errs, err)
	}
	for _, d := range h.createdDirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	// Check, not trust: the sysctls hold their saved values.
	for k, v := range h.sysctls {
		got, _ := os.ReadFile("/proc/sys/" + k)
		if strings.TrimSpace(string(got)) != v {
			errs = append(errs, fmt.Errorf("%s is %q, was %q", k, strings.TrimSpace(string(got)), v))
		}
	}
	return errors.Join(errs...)
}

// pids are the processes in the node's network namespace and in its
// cgroups.
func (h *host) pids() []int {
	var pids []int
	if out, err := exec.Command("ip", "netns", "pids", h.netns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
	}
	hs, _ := hierarchies()
	for _, hier := range hs {
		_ = filepath.WalkDir(filepath.Join(hier, h.cgroup), func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(f); err == nil {
					pids = append(pids, n)
				}
			}
			return nil
		})
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// rmCgroups removes the node's cgroup trees, deepest first.
func (h *host) rmCgroups() error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, hier := range hs {
		root := filepath.Join(hier, h.cgroup)
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.Reverse(dirs)
		for _, d := range dirs {
			var err error
			for range 20 {
				if err = syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
					err = nil
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("rmdir %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Exists reports whether network namespace ns exists.
func Exists(ns string) bool {
	_, err := os.Stat("/run/netns/" + ns)
	return err == nil
}

// mountsUnder lists the host's mount points at or below dir.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return []string{err.Error()}
	}
	var ms []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			ms = append(ms, f[4])
		}
	}
	return ms
}

// removeStale removes the namespaces, cgroups and directories of node test
// processes that died without their teardown (their pid is in the names).
func removeStale() {
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		pid, ok := stalePid(e.Name())
		if !ok {
			continue
		}
		h := &host{netns: e.Name(), cgroup: "/" + e.Name(), dir: filepath.Join(os.TempDir(), "mdtn"+strings.TrimPrefix(e.Name(), namePrefix))}
		if err := h.teardown(); err != nil {
			fmt.Fprintf(os.Stderr, "node: leftovers of dead test process %d: %v\n", pid, err)
		} else {
			fmt.Printf("node: removed the node left by dead test process %d\n", pid)
		}
	}
}

// stalePid returns the pid in a node name "mdt-node<pid>-<hex>" if that
// process is gone.
func stalePid(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	p, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	if err != nil {
		return 0, false
	}
	err = syscall.Kill(pid, 0)
	return pid, err != nil && !errors.Is(err, syscall.EPERM)
}
