package nfq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// BatchSource is the kernel's Source over a raw netlink socket, built for
// throughput: one recvmmsg reads up to batchSize queued packets, and the
// verdicts of a whole batch leave in one write (netlink processes every
// message of a datagram). go-nfqueue's loop (NfqueueSource) makes two
// syscalls and several allocations per packet; this one allocates nothing
// per packet. It speaks the same protocol with the same configuration:
// copy whole packets, MaxQueueLen, fail-open, no ENOBUFS reports.
//
// It is also built for the low rates most pods run at, where a wake-up
// per packet is the cost: the socket is non-blocking and registered with
// the runtime's netpoller, so an empty queue parks the reader's goroutine
// (no timer, no thread in a system call) and the thread that polled runs
// it when a packet comes; recvmmsg and the verdict write never block and
// are raw system calls, so the runtime neither hands the P off nor wakes
// sysmon for them. Batches grow with the load by themselves: recvmmsg
// returns what the socket holds, up to batchSize.
type BatchSource struct {
	conn     *netlink.Conn   // the socket, set up through it (configure)
	fd       int             // conn's, read and written directly on the hot path
	rc       syscall.RawConn // conn's, registered with the runtime's netpoller
	queue    uint16
	log      *slog.Logger
	counters *Counters

	rbufs [][]byte
	batch []Packet // the packets of one read, delivered together
	iovs  []unix.Iovec
	msgs  []mmsghdr
	wbuf  []byte // pending verdict messages
	mem   []byte // the mapping rbufs and wbuf are cut from
	wg    sync.WaitGroup
	seq   uint32
	once  sync.Once
}

// Netlink and nfnetlink_queue constants (linux/netfilter/nfnetlink_queue.h).
const (
	nfqnlMsgPacket  = 0
	nfqnlMsgVerdict = 1
	nfqnlMsgConfig  = 2

	nfqaPacketHdr  = 1
	nfqaVerdictHdr = 2
	nfqaPayload    = 10
	nfqaCapLen     = 16

	nfqaCfgCmd      = 1
	nfqaCfgParams   = 2
	nfqaCfgQueueLen = 3
	nfqaCfgMask     = 4
	nfqaCfgFlags    = 5

	nfqnlCfgCmdBind   = 1
	nfqnlCopyPacket   = 2
	nfqaCfgFFailOpen  = 1
	nlaTypeMask       = 0x3fff
	nlmsgHdrLen       = 16
	nfgenHdrLen       = 4
	batchSize         = 32
	batchRecvBufSize  = MaxPacket + 1024
	batchFlushAt      = 256 << 10
	batchSocketBuffer = 8 << 20
)

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// OpenBatch is the OpenFunc of BatchSource. The socket is mdlayher/netlink's
// (opened in cfg.NetNS when set), which sends the one-off configuration
// and reads its acknowledgement; the hot path then reads and writes the
// same socket directly, through its file descriptor: a queue is bound to
// the socket that bound it.
func OpenBatch(queue uint16, cfg Config) (Source, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: cfg.NetNS})
	if err != nil {
		return nil, fmt.Errorf("opening the netfilter queue socket: %w", err)
	}
	s := &BatchSource{conn: conn, queue: queue, log: cfg.Logger.With("queue", queue), counters: cfg.Counters}
	if s.rc, err = conn.SyscallConn(); err == nil {
		err = s.rc.Control(func(fd uintptr) { s.fd = int(fd) })
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("queue socket: %w", err)
	}
	// The receive buffers and the verdict buffer live outside the Go heap,
	// in one anonymous mapping per queue that Close unmaps. On the heap
	// their 2.4 MB per queue would count as live, and the collector lets
	// the heap grow by its live bytes again (GOGC=100) before each cycle:
	// under a burst of allocations that headroom fills with garbage, all
	// of it resident, while these buffers themselves are hardly touched
	// past their first page (DNS packets are small), so they cost little
	// resident memory off the heap.
	mem, err := unix.Mmap(-1, 0, batchSize*batchRecvBufSize+batchFlushAt+batchRecvBufSize,
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mapping the queue's buffers: %w", err)
	}
	s.mem = mem
	fail := func(err error) (Source, error) {
		conn.Close()
		unix.Munmap(mem)
		return nil, err
	}
	// Plain writes go to the kernel, as conn's sends do.
	if err := unix.Connect(s.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fail(fmt.Errorf("connecting the netlink socket: %w", err))
	}
	for _, o := range []struct{ opt, val int }{{unix.SO_RCVBUFFORCE, batchSocketBuffer}, {unix.SO_SNDBUFFORCE, batchSocketBuffer}} {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, o.opt, o.val); err != nil {
			s.log.Debug("socket buffer not raised", "err", err)
		}
	}
	if err := conn.SetOption(netlink.NoENOBUFS, true); err != nil {
		s.log.Debug("NETLINK_NO_ENOBUFS not set", "err", err)
	}
	s.rbufs = make([][]byte, batchSize)
	s.batch = make([]Packet, 0, batchSize)
	s.iovs = make([]unix.Iovec, batchSize)
	s.msgs = make([]mmsghdr, batchSize)
	for i := range s.rbufs {
		s.rbufs[i] = mem[i*batchRecvBufSize : (i+1)*batchRecvBufSize : (i+1)*batchRecvBufSize]
		s.iovs[i].Base = &s.rbufs[i][0]
		s.iovs[i].SetLen(batchRecvBufSize)
		s.msgs[i].hdr.Iov = &s.iovs[i]
		s.msgs[i].hdr.SetIovlen(1)
	}
	s.wbuf = mem[batchSize*batchRecvBufSize : batchSize*batchRecvBufSize : len(mem)]
	// The socket is non-blocking and in the runtime's netpoller from the
	// start (conn's): an idle queue costs no wake-up at all (no receive
	// timeout, no thread blocked in a system call), and the reader's
	// goroutine is woken by epoll when a packet comes.
	if err := s.configure(cfg.MaxQueueLen, !cfg.FailClosed); err != nil {
		return fail(err)
	}
	return s, nil
}

