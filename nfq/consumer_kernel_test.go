package nfq

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/netns/netnstest"
	"github.com/meshdns/meshdns/nfq/rules"
)

// The test topology: a pod namespace and an upstream namespace joined by
// a veth pair.
var (
	podV4, upV4 = netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.1")
	podV6, upV6 = netip.MustParseAddr("fd53::2"), netip.MustParseAddr("fd53::1")
	meshAnswer  = netip.MustParseAddr("198.18.0.99")
)

const meshName = "mesh.test."

// newTopology creates the pod and upstream namespaces and the veth pair.
func newTopology(t *testing.T) (pod, up string) {
	t.Helper()
	pod, up = newNetns(t, "pod"), newNetns(t, "up")
	id := randomID(6)
	pv, uv := "mdq"+id+"p", "mdq"+id+"u"
	netnstest.Run(t, "ip", "link", "add", pv, "netns", pod, "type", "veth", "peer", "name", uv, "netns", up)
	for _, c := range []struct{ ns, dev, v4, v6 string }{{pod, pv, "198.18.0.2/24", "fd53::2/64"}, {up, uv, "198.18.0.1/24", "fd53::1/64"}} {
		netnstest.Run(t, "ip", "-n", c.ns, "addr", "add", c.v4, "dev", c.dev)
		netnstest.Run(t, "ip", "-n", c.ns, "-6", "addr", "add", c.v6, "dev", c.dev, "nodad")
		netnstest.Run(t, "ip", "-n", c.ns, "link", "set", c.dev, "up")
	}
	return pod, up
}

// upstream is a tiny DNS server that answers every query NXDOMAIN and
// counts the names it was asked.
type upstream struct {
	conn net.PacketConn
	mu   sync.Mutex
	seen map[string]int
}

func startUpstream(t *testing.T, ns string) *upstream {
	t.Helper()
	u := &upstream{seen: map[string]int{}}
	err := netns.Do(ns, func() error {
		var err error
		u.conn, err = net.ListenPacket("udp", "[::]:53")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { u.conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := u.conn.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			name, _, ok := parseQuestion(q)
			if !ok {
				continue
			}
			u.mu.Lock()
			u.seen[name]++
			u.mu.Unlock()
			q[2] |= 0x80         // QR
			q[3] = q[3]&0xf0 | 3 // NXDOMAIN
			u.conn.WriteTo(q, from)
		}
	}()
	return u
}

func (u *upstream) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[name]
}

// dnsQuery builds a query for name, type A.
func dnsQuery(id uint16, name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, 0, 1, 0, 1)
}

