package chaos_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/loadgen"
	"github.com/meshdns/meshdns/internal/podtest"
)

// overflowQueueLen is the --queue-len of the overflow scenario.
const overflowQueueLen = 64

// TestQueueOverflow: meshdns stalls (SIGSTOP) under load with a small
// queue (--queue-len 64, one queue). The kernel holds 64 packets, then
// fails open: every further query passes to the nameserver unanswered by
// meshdns, none is dropped (queue_dropped and user_dropped stay 0, the
// queue stays at 64 while the upstream keeps answering mesh names). The 64
// held queries are answered when meshdns resumes (SIGCONT), late but not
// lost (the load's timeout is longer than the stall), and mesh names are
// local again at once.
func TestQueueOverflow(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "3", "queue overflow while meshdns is stalled (SIGSTOP), --queue-len 64", prof)
	rec.note("meshdns binds its queues with the fail-open flag: once a queue holds --queue-len packets the kernel " +
		"accepts further packets unqueued instead of dropping them (neither queue_dropped nor user_dropped grows, " +
		"and id_sequence stops while the upstream keeps receiving mesh queries). The packets already held wait for " +
		"meshdns to resume and are answered then, as late as the stall is long; the load's timeout is longer than " +
		"the stall so they count as answered (a glibc client, with its 5 s timeout, would get them too for stalls " +
		"under 5 s). The answers of the nameserver, which meshdns also queues for its cache, pass the same way.")
	stall := 1500 * time.Millisecond
	if prof.long {
		stall = 5 * time.Second
	}
	timeout := stall + 2*time.Second
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), Args: []string{"--queues=1", "--queue-len=64"}})
	pid := p.Meshdns.Pid()
	period := 2*prof.steady + stall
	l := startLoad(t, p, prof, time.Duration(prof.cycles)*period+prof.steady, timeout)
	rec.zero = l.begin

	type stallEv struct {
		stopAt, contAt   time.Time
		endAt            time.Time // the last reading in the stall, just before SIGCONT
		before, mid, end queueStat
		upMesh           uint64 // mesh queries the upstream got during the stall
	}
	var evs []stallEv
	for c := range prof.cycles {
		l.sleepUntil(time.Duration(c)*period + prof.steady)
		var ev stallEv
		ev.before = sumQueues(podQueues(t, p.Topo.Pod))
		up0 := p.UpstreamCount("web.default.svc.cluster.local", 0)
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		ev.stopAt = time.Now()
		if c == 0 {
			rec.fault(ev.stopAt, "SIGSTOP for %s", fmtDur(stall))
		}
		time.Sleep(stall / 2)
		ev.mid = sumQueues(podQueues(t, p.Topo.Pod))
		time.Sleep(stall / 2)
		ev.endAt = time.Now()
		ev.end = sumQueues(podQueues(t, p.Topo.Pod))
		ev.upMesh = p.UpstreamCount("web.default.svc.cluster.local", 0) - up0
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		ev.contAt = time.Now()
		if c == 0 {
			rec.fault(ev.contAt, "SIGCONT")
		}
		t.Logf("stall %d: before %v; mid %v; end %v; web queries to the upstream during the stall %d", c, ev.before, ev.mid, ev.end, ev.upMesh)
		evs = append(evs, ev)
	}
	rec.repeated(prof.cycles, period)
	res := l.wait(t)
	rec.load(res)
	after := sumQueues(podQueues(t, p.Topo.Pod))

	total := res.Summary()
	full, noDrops, passed := true, true, true
	var worstLocal time.Duration
	converged := true
	var firstLocal time.Duration
	var resumedLocal, resumedMesh int
	var failOpen loadgen.Counts
	var oddLocal []string
	late := 0
	for i, ev := range evs {
		full = full && ev.mid.Waiting == overflowQueueLen && ev.end.Waiting == overflowQueueLen
		noDrops = noDrops && ev.end.Dropped == ev.before.Dropped && ev.end.UserDropped == ev.before.UserDropped
		passed = passed && ev.upMesh > 0 && ev.end.IDSeq-ev.mid.IDSeq == 0
		end := time.Time{}
		if i+1 < len(evs) {
			end = evs[i+1].stopAt
		}
		d, ok := res.Converge(ev.contAt, end, loadgen.Mesh, loadgen.IsLocal)
		converged = converged && ok
		// Service resumed: the first local answer to a query sent after
		// SIGCONT, and the share of mesh queries answered locally from
		// then on (with a 64-packet queue a burst of the load can still
		// overflow it now and then: those pass to the upstream).
		first := time.Duration(-1)
		for _, r := range res.Records {
			if r.Mesh && r.Class == loadgen.Local && res.Time(r).After(ev.contAt) && (end.IsZero() || res.Time(r).Before(end)) {
				if d := res.Time(r).Sub(ev.contAt); first < 0 || d < first {
					first = d
				}
				resumedLocal++
			}
			if r.Mesh && r.Class != loadgen.NotSent && res.Time(r).After(ev.contAt) && (end.IsZero() || res.Time(r).Before(end)) {
				resumedMesh++
			}
		}
		if first < 0 {
			firstLocal = -1
		} else if firstLocal >= 0 {
			firstLocal = max(firstLocal, first)
		}
		worstLocal = max(worstLocal, d)
		w := res.Window(ev.stopAt.Add(stall/4), ev.endAt)
		for _, r := range res.Records {
			if at := res.Time(r); r.Class == loadgen.Local && at.After(ev.stopAt.Add(stall/4)) && at.Before(ev.endAt) && len(oddLocal) < 5 {
				oddLocal = append(oddLocal, fmt.Sprintf("%s sent %s into the stall, answered after %s",
					res.Describe(r), fmtDur(at.Sub(ev.stopAt)), fmtDur(r.Latency)))
			}
		}
		failOpen.Sent += w.Sent
		failOpen.Upstream += w.Upstream
		failOpen.Local += w.Local
		for _, r := range res.Records {
			// Held in the queue: sent during the stall, answered after
			// SIGCONT, slower than any answer on the other paths.
			if r.Class.Answered() && res.Time(r).After(ev.stopAt) && res.Time(r).Before(ev.contAt) &&
				res.Time(r).Add(r.Latency).After(ev.contAt) && r.Latency > stall/2 {
				late++
			}
		}
	}
	last := evs[len(evs)-1]
	rec.figure("kernel queue during the stall (mid, end)", "%v; %v", last.mid, last.end)
	rec.figure("kernel queue after the run", "%v", after)
	rec.figure("queries sent from a quarter into the stall until just before SIGCONT (queue full)", "%d: %d answered by the upstream (fail-open), %d locally",
		failOpen.Sent, failOpen.Upstream, failOpen.Local)
	rec.figure("queries held through the stall and answered after SIGCONT", "%d (queue-len %d per stall)", late, overflowQueueLen)
	rec.recovery("first local answer after SIGCONT", firstLocal)
	rec.recovery("all mesh names local again after SIGCONT", worstLocal)
	share := 0.0
	if resumedMesh > 0 {
		share = float64(resumedLocal) / float64(resumedMesh)
	}
	rec.figure("mesh queries answered locally after SIGCONT", "%d of %d (%.1f%%; the rest overflowed the 64-packet queue in bursts and passed to the upstream)",
		resumedLocal, resumedMesh, 100*share)
	rec.check(total.Lost == 0, "no query dropped", "%d lost of %d", total.Lost, total.Sent)
	rec.check(total.Wrong == 0, "0 wrong", "%d wrong", total.Wrong)
	rec.check(full, "the queue filled to --queue-len and stayed there", "queue_total mid %d, end %d", last.mid.Waiting, last.end.Waiting)
	rec.check(noDrops, "the kernel dropped nothing (queue_dropped, user_dropped unchanged)", "%v -> %v", last.before, last.end)
	rec.check(passed && failOpen.Sent > 0 && failOpen.Upstream == failOpen.Sent, "fail-open: packets passed while the queue was full", "id_sequence %d -> %d while the upstream got %d queries for a mesh name; %d of %d sent with the queue full answered by the upstream %v",
		last.mid.IDSeq, last.end.IDSeq, last.upMesh, failOpen.Upstream, failOpen.Sent, oddLocal)
	rec.check(late <= overflowQueueLen*len(evs), "at most queue-len queries held per stall", "%d held", late)
	rec.check(converged && firstLocal >= 0 && firstLocal <= time.Second && share >= 0.9,
		"service resumed after SIGCONT: local answers within 1 s, at least 90% of mesh queries local after",
		"first local answer after %s, %.1f%% local", fmtDur(firstLocal), 100*share)
	rec.check(!p.Meshdns.Exited(), "meshdns still running", "")
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}
