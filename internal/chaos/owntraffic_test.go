package chaos_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// TestOwnTraffic: meshdns's own queries (cache refresh, TCP forwarding)
// carry its packet mark and must never be captured, even in capture-all
// mode. meshdns has no upstream traffic of its own to watch yet, so a
// socket in the pod namespace with the mark set (SO_MARK) plays it: its
// query for a mesh name reaches the upstream byte for byte, gets the
// upstream's answer, and never enters the queue (the kernel's id_sequence
// does not move). Without the mark, or with another mark, the same query is
// queued and answered locally.
func TestOwnTraffic(t *testing.T) {
	prof := getProfile()
	rec := newRecorder(t, "8", "own traffic never captured (capture-all, marked socket)", prof)
	rec.note("A socket in the pod namespace with SO_MARK set plays meshdns's own upstream traffic. \"Queued\" counts the " +
		"packets the NFQUEUE rules of meshdns's OUTPUT chain took (iptables-save -c): the queue's id_sequence also " +
		"counts the nameservers' answers, which meshdns queues on the way in for its cache.")
	p := podtest.Start(t, podtest.Config{Objects: podObjects(t), Args: []string{"--capture=all", "--queues=1"}})
	capt := startCapture(t, p.Topo.Upstream, p.Topo.Link)
	const mesh = "web.default.svc.cluster.local."
	// What the OUTPUT rules queued, from their counters: the queue itself
	// also takes other packets (answers coming in, for a cache).
	queued := func() uint64 { return outputQueued(t, p) }

	for _, tc := range []struct {
		name     string
		network  string
		server   string
		mark     int
		excluded bool
	}{
		{"UDP, mark 0x20000", "udp", "198.18.0.1:53", 0x20000, true},
		{"UDP, mark 0x20001 (other bits too; --mark 0x20000/0x20000)", "udp", "198.18.0.1:53", 0x20001, true},
		{"UDP over IPv6, mark 0x20000", "udp", "[fd53::1]:53", 0x20000, true},
		{"TCP, mark 0x20000", "tcp", "198.18.0.1:53", 0x20000, true},
		{"TCP over IPv6, mark 0x20000", "tcp", "[fd53::1]:53", 0x20000, true},
		{"UDP, no mark (control)", "udp", "198.18.0.1:53", 0, false},
		{"UDP, mark 0x10000 (control)", "udp", "198.18.0.1:53", 0x10000, false},
	} {
		q := new(dns.Msg).SetQuestion(mesh, dns.TypeA)
		q.Id = uint16(0x4000 + tc.mark&0xff + len(tc.name))
		wire, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		up0 := p.UpstreamCount(mesh, dns.TypeA)
		q0 := queued()
		resp, err := markedExchange(p.Topo.Pod, tc.network, tc.server, tc.mark, wire)
		if err != nil {
			rec.check(false, tc.name, "exchange: %v", err)
			continue
		}
		dq := queued() - q0
		dup := p.UpstreamCount(mesh, dns.TypeA) - up0
		var got string
		if len(resp.Answer) == 1 {
			if a, ok := resp.Answer[0].(*dns.A); ok {
				got = a.A.String()
			}
		}
		if tc.excluded {
			// Unmodified: the upstream side received exactly the bytes
			// sent (UDP; a TCP stream is checked by the answer).
			same := tc.network == "tcp" || capt.waitFor(time.Second, func(b []byte) bool {
				pl, port, ok := udpPayload(b)
				return ok && port == 53 && bytes.Equal(pl, wire)
			}) != nil
			rec.check(dq == 0 && dup == 1 && got == "198.19.1.1" && same, tc.name+": not queued, reached the upstream unmodified",
				"queued %d, upstream got %d, answer %s, bytes unchanged %v", dq, dup, got, same)
		} else {
			rec.check(dq >= 1 && dup == 0 && got == "10.96.23.17", tc.name+": queued and answered locally",
				"queued %d, upstream got %d, answer %s", dq, dup, got)
		}
	}
	rules := p.MustExec(t, "iptables-save", "-t", "mangle")
	rec.figure("mangle rules (capture all)", "%q", grepLines(rules, "MESHDNS-OUTPUT"))
	rec.noCrashSigns("meshdns", p.Meshdns.Logs())
}

// outputQueued sums the packet counters of the NFQUEUE rules in meshdns's
// chains hooked to OUTPUT (mangle), IPv4 and IPv6.
func outputQueued(t *testing.T, p *podtest.Pod) uint64 {
	t.Helper()
	var n uint64
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out := p.MustExec(t, tool, "-c", "-t", "mangle")
		chains := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			// "[p:b] -A OUTPUT -j MESHDNS-OUTPUT"
			f := strings.Fields(l)
			if len(f) >= 5 && f[1] == "-A" && f[2] == "OUTPUT" && f[3] == "-j" && strings.HasPrefix(f[4], "MESHDNS-") {
				chains[f[4]] = true
			}
		}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) < 3 || f[1] != "-A" || !chains[f[2]] || !strings.Contains(l, "-j NFQUEUE") {
				continue
			}
			var pk, by uint64
			if _, err := fmt.Sscanf(f[0], "[%d:%d]", &pk, &by); err != nil {
				t.Fatalf("%s: bad counter in %q", tool, l)
			}
			n += pk
		}
	}
	return n
}

// markedExchange sends one DNS query from a socket in ns carrying packet
// mark (none when 0) and returns the answer.
func markedExchange(ns, network, server string, mark int, wire []byte) (*dns.Msg, error) {
	var conn net.Conn
	err := netns.Do(ns, func() error {
		d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
			if mark == 0 {
				return nil
			}
			var serr error
			err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, mark) })
			if err != nil {
				return err
			}
			return serr
		}}
		var err error
		conn, err = d.DialContext(context.Background(), network, server)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var n int
	if network == "tcp" {
		msg := binary.BigEndian.AppendUint16(nil, uint16(len(wire)))
		if _, err := conn.Write(append(msg, wire...)); err != nil {
			return nil, err
		}
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return nil, err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, buf[:n]); err != nil {
			return nil, err
		}
	} else {
		if _, err := conn.Write(wire); err != nil {
			return nil, err
		}
		if n, err = conn.Read(buf); err != nil {
			return nil, err
		}
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf[:n]); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	return m, nil
}

func grepLines(text, substr string) []string {
	var out []string
	for _, l := range bytes.Split([]byte(text), []byte("\n")) {
		if bytes.Contains(l, []byte(substr)) {
			out = append(out, string(l))
		}
	}
	return out
}
