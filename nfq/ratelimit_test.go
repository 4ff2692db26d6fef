package nfq

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestConsumerMaxRate: past MaxRate/10 packets in a 100 ms window the
// queue's length goes to 0 until the window ends, then back to
// MaxQueueLen; every packet delivered still gets its verdict; the reset
// queue is never limited; stopping leaves the length at 0 even when a
// pause was to end.
func TestConsumerMaxRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		src, reset := fs.Queue(3), fs.Queue(4)
		counters := &Counters{}
		c, err := New(Config{QueueNum: 3, ResetQueue: true, MaxQueueLen: 64, MaxRate: 100, Open: fs.Open, Counters: counters}, &testHandler{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		feed := func(s *FakeSource, n int) {
			for range n {
				s.Feed([]byte("q"))
			}
			synctest.Wait()
		}
		feed(src, 10) // the window's share: no pause
		if l := src.QueueLens(); len(l) != 0 {
			t.Fatalf("within the rate: lengths set %v", l)
		}
		feed(src, 5) // past it: paused once
		if l := src.QueueLens(); !slices.Equal(l, []uint32{0}) || counters.RateLimited.Load() != 1 {
			t.Fatalf("past the rate: lengths set %v, %d pauses; want [0], 1", l, counters.RateLimited.Load())
		}
		time.Sleep(window)
		synctest.Wait()
		if l := src.QueueLens(); !slices.Equal(l, []uint32{0, 64}) {
			t.Fatalf("after the window: lengths set %v, want [0 64]", l)
		}
		feed(reset, 50)
		if l := reset.QueueLens(); len(l) != 0 {
			t.Fatalf("the reset queue was limited: %v", l)
		}
		feed(src, 20) // paused again, and the consumer stops meanwhile
		cancel()
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(window)
		synctest.Wait()
		l := src.QueueLens()
		if l[len(l)-1] != 0 || slices.Contains(l[2:], 64) {
			t.Fatalf("stopping during a pause: lengths set %v, want it left at 0", l)
		}
		if n := len(src.Verdicts()); n != 35 {
			t.Fatalf("%d verdicts for 35 packets", n)
		}
	})
}