// appendVerdictMsg appends the verdict message for packet id of queue to b:
// accept (with the new packet for AcceptModified), repeat with the new
// packet (RepeatModified) or drop.
func appendVerdictMsg(b []byte, queue uint16, seq, id uint32, v Verdict, payload []byte) []byte {
	start := len(b)
	b = appendMsgHeader(b, nfqnlMsgVerdict, unix.NLM_F_REQUEST, seq, queue) // no acknowledgment asked
	var hdr [8]byte
	verdict := uint32(1) // NF_ACCEPT
	switch v {
	case Drop:
		verdict = 0
	case RepeatModified:
		verdict = 4 // NF_REPEAT
	}
	binary.BigEndian.PutUint32(hdr[:], verdict)
	binary.BigEndian.PutUint32(hdr[4:], id)
	b = appendAttr(b, nfqaVerdictHdr, hdr[:])
	if v.modified() {
		b = appendAttr(b, nfqaPayload, payload)
	}
	return endMsg(b, start)
}

// appendMsgHeader appends the netlink and nfgenmsg headers of a queue
// message of type typ for queue; endMsg sets its length.
func appendMsgHeader(b []byte, typ, flags uint16, seq uint32, queue uint16) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0) // length, set by endMsg
	b = binary.NativeEndian.AppendUint16(b, uint16(unix.NFNL_SUBSYS_QUEUE)<<8|typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // port id
	b = append(b, unix.AF_UNSPEC, 0)           // nfgenmsg: family, version
	return binary.BigEndian.AppendUint16(b, queue)
}

// endMsg sets the length of the message that starts at b[start].
func endMsg(b []byte, start int) []byte {
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

func appendAttr(b []byte, typ uint16, data ...[]byte) []byte {
	n := 4
	for _, d := range data {
		n += len(d)
	}
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	for _, d := range data {
		b = append(b, d...)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// configure binds the queue and sets copy mode, length and, with
// failOpen, fail-open, each acknowledged by the kernel.
func (s *BatchSource) configure(maxLen uint32, failOpen bool) error {
	// One message binds the queue and sets everything else. The kernel
	// creates the instance with copy mode NONE and, until the mode is set,
	// drops what it queues there (the bypass only covers a queue with no
	// instance): with the bind and the mode in separate messages, the
	// packets of one round trip were lost whenever meshdns started under
	// traffic, as after kill -9. The kernel applies the attributes of one
	// message in order (command, params, length, flags), so that window
	// shrinks to a few instructions.
	var params [5]byte
	binary.BigEndian.PutUint32(params[:], MaxPacket)
	params[4] = nfqnlCopyPacket
	var flags uint32
	if failOpen {
		flags = nfqaCfgFFailOpen
	}
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	ae.Bytes(nfqaCfgCmd, []byte{nfqnlCfgCmdBind, 0, 0, 0})
	ae.Bytes(nfqaCfgParams, params[:])
	ae.Uint32(nfqaCfgQueueLen, maxLen)
	ae.Uint32(nfqaCfgFlags, flags)
	ae.Uint32(nfqaCfgMask, nfqaCfgFFailOpen)
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_QUEUE<<8 | nfqnlMsgConfig), Flags: netlink.Request | netlink.Acknowledge},
		Data:   append([]byte{unix.AF_UNSPEC, 0, byte(s.queue >> 8), byte(s.queue)}, attrs...), // nfgenmsg: family, version, queue
	}
	if err := s.request(req); err != nil {
		return fmt.Errorf("binding queue %d: %w", s.queue, err)
	}
	return nil
}

