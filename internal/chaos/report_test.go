package chaos_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/chaos"
	"github.com/meshdns/meshdns/internal/loadgen"
	"golang.org/x/sys/unix"
)

// recorder collects a scenario's figures while it runs and writes them to
// $MESHDNS_CHAOS_OUT when the test ends, pass or fail.
type recorder struct {
	t    *testing.T
	s    chaos.Scenario
	zero time.Time // the load's start: fault times are relative to it
}

func newRecorder(t *testing.T, id, title string, prof profile) *recorder {
	t.Helper()
	cmd := fmt.Sprintf("go test -count=1 -run '^%s$' ./internal/chaos", t.Name())
	if prof.long {
		cmd += " -chaos.long"
	}
	r := &recorder{t: t, s: chaos.Scenario{
		ID: id, Test: t.Name(), Title: title, Mode: prof.mode, Command: cmd,
		Date: time.Now(), Kernel: kernel(), CPUs: runtime.NumCPU(), Faults: []string{},
	}}
	t.Cleanup(func() {
		r.s.Passed = !t.Failed()
		for _, c := range r.s.Checks {
			t.Logf("check %v: %s %s", c.Passed, c.What, c.Detail)
		}
		for _, f := range append(r.s.Recovery, r.s.Figures...) {
			t.Logf("figure %s: %s", f.Name, f.Value)
		}
		dir := os.Getenv(chaos.OutEnv)
		if dir == "" {
			return
		}
		if err := chaos.Write(dir, &r.s); err != nil {
			t.Errorf("writing the result: %v", err)
		}
	})
	return r
}

func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// at renders a moment relative to the load's start.
func (r *recorder) at(t time.Time) string {
	if r.zero.IsZero() {
		return ""
	}
	return fmt.Sprintf(" at %.2f s", t.Sub(r.zero).Seconds())
}

// fault records an injected fault that happened at when.
func (r *recorder) fault(when time.Time, format string, args ...any) {
	r.s.Faults = append(r.s.Faults, fmt.Sprintf(format, args...)+r.at(when))
}

// note adds an explanation to the report.
func (r *recorder) note(format string, args ...any) {
	r.s.Notes = append(r.s.Notes, fmt.Sprintf(format, args...))
}

// repeated records that the faults so far were repeated cycles times,
// every period, instead of listing each.
func (r *recorder) repeated(cycles int, period time.Duration) {
	if cycles > 1 {
		r.s.Faults = append(r.s.Faults, fmt.Sprintf("repeated %d times, every %s", cycles, fmtDur(period)))
	}
}

func (r *recorder) figure(name, format string, args ...any) {
	r.s.Figures = append(r.s.Figures, chaos.Figure{Name: name, Value: fmt.Sprintf(format, args...)})
}

func (r *recorder) recovery(name string, d time.Duration) {
	r.s.Recovery = append(r.s.Recovery, chaos.Figure{Name: name, Value: fmtDur(d)})
}

// check records an assertion and fails the test (without stopping it) when
// it does not hold.
func (r *recorder) check(ok bool, what, detailFormat string, args ...any) bool {
	r.t.Helper()
	d := fmt.Sprintf(detailFormat, args...)
	r.s.Checks = append(r.s.Checks, chaos.Check{What: what, Passed: ok, Detail: d})
	if !ok {
		r.t.Errorf("%s: %s", what, d)
	}
	return ok
}

// load records the load and its totals.
func (r *recorder) load(res *loadgen.Result) {
	r.s.Load = &chaos.Load{
		LookupsPerSec: res.Rate, QueriesPerSec: res.QueryRate, Seconds: res.Duration.Seconds(),
		TimeoutSec: res.Timeout.Seconds(), Mix: mixName,
	}
	r.s.Queries = res.Summary()
	r.s.Timeline = res.Timeline()
	s := r.s.Queries
	r.figure("load generator send lag p99 / max", "%.1f / %.1f ms", s.SendLag.P99/1000, s.SendLag.Max/1000)
	if res.Late > 0 || res.Stray > 0 {
		r.figure("answers after the timeout (counted lost) / stray datagrams", "%d / %d", res.Late, res.Stray)
	}
	r.t.Logf("load: sent %d local %d upstream %d wrong %d lost %d not sent %d; latency %+v", s.Sent, s.Local, s.Upstream,
		s.Wrong, s.Lost, s.NotSent, s.Latency)
	for _, w := range res.WrongSamples {
		r.t.Logf("wrong: %s", w)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

// noCrashSigns checks meshdns's log for panics and race reports.
func (r *recorder) noCrashSigns(name, log string) {
	r.t.Helper()
	for _, bad := range []string{"panic:", "handler panicked", "DATA RACE", "fatal error:"} {
		if strings.Contains(log, bad) {
			r.check(false, name+": no panic or race report in the log", "found %q", bad)
			return
		}
	}
	r.check(true, name+": no panic or race report in the log", "")
}
