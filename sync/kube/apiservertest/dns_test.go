package apiservertest

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/meshdns/meshdns/sync/kube"
	"github.com/meshdns/meshdns/sync/model"
)

// names is the DNS side of a test: the table registry the name source
// feeds through a model.Incremental, and the engine answering from it.
type names struct {
	t   *testing.T
	reg dnsengine.AtomicRegistry
	eng *dnsengine.Engine
	inc *model.Incremental

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every stored table
	tables  int
	lat     []sample
}

type sample struct {
	what string
	d    time.Duration
}

func newNames(t *testing.T) *names {
	t.Helper()
	inc, err := model.NewIncremental(model.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	n := &names{t: t, inc: inc, changed: make(chan struct{})}
	eng, err := dnsengine.New(dnsengine.DefaultConfig(), &n.reg)
	if err != nil {
		t.Fatal(err)
	}
	n.eng = eng
	return n
}

// update is the source's update function: apply (the complete first
// update, then deltas, as meshdns's table store does), store, signal.
func (n *names) update(objs *model.Objects) {
	tab, rep, err := n.inc.Apply(objs, 1)
	if err != nil {
		n.t.Errorf("model.Incremental.Apply: %v", err)
		return
	}
	for _, p := range rep.Problems {
		n.t.Logf("model problem: %s", p)
	}
	n.reg.Store(tab)
	n.mu.Lock()
	n.tables++
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
}

func (n *names) next() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// outcome is what a query got: passed through, or an rcode and answers
// rendered "TYPE data" (sorted).
type outcome struct {
	passed bool
	reason string
	rcode  int
	answer []string
}

func (o outcome) String() string {
	if o.passed {
		return "passed (" + o.reason + ")"
	}
	return fmt.Sprintf("%s %v", dns.RcodeToString[o.rcode], o.answer)
}

func (o outcome) equal(w outcome) bool {
	if o.passed || w.passed {
		return o.passed == w.passed
	}
	return o.rcode == w.rcode && slices.Equal(o.answer, w.answer)
}

// Expected outcomes.
func answers(rrs ...string) outcome {
	s := slices.Clone(rrs)
	sort.Strings(s)
	return outcome{rcode: dns.RcodeSuccess, answer: s}
}

var (
	nxdomain = outcome{rcode: dns.RcodeNameError}
	nodata   = outcome{rcode: dns.RcodeSuccess}
	passed   = outcome{passed: true}
)

// ask sends one query through the engine, as the queue would hand it over.
func (n *names) ask(name string, qtype uint16) outcome {
	n.t.Helper()
	res, resp, err := enginetest.Ask(n.eng, enginetest.Default4(), enginetest.NewQuery(name, qtype))
	if err != nil {
		n.t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	if res.Verdict != verdict.Rewrite {
		return outcome{passed: true, reason: res.Reason.String()}
	}
	o := outcome{rcode: resp.Msg.Rcode}
	for _, rr := range resp.Msg.Answer {
		f := strings.Fields(rr.String())
		o.answer = append(o.answer, strings.Join(f[3:], " "))
	}
	sort.Strings(o.answer)
	return o
}

// await waits until name/qtype gets want, and records the time since the
// API write at `since` under what (unless what is ""). It fails the test
// after 60 s with the last outcome.
func (n *names) await(what string, since time.Time, name string, qtype uint16, want outcome) time.Duration {
	n.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		ch := n.next()
		got := n.ask(name, qtype)
		if got.equal(want) {
			d := time.Since(since)
			if what != "" {
				n.mu.Lock()
				n.lat = append(n.lat, sample{what, d})
				n.mu.Unlock()
			}
			return d
		}
		select {
		case <-ch:
		case <-deadline:
			n.t.Fatalf("%s: %s %s: got %s, want %s", what, name, dns.TypeToString[qtype], got, want)
		}
	}
}

// expect checks an answer now, without waiting for a table.
func (n *names) expect(name string, qtype uint16, want outcome) {
	n.t.Helper()
	if got := n.ask(name, qtype); !got.equal(want) {
		n.t.Fatalf("%s %s: got %s, want %s", name, dns.TypeToString[qtype], got, want)
	}
}

// report logs the write-to-answer latencies.
func (n *names) report() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.lat) == 0 {
		return
	}
	ds := make([]time.Duration, len(n.lat))
	for i, s := range n.lat {
		ds[i] = s.d
		n.t.Logf("write -> answer  %-45s %8.1f ms", s.what, float64(s.d.Microseconds())/1000)
	}
	slices.Sort(ds)
	n.t.Logf("write -> answer over %d changes: p50 %.1f ms, p90 %.1f ms, max %.1f ms (debounce %v, max delay %v)",
		len(ds), ms(ds[len(ds)/2]), ms(ds[len(ds)*9/10]), ms(ds[len(ds)-1]), kube.DefaultDebounce, kube.DefaultMaxDelay)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// testLogger sends slog output to the test log while the test runs.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