// queueLenMsg is the configuration message that sets the queue's length
// to n (SetQueueLen): without an ack requested, so that nothing but
// packets comes back to the reading goroutine.
func queueLenMsg(queue uint16, n uint32) []byte {
	b := appendMsgHeader(nil, nfqnlMsgConfig, unix.NLM_F_REQUEST, 0, queue) // seq: no reply is asked
	b = appendAttr(b, nfqaCfgQueueLen, binary.BigEndian.AppendUint32(nil, n))
	return endMsg(b, 0)
}

// SetQueueLen implements Source: one write on the queue's socket (atomic
// beside the reading goroutine's verdict writes).
func (s *BatchSource) SetQueueLen(n uint32) error {
	if _, err := unix.Write(s.fd, queueLenMsg(s.queue, n)); err != nil {
		return fmt.Errorf("queue %d: setting its length to %d: %w", s.queue, n, err)
	}
	return nil
}

// request sends one configuration message and waits for its ack. Packets
// the kernel queues meanwhile (meshdns restarting under load, its rules
// still in place) are accepted unmodified at once: they are never left
// without a verdict. (conn.Execute would fail on them, as replies of
// another sequence number, and leave them queued.)
func (s *BatchSource) request(m netlink.Message) error {
	req, err := s.conn.Send(m)
	if err != nil {
		return err
	}
	var vb []byte
	accept := func(p Packet) {
		vb = appendVerdictMsg(vb[:0], s.queue, 0, p.ID, Accept, nil)
		if _, err := unix.Write(s.fd, vb); err != nil {
			s.counters.VerdictErrors.Add(1)
		}
	}
	for {
		// An error message carrying an error comes back as err: only the
		// request asks for one (the verdicts of accept do not).
		msgs, err := s.conn.Receive()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch {
			case m.Header.Type == netlink.Error && m.Header.Sequence == req.Header.Sequence:
				return nil
			case m.Header.Type == netlink.HeaderType(unix.NFNL_SUBSYS_QUEUE<<8|nfqnlMsgPacket):
				s.packet(m.Data, false, accept)
			}
		}
	}
}

// Start implements Source.
func (s *BatchSource) Start(ctx context.Context, deliver func([]Packet), failed func(error)) error {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.loop(ctx, deliver, failed)
	}()
	return nil
}

func (s *BatchSource) loop(ctx context.Context, deliver func([]Packet), failed func(error)) {
	// The end of ctx wakes a reader parked in the netpoller; no timer runs
	// before that.
	stop := context.AfterFunc(ctx, func() { s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	errs := 0
	for ctx.Err() == nil {
		n, err := s.read()
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.ENOBUFS):
				s.counters.ReceiveErrors.Add(1)
				if c := s.counters.NoBuffers.Add(1); c&(c-1) == 0 {
					s.log.Warn("queue socket overflowed (ENOBUFS): packets passed unanswered", "count", c)
				}
				continue
			}
			s.counters.ReceiveErrors.Add(1)
			errs++
			s.log.Warn("receiving from the queue", "err", err, "in_a_row", errs)
			if errs >= maxConsecutiveErrors {
				failed(fmt.Errorf("receiving from queue %d: %w", s.queue, err))
				return
			}
			continue
		}
		errs = 0
		s.deliverRead(n, deliver)
		s.flush()
	}
}

// read returns once recvmmsg has read at least one datagram (up to
// batchSize: whatever the socket holds, so batches grow with the load), the
// goroutine parked in the netpoller while the socket is empty.
func (s *BatchSource) read() (n int, err error) {
	rerr := s.rc.Read(func(fd uintptr) bool {
		n, err = s.recvmmsg(fd)
		return err != unix.EAGAIN
	})
	if rerr != nil {
		return 0, rerr
	}
	return n, err
}

// recvmmsg never blocks (MSG_DONTWAIT; the netpoller does the waiting), so
// it is a raw system call, like the verdict write of flush: the runtime is
// not told of a syscall, which would hand the P off and wake sysmon from
// its deep sleep into a millisecond of 20 µs polls, for every packet of a
// pod that sends a query now and then.
func (s *BatchSource) recvmmsg(fd uintptr) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&s.msgs[0])),
		uintptr(len(s.msgs)), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// deliverRead delivers the packets of the n datagrams read as one batch.
func (s *BatchSource) deliverRead(n int, deliver func([]Packet)) {
	s.batch = s.batch[:0]
	for i := range n {
		s.parse(s.rbufs[i][:s.msgs[i].len], s.msgs[i].hdr.Flags&unix.MSG_TRUNC != 0, s.add)
	}
	if len(s.batch) > 0 {
		deliver(s.batch)
	}
}

