package kubetest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP forwarder with a fixed address in front of the API server,
// so a client keeps one address while the server behind it is replaced.
type Proxy struct {
	ln      net.Listener
	backend atomic.Pointer[string]
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	Accepts atomic.Int64 // connections accepted
}

// StartProxy serves a proxy on a loopback port.
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return StartProxyOn(t, ln)
}

// StartProxyOn serves a proxy on ln (which may live in another network
// namespace: the proxy dials its backend from the test's own namespace).
func StartProxyOn(t testing.TB, ln net.Listener) *Proxy {
	t.Helper()
	p := &Proxy{ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Point sends new connections to backend ("" refuses them).
func (p *Proxy) Point(backend string) { p.backend.Store(&backend) }

// Cut closes every open connection, as a dying server does.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.Accepts.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	defer c.Close()
	b := p.backend.Load()
	if b == nil || *b == "" {
		return
	}
	u, err := net.DialTimeout("tcp", *b, 5*time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	p.track(c, true)
	p.track(u, true)
	defer p.track(c, false)
	defer p.track(u, false)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
}
