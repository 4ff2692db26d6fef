package nfq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultQueuedTotal = 512
	DefaultDrainQuiet  = 50 * time.Millisecond
	DefaultDrainMax    = time.Second
)

// Config configures a Consumer.
type Config struct {
	// QueueNum is the first queue number; Queues (0 means 1) queues from
	// it on are consumed, one goroutine each. They must match the rules'.
	QueueNum uint16
	Queues   uint16
	// MaxQueueLen is how many packets the kernel holds per queue waiting
	// for a verdict; 0 means DefaultQueuedTotal split over the queues. The
	// queues always fail open: beyond this, packets pass unanswered
	// instead of being dropped.
	//
	// It bounds the backlog a stall releases at once: while the consumer
	// is stopped (a CPU-throttled or paused container) the kernel holds
	// up to this many packets and passes the rest straight on, spread as
	// they come; on resume the held ones leave together, the pass-through
	// queries among them in one burst at the nameserver. 512 in all stays
	// well inside what a nameserver's default socket buffer absorbs
	// (net.core.rmem_default, about 600 small datagrams), and is still
	// several times the packets in flight at full load. It also bounds
	// what a kill -9 loses: the kernel drops the held packets at unbind.
	MaxQueueLen uint32
	// ResetQueue adds one more queue, QueueNum+Queues, for the
	// nameservers' TCP RSTs (rules.Config.TCPResets). Unlike the others it
	// does not fail open: it holds ResetQueueLen packets and the kernel
	// drops the rest. Those RSTs come in bursts as large as the bursts of
	// segments that got past the full outbound queues (every one of which
	// draws one), and each must reach the engine, which drops the RSTs of
	// the flows it holds, or be dropped: delivered, it ends a client's
	// connection. An RST of a connection the nameserver does hold that is
	// lost this way is sent again at the client's next segment.
	ResetQueue bool
	// MaxRate bounds the packets a second each fail-open queue takes (0:
	// no bound). Past MaxRate/10 in a 100 ms window the queue's length is
	// set to 0 for the rest of the window: the kernel passes the queue's
	// new packets on to their nameserver at once, costing the consumer
	// nothing, and the length is restored when the window ends. Node mode
	// sets it per pod, so that one pod's flood cannot take the agent's CPU
	// from its neighbours.
	MaxRate uint32
	// FailClosed makes a queue drop the packets past MaxQueueLen instead
	// of passing them on. The consumer sets it for the reset queue only;
	// the Open functions honour it.
	FailClosed bool
	// DrainQuiet and DrainMax bound the drain after the context is done:
	// the queues are unbound once no packet arrived for DrainQuiet, or
	// DrainMax after the drain began (DefaultDrainQuiet, DefaultDrainMax
	// when 0).
	DrainQuiet time.Duration
	DrainMax   time.Duration
	// NetNS, when not 0, is a file descriptor of the network namespace
	// to bind the queues in; 0 means the caller's.
	NetNS int
	// Logger; nil discards.
	Logger *slog.Logger
	// Counters to add to; nil means new ones (see Consumer.Counters).
	Counters *Counters
	// Open opens each queue: OpenBatch, or OpenNfqueue (go-nfqueue, the
	// alternative reader); nil means OpenBatch.
	Open OpenFunc
}

