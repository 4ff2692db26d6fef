package observe

import (
	"sync/atomic"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/tcpstack"
	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// latencyBounds are the upper bounds, in nanoseconds, of the processing time
// histogram buckets (1 µs to 10 ms). The engine answers in about a
// microsecond; the upper buckets catch GC pauses and a starved CPU.
var latencyBounds = [...]uint64{
	1_000, 2_000, 5_000, 10_000, 20_000, 50_000,
	100_000, 200_000, 500_000, 1_000_000, 5_000_000, 10_000_000,
}

const numBuckets = len(latencyBounds) + 1 // +Inf

// Shard holds packet-path counters. Its methods are lock-free and
// allocation-free and safe for concurrent use; giving each queue goroutine
// its own Shard keeps them from sharing cache lines. The collector sums all
// shards at scrape time.
type Shard struct {
	reasons   [verdict.NumReasons]atomic.Uint64
	truncated atomic.Uint64
	buckets   [numBuckets]atomic.Uint64
	sumNanos  atomic.Uint64
	samples   atomic.Uint64

	tick atomic.Uint64
	mask uint64 // sample when tick&mask == 0
	_    [64]byte
}

// Count records one engine result.
func (s *Shard) Count(r verdict.Result) {
	if int(r.Reason) < len(s.reasons) {
		s.reasons[r.Reason].Add(1)
	}
	if r.Truncated {
		s.truncated.Add(1)
	}
}

// Inc counts one packet with reason r (for callers that keep only the
// reason; Count also counts truncated responses).
func (s *Shard) Inc(r verdict.Reason) {
	if int(r) < len(s.reasons) {
		s.reasons[r].Add(1)
	}
}

// Sample reports whether the caller should time the next packet. It is true
// for one packet in Config.SampleEvery.
func (s *Shard) Sample() bool {
	return s.tick.Add(1)&s.mask == 0
}

// ObserveDuration adds one processing time sample.
func (s *Shard) ObserveDuration(d time.Duration) {
	ns := uint64(max(d, 0))
	i := 0
	for i < len(latencyBounds) && ns > latencyBounds[i] {
		i++
	}
	s.buckets[i].Add(1)
	s.sumNanos.Add(ns)
	s.samples.Add(1)
}

// Process runs eng on pkt (Engine.ProcessQueued, with q to hold it, or
// nil), counts the result and, for sampled packets, times it. It is the
// whole packet-path use of this package:
//
//	res := shard.Process(engine, pkt, q)
func (s *Shard) Process(eng *dnsengine.Engine, pkt []byte, q tcpstack.Holdable) verdict.Result {
	if !s.Sample() {
		r := eng.ProcessQueued(pkt, q)
		s.Count(r)
		return r
	}
	t0 := time.Now()
	r := eng.ProcessQueued(pkt, q)
	s.ObserveDuration(time.Since(t0))
	s.Count(r)
	return r
}

// shardTotals is the sum of all shards at one scrape.
type shardTotals struct {
	reasons   [verdict.NumReasons]uint64
	truncated uint64
	buckets   [numBuckets]uint64
	sumNanos  uint64
	samples   uint64
}

func (t *shardTotals) add(s *Shard) {
	for i := range s.reasons {
		t.reasons[i] += s.reasons[i].Load()
	}
	t.truncated += s.truncated.Load()
	for i := range s.buckets {
		t.buckets[i] += s.buckets[i].Load()
	}
	t.sumNanos += s.sumNanos.Load()
	t.samples += s.samples.Load()
}
