package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/meshdns/meshdns/internal/loadgen/stats"
)

// slot tracks one outstanding query ID on one socket.
type slot struct {
	// due is the scheduled send time (Unix ns, CLOCK_REALTIME like the
	// kernel's receive timestamps); 0 means free.
	due atomic.Int64
	// sent is when the query was actually written (Unix ns).
	sent atomic.Int64
	// q is the index of the query template.
	q atomic.Int32
}

// udpSocket is one connected, blocking UDP socket with kernel receive
// timestamps.
type udpSocket struct {
	fd     int
	slots  [65536]slot
	nextID uint16
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
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
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
	n, err := cfg.events()
	if err != nil {
		return nil, err
	}
	if len(cfg.Queries) == 0 {
		return nil, errors.New("loadgen: no queries")
	}
	templates := make([][]byte, len(cfg.Queries))
	for i, q := range cfg.Queries {
		if templates[i], err = AppendQuery(nil, 0, q.Name, q.Type); err != nil {
			return nil, err
		}
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

	var stop atomic.Bool
	var wg sync.WaitGroup
	var outstanding atomic.Int64
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.receive(templates, cfg.Timeout, &stop, &outstanding)
		}()
	}

	res := &FixedResult{Target: cfg.Rate}
	sendBuf := make([]byte, 0, 512)
	var lost atomic.Int64
	lags, start := pace(ctx, cfg.Rate, n, func(i int, due time.Time) {
		s := socks[i%len(socks)]
		qi := i % len(templates)
		id := s.nextID
		s.nextID++
		sl := &s.slots[id]
		if sl.due.Swap(due.UnixNano()) != 0 {
			// The ID wrapped while the previous query was unanswered.
			lost.Add(1)
		} else {
			outstanding.Add(1)
		}
		sl.q.Store(int32(qi))
		buf := append(sendBuf[:0], templates[qi]...)
		setID(buf, id)
		sl.sent.Store(time.Now().UnixNano())
		res.Sent++
		if _, err := unix.Write(s.fd, buf); err != nil {
			if sl.due.Swap(0) != 0 {
				outstanding.Add(-1)
			}
			res.SendErrors++
		}
	})
	elapsed := time.Since(start)
	// Wait until every query is answered or the last one's timeout has
	// passed, then stop the receivers.
	deadline := time.Now().Add(cfg.Timeout)
	for outstanding.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

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
	res.Latency = stats.Summarize(all)
	res.ServiceLatency = stats.Summarize(svc)
	res.SendLag = stats.Summarize(lags)
	res.Seconds = cfg.Duration.Seconds()
	if elapsed > 0 {
		res.Offered = float64(res.Sent) / max(elapsed.Seconds(), cfg.Duration.Seconds())
	}
	return res, nil
}

// receive reads replies until stop is set, matching each to its slot and
// recording the latency from the scheduled send time to the kernel's
// receive timestamp.
func (s *udpSocket) receive(templates [][]byte, timeout time.Duration, stop *atomic.Bool, outstanding *atomic.Int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	for !stop.Load() {
		n, oobn, _, _, err := unix.Recvmsg(s.fd, buf, oob, 0)
		if err != nil {
			continue // EAGAIN from SO_RCVTIMEO, or EINTR: check stop
		}
		rx := rxTimestamp(oob[:oobn])
		if rx == 0 {
			rx = time.Now().UnixNano()
		}
		if n < headerLen {
			continue
		}
		id := binary.BigEndian.Uint16(buf)
		sl := &s.slots[id]
		q := templates[sl.q.Load()]
		// Compare against the template with this ID.
		var hdr [2]byte
		binary.BigEndian.PutUint16(hdr[:], id)
		r, err := parseWithID(buf[:n], q, hdr)
		if err != nil {
			continue
		}
		sent := sl.sent.Load()
		due := sl.due.Swap(0)
		if due == 0 {
			continue // duplicate, or already counted lost
		}
		outstanding.Add(-1)
		s.record(r, due, sent, rx, timeout)
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

// rxTimestamp returns the SCM_TIMESTAMPNS value in oob as Unix ns, or 0.
func rxTimestamp(oob []byte) int64 {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			return ts.Nano()
		}
		oob = oob[unix.CmsgSpace(l-unix.CmsgLen(0)):]
	}
	return 0
}
