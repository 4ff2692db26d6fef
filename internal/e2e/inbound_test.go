package e2e_test

// With --capture all and the cache on, the response
// chain queues UDP from port 53 arriving from outside. A query (not a
// response) sent from port 53 to the pod's port 53 must reach the pod
// untouched: meshdns must never answer a query on its way in.

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/internal/netns"
	"github.com/meshdns/meshdns/internal/podtest"
	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// TestKernelInboundQueryFromPort53: a query for a mesh name, sent from
// the upstream side's port 53 to a UDP socket on the pod's port 53, is
// delivered to that socket unchanged, with meshdns capturing all DNS and
// learning responses. A control first sends it without meshdns.
func TestKernelInboundQueryFromPort53(t *testing.T) {
	t.Parallel()
	p := startPod(t, podtest.Config{NoMeshdns: true})
	pod := netip.AddrPortFrom(p.Topo.PodV4, 53)
	ln, err := netns.ListenUDP(p.Topo.Pod, "udp4", pod.String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	q := enginetest.NewQuery("web.default.svc.cluster.local", dns.TypeA)
	msg, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	// From the upstream's own address and port 53 (its DNS server holds
	// that socket: a raw socket writes the packet).
	pkt, err := enginetest.UDPPacket(enginetest.Endpoints{Src: p.Topo.UpstreamV4, Dst: p.Topo.PodV4, SrcPort: 53, DstPort: 53}, msg)
	if err != nil {
		t.Fatal(err)
	}
	send := func(when string) {
		t.Helper()
		err := netns.Do(p.Topo.Upstream, func() error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet4{Addr: p.Topo.PodV4.As4()})
		})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 2048)
		n, from, err := ln.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("%s: the query from port 53 never reached the pod's socket (answered or dropped on the way in): %v", when, err)
		}
		if !bytes.Equal(buf[:n], msg) || from.Port != 53 || !from.IP.Equal(net.IP(p.Topo.UpstreamV4.AsSlice())) {
			t.Fatalf("%s: the pod's socket got %d bytes from %v, want the query unchanged from port 53", when, n, from)
		}
	}
	send("control, without meshdns")
	p.StartMeshdns(t, objectsFile, "--capture=all", "--cache-size=100")
	send("with meshdns capturing all DNS and responses")
}
