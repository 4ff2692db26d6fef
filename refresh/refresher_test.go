package refresh

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine"
	"github.com/meshdns/meshdns/internal/upstream"
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

// start runs a Refresher against a server on loopback port port.
func start(t *testing.T, cfg Config, l Learner) *Refresher {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return r
}

func request(t *testing.T, name string, qtype uint16, do, cd bool) dnsengine.RefreshRequest {
	t.Helper()
	req, err := dnsengine.NewRefreshRequest(loopback, name, qtype, do, cd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestRefreshRoundTrip: a request becomes one query with the key's bits,
// whose answer reaches the engine's cache: a later client query is answered
// from it.
func TestRefreshRoundTrip(t *testing.T) {
	up, err := upstream.New(upstream.Config{Records: map[string][]string{"www.example.org": {"60 A 198.18.5.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := up.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Stop() })
	port := up.UDPAddrs()[0].(*net.UDPAddr).AddrPort().Port()

	fake := &FakeLearner{Outcome: dnsengine.CacheLearned}
	r := start(t, Config{ServerPort: port}, fake)
	if r.LocalPort() == 0 {
		t.Fatal("no local port")
	}
	req := request(t, "WWW.example.org", dns.TypeA, true, true)
	if !r.Refresh(req) {
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
	if st := r.Stats(); st.Sent != 1 || st.Learned != 1 || st.Timeouts != 0 {
		t.Fatalf("stats %+v", st)
	}

	// The same answer into a real engine's cache.
	cfg := dnsengine.DefaultConfig()
	e, err := dnsengine.New(cfg, dnsengine.StaticRegistry{})
	if err != nil {
		t.Fatal(err)
	}
	if o := e.LearnRefresh(req, got.Msg); o != dnsengine.CacheLearned {
		t.Fatalf("engine: %v", o)
	}
	if cm := e.CacheMetrics(); cm.Entries != 1 {
		t.Fatalf("%+v", cm)
	}
}

// TestRefreshQueryBits: the query carries RD, the key's CD and an OPT
// record with the key's DO bit.
func TestRefreshQueryBits(t *testing.T) {
	for _, bits := range []struct{ do, cd bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		req := request(t, "x.example.org", dns.TypeMX, bits.do, bits.cd)
		m := new(dns.Msg)
		if err := m.Unpack(appendQuery(nil, 0xbeef, &req, 1232)); err != nil {
			t.Fatal(err)
		}
		o := m.IsEdns0()
		if m.Id != 0xbeef || m.Response || !m.RecursionDesired || m.CheckingDisabled != bits.cd || o == nil || o.Do() != bits.do || o.UDPSize() != 1232 ||
			len(m.Question) != 1 || m.Question[0] != (dns.Question{Name: "x.example.org.", Qtype: dns.TypeMX, Qclass: dns.ClassINET}) {
			t.Fatalf("%+v: query %v", bits, m)
		}
	}
}

// TestRefreshIgnoresForgeries: datagrams from another port or with another
// ID are not handed to the learner; the genuine answer is.
func TestRefreshIgnoresForgeries(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	fake := &FakeLearner{Outcome: dnsengine.CacheLearned}
	r := start(t, Config{ServerPort: uint16(srv.LocalAddr().(*net.UDPAddr).Port)}, fake)
	r.Refresh(request(t, "x.example.org", dns.TypeA, false, false))

	buf := make([]byte, 512)
	n, client, err := srv.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	q := new(dns.Msg)
	if err := q.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	a := new(dns.Msg)
	a.SetReply(q)
	good, _ := a.Pack()
	a.Id++
	badID, _ := a.Pack()
	other.WriteToUDPAddrPort(good, client) // wrong source port
	srv.WriteToUDPAddrPort(badID, client)  // wrong ID
	waitFor(t, "two forgeries", func() bool { return r.Stats().Unmatched == 2 })
	if len(fake.Calls()) != 0 {
		t.Fatal("a forgery reached the learner")
	}
	srv.WriteToUDPAddrPort(good, client)
	waitFor(t, "the answer", func() bool { return len(fake.Calls()) == 1 })
	srv.WriteToUDPAddrPort(good, client) // a duplicate: no longer in flight
	waitFor(t, "the duplicate", func() bool { return r.Stats().Unmatched == 3 })
	if len(fake.Calls()) != 1 {
		t.Fatal("the duplicate reached the learner")
	}
}

// TestRefreshTimeout: an upstream that does not answer costs one timeout
// and frees the query's slot.
func TestRefreshTimeout(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fake := &FakeLearner{}
	r := start(t, Config{ServerPort: uint16(srv.LocalAddr().(*net.UDPAddr).Port), Timeout: 50 * time.Millisecond, MaxInFlight: 1}, fake)
	r.Refresh(request(t, "x.example.org", dns.TypeA, false, false))
	r.Refresh(request(t, "y.example.org", dns.TypeA, false, false)) // over MaxInFlight
	waitFor(t, "the timeout", func() bool { return r.Stats().Timeouts == 1 })
	if st := r.Stats(); st.Sent != 1 || st.Dropped != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestRefreshQueueFull: Refresh never blocks; a full queue refuses.
func TestRefreshQueueFull(t *testing.T) {
	r, err := New(Config{QueueLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := request(t, "x.example.org", dns.TypeA, false, false)
	if !r.Refresh(req) || r.Refresh(req) {
		t.Fatal("want the first taken and the second refused")
	}
	if r.Stats().Dropped != 1 {
		t.Fatal("drop not counted")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil || c.ServerPort != 53 || c.Timeout != 2*time.Second || c.EDNSSize != 1232 || c.QueueLen != 256 {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []Config{{EDNSSize: 100}, {Timeout: -1}, {MaxInFlight: 1 << 16}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
