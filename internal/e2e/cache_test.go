package e2e_test

// The cache of upstream answers (README.md) on the real kernel: meshdns learns
// the upstream's responses from the queue and answers repeated lookups
// itself, once per TTL; negative answers are cached for the SOA minimum;
// with serve-stale an expired entry is answered while the upstream is down
// and refreshed (by meshdns's own marked query) when it is back; a flood of
// unique names keeps meshdns's memory flat.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/lookupout"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
)

// cacheNameserver is the pod's nameserver in these tests: a second address
// of the upstream namespace, where cacheUpstream answers (with SOA records
// in negative answers, as a real cluster DNS does and RFC 2308 needs).
const cacheNameserver = "198.18.0.3"

// cacheUpstream is a small counting server with switchable answers.
type cacheUpstream struct {
	mu     sync.Mutex
	counts map[string]int
	down   atomic.Bool  // drop every query
	stale  atomic.Value // the address stale.example.org answers
}

func (u *cacheUpstream) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counts[strings.ToLower(dns.Fqdn(name))]
}

func (u *cacheUpstream) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	u.mu.Lock()
	u.counts[name]++
	u.mu.Unlock()
	if u.down.Load() {
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable, m.Compress = true, true
	a := func(ttl uint32, addr string) {
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.ParseIP(addr)})
		}
	}
	switch {
	case name == "cached.example.org.":
		a(2, "198.19.9.9")
	case name == "stale.example.org.":
		a(2, u.stale.Load().(string))
	case strings.HasSuffix(name, ".flood.example.org."):
		a(300, "198.19.9.11")
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.example.org.", Mbox: "hostmaster.example.org.", Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: 2}}
	}
	if req.IsEdns0() != nil {
		m.SetEdns0(1232, false)
	}
	w.WriteMsg(m)
}

// startCachePod starts a pod whose nameserver is a cacheUpstream, and
// meshdns with args.
func startCachePod(t *testing.T, args ...string) (*podtest.Pod, *cacheUpstream) {
	t.Helper()
	p := podtest.Start(t, podtest.Config{
		NoMeshdns:  true,
		ResolvConf: "nameserver " + cacheNameserver + "\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
	})
	ctx := context.Background()
	if out, err := netns.Command(ctx, p.Topo.Upstream, "ip", "addr", "add", cacheNameserver+"/24", "dev", "eth0").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	u := &cacheUpstream{counts: map[string]int{}}
	u.stale.Store("198.19.9.1")
	pc, err := netns.ListenUDP(p.Topo.Upstream, "udp4", cacheNameserver+":53")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: u, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	p.StartMeshdns(t, objectsFile, args...)
	return p, u
}

func digA(t *testing.T, p *podtest.Pod, name string) lookupout.Dig {
	t.Helper()
	d := p.Dig(t, name, "A")
	if d.Server.Addr().String() != cacheNameserver {
		t.Fatalf("answered by %v", d.Server)
	}
	return d
}

func answerAddr(t *testing.T, d lookupout.Dig) (string, uint32) {
	t.Helper()
	if d.Status != "NOERROR" || len(d.Answer) != 1 {
		t.Fatalf("want one answer, got %s:\n%s", d.Status, d.Raw)
	}
	a, ok := d.Answer[0].(*dns.A)
	if !ok {
		t.Fatalf("not an A record:\n%s", d.Raw)
	}
	return a.A.String(), a.Hdr.Ttl
}

// TestKernelCache covers learning, TTLs and negative caching.
func TestKernelCache(t *testing.T) {
	p, u := startCachePod(t)

	t.Run("repeated lookups reach the upstream once per TTL", func(t *testing.T) {
		for i := range 5 {
			addr, ttl := answerAddr(t, digA(t, p, "cached.example.org"))
			if addr != "198.19.9.9" || ttl > 2 {
				t.Fatalf("lookup %d: %s TTL %d", i, addr, ttl)
			}
		}
		if n := u.count("cached.example.org"); n != 1 {
			t.Fatalf("upstream saw %d queries for 5 lookups within the TTL, want 1", n)
		}
		time.Sleep(2100 * time.Millisecond) // the TTL
		answerAddr(t, digA(t, p, "cached.example.org"))
		answerAddr(t, digA(t, p, "CACHED.example.org")) // 0x20 case: same entry
		if n := u.count("cached.example.org"); n != 2 {
			t.Fatalf("upstream saw %d queries after the TTL, want 2", n)
		}
	})

	t.Run("negative answers cached for the SOA minimum", func(t *testing.T) {
		for i := range 3 {
			d := digA(t, p, "missing.example.org")
			// The upstream's own answer has the SOA's TTL (60); cached
			// ones min(TTL, MINIMUM, --cache-negative-ttl) less their age.
			if d.Status != "NXDOMAIN" || len(d.Authority) != 1 || (i > 0 && d.Authority[0].Header().Ttl > 2) {
				t.Fatalf("lookup %d: want NXDOMAIN with the SOA (TTL <= 2 from the cache):\n%s", i, d.Raw)
			}
		}
		if n := u.count("missing.example.org"); n != 1 {
			t.Fatalf("upstream saw %d queries, want 1", n)
		}
		time.Sleep(2100 * time.Millisecond)
		if d := digA(t, p, "missing.example.org"); d.Status != "NXDOMAIN" {
			t.Fatal(d.Raw)
		}
		if n := u.count("missing.example.org"); n != 2 {
			t.Fatalf("upstream saw %d queries after the negative TTL, want 2", n)
		}
	})

	t.Run("mesh names never reach the cache or the upstream", func(t *testing.T) {
		d := p.Dig(t, "web.default.svc.cluster.local", "A")
		if d.Status != "NOERROR" || u.count("web.default.svc.cluster.local") != 0 {
			t.Fatalf("%d upstream queries:\n%s", u.count("web.default.svc.cluster.local"), d.Raw)
		}
	})
}

