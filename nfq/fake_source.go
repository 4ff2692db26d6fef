package nfq

import (
	"context"
	"errors"
	"sync"
)

// FakeSource is a Source for tests: it delivers the packets given to Feed,
// in order, in batches of those fed and not yet delivered (up to
// fakeBatch), and records the verdicts, late ones too.
type FakeSource struct {
	// StartErr, when set, makes Start fail (a queue that cannot be bound).
	StartErr error
	// VerdictErr, when set, is returned by every Verdict (after recording).
	VerdictErr error

	in chan fakeItem

	mu        sync.Mutex
	nextID    uint32
	verdicts  []FakeVerdict
	started   bool
	closed    bool
	queueLens []uint32
	done      chan struct{}
}

// FakeVerdict is one verdict a FakeSource recorded. Payload is a copy of
// the new packet for AcceptModified, nil otherwise.
type FakeVerdict struct {
	ID      uint32
	Verdict Verdict
	Payload []byte
}

type fakeItem struct {
	pkt Packet
	err error
}

// fakePending bounds the packets fed but not yet delivered.
const fakePending = 4096

// fakeBatch bounds the packets of one batch, as batchSize does
// BatchSource's reads.
const fakeBatch = 32

// NewFakeSource returns an empty FakeSource.
func NewFakeSource() *FakeSource {
	return &FakeSource{in: make(chan fakeItem, fakePending), done: make(chan struct{})}
}

// Feed queues a copy of pkt for delivery and returns its packet ID (1, 2,
// ...). It may be called before and after Start, up to 4096 packets ahead
// of delivery.
func (f *FakeSource) Feed(pkt []byte) uint32 {
	return f.FeedPacket(Packet{Payload: pkt})
}

// FeedPacket is Feed for a Packet: its ID is assigned, the rest kept.
func (f *FakeSource) FeedPacket(p Packet) uint32 {
	f.mu.Lock()
	f.nextID++
	p.ID = f.nextID
	f.mu.Unlock()
	p.Payload = append([]byte(nil), p.Payload...)
	f.in <- fakeItem{pkt: p}
	return p.ID
}

// Fail queues a receive error: when the source reaches it, it calls the
// failed function given to Start and stops delivering.
func (f *FakeSource) Fail(err error) {
	f.in <- fakeItem{err: err}
}

// Pending returns how many fed packets were not delivered.
func (f *FakeSource) Pending() int { return len(f.in) }

// Verdicts returns the verdicts recorded so far.
func (f *FakeSource) Verdicts() []FakeVerdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeVerdict(nil), f.verdicts...)
}

// Closed reports whether Close was called.
func (f *FakeSource) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Start implements Source.
func (f *FakeSource) Start(ctx context.Context, deliver func([]Packet), failed func(error)) error {
	if f.StartErr != nil {
		return f.StartErr
	}
	f.mu.Lock()
	if f.started {
		f.mu.Unlock()
		return errors.New("fake source started twice")
	}
	f.started = true
	f.mu.Unlock()
	go func() {
		defer close(f.done)
		batch := make([]Packet, 0, fakeBatch)
		for {
			select {
			case <-ctx.Done():
				return
			case it := <-f.in:
				var err error
				batch, err = f.gather(batch[:0], it)
				if len(batch) > 0 {
					deliver(batch)
				}
				if err != nil {
					failed(err)
					return
				}
			}
		}
	}()
	return nil
}

// gather appends to batch the packet of it and those fed after it and
// still waiting, up to fakeBatch packets or the first receive error.
func (f *FakeSource) gather(batch []Packet, it fakeItem) ([]Packet, error) {
	for {
		if it.err != nil {
			return batch, it.err
		}
		batch = append(batch, it.pkt)
		if len(batch) == fakeBatch {
			return batch, nil
		}
		select {
		case it = <-f.in:
		default:
			return batch, nil
		}
	}
}

// Verdict implements Source.
func (f *FakeSource) Verdict(id uint32, v Verdict, payload []byte) error {
	fv := FakeVerdict{ID: id, Verdict: v}
	if v.modified() {
		fv.Payload = append([]byte(nil), payload...)
	}
	f.mu.Lock()
	f.verdicts = append(f.verdicts, fv)
	f.mu.Unlock()
	return f.VerdictErr
}

// LateVerdict implements Source: it records the verdict as Verdict does.
func (f *FakeSource) LateVerdict(id uint32, v Verdict, payload []byte) error {
	return f.Verdict(id, v, payload)
}

// SetQueueLen implements Source: it records the lengths set (QueueLens).
func (f *FakeSource) SetQueueLen(n uint32) error {
	f.mu.Lock()
	f.queueLens = append(f.queueLens, n)
	f.mu.Unlock()
	return nil
}

// QueueLens returns the lengths SetQueueLen was called with, in order.
func (f *FakeSource) QueueLens() []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint32(nil), f.queueLens...)
}

// Close implements Source: it waits for the delivery goroutine to end.
func (f *FakeSource) Close() error {
	f.mu.Lock()
	started := f.started
	f.closed = true
	f.mu.Unlock()
	if started {
		<-f.done
	}
	return nil
}

// FakeSources hands out one FakeSource per queue number; its Open method
// is an OpenFunc.
type FakeSources struct {
	mu      sync.Mutex
	sources map[uint16]*FakeSource
	// OpenErr, when set for a queue, makes Open fail for it.
	OpenErr map[uint16]error
	configs map[uint16]Config
}

// Config returns the Config queue q was opened with.
func (f *FakeSources) Config(q uint16) (Config, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.configs[q]
	return c, ok
}

// Queue returns queue q's FakeSource, creating it if needed (so packets can
// be fed before the consumer opens it).
func (f *FakeSources) Queue(q uint16) *FakeSource {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sources == nil {
		f.sources = map[uint16]*FakeSource{}
	}
	s := f.sources[q]
	if s == nil {
		s = NewFakeSource()
		f.sources[q] = s
	}
	return s
}

// Open is an OpenFunc.
func (f *FakeSources) Open(queue uint16, cfg Config) (Source, error) {
	if err := f.OpenErr[queue]; err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.configs == nil {
		f.configs = map[uint16]Config{}
	}
	f.configs[queue] = cfg
	f.mu.Unlock()
	return f.Queue(queue), nil
}
