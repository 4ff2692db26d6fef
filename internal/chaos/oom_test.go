package chaos_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/podtest"
)

// oomHeadroom is how much more memory than it has when moved into the
// cgroup meshdns may allocate before the kernel kills it.
const oomHeadroom = 16 << 20

// fillerServices is how many Services the objects file grows by to push
// meshdns over its limit (a few MB of YAML; parsing it needs tens of MB).
const fillerServices = 20000

// TestOOMKillUnderLoad: the kernel's OOM killer ends meshdns under load, as
// it would a container over its memory limit. meshdns runs in a memory
// cgroup limited to a little above its own usage; the objects file then
// grows (a realistic cause: many more Services), the reload allocates past
// the limit and the kernel kills it with SIGKILL. As for kill -9, the
// losses are bounded by what was queued, the bypass answers everything
// until the restart, and mesh names are local again within 1 s of it. No
// debug switch in meshdns is involved.
func TestOOMKillUnderLoad(t *testing.T) {
	prof := getProfile()
	cycles := 1
	if prof.long {
		cycles = 3
	}
	rec := newRecorder(t, "1b", "OOM kill under load", prof)
	rec.note("meshdns runs in a memory cgroup of its own whose limit is set a little above what it uses; the objects "+
		"file then grows by %d Services and the reload allocates past the limit, so the kernel's OOM killer sends "+
		"SIGKILL, as it would to a sidecar over its memory limit. No debug switch in meshdns is involved. From the "+
		"kernel's point of view this is the kill -9 case: the same bound and the same bypass apply.", fillerServices)
	var cg *memCgroup
	var objects string
	var small []byte
	big := grownObjects(t, fillerServices)
	setup := func(_ *podtest.Pod, objs string) {
		cg = newMemCgroup(t)
		objects = objs
		var err error
		if small, err = os.ReadFile(objects); err != nil {
			t.Fatal(err)
		}
		rec.figure("memory cgroup", "%s", cg)
	}
	crashScenario(t, rec, prof, cycles, setup, func(t *testing.T, cur meshdnsProc, c int) killEvent {
		var ev killEvent
		pid := cur.Pid()
		before, err := cg.oomKills()
		if err != nil {
			t.Fatal(err)
		}
		if err := cg.add(pid); err != nil {
			t.Fatalf("moving meshdns into %s: %v", cg, err)
		}
		use, err := cg.usage()
		if err != nil {
			t.Fatal(err)
		}
		if err := cg.limit(use + oomHeadroom); err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, objects, big)
		grewAt := time.Now()
		// Read the queue counters until the queues are gone: the OOM
		// kill comes at some point; the last reading while the process
		// was whole is before it, the last one at all just before the
		// kernel destroyed the queues.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			at := time.Now()
			qs, err := pidQueues(pid)
			if err != nil || len(qs) == 0 {
				break
			}
			ev.last, ev.lastAt = sumQueues(qs), at
			if !dying(pid) {
				ev.before, ev.readAt = ev.last, ev.lastAt
			}
			time.Sleep(200 * time.Microsecond)
		}
		st, werr := cur.Wait(time.Until(deadline))
		ev.reapedAt = time.Now()
		ev.killAt = ev.readAt
		if werr != nil && st == nil {
			t.Fatalf("meshdns not OOM-killed within 20 s of the objects file growing (limit %d MiB above %d MiB): %v",
				oomHeadroom>>20, use>>20, werr)
		}
		after, _ := cg.oomKills()
		sig := st.Sys().(syscall.WaitStatus).Signal()
		rec.check(sig == syscall.SIGKILL && after == before+1, fmt.Sprintf("cycle %d: killed by the kernel's OOM killer", c+1),
			"exit signal %v, cgroup oom_kill %d -> %d", sig, before, after)
		if c == 0 {
			rec.fault(ev.readAt, "OOM kill %s after the objects file grew by %d Services (memory limit %d MiB above what meshdns had charged to its cgroup)",
				fmtDur(ev.reapedAt.Sub(grewAt)), fillerServices, oomHeadroom>>20)
		}
		writeAtomic(t, objects, small) // for the restart
		return ev
	})
}

// dying reports whether a process has been sent SIGKILL (or is exiting):
// /proc/<pid>/status shows it pending, or the process gone.
func dying(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true
	}
	st := procStatus(string(b))
	// SIGKILL is signal 9: bit 8 of the shared pending mask.
	var pend uint64
	fmt.Sscanf(st["ShdPnd"], "%x", &pend)
	return pend&(1<<8) != 0 || strings.HasPrefix(st["State"], "Z") || strings.HasPrefix(st["State"], "X")
}

// grownObjects is the demo objects file followed by n more Services.
func grownObjects(t *testing.T, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(objectsFile)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.Write(b)
	for i := range n {
		fmt.Fprintf(&sb, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: filler-%d\n  namespace: filler\nspec:\n"+
			"  type: ClusterIP\n  clusterIP: 10.100.%d.%d\n  clusterIPs:\n  - 10.100.%d.%d\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n",
			i, i/250, i%250+1, i/250, i%250+1)
	}
	return []byte(sb.String())
}
