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

// queues is the --queues the crash scenarios run meshdns with.
const queues = 2

// killEvent is one crash of meshdns under load.
type killEvent struct {
	// before is the queue counters just before the kill (summed over the
	// queues), read at readAt.
	before queueStat
	readAt time.Time
	// last is the last reading while the queues still existed (the
	// kernel destroys them when the dying process's socket is closed),
	// taken at lastAt: what was queued then is lost, with what arrived
	// after.
	last   queueStat
	lastAt time.Time
	// killAt is when the kill was sent (or, for an OOM kill, when the
	// crash was first seen); reapedAt when the process was gone.
	killAt, reapedAt time.Time
	// restartAt is when the replacement was started, servingAt when it
	// logged "serving".
	restartAt, servingAt time.Time
}

// TestKill9UnderLoad: kill -9 of meshdns under load. The queries lost are
// at most those the kernel held in the queue at that instant (read from
// /proc/net/netfilter/nfnetlink_queue just before the kill) plus those that
// arrived until the process was gone; afterwards every query is answered by
// the upstream through the queue bypass; after a restart mesh names are
// answered locally again within 1 s.
func TestKill9UnderLoad(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "1a", "kill -9 under load", prof)
	rec.note("A SIGKILLed meshdns cannot answer what it has taken from the queue: the kernel drops whatever the queues " +
		"hold when it closes the dead process's netlink socket, and packets keep arriving into them during the few " +
		"milliseconds the exit takes. Those are the lost queries; the bound counts them from the kernel's own counters " +
		"(/proc/net/netfilter/nfnetlink_queue, read just before the kill and then until the queues are gone) plus the " +
		"queries sent after the last reading. From the moment the queues are gone --queue-bypass sends everything to " +
		"the nameserver; the rules stay in place, and the restart (as a kubelet would do it) binds the queues again.")
	crashScenario(t, rec, prof, prof.cycles, nil, func(t *testing.T, cur meshdnsProc, c int) killEvent {
		var ev killEvent
		pid := cur.Pid()
		ev.readAt = time.Now()
		qs, err := pidQueues(pid)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		ev.killAt = time.Now()
		ev.before = sumQueues(qs)
		ev.last, ev.lastAt = ev.before, ev.readAt
		watchQueues(pid, &ev, 10*time.Second)
		st, _ := cur.Wait(10 * time.Second)
		ev.reapedAt = time.Now()
		if st == nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("meshdns did not die of SIGKILL: %v", st)
		}
		if c == 0 {
			rec.fault(ev.killAt, "SIGKILL")
		}
		return ev
	})
}

// watchQueues reads pid's queue counters until the queues are gone (the
// dying process's netlink socket closed, or its namespace released) and
// keeps the last reading in ev.
func watchQueues(pid int, ev *killEvent, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		at := time.Now() // before the read: a query stamped later may be missing from it
		qs, err := pidQueues(pid)
		if err != nil || len(qs) == 0 {
			return
		}
		ev.last, ev.lastAt = sumQueues(qs), at
		time.Sleep(100 * time.Microsecond)
	}
}

