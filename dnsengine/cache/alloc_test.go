package cache_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/dnsengine/verdict"
	"github.com/miekg/dns"
)

// cacheNopRefresher takes every request and does nothing (the fake records
// them, which allocates).
type cacheNopRefresher struct{}

func (cacheNopRefresher) Refresh(cache.RefreshRequest) bool { return true }

// cacheKinds are the cache's packet paths, each a sequence of packets
// played in order, the last one's reason checked.
func cacheKinds(t testing.TB) (*dnsengine.Engine, *cache.FakeClock, []struct {
	name    string
	pkts    [][]byte
	advance time.Duration // the clock moves this much before each play
	want    verdict.Reason
}) {
	clock := &cache.FakeClock{}
	cfg := dnsengine.DefaultConfig()
	cfg.Cache.Clock = clock
	cfg.Cache.Refresher = cacheNopRefresher{}
	cfg.Cache.Stale = 3600
	cfg.Cache.Prefetch = 1
	e := enginetest.MustClusterEngine(t, cfg)
	ep := cacheEP4(40000)
	buf := make([]byte, 0, enginetest.BufSize)
	hot := makeCacheExchange(t, ep, "hot.example.org", 1, "hot.example.org. 300 IN CNAME a.example.org.", "a.example.org. 300 IN A 198.18.5.5")
	stale := makeCacheExchange(t, ep, "stale.example.org", 2, "stale.example.org. 1 IN A 198.18.5.5")
	learn := makeCacheExchange(t, ep, "learn.example.org", 3, "learn.example.org. 1 IN A 198.18.5.5")
	hot.run(e, buf)
	stale.run(e, buf)
	clock.Advance(2 * time.Second)
	mk := func(name string, edns bool) []byte {
		q := cacheQ(name, dns.TypeA, 77)
		if edns {
			q.SetEdns0(1232, false)
		}
		p, err := enginetest.QueryPacket(cacheEP4(41000), q)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return e, clock, []struct {
		name    string
		pkts    [][]byte
		advance time.Duration
		want    verdict.Reason
	}{
		{"hit", [][]byte{mk("hot.example.org", false)}, 0, verdict.ReasonCacheHit},
		{"hit-edns", [][]byte{mk("HOT.example.org", true)}, 0, verdict.ReasonCacheHit},
		{"stale", [][]byte{mk("stale.example.org", false)}, 0, verdict.ReasonCacheStale},
		{"miss", [][]byte{mk("cold.example.org", false)}, 0, verdict.ReasonNotOwned},
		// Past TTL and stale window: the query misses (dropping the dead
		// entry), its response is learned again. Kinds after this one see
		// every earlier entry expire.
		{"learn", [][]byte{learn.q, learn.r}, 4000 * time.Second, verdict.ReasonCacheLearned},
		{"reject", [][]byte{learn.r}, 0, verdict.ReasonResponse},
	}
}

// TestCacheAllocs: hits, misses and learning allocate nothing once the
// shard slabs exist. Budget: 0 allocations per packet.
func TestCacheAllocs(t *testing.T) {
	e, clock, kinds := cacheKinds(t)
	buf := make([]byte, 0, enginetest.BufSize)
	for _, k := range kinds {
		var res verdict.Result
		allocs := testing.AllocsPerRun(200, func() {
			clock.Advance(k.advance)
			for _, p := range k.pkts {
				buf = buf[:len(p)]
				copy(buf, p)
				res = e.Process(buf)
			}
		})
		if res.Reason != k.want {
			t.Errorf("%s: reason %v, want %v", k.name, res.Reason, k.want)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations, budget 0", k.name, allocs)
		}
	}
}

func BenchmarkCache(b *testing.B) {
	e, clock, kinds := cacheKinds(b)
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			buf := make([]byte, 0, enginetest.BufSize)
			b.ReportAllocs()
			for b.Loop() {
				clock.Advance(k.advance)
				for _, p := range k.pkts {
					buf = buf[:len(p)]
					copy(buf, p)
					if r := e.Process(buf); r.Reason == verdict.ReasonMalformed {
						b.Fatal(r.Reason)
					}
				}
			}
		})
	}
}

// TestCacheConcurrent runs hits, misses and learning from several
// goroutines at once (meaningful under -race): every hit must be a
// well-formed answer for its own question.
func TestCacheConcurrent(t *testing.T) {
	r := newCacheRig(t, func(c *dnsengine.Config) { c.Cache.Size = 200 })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				name := fmt.Sprintf("c%d.example.org", i%50)
				ep := cacheEP4(uint16(30000 + g*1000 + i))
				q := cacheQ(name, dns.TypeA, uint16(i))
				res, resp, err := enginetest.Ask(r.e, ep, q)
				if err != nil {
					t.Error(err)
					return
				}
				switch res.Reason {
				case verdict.ReasonCacheHit:
					if resp.Msg.Question[0].Name != name+"." || len(resp.Msg.Answer) != 1 || resp.Msg.Answer[0].Header().Name != name+"." {
						t.Errorf("hit for %s: %v", name, resp.Msg)
						return
					}
				case verdict.ReasonNotOwned:
					rep := cacheReply(t, q, dns.RcodeSuccess, name+". 300 IN A 198.18.5.5")
					wire, _ := rep.Pack()
					pkt, _ := enginetest.UDPPacket(cacheRespEP(ep), wire)
					r.e.Process(pkt)
				default:
					t.Errorf("%v", res.Reason)
					return
				}
			}
		}()
	}
	wg.Wait()
	if cm := r.e.CacheMetrics(); cm.Hits == 0 || cm.Entries > 200 {
		t.Fatalf("%+v", cm)
	}
}
