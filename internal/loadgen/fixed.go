package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// udpSocket is one connected, blocking UDP socket with kernel receive
// timestamps.
type udpSocket struct {
	fd int
	idTable
	// Written by the receiver only.
	tally
}

func openSocket(c *Config) (*udpSocket, error) {
	fam := unix.AF_INET
	var sa unix.Sockaddr
	if c.Server.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(c.Server.Port()), Addr: c.Server.Addr().As4()}
	} else {
		fam = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(c.Server.Port()), Addr: c.Server.Addr().As16()}
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("loadgen: socket: %w", err)
	}
	s := &udpSocket{fd: fd}
	fail := func(err error) (*udpSocket, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if err := timestamps(fd); err != nil {
		return fail(err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail(err)
	}
	if err := unix.Connect(fd, sa); err != nil {
		return fail(err)
	}
	return s, nil
}

// FixedRate sends cfg.Queries (cycled) at cfg.Rate for cfg.Duration and
// records every query's latency.
func FixedRate(ctx context.Context, cfg Config) (*FixedResult, error) {
	n, templates, err := cfg.queries()
	if err != nil {
		return nil, err
	}
	socks := make([]*udpSocket, 0, cfg.Sockets)
	defer func() {
		for _, s := range socks {
			unix.Close(s.fd)
		}
	}()
	perSocket := n/cfg.Sockets + 1
	for range cfg.Sockets {
		s, err := openSocket(&cfg)
		if err != nil {
			return nil, err
		}
		s.lat = make([]int64, 0, perSocket)
		s.svc = make([]int64, 0, perSocket)
		socks = append(socks, s)
	}

	var rs receivers
	rs.start(len(socks), func(i int) { socks[i].receive(templates, cfg.Timeout, &rs) })

	res := &FixedResult{Target: cfg.Rate}
	sendBuf := make([]byte, 0, 512)
	var lost atomic.Int64
	lags, start := pace(ctx, cfg.Rate, n, func(i int, due time.Time) {
		s := socks[i%len(socks)]
		qi := i % len(templates)
		id, wrapped := s.arm(qi, due, &rs.outstanding)
		if wrapped {
			lost.Add(1)
		}
		buf := append(sendBuf[:0], templates[qi]...)
		setID(buf, id)
		res.Sent++
		if _, err := unix.Write(s.fd, buf); err != nil {
			if s.slots[id].due.Swap(0) != 0 {
				rs.outstanding.Add(-1)
			}
			res.SendErrors++
		}
	})
	elapsed := time.Since(start)
	rs.finish(ctx, cfg.Timeout)

	var all, svc []int64
	for _, s := range socks {
		for id := range s.slots {
			if s.slots[id].due.Load() != 0 {
				lost.Add(1)
			}
		}
		all, svc = s.merge(res, all, svc)
		lost.Add(int64(s.late))
	}
	res.Answered = len(all)
	res.Lost = int(lost.Load())
	res.Timing, res.Offered = timing(all, svc, lags, res.Sent, elapsed, cfg.Duration)
	return res, nil
}

// receive reads replies until rs is stopped, matching each to its slot
// and recording the latency from the scheduled send time to the kernel's
// receive timestamp.
func (s *udpSocket) receive(templates [][]byte, timeout time.Duration, rs *receivers) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	for !rs.stop.Load() {
		n, oobn, _, _, err := unix.Recvmsg(s.fd, buf, oob, 0)
		if err != nil {
			continue // EAGAIN from SO_RCVTIMEO, or EINTR: check stop
		}
		rx := arrival(oob[:oobn])
		if r, due, sent, ok := s.take(buf[:n], templates, &rs.outstanding); ok {
			s.record(r, due, sent, rx, timeout)
		}
	}
}

// parseWithID parses b as the reply to template q sent with ID id.
func parseWithID(b, q []byte, id [2]byte) (Reply, error) {
	var tmp [headerLen]byte
	copy(tmp[:], q[:headerLen])
	tmp[0], tmp[1] = id[0], id[1]
	// ParseReply only reads the ID from the header and the question from
	// q[headerLen:]; give it both without copying the whole template.
	return parseReply(b, tmp[:], q[headerLen:])
}
