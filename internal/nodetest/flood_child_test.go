package nodetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fixedRateEnv makes the test binary a fixed-rate client (see TestMain):
// "server name rate duration".
const fixedRateEnv = "MESHDNS_NODETEST_FIXED_RATE"

// fixedRateChild runs fixedRate in a process of its own in p's network
// namespace and returns its latencies.
func fixedRateChild(b *testing.B, p *Pod, name string, rate int, d time.Duration) latencies {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", p.NS, exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:53 %s %d %s", fixedRateEnv, ClusterDNS, name, rate, d))
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// Out of the test process's CPU cgroup (limitCPU): the neighbour is
	// a pod of its own.
	moveToCgroup(b, cpuCgroupRoot, cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("fixed-rate client: %v", err)
	}
	out := []byte(stdout.String())
	var r struct {
		Micros []int64 `json:"us"`
		Lost   int     `json:"lost"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("fixed-rate client: %v: %s", err, out)
	}
	l := latencies{lost: r.Lost}
	for _, us := range r.Micros {
		l.d = append(l.d, time.Duration(us)*time.Microsecond)
	}
	return l
}

// runFixedRate is the child's side: it prints the latencies as JSON.
func runFixedRate(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 4 {
		fmt.Fprintln(os.Stderr, "bad spec", spec)
		return 2
	}
	rate, _ := strconv.Atoi(f[2])
	d, _ := time.ParseDuration(f[3])
	c, err := net.Dial("udp4", f[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	l := fixedRate(c, f[1], rate, d)
	out := struct {
		Micros []int64 `json:"us"`
		Lost   int     `json:"lost"`
	}{Lost: l.lost}
	for _, x := range l.d {
		out.Micros = append(out.Micros, x.Microseconds())
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// dnsperfFlood runs dnsperf in p at full rate (4 sockets, queries for a
// mesh name) in a CPU cgroup of millicores, as the kubelet limits a pod,
// until ctx is done; it returns the count of queries dnsperf reports sent
// once it has ended.
func dnsperfFlood(b *testing.B, ctx context.Context, n *Node, p *Pod, millicores int) func() int64 {
	b.Helper()
	qf := filepath.Join(n.Dir, "flood-queries")
	if err := os.WriteFile(qf, []byte(strings.TrimSuffix(webFQDN, ".")+" A\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cg := newCPUCgroup(b, "mdt-flood", millicores)
	cmd := exec.Command("ip", "netns", "exec", p.NS, "dnsperf", "-s", ClusterDNS.String(), "-d", qf,
		"-c", "4", "-l", "3600", "-q", "10000", "-t", "1")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	moveToCgroup(b, cg, cmd.Process.Pid)
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		<-ctx.Done()
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		for _, line := range strings.Split(out.String(), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Queries sent:"); ok {
				x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				sent.Store(x)
			}
		}
		close(done)
	}()
	return func() int64 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		return sent.Load()
	}
}

// cpuCgroupRoot is the root of the cgroup v1 cpu hierarchy.
const cpuCgroupRoot = "/sys/fs/cgroup/cpu"

// newCPUCgroup makes a cpu cgroup of millicores (a CFS quota, as the
// kubelet limits a pod's CPU), removed when the benchmark ends (its
// processes moved back to the root first).
func newCPUCgroup(b *testing.B, name string, millicores int) string {
	b.Helper()
	cg := filepath.Join(cpuCgroupRoot, fmt.Sprintf("%s-%d", name, os.Getpid()))
	if err := os.MkdirAll(cg, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if procs, err := os.ReadFile(filepath.Join(cg, "cgroup.procs")); err == nil {
			for _, pid := range strings.Fields(string(procs)) {
				_ = os.WriteFile(filepath.Join(cpuCgroupRoot, "cgroup.procs"), []byte(pid), 0o644)
			}
		}
		os.Remove(cg)
	})
	for file, v := range map[string]int{"cpu.cfs_period_us": 100000, "cpu.cfs_quota_us": millicores * 100} {
		if err := os.WriteFile(filepath.Join(cg, file), []byte(strconv.Itoa(v)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return cg
}

// moveToCgroup moves process pid (all its threads) into cgroup cg.
func moveToCgroup(b *testing.B, cg string, pid int) {
	b.Helper()
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		b.Fatalf("moving %d to %s: %v", pid, cg, err)
	}
}