func (c Config) withDefaults() (Config, error) {
	if c.Queues == 0 {
		c.Queues = 1
	}
	if last := int(c.QueueNum) + c.bound() - 1; last > 0xffff {
		return c, fmt.Errorf("nfq: queues %d..%d exceed 65535", c.QueueNum, last)
	}
	if c.MaxQueueLen == 0 {
		c.MaxQueueLen = max(DefaultQueuedTotal/uint32(c.Queues), 1)
	}
	if c.DrainQuiet <= 0 {
		c.DrainQuiet = DefaultDrainQuiet
	}
	if c.DrainMax <= 0 {
		c.DrainMax = DefaultDrainMax
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Counters == nil {
		c.Counters = new(Counters)
	}
	if c.Open == nil {
		c.Open = OpenBatch
	}
	return c, nil
}

// ResetQueueLen is how many of the nameservers' RSTs the reset queue
// holds (Config.ResetQueue): a few hundred kilobytes of kernel memory at
// most, RSTs being the smallest packets.
const ResetQueueLen = 1024

// bound is how many queues are bound: Queues, and the reset queue.
func (c Config) bound() int {
	if c.ResetQueue {
		return int(c.Queues) + 1
	}
	return int(c.Queues)
}

// queueConfig is the configuration queue i of the bound ones opens with.
func (c Config) queueConfig(i int) Config {
	if i == int(c.Queues) { // the reset queue
		c.MaxQueueLen, c.FailClosed = ResetQueueLen, true
	}
	return c
}

// Consumer reads the queues and answers each packet with its Handler's
// verdict.
//
// Lifecycle: Start binds the queues; Wait returns once they are released;
// Run does both. Cancelling the context given to Start stops without
// losing queries, with the rules in place or not: the consumer first tells
// the kernel to queue nothing more on its fail-open queues
// (Source.SetQueueLen(0): new packets are accepted as they come, as after
// the unbind), then drains,
// i.e. keeps answering the packets already queued until none arrived for
// Config.DrainQuiet and the kernel holds none (or Config.DrainMax passed),
// and only then unbinds the queues (the kernel drops whatever is still
// queued at unbind). If a queue fails for good while running, the consumer
// does the same and Wait returns that error.
type Consumer struct {
	cfg      Config
	h        Handler
	hh       HoldHandler // h, when it may hold packets (held.go)
	log      *slog.Logger
	counters *Counters

	seen    atomic.Uint64 // packets delivered, for the drain
	holds   holds         // packets whose verdict comes later (held.go)
	started atomic.Bool
	done    chan struct{}
	err     error // set before done is closed
}

// New returns a Consumer of cfg's queues that hands packets to h.
func New(cfg Config, h Handler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("nfq: nil Handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hh, _ := h.(HoldHandler)
	return &Consumer{cfg: cfg, h: h, hh: hh, log: cfg.Logger, counters: cfg.Counters, done: make(chan struct{})}, nil
}

// Counters returns the counters the consumer adds to.
func (c *Consumer) Counters() *Counters { return c.counters }

// Run is Start followed by Wait: it serves until ctx is done, drains and
// returns.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.Start(ctx); err != nil {
		return err
	}
	return c.Wait()
}

// Start opens and binds every queue and returns once all are bound, or
// with the first error (having released the queues already bound). The
// queues are served until ctx is done, then drained and released; Wait
// waits for that. Start may be called once.
func (c *Consumer) Start(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("nfq: consumer started twice")
	}
	// The sources live until the drain is over, past ctx.
	serve, stop := context.WithCancel(context.WithoutCancel(ctx))
	failc := make(chan error, c.cfg.bound())
	var sources []Source
	var passers []*worker // the fail-open queues'
	release := func() {
		stop()
		for _, s := range sources {
			s.Close()
		}
	}
	for i := range c.cfg.bound() {
		q, qc := c.cfg.QueueNum+uint16(i), c.cfg.queueConfig(i)
		src, err := c.cfg.Open(q, qc)
		if err != nil {
			release()
			c.finish(fmt.Errorf("nfq: queue %d: %w", q, err))
			return c.err
		}
		w := &worker{c: c, src: src, queue: q, buf: make([]byte, 0, MaxPacket)}
		if !qc.FailClosed && c.cfg.MaxRate > 0 {
			w.limit = &rateLimit{w: w, perWindow: max(1, c.cfg.MaxRate/windowsPerSecond)}
		}
		failed := func(err error) { failc <- fmt.Errorf("nfq: queue %d: %w", q, err) }
		if err := src.Start(serve, w.deliver, failed); err != nil {
			src.Close()
			release()
			c.finish(fmt.Errorf("nfq: queue %d: %w", q, err))
			return c.err
		}
		sources = append(sources, src)
		if !qc.FailClosed {
			passers = append(passers, w)
		}
	}
	c.log.Info("queues bound", "queue_num", c.cfg.QueueNum, "queues", c.cfg.Queues, "reset_queue", c.cfg.ResetQueue)
	go func() {
		var err error
		select {
		case <-ctx.Done():
			c.log.Info("draining queues")
		case err = <-failc:
			c.log.Error("queue failed; stopping", "err", err)
		}
		for _, w := range passers {
			if err := w.passAll(); err != nil {
				c.log.Warn("new packets still queued during the drain", "err", err)
			}
		}
		c.drain()
		c.drainHeld() // held.go
		stop()
		var errs []error
		errs = append(errs, err)
		for _, s := range sources {
			errs = append(errs, s.Close())
		}
		c.log.Info("queues released", "packets", c.counters.Packets.Load())
		c.finish(errors.Join(errs...))
	}()
	return nil
}

