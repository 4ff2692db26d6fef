package loadgen

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// serveLoopback answers every query on 127.0.0.1: names starting with
// "svc" get one A record, others NXDOMAIN; names starting with "drop" get
// no reply at all.
func serveLoopback(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			out := loopbackAnswer(buf[:n])
			if out == nil {
				continue
			}
			_, _ = pc.WriteToUDPAddrPort(out, addr)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// loopbackAnswer is the loopback servers' answer to query q: names
// starting with "svc" or "slow" get one A record (NODATA for other types),
// "drop" none at all (nil), the rest NXDOMAIN.
func loopbackAnswer(q []byte) []byte {
	if len(q) < 13 || 13+int(q[12]) > len(q) || len(q) < 4 {
		return nil
	}
	first := string(q[13 : 13+int(q[12])])
	if strings.HasPrefix(first, "drop") {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[len(q)-4:])
	found := strings.HasPrefix(first, "svc") || strings.HasPrefix(first, "slow")
	switch {
	case found && qtype == 1:
		return reply(q, 0, 1)
	case found:
		return reply(q, 0)
	}
	return reply(q, 3)
}

func TestFixedRateLoopback(t *testing.T) {
	srv := serveLoopback(t)
	cfg := Config{
		Server:   srv,
		Rate:     2000,
		Duration: 100 * time.Millisecond,
		Timeout:  2 * time.Second,
		Sockets:  2,
		Queries:  []Question{{"svc-1.example.", 1}, {"nope.example.", 1}, {"drop.example.", 1}, {"svc-2.example.", 28}},
	}
	res, err := FixedRate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 200 {
		t.Errorf("sent %d, want 200", res.Sent)
	}
	if res.OK != 50 || res.NXDomain != 50 || res.NoData != 50 || res.Lost != 50 || res.Answered != 150 {
		t.Errorf("result %+v: want 50 ok, 50 nxdomain, 50 nodata, 50 lost", res)
	}
	if res.Latency.N != 150 || res.Latency.P50 <= 0 || res.Latency.Max > 2e6 {
		t.Errorf("latency %+v", res.Latency)
	}
	if res.ServiceLatency.N != 150 || res.ServiceLatency.P50 > res.Latency.P99 {
		t.Errorf("service latency %+v", res.ServiceLatency)
	}
	if res.SendLag.N != 200 {
		t.Errorf("send lag samples %d, want 200", res.SendLag.N)
	}
}

func TestLookupsLoopback(t *testing.T) {
	srv := serveLoopback(t)
	cfg := Config{
		Server:   srv,
		Rate:     1000,
		Duration: 50 * time.Millisecond,
		Timeout:  2 * time.Second,
		Names:    []string{"svc-1", "nope"},
		Search:   []string{"ns.svc.cluster.local", "svc.cluster.local"},
		Ndots:    5,
	}
	res, err := Lookups(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// svc-1: found on the first domain (2 queries); nope: 2 domains +
	// as is (6 queries).
	if res.Lookups != 50 || res.Found != 25 || res.NotFound != 25 || res.Failed != 0 {
		t.Errorf("result %+v", res)
	}
	if res.Queries != 25*2+25*6 || res.QueriesPerLookup != 4 || res.Lost != 0 {
		t.Errorf("queries %d (%.1f per lookup), lost %d", res.Queries, res.QueriesPerLookup, res.Lost)
	}
	if res.Latency.N != 50 {
		t.Errorf("latency samples %d", res.Latency.N)
	}
}

func TestKernelTimestamp(t *testing.T) {
	srv := serveLoopback(t)
	cfg := Config{Server: srv}
	s, err := openSocket(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s.fd)
	q, _ := AppendQuery(nil, 1, "svc.example.", 1)
	before := time.Now().UnixNano()
	if _, err := unix.Write(s.fd, q); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 512), make([]byte, 128)
	var oobn int
	for i := 0; i < 50; i++ { // SO_RCVTIMEO is 100 ms: 5 s in all
		if _, oobn, _, _, err = unix.Recvmsg(s.fd, buf, oob, 0); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	ts := rxTimestamp(oob[:oobn])
	if ts < before || ts > time.Now().UnixNano() {
		t.Errorf("kernel timestamp %d outside [%d, now]", ts, before)
	}
}