// TestKernelCacheServeStale: with --cache-stale an expired entry is answered
// (TTL 30) while the upstream does not answer, and refreshed by meshdns's
// own query once it does.
func TestKernelCacheServeStale(t *testing.T) {
	p, u := startCachePod(t, "--cache-stale", "3600")
	if addr, _ := answerAddr(t, digA(t, p, "stale.example.org")); addr != "198.19.9.1" {
		t.Fatal(addr)
	}
	u.down.Store(true)
	time.Sleep(2100 * time.Millisecond) // expired
	start := time.Now()
	addr, ttl := answerAddr(t, digA(t, p, "stale.example.org"))
	if addr != "198.19.9.1" || ttl != 30 {
		t.Fatalf("upstream down: %s TTL %d, want the stale answer with TTL 30", addr, ttl)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the stale answer took %v: it waited for the upstream", d)
	}
	// The refresh reached the upstream (which dropped it): 2 queries.
	waitUntil(t, "the refresh query", func() bool { return u.count("stale.example.org") == 2 })

	u.stale.Store("198.19.9.2")
	u.down.Store(false)
	time.Sleep(5100 * time.Millisecond) // the refresh retry interval
	if addr, ttl := answerAddr(t, digA(t, p, "stale.example.org")); addr != "198.19.9.1" || ttl != 30 {
		t.Fatalf("second stale answer: %s TTL %d", addr, ttl)
	}
	waitUntil(t, "the refreshed entry", func() bool {
		addr, ttl := answerAddr(t, digA(t, p, "stale.example.org"))
		return addr == "198.19.9.2" && ttl <= 2
	})
	// Client queries were all answered from the cache: the upstream saw the
	// first lookup and the two refreshes.
	if n := u.count("stale.example.org"); n != 3 {
		t.Fatalf("upstream saw %d queries, want 3", n)
	}
}

// TestKernelCacheFloodMemoryFlat: tens of thousands of unique names through
// a cache of 1,000 entries: meshdns's resident memory stays flat once the
// cache is full, and recent names are answered from the cache.
func TestKernelCacheFloodMemoryFlat(t *testing.T) {
	p, u := startCachePod(t, "--cache-size", "1000")
	dir := t.TempDir()
	write := func(file string, from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "n%d.flood.example.org A\n", i)
		}
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	flood := func(path string) {
		t.Helper()
		p.MustExec(t, "dnsperf", "-s", cacheNameserver, "-d", path, "-n", "1", "-c", "1", "-q", "20", "-t", "2")
	}
	rss := func() int {
		t.Helper()
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Meshdns.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.Atoi(f[1])
				return kb
			}
		}
		t.Fatal("no VmRSS")
		return 0
	}
	flood(write("warm", 0, 10000))
	before := rss()
	flood(write("flood", 10000, 50000))
	after := rss()
	t.Logf("meshdns VmRSS %d kB after 10,000 names, %d kB after 50,000", before, after)
	if after-before > 4096 {
		t.Fatalf("resident memory grew by %d kB over 40,000 unique names with --cache-size 1000", after-before)
	}
	// The last name is cached: a lookup does not reach the upstream again.
	last := "n49999.flood.example.org"
	if n := u.count(last); n != 1 {
		t.Fatalf("upstream saw %d queries for %s, want 1", n, last)
	}
	answerAddr(t, digA(t, p, last))
	if n := u.count(last); n != 1 {
		t.Fatalf("the last flood name was not answered from the cache (%d upstream queries)", n)
	}
}

// waitUntil polls cond; the deadline only bounds a hang.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
