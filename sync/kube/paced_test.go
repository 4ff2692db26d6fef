package kube

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// scriptConn is a net.Conn whose reads return the next of its chunks
// (each in one read, which fills b when the chunk is as long) and tell the
// test's clock that time passed.
type scriptConn struct {
	net.Conn
	chunks []int
}

func (c *scriptConn) Read(b []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := min(c.chunks[0], len(b))
	c.chunks = c.chunks[1:]
	return n, nil
}

// TestPacedConn checks when a paced connection waits before a read: only
// after a read that emptied the socket (returned less than asked), only
// for what remains of the interval since, and only while pacing is on.
func TestPacedConn(t *testing.T) {
	const iv = 20 * time.Millisecond
	type read struct {
		after time.Duration // the clock moves this much before the read
		n     int           // the bytes the socket holds (a read asks 100)
		wait  time.Duration // the wait expected before it
	}
	for _, tc := range []struct {
		name  string
		off   bool
		reads []read
	}{
		{"first read at once", false, []read{{0, 10, 0}}},
		{"after an emptying read, the rest of the interval", false, []read{
			{0, 10, 0}, {5 * time.Millisecond, 10, 15 * time.Millisecond}, {0, 10, iv},
		}},
		{"after a full read, at once", false, []read{
			{0, 100, 0}, {0, 100, 0}, {0, 40, 0}, {0, 5, iv},
		}},
		{"a quiet time longer than the interval", false, []read{
			{0, 10, 0}, {time.Second, 10, 0}, {1 * time.Millisecond, 10, 19 * time.Millisecond},
		}},
		{"off", true, []read{{0, 10, 0}, {0, 10, 0}, {0, 10, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(1000, 0)
			var waits []time.Duration
			p := newPacer(iv)
			if !tc.off {
				p.release() // synced
			}
			p.now = func() time.Time { return clock }
			p.sleep = func(d time.Duration) { waits = append(waits, d); clock = clock.Add(d) }
			sc := &scriptConn{}
			for _, r := range tc.reads {
				sc.chunks = append(sc.chunks, r.n)
			}
			c, err := p.dial(func(context.Context, string, string) (net.Conn, error) { return sc, nil })(t.Context(), "tcp", "x:1")
			if err != nil {
				t.Fatal(err)
			}
			var want []time.Duration
			buf := make([]byte, 100)
			for i, r := range tc.reads {
				clock = clock.Add(r.after)
				before := len(waits)
				n, err := c.Read(buf)
				if err != nil || n != r.n {
					t.Fatalf("read %d: %d, %v; want %d", i, n, err, r.n)
				}
				got := time.Duration(0)
				if len(waits) > before {
					got = waits[len(waits)-1]
				}
				if got != r.wait {
					t.Errorf("read %d waited %v, want %v", i, got, r.wait)
				}
				if r.wait > 0 {
					want = append(want, r.wait)
				}
			}
			if !slices.Equal(waits, want) {
				t.Errorf("waits %v, want %v", waits, want)
			}
		})
	}
}

// TestPacedConnGathers reads a real TCP connection to which a writer
// sends small messages, one a millisecond: paced, a read takes many of
// them.
func TestPacedConnGathers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const msgs, iv = 200, 20 * time.Millisecond
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for range msgs {
			if _, err := c.Write([]byte("0123456789")); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	p := newPacer(iv)
	p.release() // synced
	c, err := p.dial((&net.Dialer{}).DialContext)(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reads, total := 0, 0
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		total += n
		if n > 0 {
			reads++
		}
		if err != nil {
			break
		}
	}
	if total != 10*msgs {
		t.Fatalf("read %d bytes, want %d", total, 10*msgs)
	}
	// 200 messages over at least 200 ms: unpaced, about one read each;
	// paced, about one read an interval (at least 10 here).
	if reads > msgs/4 {
		t.Errorf("%d reads for %d messages: not gathered", reads, msgs)
	}
}

// TestPacingOnlyForWatches runs a Source's own HTTP client (paced dialer,
// apiTransport) against an HTTP/2 server: once synced, a watch's events
// are read paced, but a list is not (one read paced would take an
// interval per socket's buffer, and each page of a list an interval
// more), and after the list the pacing is on again.
func TestPacingOnlyForWatches(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		chunk := bytes.Repeat([]byte("x"), 16<<10)
		n := 64 // a list: 1 MiB
		if r.URL.Query().Get("watch") == "true" {
			n, chunk = 60, chunk[:200] // events, over 60 ms or more
		}
		for range n {
			w.Write(chunk)
			f.Flush()
			time.Sleep(time.Millisecond)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	src, err := New(Config{RESTConfig: &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}, Discovery: NewFakeDiscovery()})
	if err != nil {
		t.Fatal(err)
	}
	var sleeps atomic.Int32
	src.pace.sleep = func(d time.Duration) { sleeps.Add(1); time.Sleep(d) }
	src.pace.release() // synced
	get := func(query string) int {
		t.Helper()
		before := sleeps.Load()
		resp, err := src.HTTPClient().Get(srv.URL + "/api/v1/services" + query)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("%s: protocol %s, want HTTP/2", query, resp.Proto)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if h := src.pace.held.Load(); h != 0 {
			t.Fatalf("%s: pacing held %d times after the response, want 0", query, h)
		}
		return int(sleeps.Load() - before)
	}
	get("?watch=true") // the connection up
	for _, q := range []string{"?limit=500", "?limit=500&continue=a", "?limit=500&continue=b"} {
		if n := get(q); n != 0 {
			t.Errorf("list %s: %d paced waits, want none", q, n)
		}
	}
	n := get("?watch=true")
	t.Logf("watch: %d paced waits", n)
	if n < 2 {
		t.Errorf("watch: %d paced waits, want its events gathered (60 over 60 ms or more, an interval %v)", n, DefaultReadPacing)
	}
}

// TestReadPacingBound: New refuses a pacing over MaxReadPacing, which
// would hold HTTP/2's health-check answers back.
func TestReadPacingBound(t *testing.T) {
	for _, tc := range []struct {
		pacing time.Duration
		ok     bool
	}{{-1, true}, {0, true}, {MaxReadPacing, true}, {MaxReadPacing + 1, false}, {time.Minute, false}} {
		_, err := New(Config{RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"}, ReadPacing: tc.pacing})
		if (err == nil) != tc.ok {
			t.Errorf("ReadPacing %v: error %v, want ok %v", tc.pacing, err, tc.ok)
		}
	}
}