// parseQuestion returns the name of a message's first question (lowercase,
// with a trailing dot) and the offset after the question.
func parseQuestion(m []byte) (string, int, bool) {
	if len(m) < 12 || binary.BigEndian.Uint16(m[4:]) != 1 {
		return "", 0, false
	}
	var sb strings.Builder
	i := 12
	for {
		if i >= len(m) {
			return "", 0, false
		}
		l := int(m[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(m) {
			return "", 0, false
		}
		sb.WriteString(strings.ToLower(string(m[i : i+l])))
		sb.WriteByte('.')
		i += l
	}
	if i+4 > len(m) {
		return "", 0, false
	}
	return sb.String(), i + 4, true
}

// rewriteHandler answers queries for meshName in place with an A record
// (swapping addresses and ports and fixing lengths and checksums) and
// accepts everything else.
type rewriteHandler struct{}

func (rewriteHandler) Handle(pkt []byte) (Verdict, []byte) {
	var l4 int
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4:
		l4 = int(pkt[0]&0x0f) * 4
		if pkt[9] != 17 {
			return Accept, nil
		}
	case len(pkt) >= 40 && pkt[0]>>4 == 6:
		l4 = 40
		if pkt[6] != 17 {
			return Accept, nil
		}
	default:
		return Accept, nil
	}
	if len(pkt) < l4+8 {
		return Accept, nil
	}
	dns := pkt[l4+8:]
	name, qend, ok := parseQuestion(dns)
	if !ok || name != meshName || dns[2]&0x80 != 0 {
		return Accept, nil
	}
	dns[2] = dns[2]&0x01 | 0x84 // QR, AA, keep RD
	dns[3] = 0x80               // RA, NOERROR
	copy(dns[6:], []byte{0, 1, 0, 0, 0, 0})
	answer := []byte{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4}
	answer = append(answer, meshAnswer.AsSlice()...)
	n := l4 + 8 + qend + len(answer)
	pkt = pkt[:n]
	copy(pkt[l4+8+qend:], answer)

	udp := pkt[l4:]
	sport := binary.BigEndian.Uint16(udp[0:])
	binary.BigEndian.PutUint16(udp[0:], binary.BigEndian.Uint16(udp[2:]))
	binary.BigEndian.PutUint16(udp[2:], sport)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	udp[6], udp[7] = 0, 0
	var pseudo []byte
	if l4 == 40 {
		src := bytes.Clone(pkt[8:24])
		copy(pkt[8:24], pkt[24:40])
		copy(pkt[24:40], src)
		binary.BigEndian.PutUint16(pkt[4:], uint16(len(udp)))
		pseudo = append(pseudo, pkt[8:40]...)
		pseudo = binary.BigEndian.AppendUint32(pseudo, uint32(len(udp)))
		pseudo = append(pseudo, 0, 0, 0, 17)
	} else {
		src := bytes.Clone(pkt[12:16])
		copy(pkt[12:16], pkt[16:20])
		copy(pkt[16:20], src)
		binary.BigEndian.PutUint16(pkt[2:], uint16(n))
		pkt[10], pkt[11] = 0, 0
		binary.BigEndian.PutUint16(pkt[10:], checksum(pkt[:l4], 0))
		pseudo = append(pseudo, pkt[12:20]...)
		pseudo = append(pseudo, 0, 17)
		pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(udp)))
	}
	cs := checksum(udp, sum(pseudo, 0))
	if cs == 0 {
		cs = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], cs)
	return AcceptModified, pkt
}

func sum(b []byte, s uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func checksum(b []byte, s uint32) uint16 {
	s = sum(b, s)
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// client sends queries from the pod namespace.
type client struct {
	conns map[bool]net.PacketConn // by is-IPv6
	id    uint16
}

func newClient(t *testing.T, pod string) *client {
	t.Helper()
	c := &client{conns: map[bool]net.PacketConn{}}
	err := netns.Do(pod, func() error {
		for v6, network := range map[bool]string{false: "udp4", true: "udp6"} {
			conn, err := net.ListenPacket(network, ":0")
			if err != nil {
				return err
			}
			c.conns[v6] = conn
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, conn := range c.conns {
			conn.Close()
		}
	})
	return c
}

// query sends a query for name to server:53 and returns the answer's rcode
// and A records.
func (c *client) query(server netip.Addr, name string) (rcode int, as []netip.Addr, err error) {
	c.id++
	conn := c.conns[server.Is6()]
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(server, 53))
	if _, err := conn.WriteTo(dnsQuery(c.id, name), to); err != nil {
		return 0, nil, err
	}
	buf := make([]byte, 1500)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return 0, nil, err
		}
		m := buf[:n]
		if fa := from.(*net.UDPAddr).AddrPort(); fa.Addr().Unmap() != server || fa.Port() != 53 {
			return 0, nil, fmt.Errorf("answer from %v", fa)
		}
		if binary.BigEndian.Uint16(m) != c.id || m[2]&0x80 == 0 {
			continue
		}
		_, off, ok := parseQuestion(m)
		if !ok {
			return 0, nil, errors.New("bad answer")
		}
		for range binary.BigEndian.Uint16(m[6:]) {
			if off+16 > len(m) {
				return 0, nil, errors.New("short answer")
			}
			a, _ := netip.AddrFromSlice(m[off+12 : off+16])
			as = append(as, a)
			off += 16
		}
		return int(m[3] & 0x0f), as, nil
	}
}