func (c *Consumer) finish(err error) {
	c.err = err
	close(c.done)
}

// Wait blocks until the consumer has stopped and released its queues, and
// returns why it stopped: nil after the context given to Start was done,
// or the error of a queue that failed. Wait before Start blocks until
// Start fails or the consumer stops.
func (c *Consumer) Wait() error {
	<-c.done
	return c.err
}

// drain returns once no packet arrived for DrainQuiet, or DrainMax after it
// began.
func (c *Consumer) drain() {
	deadline := time.Now().Add(c.cfg.DrainMax)
	last := c.seen.Load()
	for {
		left := time.Until(deadline)
		if left <= 0 {
			c.log.Warn("drain cut short: packets still arriving (were the rules removed first?)", "after", c.cfg.DrainMax)
			return
		}
		time.Sleep(min(c.cfg.DrainQuiet, left))
		n := c.seen.Load()
		// Quiet, and the kernel holds nothing for our queues any more: a
		// consumer starved of CPU delivers nothing for a while although
		// packets still wait, and unbinding then would drop them.
		if n == last && kernelQueued(queueStatsPath, c.cfg.QueueNum, c.cfg.Queues) == 0 {
			return
		}
		last = n
	}
}

// worker serves one queue: its deliver runs on the source's goroutine,
// with the queue's own buffer. The goroutine is not locked to an OS
// thread: a reader woken by the netpoller then runs on the thread that
// polled, with no hand-off to another.
type worker struct {
	c     *Consumer
	src   Source
	queue uint16
	buf   []byte
	limit *rateLimit // nil without Config.MaxRate (and on the reset queue)
	hold  Holdable   // the packet being handled, as a HoldHandler may hold it (held.go)
}

// passAll sets the queue's length to 0 for good: the consumer is stopping.
func (w *worker) passAll() error {
	if w.limit != nil {
		w.limit.mu.Lock()
		defer w.limit.mu.Unlock()
		w.limit.stopped = true
	}
	return w.src.SetQueueLen(0)
}

// deliver serves one batch of the queue's packets (Source.Start), each
// given its verdict before the next is handled: the queue has one buffer.
func (w *worker) deliver(batch []Packet) {
	n := uint64(len(batch))
	w.c.seen.Add(n)
	w.c.counters.Packets.Add(n)
	for i := range batch {
		w.serve(&batch[i])
	}
}

// serve hands one packet to the Handler and gives its verdict.
func (w *worker) serve(p *Packet) {
	c := w.c
	if w.limit != nil {
		w.limit.count()
	}
	v, out := w.handle(p)
	if w.hold.held { // held.go: the verdict comes with HeldPacket.Release
		w.hold = Holdable{}
		return
	}
	switch v {
	case AcceptModified, RepeatModified:
		c.counters.Modified.Add(1)
	case Drop:
		c.counters.Dropped.Add(1)
	default:
		v, out = Accept, nil
		c.counters.Accepted.Add(1)
	}
	if err := w.src.Verdict(p.ID, v, out); err != nil {
		if n := c.counters.VerdictErrors.Add(1); n&(n-1) == 0 {
			c.log.Warn("verdict not taken", "queue", w.queue, "verdict", v.String(), "err", err, "count", n)
		}
	}
}

// handle asks the Handler about p and checks its answer.
func (w *worker) handle(p *Packet) (v Verdict, out []byte) {
	c := w.c
	if p.Truncated || len(p.Payload) > cap(w.buf) {
		c.counters.Unhandled.Add(1)
		return Accept, nil
	}
	pkt := w.buf[:len(p.Payload)]
	copy(pkt, p.Payload)
	defer func() {
		if r := recover(); r != nil {
			v, out = Accept, nil
			if n := c.counters.HandlerPanics.Add(1); n&(n-1) == 0 {
				c.log.Error("handler panicked; packet accepted unmodified", "queue", w.queue, "panic", r, "count", n,
					"stack", string(debug.Stack()))
			}
		}
	}()
	v, out = c.callHandler(w, p.ID, pkt) // held.go: Handle, or HandleHold
	if v.modified() && (len(out) == 0 || len(out) > MaxVerdictPayload) {
		c.counters.Unhandled.Add(1)
		return Accept, nil
	}
	return v, out
}
