package nfq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// testHandler decides by the packet's first byte: 'm' rewrites it in place
// and grows it by one byte, 'd' drops, 'p' panics, 'n' claims a rewrite
// without bytes, 'b' returns an over-long rewrite; the rest is accepted.
type testHandler struct {
	mu    sync.Mutex
	calls int
	bufs  map[uintptr]bool // distinct buffers seen
	caps  []int
}

func (h *testHandler) Handle(pkt []byte) (Verdict, []byte) {
	h.mu.Lock()
	h.calls++
	if h.bufs == nil {
		h.bufs = map[uintptr]bool{}
	}
	h.bufs[uintptr(unsafe.Pointer(unsafe.SliceData(pkt)))] = true
	h.caps = append(h.caps, cap(pkt))
	h.mu.Unlock()
	if len(pkt) == 0 {
		return Accept, nil
	}
	switch pkt[0] {
	case 'm':
		pkt[0] = 'M'
		return AcceptModified, append(pkt, '!')
	case 'd':
		return Drop, nil
	case 'p':
		panic("test panic")
	case 'n':
		return AcceptModified, nil
	case 'b':
		return AcceptModified, make([]byte, MaxPacket+1)
	}
	return Accept, []byte("ignored")
}

func TestConsumerVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		src := fs.Queue(7)
		h := &testHandler{}
		c, err := New(Config{QueueNum: 7, Open: fs.Open}, h)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		src.Feed([]byte("accept"))
		src.Feed([]byte("mesh"))
		src.Feed([]byte("drop"))
		src.Feed([]byte("panic"))
		src.Feed([]byte("nothing"))
		src.Feed([]byte("big"))
		src.FeedPacket(Packet{Payload: []byte("mtruncated"), Truncated: true})
		src.Feed(make([]byte, MaxPacket+1))
		src.Feed(nil)
		synctest.Wait()

		want := []FakeVerdict{
			{1, Accept, nil}, {2, AcceptModified, []byte("Mesh!")}, {3, Drop, nil}, {4, Accept, nil},
			{5, Accept, nil}, {6, Accept, nil}, {7, Accept, nil}, {8, Accept, nil}, {9, Accept, nil},
		}
		if got := src.Verdicts(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("verdicts\n got %v\nwant %v", got, want)
		}
		if h.calls != 7 {
			t.Errorf("handler calls = %d, want 7 (not for the truncated and the over-long packet)", h.calls)
		}
		for _, cp := range h.caps {
			if cp != MaxPacket {
				t.Errorf("handler buffer cap = %d, want %d", cp, MaxPacket)
			}
		}
		if len(h.bufs) != 1 {
			t.Errorf("one queue used %d buffers, want 1", len(h.bufs))
		}
		cs := c.Counters()
		for name, got := range map[string]uint64{
			"packets": cs.Packets.Load(), "accepted": cs.Accepted.Load(), "modified": cs.Modified.Load(),
			"dropped": cs.Dropped.Load(), "panics": cs.HandlerPanics.Load(), "unhandled": cs.Unhandled.Load(),
		} {
			want := map[string]uint64{"packets": 9, "accepted": 7, "modified": 1, "dropped": 1, "panics": 1, "unhandled": 4}[name]
			if got != want {
				t.Errorf("counter %s = %d, want %d", name, got, want)
			}
		}
		cancel()
		if err := c.Wait(); err != nil {
			t.Errorf("Wait: %v", err)
		}
		if !src.Closed() {
			t.Error("source not closed after Wait")
		}
	})
}

func TestConsumerQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		h := &testHandler{}
		counters := new(Counters)
		c, err := New(Config{QueueNum: 5, Queues: 3, Open: fs.Open, Counters: counters}, h)
		if err != nil {
			t.Fatal(err)
		}
		if c.Counters() != counters {
			t.Error("Counters() is not the configured one")
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for q := uint16(5); q < 8; q++ {
			fs.Queue(q).Feed([]byte{'m', byte(q)})
		}
		synctest.Wait()
		for q := uint16(5); q < 8; q++ {
			v := fs.Queue(q).Verdicts()
			if len(v) != 1 || string(v[0].Payload) != string([]byte{'M', byte(q), '!'}) {
				t.Errorf("queue %d verdicts = %v", q, v)
			}
		}
		if len(h.bufs) != 3 {
			t.Errorf("3 queues used %d distinct buffers, want 3", len(h.bufs))
		}
		if err := c.Start(ctx); err == nil {
			t.Error("second Start succeeded")
		}
		cancel()
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
		for q := uint16(5); q < 8; q++ {
			if !fs.Queue(q).Closed() {
				t.Errorf("queue %d not closed", q)
			}
		}
	})
}

