package clusterdns

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Zone == "" && cfg.Records == nil {
		cfg.Zone = testZone
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func exchange(t *testing.T, net, addr, name string, qtype uint16, edns bool) (*dns.Msg, error) {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(4096, false)
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

func TestServeUDPAndTCP(t *testing.T) {
	s := newTestServer(t, Config{Marker: true})
	udp, tcp := s.UDPAddrs(), s.TCPAddrs()
	if len(udp) != 1 || len(tcp) != 1 || udp[0].String() != tcp[0].String() {
		t.Fatalf("addresses udp %v tcp %v: want one each on the same port", udp, tcp)
	}
	addr := udp[0].String()
	for _, network := range []string{"udp", "tcp"} {
		for _, edns := range []bool{false, true} {
			r, err := exchange(t, network, addr, "www.example.org.", dns.TypeA, edns)
			if err != nil {
				t.Fatalf("%s: %v", network, err)
			}
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "198.19.0.10" {
				t.Errorf("%s: answer %v", network, r)
			}
			if r.Answer[0].Header().Ttl != DefaultTTL || !r.RecursionAvailable || r.Authoritative {
				t.Errorf("%s: TTL %d RA %v AA %v", network, r.Answer[0].Header().Ttl, r.RecursionAvailable, r.Authoritative)
			}
			if !hasMarker(r) {
				t.Errorf("%s: no marker in %v", network, r.Extra)
			}
			if (r.IsEdns0() != nil) != edns {
				t.Errorf("%s: EDNS in response %v, in query %v", network, r.IsEdns0() != nil, edns)
			}
		}
		r, err := exchange(t, network, addr, "missing.example.org.", dns.TypeA, false)
		if err != nil || r.Rcode != dns.RcodeNameError {
			t.Errorf("%s: missing name: %v %v", network, r, err)
		}
	}
	if got := s.Count("WWW.example.org", dns.TypeA); got != 4 {
		t.Errorf("Count(www A) = %d, want 4", got)
	}
	if got := s.Count("www.example.org.", 0); got != 4 {
		t.Errorf("Count(www any) = %d, want 4", got)
	}
	if got := s.Totals(); got.UDP != 3 || got.TCP != 3 || got.All() != 6 {
		t.Errorf("Totals = %+v, want 3 UDP, 3 TCP", got)
	}
	want := map[Key]uint64{{"www.example.org.", dns.TypeA}: 4, {"missing.example.org.", dns.TypeA}: 2}
	got := s.Counts()
	if len(got) != len(want) {
		t.Errorf("Counts = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Counts[%v] = %d, want %d", k, got[k], v)
		}
	}
	got[Key{"x.", 1}] = 9 // a snapshot: changing it changes nothing
	if s.Count("x.", 1) != 0 {
		t.Error("Counts returned the live map")
	}
	s.Reset()
	if s.Totals().All() != 0 || len(s.Counts()) != 0 || s.Count("www.example.org", 0) != 0 {
		t.Error("Reset left counts")
	}
}

func hasMarker(r *dns.Msg) bool {
	for _, rr := range r.Extra {
		if txt, ok := rr.(*dns.TXT); ok && txt.Hdr.Name == MarkerName && len(txt.Txt) == 1 && txt.Txt[0] == MarkerText {
			return true
		}
	}
	return false
}

func TestNoMarkerByDefault(t *testing.T) {
	s := newTestServer(t, Config{})
	r, err := exchange(t, "udp", s.UDPAddrs()[0].String(), "www.example.org.", dns.TypeA, false)
	if err != nil {
		t.Fatal(err)
	}
	if hasMarker(r) || len(r.Extra) != 0 {
		t.Errorf("extra section %v, want empty", r.Extra)
	}
}

func TestModes(t *testing.T) {
	s := newTestServer(t, Config{})
	addr := s.UDPAddrs()[0].String()
	for _, tc := range []struct {
		mode  Mode
		rcode int
	}{{ServFail, dns.RcodeServerFailure}, {Refused, dns.RcodeRefused}, {Answer, dns.RcodeSuccess}} {
		s.SetMode(tc.mode)
		r, err := exchange(t, "udp", addr, "www.example.org.", dns.TypeA, false)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if r.Rcode != tc.rcode {
			t.Errorf("%s: rcode %s", tc.mode, dns.RcodeToString[r.Rcode])
		}
	}
	s.SetMode(Drop)
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	m := new(dns.Msg).SetQuestion("www.example.org.", dns.TypeA)
	if _, _, err := c.Exchange(m, addr); err == nil {
		t.Error("Drop: got an answer")
	}
	if got := s.Count("www.example.org.", dns.TypeA); got != 4 {
		t.Errorf("count %d, want 4 (dropped queries count too)", got)
	}
	if Mode(9).String() != "Mode(9)" || Drop.String() != "drop" {
		t.Error("Mode.String")
	}
}

func TestDelayAndStopWakesDelayed(t *testing.T) {
	s := newTestServer(t, Config{Delay: time.Hour})
	addr := s.UDPAddrs()[0].String()
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	m := new(dns.Msg).SetQuestion("www.example.org.", dns.TypeA)
	if _, _, err := c.Exchange(m, addr); err == nil {
		t.Error("an answer delayed an hour arrived")
	}
	if s.Count("www.example.org.", dns.TypeA) != 1 {
		t.Error("delayed query not counted")
	}
	// Stop must not wait an hour for the delayed answer.
	done := make(chan error, 1)
	go func() { done <- s.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(stopTimeout + 5*time.Second):
		t.Fatal("Stop hung on a delayed answer")
	}
	s.SetDelay(0)
	if err := s.ListenAndServe("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if r, err := exchange(t, "udp", s.UDPAddrs()[0].String(), "www.example.org.", dns.TypeA, false); err != nil || len(r.Answer) != 1 {
		t.Errorf("after SetDelay(0): %v %v", r, err)
	}
}

func TestStopAndStartAgain(t *testing.T) {
	s := newTestServer(t, Config{})
	addr := s.UDPAddrs()[0].String()
	if !s.Running() {
		t.Fatal("not running")
	}
	if err := s.Serve(nil, nil); err == nil {
		t.Error("Serve while serving: no error")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() || s.UDPAddrs() != nil {
		t.Error("still running after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	// The socket is closed: a UDP query gets "connection refused".
	if _, err := exchange(t, "udp", addr, "www.example.org.", dns.TypeA, false); err == nil {
		t.Error("answer from a stopped server")
	}
	if _, err := exchange(t, "tcp", addr, "www.example.org.", dns.TypeA, false); err == nil {
		t.Error("TCP answer from a stopped server")
	}
	// Start again on the same address, with sockets the caller made.
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	if err := s.Serve([]net.PacketConn{pc}, []net.Listener{ln}); err != nil {
		t.Fatal(err)
	}
	for _, network := range []string{"udp", "tcp"} {
		if r, err := exchange(t, network, addr, "www.example.org.", dns.TypeA, false); err != nil || len(r.Answer) != 1 {
			t.Errorf("%s after restart: %v %v", network, r, err)
		}
	}
	if err := s.Serve(nil, nil); err == nil {
		t.Error("Serve(nil, nil) while serving: no error")
	}
}

func TestServeRejectsNothing(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(nil, nil); err == nil {
		t.Error("Serve with no sockets: no error")
	}
	if err := s.ListenAndServe("198.18.255.255:0"); err == nil {
		s.Stop()
		t.Error("ListenAndServe on an address not on this host: no error")
	}
}

func TestTruncation(t *testing.T) {
	recs := map[string][]string{}
	for i := range 60 {
		recs["big.test"] = append(recs["big.test"], "TXT \"padding-padding-padding-"+string(rune('a'+i%26))+string(rune('a'+i/26))+"\"")
	}
	s := newTestServer(t, Config{Records: recs})
	addr := s.UDPAddrs()[0].String()
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: 4096}
	m := new(dns.Msg).SetQuestion("big.test.", dns.TypeTXT)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r == nil || !r.Truncated {
		t.Fatalf("UDP answer of ~2 KB without EDNS not truncated: %v", r)
	}
	r, err = exchange(t, "tcp", addr, "big.test.", dns.TypeTXT, false)
	if err != nil || len(r.Answer) != 60 || r.Truncated {
		t.Errorf("TCP: %d answers, truncated %v, err %v", len(r.Answer), r.Truncated, err)
	}
}

func FuzzServeDNS(f *testing.F) {
	s, err := New(Config{Zone: testZone, Marker: true})
	if err != nil {
		f.Fatal(err)
	}
	seed := new(dns.Msg).SetQuestion("alias.example.org.", dns.TypeA)
	seed.SetEdns0(1232, true)
	b, _ := seed.Pack()
	f.Add(b)
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if req.Unpack(b) != nil {
			return
		}
		for _, mode := range []Mode{Answer, ServFail} {
			resp := s.respond(req, mode)
			if resp.Id != req.Id || !resp.Response {
				t.Errorf("response id %d/%v for query %d", resp.Id, resp.Response, req.Id)
			}
			if _, err := resp.Pack(); err != nil && len(req.Question) == 1 {
				t.Errorf("response does not pack: %v", err)
			}
		}
	})
}
