package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/clusterdns"
	"github.com/miekg/dns"
)

// startUpstream serves a zone on addr ("127.0.0.1:0", "[::1]:0") with
// www.example.org (one A), big.example.org (80 A: more than 512 bytes)
// and returns its address.
func startUpstream(t *testing.T, addr string) (*clusterdns.Server, netip.AddrPort) {
	t.Helper()
	recs := map[string][]string{"www.example.org": {"A 198.19.0.10"}}
	for i := range 80 {
		recs["big.example.org"] = append(recs["big.example.org"], fmt.Sprintf("A 198.19.1.%d", i))
	}
	s, err := clusterdns.New(clusterdns.Config{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	ap, err := netip.ParseAddrPort(s.UDPAddrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	return s, ap
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func query(t *testing.T, name string, qtype uint16, id uint16, edns bool) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	m.RecursionDesired = true
	if edns {
		m.SetEdns0(1232, false)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forward runs Forward and waits for its callback.
func forward(f interface {
	Forward([]byte, netip.AddrPort, func([]byte, error))
}, q []byte, server netip.AddrPort) (*dns.Msg, error) {
	type result struct {
		resp []byte
		err  error
	}
	ch := make(chan result, 1)
	f.Forward(q, server, func(resp []byte, err error) { ch <- result{resp, err} })
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	m := new(dns.Msg)
	if err := m.Unpack(r.resp); err != nil {
		return nil, err
	}
	return m, nil
}

// TestForwardUDP: an answer over UDP carries the client's ID (the query
// went out under another) and the upstream's records.
func TestForwardUDP(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			up, ap := startUpstream(t, addr)
			f := newClient(t, Config{})
			for i := range 5 {
				q := query(t, "WWW.Example.org.", dns.TypeA, uint16(0x4000+i), i%2 == 0)
				m, err := forward(f, q, ap)
				if err != nil {
					t.Fatal(err)
				}
				if m.Id != uint16(0x4000+i) || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 ||
					m.Answer[0].(*dns.A).A.String() != "198.19.0.10" || m.Question[0].Name != "WWW.Example.org." {
					t.Fatalf("answer %v", m)
				}
			}
			if tot := up.Totals(); tot.UDP != 5 || tot.TCP != 0 {
				t.Fatalf("upstream saw %+v, want 5 over UDP", tot)
			}
			if st := f.Stats(); st.UDP != 5 || st.TCP != 0 || st.Failures != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestForwardTruncated: a truncated UDP answer is asked again over TCP,
// on one pooled connection for several queries.
func TestForwardTruncated(t *testing.T) {
	up, ap := startUpstream(t, "127.0.0.1:0")
	f := newClient(t, Config{})
	for i := range 3 {
		m, err := forward(f, query(t, "big.example.org.", dns.TypeA, uint16(i), false), ap)
		if err != nil {
			t.Fatal(err)
		}
		if m.Truncated || len(m.Answer) != 80 || m.Id != uint16(i) {
			t.Fatalf("TC %v, %d records, id %d", m.Truncated, len(m.Answer), m.Id)
		}
	}
	if tot := up.Totals(); tot.UDP != 3 || tot.TCP != 3 {
		t.Fatalf("upstream saw %+v, want 3 over UDP and 3 over TCP", tot)
	}
	if st := f.Stats(); st.Truncated != 3 || st.TCPDials != 1 || st.Mismatched != 0 {
		t.Fatalf("stats %+v: want 3 truncated, 1 TCP connection", st)
	}
	// AXFR goes to TCP at once.
	if _, err := forward(f, query(t, "example.org.", dns.TypeAXFR, 9, false), ap); err != nil {
		t.Fatal(err)
	}
	if tot := up.Totals(); tot.UDP != 3 || tot.TCP != 4 {
		t.Fatalf("AXFR: upstream saw %+v", tot)
	}
}

// TestForwardTimeout: an upstream that never answers fails the query
// after Attempts attempts; a refused query (past MaxInFlight) fails at
// once; a malformed one too.
func TestForwardTimeout(t *testing.T) {
	up, ap := startUpstream(t, "127.0.0.1:0")
	up.SetMode(clusterdns.Drop)
	f := newClient(t, Config{Timeout: 50 * time.Millisecond, Attempts: 3, MaxInFlight: 1})
	block := make(chan struct{})
	f.Forward(query(t, "www.example.org.", dns.TypeA, 1, false), ap, func(_ []byte, err error) {
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("err %v, want ErrTimeout", err)
		}
		close(block)
	})
	if _, err := forward(f, query(t, "www.example.org.", dns.TypeA, 2, false), ap); !errors.Is(err, ErrBusy) {
		t.Fatalf("second query: %v, want ErrBusy", err)
	}
	<-block
	if tot := up.Totals(); tot.UDP != 3 {
		t.Fatalf("upstream saw %+v, want 3 attempts", tot)
	}
	if _, err := forward(f, []byte{1, 2, 3}, ap); !errors.Is(err, ErrMalformed) {
		t.Fatalf("malformed: %v", err)
	}
}

// TestForwardClose: Close fails the queries in flight and later ones.
func TestForwardClose(t *testing.T) {
	up, ap := startUpstream(t, "127.0.0.1:0")
	up.SetMode(clusterdns.Drop)
	f, err := New(Config{Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	f.Forward(query(t, "www.example.org.", dns.TypeA, 1, false), ap, func(_ []byte, err error) { errc <- err })
	for up.Totals().UDP == 0 { // wait for the query to be sent
		time.Sleep(time.Millisecond)
	}
	f.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("in flight: %v", err)
	}
	if _, err := forward(f, query(t, "www.example.org.", dns.TypeA, 2, false), ap); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// TestForwardParallel: many concurrent queries, UDP and TCP, each gets its
// own answer.
func TestForwardParallel(t *testing.T) {
	_, ap := startUpstream(t, "127.0.0.1:0")
	f := newClient(t, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		name := "www.example.org."
		if i%10 == 0 {
			name = "big.example.org."
		}
		q := query(t, name, dns.TypeA, uint16(i), false)
		f.Forward(q, ap, func(resp []byte, err error) {
			defer wg.Done()
			if err != nil {
				errs <- err
				return
			}
			m := new(dns.Msg)
			if err := m.Unpack(resp); err != nil || m.Id != uint16(i) || !strings.EqualFold(m.Question[0].Name, name) || m.Truncated {
				errs <- fmt.Errorf("query %d: %v %v", i, err, m)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestFakeForwarder: answers from the function, or when the test says.
func TestFakeForwarder(t *testing.T) {
	ap := netip.MustParseAddrPort("198.18.0.1:53")
	f := &FakeForwarder{}
	var got []byte
	f.Forward([]byte("query"), ap, func(resp []byte, err error) { got = resp })
	p := f.Pending()
	if len(p) != 1 || string(p[0].Query) != "query" || p[0].Server != ap || got != nil {
		t.Fatalf("pending %v", p)
	}
	p[0].Reply([]byte("answer"))
	p[0].Fail(errors.New("ignored"))
	if string(got) != "answer" || f.Count() != 1 {
		t.Fatalf("got %q", got)
	}
	f.Answer = func(q []byte, _ netip.AddrPort) ([]byte, error) { return append([]byte("re:"), q...), nil }
	f.Forward([]byte("q2"), ap, func(resp []byte, err error) { got = resp })
	if string(got) != "re:q2" || len(f.Pending()) != 0 {
		t.Fatalf("got %q", got)
	}
}

// TestMark: the default dialer marks every socket (needs root: SO_MARK
// needs CAP_NET_ADMIN).
func TestMark(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("MESHDNS_SKIP_KERNEL") == "1" {
			t.Skip("not root, MESHDNS_SKIP_KERNEL=1")
		}
		t.Fatal("TestMark needs root (SO_MARK needs CAP_NET_ADMIN); set MESHDNS_SKIP_KERNEL=1 to skip")
	}
	_, ap := startUpstream(t, "127.0.0.1:0")
	const mark = 0x20000
	cfg, err := Config{Mark: mark}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, network := range []string{"udp", "tcp"} {
		c, err := cfg.Dial(context.Background(), network, ap.String())
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := c.(syscall.Conn).SyscallConn()
		var got int
		var gerr error
		rc.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK) })
		c.Close()
		if gerr != nil || got != mark {
			t.Fatalf("%s socket mark %#x (%v), want %#x", network, got, gerr, mark)
		}
	}
}