// add puts a parsed packet in the batch being read. A datagram holds one
// packet message or more, so a batch may outgrow batchSize; its slice then
// grows once and is reused.
func (s *BatchSource) add(p Packet) { s.batch = append(s.batch, p) }

// parse walks the netlink messages of one datagram and hands each packet
// to deliver.
func (s *BatchSource) parse(d []byte, trunc bool, deliver func(Packet)) {
	for len(d) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(d))
		cut := false // the message does not fit what was received
		if l < nlmsgHdrLen || l > len(d) {
			if !trunc {
				s.counters.ReceiveErrors.Add(1)
			}
			l, cut = len(d), true
		}
		typ := binary.NativeEndian.Uint16(d[4:])
		switch {
		case typ == uint16(unix.NFNL_SUBSYS_QUEUE)<<8|nfqnlMsgPacket:
			s.packet(d[nlmsgHdrLen:l], cut, deliver)
		case typ == unix.NLMSG_ERROR && l >= nlmsgHdrLen+4:
			if code := int32(binary.NativeEndian.Uint32(d[16:])); code != 0 {
				if c := s.counters.VerdictErrors.Add(1); c&(c-1) == 0 {
					s.log.Warn("verdict not taken", "err", syscall.Errno(-code), "count", c)
				}
			}
		}
		d = d[min((l+3)&^3, len(d)):]
	}
}

// packet delivers the packet of one queue message. A message that was cut
// (by MSG_TRUNC, or a length that overruns the datagram) or whose
// attributes overrun it is delivered, when its id was read, as Truncated:
// it gets its verdict (accepted untouched) and its bytes are never handled.
func (s *BatchSource) packet(m []byte, cut bool, deliver func(Packet)) {
	if len(m) < nfgenHdrLen {
		return
	}
	p := Packet{Truncated: cut}
	haveID := false
	capLen := -1
	for a := m[nfgenHdrLen:]; len(a) >= 4; {
		al := int(binary.NativeEndian.Uint16(a))
		if al < 4 || al > len(a) {
			p.Truncated = true
			break
		}
		data := a[4:al]
		switch binary.NativeEndian.Uint16(a[2:]) & nlaTypeMask {
		case nfqaPacketHdr:
			if len(data) >= 4 {
				p.ID = binary.BigEndian.Uint32(data)
				haveID = true
			}
		case nfqaPayload:
			p.Payload = data
		case nfqaCapLen:
			if len(data) >= 4 {
				capLen = int(binary.BigEndian.Uint32(data))
			}
		}
		a = a[min((al+3)&^3, len(a)):]
	}
	if !haveID {
		return
	}
	if capLen > len(p.Payload) {
		p.Truncated = true
	}
	deliver(p)
}

// Verdict implements Source: the verdict is queued and sent with the rest
// of the batch once every packet of the batch has been delivered.
func (s *BatchSource) Verdict(id uint32, v Verdict, payload []byte) error {
	s.seq++
	s.wbuf = appendVerdictMsg(s.wbuf, s.queue, s.seq, id, v, payload)
	if len(s.wbuf) >= batchFlushAt {
		return s.flush()
	}
	return nil
}

// LateVerdict implements Source: one verdict in a write of its own, so
// that it may be called from any goroutine while the source's loop runs.
func (s *BatchSource) LateVerdict(id uint32, v Verdict, payload []byte) error {
	if len(payload) > MaxVerdictPayload {
		return fmt.Errorf("packet of %d bytes: a verdict carries at most %d", len(payload), MaxVerdictPayload)
	}
	b := appendVerdictMsg(make([]byte, 0, nlmsgHdrLen+nfgenHdrLen+12+4+len(payload)+4), s.queue, 0, id, v, payload)
	_, err := unix.Write(s.fd, b)
	return err
}

// flush sends the pending verdicts in one write.
func (s *BatchSource) flush() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	// A raw write (see recvmmsg): netlink hands the verdicts to the
	// kernel synchronously, it does not wait for anything.
	_, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(s.fd), uintptr(unsafe.Pointer(&s.wbuf[0])), uintptr(len(s.wbuf)))
	s.wbuf = s.wbuf[:0]
	if e != 0 {
		err := error(e)
		if c := s.counters.VerdictErrors.Add(1); c&(c-1) == 0 {
			s.log.Warn("sending verdicts", "err", err, "count", c)
		}
		return err
	}
	return nil
}

// Close implements Source: closing the socket unbinds the queue.
func (s *BatchSource) Close() error {
	var err error
	s.once.Do(func() {
		s.wg.Wait()
		err = s.conn.Close()
		// Nothing reads into or writes from the buffers any more: the loop
		// has ended and late verdicts use buffers of their own.
		s.rbufs, s.wbuf, s.batch = nil, nil, nil
		if merr := unix.Munmap(s.mem); merr != nil && err == nil {
			err = merr
		}
		s.mem = nil
	})
	return err
}
