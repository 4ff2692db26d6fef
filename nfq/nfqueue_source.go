package nfq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// maxConsecutiveErrors is how many unexpected receive errors in a row, with
// no packet between them, make a queue give up (and the consumer fail)
// rather than spin on a broken socket.
const maxConsecutiveErrors = 16

// NfqueueSource is the kernel's Source, over go-nfqueue: go-nfqueue hands
// over one packet at a time, so each batch holds one.
type NfqueueSource struct {
	queue    uint16
	nf       *nfqueue.Nfqueue
	log      *slog.Logger
	counters *Counters
	one      [1]Packet // the batch, reused (go-nfqueue calls from one goroutine)
}

// failOpenFlags is go-nfqueue's flags for a queue that fails open unless
// failClosed.
func failOpenFlags(failClosed bool) uint32 {
	if failClosed {
		return 0
	}
	return nfqueue.NfQaCfgFlagFailOpen
}

// OpenNfqueue is the OpenFunc for the kernel's queues. It opens a netlink
// socket (in cfg.NetNS when set) configured to copy whole packets (up to
// MaxPacket bytes), to hold at most cfg.MaxQueueLen packets, and to fail
// open (unless cfg.FailClosed): when the queue is full the kernel accepts
// packets instead of dropping them. ENOBUFS reports are turned off (NoENOBUFS) where the
// kernel allows it. The queue is bound by Start.
func OpenNfqueue(queue uint16, cfg Config) (Source, error) {
	log := cfg.Logger.With("queue", queue)
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue:      queue,
		MaxQueueLen:  cfg.MaxQueueLen,
		MaxPacketLen: MaxPacket,
		Copymode:     nfqueue.NfQnlCopyPacket,
		Flags:        failOpenFlags(cfg.FailClosed),
		// Since Linux 3.8 a queue takes every family whatever this says.
		AfFamily: unix.AF_INET,
		NetNS:    cfg.NetNS,
		Logger:   nfqueueLogger{log},
	})
	if err != nil {
		return nil, fmt.Errorf("opening the netfilter queue socket: %w", err)
	}
	if err := nf.SetOption(netlink.NoENOBUFS, true); err != nil {
		log.Debug("NoENOBUFS not set", "err", err)
	}
	return &NfqueueSource{queue: queue, nf: nf, log: log, counters: cfg.Counters}, nil
}

// Start implements Source.
func (s *NfqueueSource) Start(ctx context.Context, deliver func([]Packet), failed func(error)) error {
	errs := 0 // unexpected receive errors since the last packet
	hook := func(a nfqueue.Attribute) int {
		errs = 0
		if a.PacketID == nil {
			return 0
		}
		p := Packet{ID: *a.PacketID}
		if a.Payload != nil {
			p.Payload = *a.Payload
		}
		if a.CapLen != nil && int(*a.CapLen) > len(p.Payload) {
			p.Truncated = true
		}
		s.one[0] = p
		deliver(s.one[:])
		return 0
	}
	onErr := func(err error) int {
		if ctx.Err() != nil {
			return 0 // stopping: the receive loop checks ctx next
		}
		switch receiveErrorKind(err) {
		case errNoBuffers:
			s.counters.ReceiveErrors.Add(1)
			if n := s.counters.NoBuffers.Add(1); n&(n-1) == 0 {
				s.log.Warn("queue socket overflowed (ENOBUFS): packets passed unanswered", "count", n)
			}
			return 0
		case errTransient:
			return 0
		}
		s.counters.ReceiveErrors.Add(1)
		errs++
		s.log.Warn("receiving from the queue", "err", err, "in_a_row", errs)
		if errs >= maxConsecutiveErrors {
			failed(fmt.Errorf("receiving from queue %d: %w", s.queue, err))
			return 1
		}
		return 0
	}
	if err := s.nf.RegisterWithErrorFunc(ctx, hook, onErr); err != nil {
		return fmt.Errorf("binding queue %d: %w", s.queue, err)
	}
	return nil
}

// Verdict implements Source.
func (s *NfqueueSource) Verdict(id uint32, v Verdict, payload []byte) error {
	switch v {
	case AcceptModified:
		return s.nf.SetVerdictWithOption(id, nfqueue.NfAccept, nfqueue.WithAlteredPacket(payload))
	case RepeatModified:
		return s.nf.SetVerdictWithOption(id, nfqueue.NfRepeat, nfqueue.WithAlteredPacket(payload))
	case Drop:
		return s.nf.SetVerdict(id, nfqueue.NfDrop)
	}
	return s.nf.SetVerdict(id, nfqueue.NfAccept)
}

// LateVerdict implements Source: go-nfqueue's verdicts are sent at once,
// and its netlink connection is safe for concurrent use.
func (s *NfqueueSource) LateVerdict(id uint32, v Verdict, payload []byte) error {
	return s.Verdict(id, v, payload)
}

// SetQueueLen implements Source with the same message as BatchSource,
// sent on go-nfqueue's socket.
func (s *NfqueueSource) SetQueueLen(n uint32) error {
	var m netlink.Message
	if err := m.UnmarshalBinary(queueLenMsg(s.queue, n)); err != nil {
		return err
	}
	if _, err := s.nf.Con.Send(m); err != nil {
		return fmt.Errorf("queue %d: setting its length to %d: %w", s.queue, n, err)
	}
	return nil
}

// Close implements Source. Closing the socket unbinds the queue in the
// kernel (go-nfqueue's own unbind, attempted after ctx is done, usually
// fails harmlessly because the read deadline is already in the past).
func (s *NfqueueSource) Close() error {
	if err := s.nf.Close(); err != nil {
		return fmt.Errorf("closing queue %d: %w", s.queue, err)
	}
	return nil
}

// nfqueueLogger routes go-nfqueue's log lines to slog: the ones every stop
// prints at debug level, others as warnings.
type nfqueueLogger struct{ log *slog.Logger }

func (l nfqueueLogger) Debugf(format string, args ...any) {
	l.log.Debug("go-nfqueue: " + fmt.Sprintf(format, args...))
}

func (l nfqueueLogger) Errorf(format string, args ...any) {
	msg := "go-nfqueue: " + fmt.Sprintf(format, args...)
	if strings.HasPrefix(format, "Stop receiving") || strings.HasPrefix(format, "Could not unbind") {
		l.log.Debug(msg)
		return
	}
	l.log.Warn(msg)
}

// Kinds of receive errors.
const (
	errOther     = iota // unexpected: logged, and fatal when repeated
	errTransient        // a timeout or an interrupted call: read again
	errNoBuffers        // ENOBUFS: counted, read again
)

func receiveErrorKind(err error) int {
	if errors.Is(err, unix.ENOBUFS) {
		return errNoBuffers
	}
	var op *netlink.OpError
	if errors.As(err, &op) && (op.Timeout() || op.Temporary()) {
		return errTransient
	}
	return errOther
}
