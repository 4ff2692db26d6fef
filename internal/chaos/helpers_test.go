package chaos_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
)

// nameserver is the pod's nameserver (podtest.DefaultResolvConf).
var nameserver = netip.MustParseAddrPort("198.18.0.1:53")

// load is a loadgen run in the background, from inside the pod namespace.
type load struct {
	begin time.Time
	done  chan struct{}
	res   *loadgen.Result
	err   error
}

// startLoad starts the suite's mix at prof's rate for d from inside the
// pod namespace.
func startLoad(t *testing.T, p *podtest.Pod, prof profile, d time.Duration, timeout time.Duration) *load {
	t.Helper()
	if timeout == 0 {
		timeout = prof.timeout
	}
	return startLoadOf(t, p, mix(), prof.rate, d, timeout)
}

// startLoadOf starts lookups at rate lookups/s for d from inside the pod
// namespace.
func startLoadOf(t *testing.T, p *podtest.Pod, lookups []loadgen.Lookup, rate float64, d, timeout time.Duration) *load {
	t.Helper()
	dialer, err := loadgen.NewNamespaceDialer(p.Topo.Pod)
	if err != nil {
		t.Fatal(err)
	}
	l := &load{begin: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer dialer.Close()
		l.res, l.err = loadgen.Run(context.Background(), loadgen.Config{
			Server:   nameserver,
			Lookups:  lookups,
			Rate:     rate,
			Duration: d,
			Timeout:  timeout,
			Dialer:   dialer,
		})
	}()
	t.Cleanup(func() { <-l.done })
	return l
}

// sleepUntil sleeps until offset after the load began.
func (l *load) sleepUntil(offset time.Duration) {
	time.Sleep(time.Until(l.begin.Add(offset)))
}

// wait waits for the load to end and returns its result.
func (l *load) wait(t *testing.T) *loadgen.Result {
	t.Helper()
	<-l.done
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.res
}

// queueStat is one line of /proc/net/netfilter/nfnetlink_queue.
type queueStat struct {
	Queue, PortID, Waiting, CopyMode, CopyRange, Dropped, UserDropped, IDSeq uint64
}

func (q queueStat) String() string {
	return fmt.Sprintf("queue_total %d, queue_dropped %d, user_dropped %d, id_sequence %d", q.Waiting, q.Dropped, q.UserDropped, q.IDSeq)
}

func parseQueues(b []byte) ([]queueStat, error) {
	var out []queueStat
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("nfnetlink_queue: bad line %q", sc.Text())
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("nfnetlink_queue: bad line %q", sc.Text())
			}
			v[i] = n
		}
		out = append(out, queueStat{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]})
	}
	return out, sc.Err()
}

// sumQueues adds up the counters of every queue (Queue and PortID are
// meaningless in the sum).
func sumQueues(qs []queueStat) queueStat {
	var s queueStat
	for _, q := range qs {
		s.Waiting += q.Waiting
		s.Dropped += q.Dropped
		s.UserDropped += q.UserDropped
		s.IDSeq += q.IDSeq
	}
	return s
}

// podQueues reads the kernel's queue counters of namespace ns.
func podQueues(t *testing.T, ns string) []queueStat {
	t.Helper()
	var b []byte
	err := netns.Do(ns, func() error {
		var err error
		// thread-self: /proc/net follows the process's first thread,
		// which is not in ns.
		b, err = os.ReadFile("/proc/thread-self/net/netfilter/nfnetlink_queue")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	qs, err := parseQueues(b)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// pidQueues reads the queue counters of the namespace of a process: the
// quickest read, for just before a kill.
func pidQueues(pid int) ([]queueStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/netfilter/nfnetlink_queue", pid))
	if err != nil {
		return nil, err
	}
	return parseQueues(b)
}

// podObjects copies the demo objects file into a directory readable by
// every user (for the least-privilege run) and returns its path.
func podObjects(t *testing.T) string {
	t.Helper()
	dir := worldDir(t)
	b, err := os.ReadFile(objectsFile)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "objects.yaml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// worldDir makes a temporary directory every user can read and enter.
func worldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mdt-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeAtomic replaces path's content the way a kubelet ConfigMap update
// does: a new file renamed over the old one.
func writeAtomic(t *testing.T, path string, content []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// meshdnsProc is a running meshdns: p.Meshdns of a podtest.Pod, or one the
// suite started itself (startProc).
type meshdnsProc interface {
	Pid() int
	Signal(os.Signal) error
	Wait(timeout time.Duration) (*os.ProcessState, error)
	Exited() bool
	Logs() string
}

var _ meshdnsProc = (*podtest.Process)(nil)

// terminate sends SIGTERM and waits for the exit.
func terminate(p meshdnsProc, timeout time.Duration) (*os.ProcessState, error) {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	st, err := p.Wait(timeout)
	if st == nil && err == nil {
		err = fmt.Errorf("pid %d: no exit state", p.Pid())
	}
	if st != nil {
		err = nil // an exit status is not an error here
	}
	return st, err
}

// startProc runs argv inside namespace ns and returns at once; it is
// stopped when the test ends (podtest starts meshdns with a fixed command
// line; these need a wrapper such as setpriv, or another binary).
func startProc(t *testing.T, ns string, argv ...string) *podtest.Process {
	t.Helper()
	return podtest.StartIn(t, ns, argv[0], argv[1:]...)
}

// copyBinary copies the meshdns under test to dir/name, executable by all.
func copyBinary(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(podtest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// countLines counts the log lines containing every one of substrs.
func countLines(log string, substrs ...string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		ok := true
		for _, s := range substrs {
			if !strings.Contains(l, s) {
				ok = false
				break
			}
		}
		if ok && l != "" {
			n++
		}
	}
	return n
}
