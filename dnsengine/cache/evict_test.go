package cache_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// cacheExchange builds the query and response packets of one lookup of name.
type cacheExchange struct{ q, r []byte }

func makeCacheExchange(t testing.TB, ep enginetest.Endpoints, name string, id uint16, recs ...string) cacheExchange {
	t.Helper()
	q := cacheQ(name, dns.TypeA, id)
	qp, err := enginetest.QueryPacket(ep, q)
	if err != nil {
		t.Fatal(err)
	}
	rm := cacheReply(t, q, dns.RcodeSuccess, recs...)
	wire, err := rm.Pack()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := enginetest.UDPPacket(cacheRespEP(ep), wire)
	if err != nil {
		t.Fatal(err)
	}
	return cacheExchange{qp, rp}
}

// run plays the cacheExchange through e in buf and returns the two reasons.
func (x cacheExchange) run(e *dnsengine.Engine, buf []byte) (verdict.Reason, verdict.Reason) {
	buf = buf[:len(x.q)]
	copy(buf, x.q)
	r1 := e.Process(buf).Reason
	buf = buf[:len(x.r)]
	copy(buf, x.r)
	return r1, e.Process(buf).Reason
}

// TestCacheEviction: the cache never holds more than Size entries; CLOCK
// keeps an entry that is being used while names asked once flow through.
func TestCacheEviction(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Size = 100 })
	ep := cacheEP4(40000)
	buf := make([]byte, 0, enginetest.BufSize)
	hot := makeCacheExchange(t, ep, "hot.example.org", 1, "hot.example.org. 300 IN A 198.18.7.7")
	hot.run(r.e, buf)
	hotQ, _ := enginetest.QueryPacket(cacheEP4(41000), cacheQ("hot.example.org", dns.TypeA, 2))
	for i := range 1000 {
		x := makeCacheExchange(t, ep, fmt.Sprintf("n%d.example.org", i), uint16(i+10), fmt.Sprintf("n%d.example.org. 300 IN A 198.18.8.8", i))
		if q, l := x.run(r.e, buf); q != verdict.ReasonNotOwned || l != verdict.ReasonCacheLearned {
			t.Fatalf("name %d: %v, %v", i, q, l)
		}
		if i%10 == 0 {
			buf = buf[:len(hotQ)]
			copy(buf, hotQ)
			if res := r.e.Process(buf); res.Reason != verdict.ReasonCacheHit {
				t.Fatalf("hot entry evicted after %d names: %v", i, res.Reason)
			}
		}
	}
	cm := r.e.CacheMetrics()
	if cm.Entries != 100 || cm.Capacity != 100 || cm.Evictions != 1001-100 {
		t.Fatalf("entries %d capacity %d evictions %d, want 100, 100, 901", cm.Entries, cm.Capacity, cm.Evictions)
	}
}

// TestCacheExpiredReclaimedFirst: entries past their TTL are dropped as
// expired (not counted as evictions) when room is needed.
func TestCacheExpiredReclaimedFirst(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Size = 10 })
	ep := cacheEP4(40000)
	buf := make([]byte, 0, enginetest.BufSize)
	for i := range 10 {
		makeCacheExchange(t, ep, fmt.Sprintf("old%d.example.org", i), uint16(i), fmt.Sprintf("old%d.example.org. 5 IN A 198.18.8.8", i)).run(r.e, buf)
	}
	r.clock.Advance(6e9)
	for i := range 10 {
		makeCacheExchange(t, ep, fmt.Sprintf("new%d.example.org", i), uint16(100+i), fmt.Sprintf("new%d.example.org. 5 IN A 198.18.8.8", i)).run(r.e, buf)
	}
	cm := r.e.CacheMetrics()
	if cm.Entries != 10 || cm.Expired != 10 || cm.Evictions != 0 {
		t.Fatalf("%+v", cm)
	}
}

// TestCacheSizeZero: size 0 turns the cache off: responses are reported as
// before (not_dns_query) and nothing is remembered.
func TestCacheSizeZero(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Size = 0 })
	ep := cacheEP4(40000)
	q := cacheQ("www.example.org", dns.TypeA, 1)
	r.ask(ep, q)
	if res := r.answer(cacheRespEP(ep), cacheReply(t, q, dns.RcodeSuccess, "www.example.org. 60 IN A 198.18.5.5")); res.Reason != verdict.ReasonNotDNSQuery {
		t.Fatalf("response with the cache off: %v", res.Reason)
	}
	if res, _ := r.ask(cacheEP4(41000), cacheQ("www.example.org", dns.TypeA, 2)); res.Reason != verdict.ReasonNotOwned {
		t.Fatalf("%v", res.Reason)
	}
	if cm := r.e.CacheMetrics(); cm.Enabled {
		t.Fatal("metrics say enabled")
	}
}

// TestCacheFloodMemoryFlat: a flood of unique names keeps the entry count
// at the configured size and the heap flat once the slabs exist.
func TestCacheFloodMemoryFlat(t *testing.T) {
	const size = 2000
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Size = size })
	ep := cacheEP4(40000)
	// Pre-built packets for two rounds of unique names (building them
	// allocates; the engine must not).
	const n = 3 * size
	xs := make([]cacheExchange, n)
	for i := range xs {
		name := fmt.Sprintf("flood-%06d.example.org", i)
		xs[i] = makeCacheExchange(t, ep, name, uint16(i), name+". 300 IN A 198.18.9.9", name+". 300 IN A 198.18.9.10")
	}
	buf := make([]byte, 0, enginetest.BufSize)
	for _, x := range xs[:size] { // warm up: fills the cache, allocates the slabs
		x.run(r.e, buf)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for _, x := range xs[size:] {
		if _, l := x.run(r.e, buf); l != verdict.ReasonCacheLearned {
			t.Fatalf("learn: %v", l)
		}
	}
	after := heap()
	cm := r.e.CacheMetrics()
	if cm.Entries != size {
		t.Fatalf("%d entries, want %d", cm.Entries, size)
	}
	if cm.Evictions != n-size {
		t.Fatalf("%d evictions, want %d", cm.Evictions, n-size)
	}
	if after > before+256<<10 {
		t.Fatalf("heap grew from %d to %d bytes while %d unique names flowed through a full cache", before, after, n-size)
	}
	runtime.KeepAlive(xs)
}
