package kube

import (
	"context"
	"io"
	"net"
	"slices"
	"testing"
	"time"
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
