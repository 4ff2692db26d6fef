package observe

import (
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
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
		r := s.Process(eng, buf)
		if r.Verdict != dnsengine.Accept {
			t.Fatalf("verdict %v for garbage without a table, want accept", r.Verdict)
		}
		s.Count(dnsengine.Result{Reason: dnsengine.ReasonAnswered, Truncated: true})
	}
	var tot shardTotals
	tot.add(s)
	if tot.reasons[dnsengine.ReasonAnswered] != 3 || tot.truncated != 3 {
		t.Errorf("answered %d truncated %d, want 3 and 3", tot.reasons[dnsengine.ReasonAnswered], tot.truncated)
	}
	var passed uint64
	for i, n := range tot.reasons {
		if !dnsengine.Reason(i).Answered() {
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

func TestShardProcessAllocs(t *testing.T) {
	o := newTestObserver(t, Config{SampleEvery: 2})
	eng, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{})
	if err != nil {
		t.Fatal(err)
	}
	s := o.Shard()
	buf := make([]byte, 64, 65536)
	if a := testing.AllocsPerRun(100, func() { s.Process(eng, buf) }); a != 0 {
		t.Fatalf("%v allocations per packet, want 0", a)
	}
}

func TestResultOf(t *testing.T) {
	want := map[dnsengine.Reason]string{
		dnsengine.ReasonAnswered:  "answered",
		dnsengine.ReasonNXDomain:  "nxdomain",
		dnsengine.ReasonNoData:    "nodata",
		dnsengine.ReasonNotOwned:  "passed",
		dnsengine.ReasonMalformed: "passed",
		dnsengine.ReasonNotReady:  "passed",
	}
	for r, w := range want {
		if got := resultOf(r); got != w {
			t.Errorf("resultOf(%v) = %q, want %q", r, got, w)
		}
	}
	for i := range dnsengine.NumReasons {
		r := dnsengine.Reason(i)
		switch res := resultOf(r); res {
		case "answered", "nxdomain", "nodata", "tcp", "passed":
		default:
			t.Errorf("resultOf(%v) = %q: not a documented result", r, res)
		}
		if r.Answered() && resultOf(r) == "passed" {
			t.Errorf("%v answers but counts as passed", r)
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
				s.Inc(dnsengine.ReasonAnswered)
				if s.Sample() {
					s.ObserveDuration(time.Microsecond)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := s.reasons[dnsengine.ReasonAnswered].Load(); got != 4000 {
		t.Fatalf("answered %d, want 4000", got)
	}
	if got := s.samples.Load(); got != 500 {
		t.Fatalf("sampled %d of 4000 with SampleEvery 8, want 500", got)
	}
}