// startConsumer starts a Consumer of the pod's queue 0 with open and
// rewriteHandler; cancel stops it (at the latest when the test ends).
func startConsumer(t *testing.T, pod string, log *slog.Logger, open OpenFunc) (c *Consumer, cancel context.CancelFunc) {
	t.Helper()
	c, err := New(Config{NetNS: netnsFD(t, pod), Logger: log, Open: open}, rewriteHandler{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return c, cancel
}

// wantMeshAnswer asks srv for the mesh name and wants rewriteHandler's
// answer.
func (c *client) wantMeshAnswer(t *testing.T, srv netip.Addr) {
	t.Helper()
	rcode, as, err := c.query(srv, "Mesh.Test.")
	if err != nil || rcode != 0 || len(as) != 1 || as[0] != meshAnswer {
		t.Errorf("mesh query to %v: rcode %d, answers %v, err %v; want the rewritten answer %v", srv, rcode, as, err, meshAnswer)
	}
}

func TestKernelConsumer(t *testing.T) {
	netnstest.RequireRoot(t)
	for _, backend := range []string{rules.BackendNFT, rules.BackendLegacy} {
		for _, open := range readers {
			t.Run(backend+"/"+open.name, func(t *testing.T) {
				pod, up := newTopology(t)
				ups := startUpstream(t, up)
				cl := newClient(t, pod)
				log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))

				// Before anything is installed, queries reach the upstream.
				for _, srv := range []netip.Addr{upV4, upV6} {
					if rcode, _, err := cl.query(srv, "before.test."); err != nil || rcode != 3 {
						t.Fatalf("baseline query to %v: rcode %d, %v", srv, rcode, err)
					}
				}

				rc := rules.Config{Nameservers: []netip.Addr{upV4, upV6}, Backend: backend, Runner: rules.NetNSRunner{Path: "/run/netns/" + pod}, Logger: log}
				if err := rules.Install(context.Background(), rc); err != nil {
					t.Fatal(err)
				}
				c, cancel := startConsumer(t, pod, log, open.fn)

				for _, srv := range []netip.Addr{upV4, upV6} {
					cl.wantMeshAnswer(t, srv)
					rcode, _, err := cl.query(srv, "other.test.")
					if err != nil || rcode != 3 {
						t.Errorf("other query to %v: rcode %d, %v; want the upstream's NXDOMAIN", srv, rcode, err)
					}
				}
				if n := ups.count(meshName); n != 0 {
					t.Errorf("upstream saw the mesh name %d times while the consumer ran", n)
				}
				if n := ups.count("other.test."); n != 2 {
					t.Errorf("upstream saw other.test. %d times, want 2", n)
				}
				cs := c.Counters()
				if cs.Packets.Load() != 4 || cs.Modified.Load() != 2 || cs.Accepted.Load() != 2 {
					t.Errorf("counters: packets %d modified %d accepted %d; want 4, 2, 2",
						cs.Packets.Load(), cs.Modified.Load(), cs.Accepted.Load())
				}

				// Consumer stopped, rules still in: --queue-bypass lets queries through.
				cancel()
				if err := c.Wait(); err != nil {
					t.Fatalf("Wait: %v", err)
				}
				for _, srv := range []netip.Addr{upV4, upV6} {
					if rcode, _, err := cl.query(srv, meshName); err != nil || rcode != 3 {
						t.Errorf("mesh query to %v with no consumer: rcode %d, %v; want the upstream's NXDOMAIN", srv, rcode, err)
					}
				}
				if n := ups.count(meshName); n != 2 {
					t.Errorf("upstream saw the mesh name %d times after the consumer stopped, want 2", n)
				}
				if err := rules.Remove(context.Background(), rc); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
