package nfq

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// holdHandler holds packets starting with 'h' under the token in their
// second byte; with 'e' it releases the packet itself before parking it
// (an answer quicker than the Handler's return). Others are accepted.
type holdHandler struct {
	c     *Consumer
	mu    sync.Mutex
	holds int
}

func (h *holdHandler) Handle(pkt []byte) (Verdict, []byte) { return Accept, nil }

func (h *holdHandler) HandleHold(pkt []byte, p HeldPacket) (Verdict, []byte) {
	if len(pkt) < 2 || (pkt[0] != 'h' && pkt[0] != 'e') {
		return Accept, nil
	}
	h.mu.Lock()
	h.holds++
	h.mu.Unlock()
	tok := uint64(pkt[1])
	if pkt[0] == 'e' {
		h.c.Release(tok, AcceptModified, []byte("early"))
	}
	p.Park(tok)
	return Hold, nil
}

func startHeld(t *testing.T, cfg Config) (*Consumer, *FakeSource, *holdHandler, context.CancelFunc) {
	fs := &FakeSources{}
	src := fs.Queue(0)
	h := &holdHandler{}
	cfg.Open = fs.Open
	c, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	ctx, cancel := context.WithCancel(t.Context())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return c, src, h, cancel
}

// TestHeldVerdicts: held packets get no verdict until released, then the
// released one; a release before the park works; the rest of the queue
// goes on meanwhile.
func TestHeldVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, src, h, cancel := startHeld(t, Config{})
		idH1 := src.Feed([]byte("h\x01"))
		idH2 := src.Feed([]byte("h\x02"))
		idA := src.Feed([]byte("accept"))
		idE := src.Feed([]byte("e\x03"))
		synctest.Wait()
		want := fmt.Sprint([]FakeVerdict{{idA, Accept, nil}, {idE, AcceptModified, []byte("early")}})
		if got := fmt.Sprint(src.Verdicts()); got != want {
			t.Fatalf("before release: %s, want %s", got, want)
		}
		if hc := c.Held(); hc.Waiting != 2 || hc.Held != 3 || hc.Released != 1 {
			t.Fatalf("held counts %+v", hc)
		}
		c.Release(2, Drop, nil)
		go c.Release(1, AcceptModified, []byte("answer")) // from another goroutine
		synctest.Wait()
		got := src.Verdicts()
		if len(got) != 4 || fmt.Sprint(got[2:]) != fmt.Sprint([]FakeVerdict{{idH2, Drop, nil}, {idH1, AcceptModified, []byte("answer")}}) {
			t.Fatalf("after release: %v", got)
		}
		cs := c.Counters()
		if cs.Packets.Load() != 4 || cs.Modified.Load() != 2 || cs.Dropped.Load() != 1 || cs.Accepted.Load() != 1 {
			t.Errorf("counters: packets %d modified %d dropped %d accepted %d", cs.Packets.Load(), cs.Modified.Load(),
				cs.Dropped.Load(), cs.Accepted.Load())
		}
		// A bad late packet is accepted unmodified, as a bad immediate one.
		id := src.Feed([]byte("h\x04"))
		synctest.Wait()
		c.Release(4, AcceptModified, nil)
		if v := src.Verdicts(); v[len(v)-1].ID != id || v[len(v)-1].Verdict != Accept {
			t.Errorf("empty late packet: %v", v[len(v)-1])
		}
		if h.holds != 4 {
			t.Errorf("%d holds", h.holds)
		}
		cancel()
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHeldDrain: at stop the consumer waits for held packets (up to
// DrainMax) before closing the queue; releases after that are lost.
func TestHeldDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, src, _, cancel := startHeld(t, Config{DrainMax: 2 * time.Second})
		id := src.Feed([]byte("h\x01"))
		src.Feed([]byte("h\x02"))
		synctest.Wait()
		cancel()
		time.Sleep(500 * time.Millisecond)
		if src.Closed() {
			t.Fatal("queue closed with packets held")
		}
		c.Release(1, Drop, nil)
		if err := c.Wait(); err != nil { // packet 2 is never released: DrainMax
			t.Fatal(err)
		}
		if v := src.Verdicts(); len(v) != 1 || v[0].ID != id {
			t.Fatalf("verdicts %v", v)
		}
		c.Release(2, Drop, nil)
		if hc := c.Held(); hc.Lost != 1 || len(src.Verdicts()) != 1 {
			t.Fatalf("release after stop: %+v, %d verdicts", hc, len(src.Verdicts()))
		}
	})
}

// TestHeldPlainHandler: a plain Handler returning Hold gets Accept.
func TestHeldPlainHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &FakeSources{}
		src := fs.Queue(0)
		c, err := New(Config{Open: fs.Open}, HandlerFunc(func([]byte) (Verdict, []byte) { return Hold, nil }))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		src.Feed([]byte("x"))
		synctest.Wait()
		if v := src.Verdicts(); len(v) != 1 || v[0].Verdict != Accept {
			t.Fatalf("verdicts %v", v)
		}
		cancel()
		c.Wait()
	})
}
