package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/podtest"
)

// TestGracefulRestart: SIGTERM, restart and upgrade under load lose
// nothing. meshdns stops capturing first (rules removed), answers what is
// queued, then exits; between the old one's exit and the new one's rules the
// pod's queries go straight to the nameserver. Cycles alternate a restart
// of the same binary right after the exit, and an upgrade to another binary
// file after a gap (a sidecar's restart delay).
func TestGracefulRestart(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "2", "SIGTERM, restart and upgrade under load", prof)
	rec.note("On SIGTERM meshdns removes its rules first (new queries go straight to the nameserver), answers what " +
		"is already queued until the queues have been quiet for 50 ms (at most 1 s), then exits. The replacement " +
		"installs the rules once it has bound its queues. Restarts alternate with upgrades to another binary file " +
		"started after a gap, as a sidecar's restart delay would leave.")
	cycles := 2 * prof.cycles
	objects := podObjects(t)
	args := []string{fmt.Sprintf("--queues=%d", queues)}
	p := podtest.Start(t, podtest.Config{Objects: objects, Args: args})
	next := copyBinary(t, worldDir(t), "meshdns-next")
	gap := prof.steady / 3

	type stop struct {
		termAt, exitAt, restartAt, servingAt time.Time
		code                                 int
		state                                string
		drained                              bool
		lastQueued                           int // queue_total at the last reading before the release
	}
	var cur meshdnsProc = p.Meshdns
	var allLogs strings.Builder // of the stopped processes
	var stops []stop
	period := 2 * prof.steady
	l := startLoad(t, p, prof, time.Duration(cycles)*period+prof.steady, 0)
	rec.zero = l.begin
	for c := range cycles {
		l.sleepUntil(time.Duration(c)*period + prof.steady)
		var s stop
		s.termAt = time.Now()
		pid := cur.Pid()
		if err := cur.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// Watch the kernel's queues until meshdns releases them: what
		// they still hold then is dropped.
		var ev killEvent
		watchQueues(pid, &ev, 10*time.Second)
		s.lastQueued = int(ev.last.Waiting)
		st, err := cur.Wait(10 * time.Second)
		s.exitAt = time.Now()
		if st == nil {
			t.Fatalf("cycle %d: %v", c, err)
		}
		s.code, s.state = st.ExitCode(), st.String()
		logs := cur.Logs()
		allLogs.WriteString(logs)
		s.drained = strings.Index(logs, "rules removed") >= 0 && strings.Index(logs, "rules removed") < strings.Index(logs, "queues released")
		if c < 2 {
			rec.fault(s.termAt, "SIGTERM")
		}
		upgrade := c%2 == 1
		if upgrade {
			time.Sleep(gap)
		}
		s.restartAt = time.Now()
		if upgrade {
			np := startProc(t, p.Topo.Pod, append([]string{next, "run", "--objects", objects}, args...)...)
			if err := np.WaitReady(context.Background(), 30*time.Second); err != nil {
				t.Fatal(err)
			}
			cur = np
			if c < 2 {
				rec.fault(s.restartAt, "upgrade to another binary after a %s gap", fmtDur(gap))
			}
		} else {
			cur = p.StartMeshdns(t, objects, args...)
			if c < 2 {
				rec.fault(s.restartAt, "restart")
			}
		}
		s.servingAt = time.Now()
		stops = append(stops, s)
	}
	rec.repeated(cycles/2, 2*period)
	res := l.wait(t)
	rec.load(res)

	var worstDrain, worstLocal time.Duration
	maxLeft := 0
	var gapQ loadgen.Counts
	exitOK, drainOK, converged := true, true, true
	var codes []string
	for i, s := range stops {
		end := time.Time{}
		if i+1 < len(stops) {
			end = stops[i+1].termAt
		}
		worstDrain = max(worstDrain, s.exitAt.Sub(s.termAt))
		maxLeft = max(maxLeft, s.lastQueued)
		exitOK = exitOK && s.code == 0
		codes = append(codes, s.state)
		drainOK = drainOK && s.drained
		d, ok := res.Converge(s.restartAt, end, loadgen.Mesh, loadgen.IsLocal)
		converged = converged && ok
		worstLocal = max(worstLocal, d)
		w := res.Window(s.exitAt.Add(20*time.Millisecond), s.restartAt)
		gapQ.Sent += w.Sent
		gapQ.Upstream += w.Upstream
		gapQ.Local += w.Local
	}
	total := res.Summary()
	rec.figure("SIGTERM to exit (drain included, largest)", "%s", fmtDur(worstDrain))
	rec.figure("queries between exit and restart", "%d, of which %d answered by the upstream", gapQ.Sent, gapQ.Upstream)
	rec.figure("queue_total at the last reading before meshdns released its queues (largest)", "%d packets", maxLeft)
	rec.recovery("mesh names local again after the restart began", worstLocal)
	rec.check(total.Lost == 0, "0 lost", "%d lost of %d", total.Lost, total.Sent)
	rec.check(total.Wrong == 0, "0 wrong", "%d wrong", total.Wrong)
	rec.check(exitOK, "exit status 0 after SIGTERM", "exit statuses %v", codes)
	rec.check(drainOK, "rules removed before the queues were released", "")
	rec.check(maxLeft == 0, "the queues were empty when released", "up to %d packets still queued at the last reading (the kernel drops them at the release)", maxLeft)
	rec.check(gapQ.Upstream == gapQ.Sent, "queries between exit and restart answered by the upstream", "%d of %d", gapQ.Upstream, gapQ.Sent)
	rec.check(converged && worstLocal <= time.Second, "mesh names local again within 1 s of the restart", "worst %s", fmtDur(worstLocal))
	rec.noCrashSigns("stopped meshdns processes", allLogs.String())
	rec.noCrashSigns("last meshdns", cur.Logs())
}
