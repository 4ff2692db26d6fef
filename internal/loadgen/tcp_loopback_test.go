package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpServer is a DNS-over-TCP server on 127.0.0.1 answering as
// loopbackAnswer does, for the TCP engines' tests.
type tcpServer struct {
	// maxQueries, when > 0, closes a connection after reading that many
	// queries and answering them (miekg/dns's default is 128), without
	// reading what else the client sent (so the close is a reset).
	maxQueries int
	// split writes each answer in two parts (length, then message) with
	// a pause between, so that the client reads it in two pieces.
	split bool
	// slow names ("slow*") are answered 20 ms later from another
	// goroutine, so that later answers overtake them.
	conns   atomic.Int64
	queries atomic.Int64
}

func (s *tcpServer) start(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func (s *tcpServer) serve(c *net.TCPConn) {
	defer c.Close()
	var wmu sync.Mutex
	var pending sync.WaitGroup
	defer pending.Wait()
	write := func(out []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		f, _ := AppendFrame(nil, out)
		if s.split {
			_, _ = c.Write(f[:2])
			time.Sleep(2 * time.Millisecond)
			_, _ = c.Write(f[2:])
			return
		}
		_, _ = c.Write(f)
	}
	for n := 0; s.maxQueries == 0 || n < s.maxQueries; n++ {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		s.queries.Add(1)
		out := loopbackAnswer(q)
		if out == nil {
			continue
		}
		if len(q) > 13 && strings.HasPrefix(string(q[13:]), "slow") {
			pending.Add(1)
			go func() {
				defer pending.Done()
				time.Sleep(20 * time.Millisecond)
				write(out)
			}()
			continue
		}
		write(out)
	}
}

func TestTCPConnLoopback(t *testing.T) {
	srv := &tcpServer{split: true}
	cfg := Config{
		Server:   srv.start(t),
		Rate:     1000,
		Duration: 100 * time.Millisecond,
		Timeout:  2 * time.Second,
		Queries:  []Question{{"svc-1.example.", 1}, {"nope.example.", 1}, {"drop.example.", 1}, {"svc-2.example.", 28}},
	}
	res, err := TCPConn(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 100 || res.Connections != 100 || srv.conns.Load() != 100 {
		t.Errorf("sent %d, %d connections, server saw %d: want 100 each", res.Sent, res.Connections, srv.conns.Load())
	}
	if res.OK != 25 || res.NXDomain != 25 || res.NoData != 25 || res.Lost != 25 || res.Answered != 75 || res.ConnErrors != 0 {
		t.Errorf("result %+v: want 25 ok, 25 nxdomain, 25 nodata, 25 lost, no connection errors", res)
	}
	if res.Latency.N != 75 || res.ServiceLatency.N != 75 || res.SendLag.N != 100 {
		t.Errorf("samples: latency %d, service %d, lag %d", res.Latency.N, res.ServiceLatency.N, res.SendLag.N)
	}
	if res.ConnectLatency == nil || res.ConnectLatency.N != 100 || res.ConnectLatency.P50 > res.Latency.P50 {
		t.Errorf("connect latency %+v (answer p50 %v)", res.ConnectLatency, res.Latency.P50)
	}
}

func TestTCPConnRefused(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close() // nothing listens there now
	res, err := TCPConn(context.Background(), Config{
		Server: addr, Rate: 1000, Duration: 20 * time.Millisecond, Timeout: 2 * time.Second,
		Queries: []Question{{"svc.example.", 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 20 || res.Lost != 20 || res.ConnErrors != 20 || res.Answered != 0 {
		t.Errorf("result %+v: want 20 sent, lost, connection errors", res)
	}
}

func TestTCPPipeLoopback(t *testing.T) {
	// The server closes every connection after 16 queries, with queries
	// the client pipelined after them unread: the generator must replace
	// the connection and send those again.
	srv := &tcpServer{maxQueries: 16}
	cfg := Config{
		Server:   srv.start(t),
		Rate:     2000,
		Duration: 100 * time.Millisecond,
		// Every query is answered: the run ends as soon as the last one
		// is, and a long timeout only keeps a busy machine's slow
		// reconnection chain from counting as loss.
		Timeout: 10 * time.Second,
		Sockets: 2,
		Queries: []Question{{"svc-1.example.", 1}, {"nope.example.", 1}, {"slow-1.example.", 1},
			{"svc-2.example.", 28}, {"svc-3.example.", 1}},
	}
	res, err := TCPPipe(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 200 || res.Answered != 200 || res.Lost != 0 {
		t.Fatalf("sent %d, answered %d, lost %d: want 200, 200, 0 (%+v)", res.Sent, res.Answered, res.Lost, res)
	}
	if res.OK != 120 || res.NXDomain != 40 || res.NoData != 40 {
		t.Errorf("ok %d, nxdomain %d, nodata %d: want 120, 40, 40", res.OK, res.NXDomain, res.NoData)
	}
	// 200 queries, 16 per connection: at least 12 replacements.
	if res.Reconnects < 11 || res.Connections != 2+res.Reconnects || int64(res.Connections) != srv.conns.Load() {
		t.Errorf("%d reconnects, %d connections, server saw %d", res.Reconnects, res.Connections, srv.conns.Load())
	}
	// Every query reached the server (some twice, if their answer was
	// lost with the connection); those left unread were sent again.
	if res.Resent == 0 || srv.queries.Load() < int64(res.Sent) {
		t.Errorf("resent %d, server read %d of %d queries", res.Resent, srv.queries.Load(), res.Sent)
	}
	if res.Latency.N != 200 || res.ServiceLatency.N > 200 {
		t.Errorf("latency samples %d, service %d", res.Latency.N, res.ServiceLatency.N)
	}
}

func TestTCPPipeDeadServer(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	_, err = TCPPipe(context.Background(), Config{Server: addr, Rate: 100, Duration: 10 * time.Millisecond,
		Timeout: time.Second, Queries: []Question{{"svc.example.", 1}}})
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("pipelining to a closed port: %v, want connection refused", err)
	}
}

// TestTCPKernelTimestamp checks that SO_TIMESTAMPNS gives TCP reads a
// receive time on this kernel (streamRx falls back to the clock if not).
// The kernel turns its timestamping on for the first socket that asks
// from a work queue (net_enable_timestamp), and TCP, unlike UDP, does not
// stamp a segment at read time: on a machine where no socket asked before,
// the first answers may carry none. So it asks, on one connection, until
// an answer read within 2 s carries one, and checks that one.
func TestTCPKernelTimestamp(t *testing.T) {
	srv := (&tcpServer{}).start(t)
	fd, err := dialTCP(srv, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	buf, oob := make([]byte, 512), make([]byte, 128)
	deadline := time.Now().Add(2 * time.Second)
	for id := uint16(1); ; id++ {
		q, _ := AppendQuery(nil, id, "svc.example.", 1)
		f, _ := AppendFrame(nil, q)
		before := time.Now().UnixNano()
		if err := sendAll(fd, f); err != nil {
			t.Fatal(err)
		}
		var n, oobn int
		for i := 0; i < 50; i++ { // SO_RCVTIMEO is 100 ms: 5 s in all
			if n, oobn, _, _, err = unix.Recvmsg(fd, buf, oob, 0); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < 2+int(binary.BigEndian.Uint16(buf)) {
			t.Fatalf("answer %d read in parts (%d bytes): want one read", id, n)
		}
		ts := rxTimestamp(oob[:oobn])
		if ts == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if ts < before || ts > time.Now().UnixNano() {
			t.Errorf("answer %d: kernel timestamp %d outside [%d, now]", id, ts, before)
		}
		return
	}
}

func TestSpecTCPKinds(t *testing.T) {
	srv := (&tcpServer{}).start(t)
	for _, kind := range []string{KindTCPConn, KindTCPPipe} {
		out, err := Spec{Kind: kind, Config: Config{Server: srv, Rate: 1000, Duration: 10 * time.Millisecond,
			Timeout: 2 * time.Second, Queries: []Question{{"svc.example.", 1}}}}.Run(context.Background())
		if err != nil || out.Fixed == nil || out.Lookups != nil || out.Fixed.OK != 10 || out.Fixed.Connections == 0 {
			t.Errorf("%s: %+v, %v", kind, out.Fixed, err)
		}
	}
	if _, err := (Spec{Kind: "tcp"}).Run(context.Background()); err == nil {
		t.Error("unknown kind ran")
	}
}