// crashScenario runs meshdns under load and crashes it cycles times with
// crash, restarting it each time. setup, when not nil, runs once meshdns
// serves. It checks the loss bound, the bypass and the recovery.
//
// The restarts are started by the suite (startProc) rather than podtest, so
// that a replacement that fails to start is recorded (and the figures of the
// cycles before it kept) instead of ending the test at once.
func crashScenario(t *testing.T, rec *recorder, prof profile, cycles int, setup func(p *podtest.Pod, objects string),
	crash func(t *testing.T, cur meshdnsProc, cycle int) killEvent) {
	objects := podObjects(t)
	args := []string{fmt.Sprintf("--queues=%d", queues), "--reload-interval=100ms"}
	p := podtest.Start(t, podtest.Config{Objects: objects, Args: args})
	if setup != nil {
		setup(p, objects)
	}
	bin := podtest.Binary(t)
	var cur meshdnsProc = p.Meshdns
	period := 3 * prof.steady
	l := startLoad(t, p, prof, time.Duration(cycles)*period+prof.steady/2, 0)
	rec.zero = l.begin
	var evs []killEvent
	restarts, failed := 0, ""
	for c := range cycles {
		l.sleepUntil(time.Duration(c)*period + prof.steady)
		ev := crash(t, cur, c)
		l.sleepUntil(time.Duration(c)*period + 2*prof.steady)
		ev.restartAt = time.Now()
		np := startProc(t, p.Topo.Pod, append([]string{bin, "run", "--objects", objects}, args...)...)
		if err := np.WaitReady(context.Background(), podtest.DefaultReadyTimeout); err != nil {
			why := lastLine(np.Logs())
			if pl := firstLine(np.Logs(), "panic:"); pl != "" {
				why = "meshdns crashed at start-up: " + strings.TrimSpace(pl) + " " + strings.TrimSpace(firstLine(np.Logs(), ".go:"))
			}
			failed = fmt.Sprintf("restart %d of %d failed: %s", c+1, cycles, why)
			ev.restartAt = l.begin.Add(time.Duration(cycles)*period + prof.steady/2)
			evs = append(evs, ev)
			break
		}
		cur = np
		restarts++
		ev.servingAt = time.Now()
		if c == 0 {
			rec.fault(ev.restartAt, "restart")
		}
		evs = append(evs, ev)
	}
	rec.repeated(cycles, period)
	res := l.wait(t)
	rec.load(res)
	rec.check(failed == "", "every restart served", "%s", failed)
	rec.noCrashSigns("restarted meshdns", cur.Logs())

	var lostIn, bound, maxQueued, maxLast int
	var worstLocal, worstServing, worstExit time.Duration
	var bypass loadgen.Counts
	var lostAfterRestart, wrongAfterRestart int
	allConverged := true
	for i, ev := range evs {
		// Losses near the crash: the queries sent from a little before
		// the kill until the process was gone. The bound: every packet
		// that entered the queues from the reading before the kill until
		// the last reading while they still existed (id_sequence), what
		// they already held before, and the queries sent after that last
		// reading until the process was gone.
		win := res.Window(ev.readAt.Add(-200*time.Millisecond), ev.reapedAt.Add(200*time.Millisecond))
		exit := ev.reapedAt.Sub(ev.readAt)
		tail := res.Window(ev.lastAt, ev.reapedAt.Add(time.Millisecond)).Sent
		arrived := int(ev.last.IDSeq - ev.before.IDSeq)
		b := int(ev.before.Waiting) + arrived + tail
		lostIn += win.Lost
		bound += b
		maxQueued = max(maxQueued, int(ev.before.Waiting))
		maxLast = max(maxLast, int(ev.last.Waiting))
		worstExit = max(worstExit, exit)
		t.Logf("crash %d: queue at the kill %v; last seen %v after %v; lost %d, bound %d (+%d queued, +%d sent after the last reading); reaped after %v",
			i, ev.before, ev.last, ev.lastAt.Sub(ev.readAt), win.Lost, b, arrived, tail, exit)

		// Between the crash and the restart: the bypass.
		w := res.Window(ev.reapedAt.Add(10*time.Millisecond), ev.restartAt)
		bypass.Sent += w.Sent
		bypass.Upstream += w.Upstream
		bypass.Local += w.Local
		bypass.Lost += w.Lost
		bypass.Wrong += w.Wrong

		if ev.servingAt.IsZero() {
			continue // the restart failed: no recovery to measure
		}
		// After the restart: local again, and nothing lost.
		end := res.Start.Add(res.Duration)
		if i+1 < len(evs) {
			end = evs[i+1].readAt.Add(-200 * time.Millisecond)
		}
		d, ok := res.Converge(ev.restartAt, end, loadgen.Mesh, loadgen.IsLocal)
		ds, _ := res.Converge(ev.servingAt, end, loadgen.Mesh, loadgen.IsLocal)
		if !ok {
			allConverged = false
		}
		worstLocal, worstServing = max(worstLocal, d), max(worstServing, ds)
		after := res.Window(ev.restartAt, end)
		lostAfterRestart += after.Lost
		wrongAfterRestart += after.Wrong
	}
	total := res.Summary()
	// Losses away from the crashes, placed relative to the restarts.
	var away []string
	for _, r := range res.Records {
		if r.Class != loadgen.Lost {
			continue
		}
		at := res.Time(r)
		near := false
		for _, ev := range evs {
			if !at.Before(ev.readAt.Add(-200*time.Millisecond)) && at.Before(ev.reapedAt.Add(200*time.Millisecond)) {
				near = true
			}
		}
		if near || len(away) >= 6 {
			continue
		}
		d := fmt.Sprintf("%s sent at %.3f s", res.Describe(r), at.Sub(res.Start).Seconds())
		for i, ev := range evs {
			if !ev.servingAt.IsZero() && at.After(ev.restartAt) && (i+1 == len(evs) || at.Before(evs[i+1].readAt)) {
				d += fmt.Sprintf(", %s after restart %d began (it served %s after it began)", fmtDur(at.Sub(ev.restartAt)), i+1, fmtDur(ev.servingAt.Sub(ev.restartAt)))
			}
		}
		away = append(away, d)
	}
	if len(away) > 0 {
		rec.figure("queries lost away from the crashes (first ones)", "%s", strings.Join(away, "; "))
	}
	rec.figure("queue_total just before the crash (largest)", "%d packets", maxQueued)
	rec.figure("queue_total at the last reading before the kernel destroyed the queues (largest)", "%d packets", maxLast)
	rec.figure("time from the reading before the crash to the process reaped (largest)", "%s", fmtDur(worstExit))
	rec.figure("queries lost around the crashes / bound", "%d / %d", lostIn, bound)
	rec.figure("queries between crash and restart", "%d, of which %d answered by the upstream, %d locally, %d lost",
		bypass.Sent, bypass.Upstream, bypass.Local, bypass.Lost)
	rec.recovery("mesh names local again after the restart began", worstLocal)
	rec.recovery("after meshdns logged serving", worstServing)

	rec.check(lostIn <= bound, "losses bounded by the queue at the crash",
		"lost %d, bound %d (queue_total before the crash + packets queued until the queues were destroyed + queries sent after the last reading)", lostIn, bound)
	rec.check(total.Lost == lostIn, "no loss away from the crashes", "%d lost in all, %d around the crashes", total.Lost, lostIn)
	rec.check(total.Wrong == 0, "no wrong answer", "%d wrong", total.Wrong)
	rec.check(bypass.Sent > 0 && bypass.Upstream == bypass.Sent, "every query after the crash answered by the upstream (bypass)",
		"%d of %d", bypass.Upstream, bypass.Sent)
	rec.check(allConverged && worstLocal <= time.Second, "mesh names answered locally within 1 s of the restart",
		"worst %s", fmtDur(worstLocal))
	rec.check(lostAfterRestart == 0 && wrongAfterRestart == 0, "nothing lost or wrong after the restart",
		"%d lost, %d wrong", lostAfterRestart, wrongAfterRestart)
}
