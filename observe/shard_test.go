package observe

import (
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

func TestSampleMask(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want uint64
	}{{1, 0}, {2, 1}, {3, 3}, {64, 63}, {100, 127}} {
		if got := sampleMask(tc.n); got != tc.want {
			t.Errorf("sampleMask(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestShardSampling(t *testing.T) {
	o := newTestObserver(t, Config{SampleEvery: 4})
	s := o.Shard()
	n := 0
	for range 40 {
		if s.Sample() {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("sampled %d of 40 with SampleEvery 4, want 10", n)
	}
}

func TestShardBuckets(t *testing.T) {
	o := newTestObserver(t, Config{})
	s := o.Shard()
	for _, d := range []time.Duration{-1, 0, time.Microsecond, 1500 * time.Nanosecond, 3 * time.Millisecond, time.Second} {
		s.ObserveDuration(d)
	}
	want := map[int]uint64{0: 3, 1: 1, 10: 1, numBuckets - 1: 1}
	for i := range s.buckets {
		if got := s.buckets[i].Load(); got != want[i] {
			t.Errorf("bucket %d = %d, want %d", i, got, want[i])
		}
	}
	if got := s.samples.Load(); got != 6 {
		t.Errorf("samples = %d, want 6", got)
	}
}

func TestShardProcessCountsAndTimes(t *testing.T) {
	o := newTestObserver(t, Config{SampleEvery: 1})
	eng, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{})
	if err != nil {
		t.Fatal(err)
	}
	s := o.Shard()
	buf := make([]byte, 64, 65536)
	for range 3 {
		r := s.Process(eng, buf, nil)
		if r.Verdict != verdict.Accept {
			t.Fatalf("verdict %v for garbage without a table, want accept", r.Verdict)
		}
		s.Count(verdict.Result{Reason: verdict.ReasonAnswered, Truncated: true})
	}
	var tot shardTotals
	tot.add(s)
	if tot.reasons[verdict.ReasonAnswered] != 3 || tot.truncated != 3 {
		t.Errorf("answered %d truncated %d, want 3 and 3", tot.reasons[verdict.ReasonAnswered], tot.truncated)
	}
	var passed uint64
	for i, n := range tot.reasons {
		if !verdict.Reason(i).Answered() {
			passed += n
		}
	}
	if passed != 3 {
		t.Errorf("passed %d, want 3", passed)
	}
	if tot.samples != 3 {
		t.Errorf("timed %d packets with SampleEvery 1, want 3", tot.samples)
	}
}

// TestShardProcessAllocs: the whole answer path of a mesh query, with the
// timing sample taken every other packet, allocates nothing.
func TestShardProcessAllocs(t *testing.T) {
	o := newTestObserver(t, Config{SampleEvery: 2})
	tab, err := enginetest.TableFromZone(dnsengine.TableConfig{ClusterDomain: "cluster.local", Serial: 1},
		"web.default.svc.cluster.local. A 10.96.0.10\n")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{T: tab})
	if err != nil {
		t.Fatal(err)
	}
	query, err := enginetest.QueryPacket(enginetest.Default4(), enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	s := o.Shard()
	buf := make([]byte, len(query), 65536)
	copy(buf, query)
	if r := s.Process(eng, buf, nil); r.Verdict != verdict.Rewrite || r.Reason != verdict.ReasonAnswered {
		t.Fatalf("mesh query: %v %v, want an answer", r.Verdict, r.Reason)
	}
	sampled := s.samples.Load()
	if a := testing.AllocsPerRun(100, func() {
		buf = buf[:len(query)]
		copy(buf, query)
		s.Process(eng, buf, nil)
	}); a != 0 {
		t.Fatalf("%v allocations per packet, want 0", a)
	}
	if s.samples.Load() == sampled {
		t.Fatal("no packet was timed: the sampled path was not measured")
	}
}

// TestResultOf classifies every reason the engine has, by name, as
// docs/observability.md documents the result label: a new reason fails
// until it is listed here.
func TestResultOf(t *testing.T) {
	want := map[string]string{
		"answered":         "answered",
		"nxdomain":         "nxdomain",
		"nodata":           "nodata",
		"not_owned":        "passed",
		"not_ready":        "passed",
		"malformed":        "passed",
		"not_ip":           "passed",
		"not_dns_query":    "passed",
		"tcp":              "passed", // TCP with --tcp=off: accepted untouched
		"bad_checksum":     "passed",
		"unsupported":      "passed",
		"no_room":          "passed",
		"tcp_handshake":    "tcp",
		"tcp_ack":          "tcp",
		"tcp_carrier":      "tcp",
		"tcp_retransmit":   "tcp",
		"tcp_close":        "tcp",
		"tcp_held":         "tcp",
		"tcp_forwarded":    "tcp",
		"tcp_flow_limit":   "passed", // past the flow limit: accepted untouched
		"tcp_foreign":      "passed", // a flow meshdns did not open: accepted untouched
		"tcp_memory":       "tcp",    // the TCP budget is spent: mostly a reset or a SERVFAIL written in place (a new flow passed also counts here)
		"tcp_server_reset": "tcp",    // the nameserver's RST of a flow meshdns holds, dropped
		"cache_hit":        "answered",
		"cache_stale":      "answered",
		"cache_learned":    "passed", // the upstream's response, delivered untouched
		"response":         "passed",
	}
	seen := map[string]bool{}
	for i := range verdict.NumReasons {
		r := verdict.Reason(i)
		seen[r.String()] = true
		w, ok := want[r.String()]
		if !ok {
			t.Errorf("reason %q: not classified in this test", r)
			continue
		}
		if got := resultOf(r); got != w {
			t.Errorf("resultOf(%v) = %q, want %q", r, got, w)
		}
		if r.Answered() != (w == "answered" || w == "nxdomain" || w == "nodata") {
			t.Errorf("%v: Answered() = %v, result %q", r, r.Answered(), w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("reason %q listed here but not in the engine", name)
		}
	}
}

func TestShardConcurrent(t *testing.T) {
	o := newTestObserver(t, Config{SampleEvery: 8})
	s := o.Shard()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 1000 {
				s.Inc(verdict.ReasonAnswered)
				if s.Sample() {
					s.ObserveDuration(time.Microsecond)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := s.reasons[verdict.ReasonAnswered].Load(); got != 4000 {
		t.Fatalf("answered %d, want 4000", got)
	}
	if got := s.samples.Load(); got != 500 {
		t.Fatalf("sampled %d of 4000 with SampleEvery 8, want 500", got)
	}
}