// TestConsumerResetQueue: with ResetQueue the consumer binds one more
// queue after the balanced ones, failing closed with ResetQueueLen
// packets; the others fail open and share DefaultQueuedTotal.
func TestConsumerResetQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		c, err := New(Config{QueueNum: 5, Queues: 2, ResetQueue: true, Open: fs.Open}, &testHandler{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[uint16]struct {
			n      uint32
			closed bool
		}{5: {DefaultQueuedTotal / 2, false}, 6: {DefaultQueuedTotal / 2, false}, 7: {ResetQueueLen, true}} {
			cfg, ok := fs.Config(q)
			if !ok || cfg.MaxQueueLen != want.n || cfg.FailClosed != want.closed {
				t.Errorf("queue %d opened %v with length %d, fail-closed %v; want %d, %v", q, ok, cfg.MaxQueueLen, cfg.FailClosed, want.n, want.closed)
			}
		}
		if _, ok := fs.Config(8); ok {
			t.Error("queue 8 opened")
		}
		fs.Queue(7).Feed([]byte{'m', 7})
		synctest.Wait()
		if v := fs.Queue(7).Verdicts(); len(v) != 1 {
			t.Errorf("reset queue verdicts = %v, want the handler's one", v)
		}
		cancel()
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := New(Config{QueueNum: 65534, Queues: 2, ResetQueue: true}, &testHandler{}); err == nil {
		t.Error("a reset queue past 65535 accepted")
	}
}

// After cancel the consumer keeps answering while packets keep arriving
// less than DrainQuiet apart, then releases the queue.
func TestConsumerDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		src := fs.Queue(0)
		c, err := New(Config{Open: fs.Open}, &testHandler{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		start := time.Now()
		for range 5 {
			time.Sleep(DefaultDrainQuiet / 2)
			src.Feed([]byte("mq"))
		}
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		if n := len(src.Verdicts()); n != 5 {
			t.Errorf("%d of 5 packets answered during the drain", n)
		}
		if elapsed < 5*DefaultDrainQuiet/2+DefaultDrainQuiet/2 || elapsed > 5*DefaultDrainQuiet/2+2*DefaultDrainQuiet {
			t.Errorf("drain ended %v after cancel; want about %v", elapsed, 5*DefaultDrainQuiet/2+DefaultDrainQuiet)
		}
		// Nothing is delivered after the queue is released.
		src.Feed([]byte("late"))
		synctest.Wait()
		if n := len(src.Verdicts()); n != 5 || src.Pending() != 1 {
			t.Errorf("after release: %d verdicts, %d pending; want 5 and 1", n, src.Pending())
		}
	})
}

// Packets that never stop arriving end the drain at DrainMax.
func TestConsumerDrainMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		src := fs.Queue(0)
		c, err := New(Config{Open: fs.Open, DrainQuiet: 20 * time.Millisecond, DrainMax: 300 * time.Millisecond}, &testHandler{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		stopFeeding := make(chan struct{})
		go func() {
			for {
				select {
				case <-stopFeeding:
					return
				case <-time.After(5 * time.Millisecond):
					src.Feed([]byte("x"))
				}
			}
		}()
		cancel()
		start := time.Now()
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Errorf("drain lasted %v, want DrainMax (300ms)", d)
		}
		close(stopFeeding)
	})
}

func TestConsumerStartErrors(t *testing.T) {
	boom := errors.New("boom")
	fs := &FakeSources{OpenErr: map[uint16]error{2: boom}}
	c, err := New(Config{QueueNum: 1, Queues: 3, Open: fs.Open}, &testHandler{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); !errors.Is(err, boom) || !strings.Contains(err.Error(), "queue 2") {
		t.Errorf("Start: %v, want boom naming queue 2", err)
	}
	if err := c.Wait(); !errors.Is(err, boom) {
		t.Errorf("Wait: %v, want boom", err)
	}
	if !fs.Queue(1).Closed() {
		t.Error("queue 1 left open after queue 2 failed")
	}

	fs = &FakeSources{}
	fs.Queue(0).StartErr = boom
	c, _ = New(Config{Open: fs.Open}, &testHandler{})
	if err := c.Run(t.Context()); !errors.Is(err, boom) || !strings.Contains(err.Error(), "queue 0") {
		t.Errorf("Run: %v, want boom naming queue 0", err)
	}
	if !fs.Queue(0).Closed() {
		t.Error("queue 0 not closed after its Start failed")
	}
}

func TestConsumerConfigErrors(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Error("nil handler accepted")
	}
	if _, err := New(Config{QueueNum: 65535, Queues: 2}, &testHandler{}); err == nil {
		t.Error("queue range past 65535 accepted")
	}
}

// A queue that fails for good stops the consumer with its error.
func TestConsumerSourceFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		c, err := New(Config{Queues: 2, Open: fs.Open}, &testHandler{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		fs.Queue(1).Fail(errors.New("socket gone"))
		err = c.Wait()
		if err == nil || !strings.Contains(err.Error(), "queue 1") || !strings.Contains(err.Error(), "socket gone") {
			t.Errorf("Wait: %v, want the failure of queue 1", err)
		}
		if !fs.Queue(0).Closed() || !fs.Queue(1).Closed() {
			t.Error("queues not closed after a failure")
		}
	})
}

func TestConsumerVerdictErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		fs.Queue(0).VerdictErr = errors.New("ENOENT")
		c, _ := New(Config{Open: fs.Open}, &testHandler{})
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		fs.Queue(0).Feed([]byte("a"))
		fs.Queue(0).Feed([]byte("m"))
		synctest.Wait()
		if n := c.Counters().VerdictErrors.Load(); n != 2 {
			t.Errorf("verdict errors = %d, want 2", n)
		}
		cancel()
		c.Wait()
	})
}

func TestReceiveErrorKind(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{&netlink.OpError{Op: "receive", Err: os.NewSyscallError("recvmsg", unix.ENOBUFS)}, errNoBuffers},
		{&netlink.OpError{Op: "receive", Err: os.ErrDeadlineExceeded}, errTransient},
		{&netlink.OpError{Op: "receive", Err: os.NewSyscallError("recvmsg", unix.EINTR)}, errTransient},
		{&netlink.OpError{Op: "receive", Err: os.NewSyscallError("recvmsg", unix.EBADF)}, errOther},
		{errors.New("odd"), errOther},
	}
	for _, tt := range tests {
		if got := receiveErrorKind(tt.err); got != tt.want {
			t.Errorf("receiveErrorKind(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
