package exchange

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// waitFor polls cond until it holds; the deadline only bounds a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// startRefresher runs a Client's refresh loop with learner l.
func startRefresher(t *testing.T, cfg Config, l Learner) *Client {
	t.Helper()
	c := newClient(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return c
}

func request(t *testing.T, name string, qtype uint16, do, cd bool) cache.RefreshRequest {
	t.Helper()
	req, err := cache.NewRefreshRequest(loopback, name, qtype, do, cd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestRefreshRoundTrip: a request becomes one query with the key's bits,
// whose answer reaches the engine's cache.
func TestRefreshRoundTrip(t *testing.T) {
	up, err := clusterdns.New(clusterdns.Config{Records: map[string][]string{"www.example.org": {"60 A 198.18.5.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Stop() })
	port := up.UDPAddrs()[0].(*net.UDPAddr).AddrPort().Port()

	fake := &FakeLearner{Outcome: cache.Learned}
	c := startRefresher(t, Config{ServerPort: port}, fake)
	req := request(t, "WWW.example.org", dns.TypeA, true, true)
	if !c.Refresh(req) {
		t.Fatal("refused")
	}
	waitFor(t, "the answer", func() bool { return len(fake.Calls()) == 1 })
	if n := up.Count("www.example.org", dns.TypeA); n != 1 {
		t.Fatalf("upstream saw %d queries", n)
	}
	got := fake.Calls()[0]
	if got.Req != req {
		t.Fatalf("learner got request %+v, want %+v", got.Req, req)
	}
	m := new(dns.Msg)
	if err := m.Unpack(got.Msg); err != nil {
		t.Fatal(err)
	}
	if !m.Response || m.Question[0].Name != "www.example.org." || len(m.Answer) != 1 || !m.CheckingDisabled {
		t.Fatalf("answer %v", m)
	}
	if st := c.Stats(); st.Refreshes != 1 || st.Learned != 1 || st.Timeouts != 0 {
		t.Fatalf("stats %+v", st)
	}
	waitFor(t, "the budget back", func() bool { return c.BytesInFlight() == 0 })

	// The same answer into a real engine's cache.
	e, err := dnsengine.New(dnsengine.DefaultConfig(), dnsengine.StaticRegistry{})
	if err != nil {
		t.Fatal(err)
	}
	if o := e.LearnRefresh(req, got.Msg); o != cache.Learned {
		t.Fatalf("engine: %v", o)
	}
}

// TestRefreshQueryBits: the query carries RD, the key's CD and an OPT
// record with the key's DO bit.
func TestRefreshQueryBits(t *testing.T) {
	for _, bits := range []struct{ do, cd bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		req := request(t, "x.example.org", dns.TypeMX, bits.do, bits.cd)
		b, err := refreshQuery(&req, 0xbeef, 1232)
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		o := m.IsEdns0()
		if m.Id != 0xbeef || m.Response || !m.RecursionDesired || m.CheckingDisabled != bits.cd || o == nil || o.Do() != bits.do || o.UDPSize() != 1232 ||
			len(m.Question) != 1 || m.Question[0] != (dns.Question{Name: "x.example.org.", Qtype: dns.TypeMX, Qclass: dns.ClassINET}) {
			t.Fatalf("%+v: query %v", bits, m)
		}
	}
}

// TestRefreshTimeout: an upstream that does not answer costs one timeout
// and frees the refresh's slot; past MaxRefreshes a request is dropped.
func TestRefreshTimeout(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fake := &FakeLearner{}
	c := startRefresher(t, Config{ServerPort: uint16(srv.LocalAddr().(*net.UDPAddr).Port), Timeout: 200 * time.Millisecond, MaxRefreshes: 1}, fake)
	c.Refresh(request(t, "x.example.org", dns.TypeA, false, false))
	c.Refresh(request(t, "y.example.org", dns.TypeA, false, false)) // over MaxRefreshes
	waitFor(t, "the timeout", func() bool { return c.Stats().Timeouts == 1 })
	if st := c.Stats(); st.Refreshes != 1 || st.RefreshDropped != 1 {
		t.Fatalf("%+v", st)
	}
	c.Refresh(request(t, "z.example.org", dns.TypeA, false, false)) // the slot is free again
	waitFor(t, "the second timeout", func() bool { return c.Stats().Timeouts == 2 })
}

// TestRefreshQueueFull: Refresh never blocks; a full queue refuses.
func TestRefreshQueueFull(t *testing.T) {
	c := newClient(t, Config{RefreshQueue: 1})
	req := request(t, "x.example.org", dns.TypeA, false, false)
	if !c.Refresh(req) || c.Refresh(req) {
		t.Fatal("want the first taken and the second refused")
	}
	if c.Stats().RefreshDropped != 1 {
		t.Fatal("drop not counted")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil || c.ServerPort != 53 || c.Timeout != 2*time.Second || c.UDPSize != 1232 || c.RefreshQueue != 256 || c.MaxBytes != 4<<20 {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []Config{{UDPSize: 100}, {Timeout: -1}, {MaxBytes: -1}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
