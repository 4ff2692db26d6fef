package tcpattack

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/dnsengine/enginetest"
	"github.com/meshdns/meshdns/internal/netns"
)

// Target is where the attacks come from and what they attack.
type Target struct {
	// NS is the attacker's network namespace (a name under /run/netns or
	// a path).
	NS string
	// Server is the nameserver attacked, on its TCP port.
	Server netip.AddrPort
}

// Dial opens a TCP connection to the server from inside the namespace,
// with a receive buffer of rcvbuf bytes when not 0.
func (t Target) Dial(rcvbuf int) (*net.TCPConn, error) {
	var c net.Conn
	err := netns.Do(t.NS, func() error {
		d := net.Dialer{Timeout: 3 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if rcvbuf > 0 {
				rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf) })
			}
			return serr
		}}
		var err error
		c, err = d.Dial("tcp", t.Server.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// IsReset reports a connection reset (by meshdns, or the server).
func IsReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Prefixes opens flows connections, each sending a 0xffff length prefix
// and 60,000 bytes of query, then a byte every 500 ms, until d has passed.
// It returns the connections opened and those reset.
func Prefixes(t Target, flows int, d time.Duration) (opened, resets int64) {
	var nOpened, nResets atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	chunk := make([]byte, 60000)
	for range flows {
		c, err := t.Dial(0)
		if err != nil {
			continue
		}
		nOpened.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetWriteDeadline(end)
			_, err := c.Write(append([]byte{0xff, 0xff}, chunk...))
			for err == nil && time.Now().Before(end) {
				time.Sleep(500 * time.Millisecond)
				_, err = c.Write([]byte{0x55})
			}
			if IsReset(err) {
				nResets.Add(1)
			}
		}()
	}
	wg.Wait()
	return nOpened.Load(), nResets.Load()
}

// ManyFlows opens up to max connections, each sending a length prefix of
// 256 and one byte of query, holds them until d has passed and closes
// them. It returns the connections held and the dials that failed.
func ManyFlows(t Target, max int, d time.Duration) (held, failed int) {
	var conns []*net.TCPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	end := time.Now().Add(d)
	for len(conns) < max && time.Now().Before(end) {
		c, err := t.Dial(0)
		if err != nil {
			failed++
			continue
		}
		c.Write([]byte{0x01, 0x00, 0x12}) // 256 bytes promised, 1 sent
		conns = append(conns, c)
	}
	time.Sleep(time.Until(end))
	return len(conns), failed
}

// Pipelined opens flows connections with 4 KiB receive buffers and writes
// batches of 500 queries for name on each, never reading the answers, until
// d has passed. It returns the bytes written and the connections whose
// writes blocked until the end (meshdns stopped reading them).
func Pipelined(t Target, flows int, name string, d time.Duration) (written, blocked int64) {
	var batch []byte
	for i := range 500 {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(name), dns.TypeA)
		q.Id = uint16(i)
		w, _ := q.Pack()
		batch = append(binary.BigEndian.AppendUint16(batch, uint16(len(w))), w...)
	}
	var nWritten, nBlocked atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range flows {
		c, err := t.Dial(4096)
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetWriteDeadline(end)
			for time.Now().Before(end) {
				n, err := c.Write(batch)
				nWritten.Add(int64(n))
				if err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						nBlocked.Add(1)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	return nWritten.Load(), nBlocked.Load()
}

// SYNFlood sends SYNs from src (random ports, sequence numbers and
// timestamps) to the server through s, 100 every 5 ms, until d has passed.
// It returns the SYNs sent.
func SYNFlood(s *RawSender, src netip.Addr, server netip.AddrPort, d time.Duration) (int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	sent := 0
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for range 100 {
			pkt, err := enginetest.TCPPacket(enginetest.TCPSeg{Src: src, Dst: server.Addr(), SrcPort: uint16(20000 + rng.IntN(30000)),
				DstPort: server.Port(), SYN: true, Seq: rng.Uint32(), Window: 64240, MSS: 1460, HasTS: true, TSVal: rng.Uint32()})
			if err != nil {
				return sent, err
			}
			if s.Send(pkt, server.Addr()) == nil {
				sent++
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sent, nil
}
